"""CUDA: agreement with the CPU and portable pickles (skipped without a GPU)."""

import pickle

import numpy as np
import pytest
import torch

from skvae import VAETransformer
from skvae._testing import make_ppca

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA")


def test_gpu_fit_agrees_with_cpu_within_tolerance():
    X_train, X_test, _, _ = make_ppca(n_train=3000, n_test=2000, seed=0)
    kw = dict(n_components=4, hidden_layer_sizes=(), random_state=0)
    cpu = VAETransformer(device="cpu", **kw).fit(X_train)
    gpu = VAETransformer(device="cuda", **kw).fit(X_train)
    assert gpu.device_.startswith("cuda")
    assert next(gpu.module_.parameters()).device.type == "cpu"  # stored CPU-side
    assert gpu.score(X_test) == pytest.approx(cpu.score(X_test), abs=0.1)


def test_gpu_model_pickles_and_runs_on_cpu():
    X = np.random.default_rng(0).normal(size=(500, 6))
    gpu = VAETransformer(device="cuda", max_iter=5, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(gpu))
    restored.device_ = "cpu"
    np.testing.assert_allclose(restored.transform(X), gpu.transform(X), atol=1e-4)
    assert np.isfinite(restored.score(X)) and restored.sample(3).shape == (3, 6)

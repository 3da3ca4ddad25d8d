import os

import numpy as np
import pytest
import torch

from skvae._testing import make_ppca

# Fast, seeded settings for arrays (the common checks get exactly this instance).
FAST = dict(
    max_iter=5, hidden_layer_sizes=(8,), batch_size=16, device="cpu", random_state=0
)

# Fast, seeded settings for tables (per-column models).
FAST_TABLE = dict(max_iter=15, hidden_layer_sizes=(16,), device="cpu", random_state=0)

torch.use_deterministic_algorithms(True)
if os.environ.get("PYTEST_XDIST_WORKER"):
    # one worker per core (pytest -n auto): a second torch thread would only
    # contend with the other workers
    torch.set_num_threads(1)


@pytest.fixture
def rng():
    """A generator seeded per test, so no test's data depends on another's."""
    return np.random.default_rng(0)


@pytest.fixture
def ppca_data():
    return make_ppca()


@pytest.fixture
def small_X():
    return np.random.default_rng(0).normal(size=(60, 5)) * [1, 2, 3, 4, 5] + 10

import numpy as np
import pytest
import torch

# Fast, seeded settings for tests (the common checks get exactly this instance).
FAST = dict(
    max_iter=5, hidden_layer_sizes=(8,), batch_size=16, device="cpu", random_state=0
)

torch.use_deterministic_algorithms(True)


def make_ppca(n_train=5000, n_test=5000, d=20, q=4, seed=0):
    """Rows from a probabilistic-PCA model with known parameters.

    Features get non-zero means and unequal scales. Returns the train and test
    rows and the exact mean and covariance of the generating Gaussian.
    """
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.normal(size=(d, q)))
    loadings = basis * np.linspace(3.0, 1.5, q)
    scales = rng.uniform(0.5, 10.0, size=d)
    mean = rng.normal(scale=5.0, size=d)

    def draw(m):
        z = rng.normal(size=(m, q))
        noise = rng.normal(scale=np.sqrt(0.5), size=(m, d))
        return (z @ loadings.T + noise) * scales + mean

    cov = (loadings @ loadings.T + 0.5 * np.eye(d)) * np.outer(scales, scales)
    return draw(n_train), draw(n_test), mean, cov


@pytest.fixture
def ppca_data():
    return make_ppca()


@pytest.fixture
def small_X():
    return np.random.default_rng(0).normal(size=(60, 5)) * [1, 2, 3, 4, 5] + 10

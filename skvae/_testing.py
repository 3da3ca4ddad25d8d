"""Data with known answers, shared by the tests and the benchmarks."""

import numpy as np


def make_ppca(n_train=5000, n_test=5000, d=20, q=4, seed=0):
    """Rows from a probabilistic-PCA model with known parameters.

    Features get non-zero means and unequal scales (Tipping & Bishop 1999 with
    loadings of norm 3 down to 1.5 and noise variance 0.5, then rescaled).

    Returns
    -------
    X_train : ndarray of shape (n_train, d)
    X_test : ndarray of shape (n_test, d)
    mean : ndarray of shape (d,)
        Exact mean of the generating Gaussian.
    cov : ndarray of shape (d, d)
        Exact covariance of the generating Gaussian.
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

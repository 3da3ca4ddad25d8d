"""A Gaussian mixture over the latent space, fitted ex post to q(z) for sampling.

The aggregate posterior ``q(z) = mean_i q(z | x_i)`` is where the decoder was
trained; the prior N(0, I) puts mass in holes between its clusters. Fitting a
mixture to draws from ``q(z)`` after training and sampling ``z`` from it is the
ex-post density estimation of Ghosh et al. (2020), "From Variational to
Deterministic Autoencoders", section 4. The mixture keeps only component
weights, means and covariances (at least ``_ROWS_PER_COMPONENT`` rows each on
average), never per-row codes.
"""

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.mixture import GaussianMixture

_MAX_COMPONENTS = 50
_ROWS_PER_COMPONENT = 200
MAX_DRAWS = 10_000


@dataclass
class LatentMixture:
    """Weights ``(k,)``, means ``(k, q)`` and covariance Cholesky factors."""

    weights: np.ndarray
    means: np.ndarray
    cholesky: np.ndarray

    @classmethod
    def fit(cls, loc, scale, seed, n_samples):
        """Fit to one draw ``loc + scale * eps`` per row given.

        ``loc`` and ``scale`` are the posterior parameters of (a random subset
        of at most ``MAX_DRAWS`` of) the ``n_samples`` training rows, float
        arrays of shape ``(m, q)``; ``n_samples`` sets the number of components.
        """
        rng = np.random.RandomState(seed)
        z = loc + scale * rng.standard_normal(loc.shape)
        k = int(np.clip(n_samples // _ROWS_PER_COMPONENT, 1, _MAX_COMPONENTS))
        gm = GaussianMixture(k, tol=1e-2, reg_covar=1e-4, random_state=rng).fit(z)
        return cls(gm.weights_, gm.means_, np.linalg.cholesky(gm.covariances_))

    def sample(self, n_samples, generator, dtype, device):
        """``n_samples`` latent codes drawn with ``generator``."""
        weights, means, cholesky = (
            torch.as_tensor(a, dtype=dtype, device=device)
            for a in (self.weights, self.means, self.cholesky)
        )
        component = torch.multinomial(
            weights, n_samples, replacement=True, generator=generator
        )
        shape = (n_samples, means.shape[1], 1)
        eps = torch.randn(shape, generator=generator, dtype=dtype, device=device)
        return means[component] + (cholesky[component] @ eps).squeeze(-1)

"""Sampling latent codes from the ex-post mixture over the aggregate posterior."""

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.mixture import GaussianMixture

from skvae import VAETransformer
from skvae._latent_mixture import LatentMixture


def test_mixture_draws_have_the_mixture_moments():
    rng = np.random.default_rng(0)
    loc = np.r_[rng.normal(-3, 0.5, (3000, 2)), rng.normal(4, 1.0, (1000, 2))]
    mixture = LatentMixture.fit(loc, np.full_like(loc, 0.3), seed=0, n_samples=4000)
    assert len(mixture.weights) == 20  # 4000 rows // 200
    g = torch.Generator().manual_seed(0)
    z = mixture.sample(200_000, g, torch.float64, "cpu").numpy()
    covariances = mixture.cholesky @ mixture.cholesky.transpose(0, 2, 1)
    w = mixture.weights
    mean = w @ mixture.means
    second = np.einsum("k,kij->ij", w, covariances) + np.einsum(
        "k,ki,kj->ij", w, mixture.means, mixture.means
    )
    np.testing.assert_allclose(z.mean(0), mean, atol=0.02)
    np.testing.assert_allclose(np.cov(z.T), second - np.outer(mean, mean), atol=0.05)
    # and the mixture describes the codes: a quarter of them sit near +4
    assert abs((z[:, 0] > 0.5).mean() - 0.25) < 0.01


def test_mixture_density_of_the_draws_matches_sklearn():
    rng = np.random.default_rng(1)
    loc = rng.normal(size=(2000, 3)) @ np.diag([1.0, 2.0, 0.5])
    mixture = LatentMixture.fit(loc, np.full_like(loc, 0.1), seed=0, n_samples=2000)
    reference = GaussianMixture(len(mixture.weights), random_state=0)
    reference.weights_ = mixture.weights
    reference.means_ = mixture.means
    reference.covariances_ = mixture.cholesky @ mixture.cholesky.transpose(0, 2, 1)
    reference.precisions_cholesky_ = np.linalg.cholesky(
        np.linalg.inv(reference.covariances_)
    )
    g = torch.Generator().manual_seed(0)
    z = mixture.sample(50_000, g, torch.float64, "cpu").numpy()
    # draws from a density score higher under it than draws from a wider one
    wide = stats.multivariate_normal(np.zeros(3), np.diag([4.0, 16.0, 1.0]))
    assert reference.score(z) > reference.score(wide.rvs(50_000, random_state=0))
    np.testing.assert_allclose(reference.score(z), reference.score(loc), atol=0.1)


@pytest.mark.slow
def test_aggregate_posterior_avoids_the_priors_holes():
    # two far-apart clusters: the prior's mass between their codes decodes to
    # rows in the empty middle; the mixture over q(z) puts almost none there
    rng = np.random.default_rng(0)
    centre = np.where(rng.random(1000) < 0.5, -6.0, 6.0)
    X = centre[:, None] + rng.normal(size=(1000, 3))
    kwargs = dict(hidden_layer_sizes=(32,), n_components=2, random_state=0)
    middle = {}
    for sampler in ("prior", "aggregate_posterior"):
        vae = VAETransformer(sampler=sampler, **kwargs).fit(X)
        rows = vae.sample(4000, random_state=0)
        middle[sampler] = (np.abs(rows.mean(1)) < 3).mean()
    assert (np.abs(X.mean(1)) < 3).mean() == 0
    assert middle["aggregate_posterior"] < 0.5 * middle["prior"]
    assert middle["aggregate_posterior"] < 0.02

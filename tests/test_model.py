"""The VAE module: closed-form KL against Monte Carlo, shapes, gradients, IWAE."""

import math

import torch

from skvae._likelihoods import RowLikelihood, _Gaussian
from skvae._model import VAE


def make_vae(hidden=(16,), q=3, d=5):
    head = _Gaussian(d, "per_feature", 0.01)
    vae = VAE(d, q, hidden, "tanh", RowLikelihood([head]), torch.float64)
    vae.reset_parameters(torch.Generator().manual_seed(0))
    return vae


def test_closed_form_kl_matches_monte_carlo():
    vae = make_vae()
    x = torch.randn(
        4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    g = torch.Generator().manual_seed(2)
    eps = torch.randn(4, 200000, 3, dtype=torch.float64, generator=g)
    with torch.no_grad():
        loc, scale = vae.encode(x)
        reconstruction, z = vae._reconstruction(x, loc, scale, eps)
        closed = reconstruction.mean(1) - vae.elbo(x, eps)  # = KL
        log_q = torch.distributions.Normal(loc.unsqueeze(1), scale.unsqueeze(1))
        log_p = torch.distributions.Normal(0.0, 1.0)
        mc = (log_q.log_prob(z) - log_p.log_prob(z)).sum(-1).mean(1)
    torch.testing.assert_close(closed, mc, atol=0.02, rtol=0.01)
    assert (closed > 0).all()


def test_elbo_shape_and_gradients_reach_every_parameter():
    vae = make_vae()
    x = torch.randn(7, 5, dtype=torch.float64)
    eps = torch.randn(7, 1, 3, dtype=torch.float64)
    elbo = vae.elbo(x, eps)
    assert elbo.shape == (7,)
    elbo.sum().backward()
    for name, p in vae.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_iwae_single_sample_is_mc_elbo_and_rises_with_k():
    vae = make_vae()
    g = torch.Generator().manual_seed(3)
    x = torch.randn(50, 5, dtype=torch.float64, generator=g)
    with torch.no_grad():
        eps = torch.randn(50, 1, 3, dtype=torch.float64, generator=g)
        loc, scale = vae.encode(x)
        rec, z = vae._reconstruction(x, loc, scale, eps)
        log_q = torch.distributions.Normal(loc.unsqueeze(1), scale.unsqueeze(1))
        log_prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
        mc_elbo = (rec + log_prior - log_q.log_prob(z).sum(-1)).squeeze(1)
        torch.testing.assert_close(vae.iwae(x, eps), mc_elbo)
        big = torch.randn(50, 2000, 3, dtype=torch.float64, generator=g)
        elbo = vae.elbo(x, big).mean()
        bounds = [vae.iwae(x, big[:, :k]).mean() for k in (10, 100, 2000)]
    assert elbo < bounds[0] < bounds[1] < bounds[2]


def test_encode_is_deterministic_and_linear_model_is_affine():
    vae = make_vae(hidden=())
    x = torch.randn(3, 5, dtype=torch.float64)
    loc1, _ = vae.encode(x)
    loc2, _ = vae.encode(x)
    torch.testing.assert_close(loc1, loc2)
    # affine: the midpoint maps to the midpoint of the codes
    a, b = x[:1], x[1:2]
    mid = vae.encode((a + b) / 2)[0]
    torch.testing.assert_close(mid, (vae.encode(a)[0] + vae.encode(b)[0]) / 2)
    with torch.no_grad():
        at_zero = vae.decode(torch.zeros(1, 3, dtype=torch.float64))
        assert math.isclose(float(at_zero.sum()), float(vae.decoder[0].bias.sum()))


def _log_mean_weight(vae, x, eps, adaptive):
    _, log_w, _ = vae.complete(x, eps, "mean", adaptive=adaptive)
    return torch.logsumexp(log_w, 1) - math.log(eps.shape[1])


def test_importance_weights_of_completions_estimate_the_observed_marginal():
    # unbiased: each proposal's mean weight estimates p(x_obs), for the
    # proposals of scores and of imputation, one stage (K < 32) or two
    vae = make_vae(q=2)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(3, 5, dtype=torch.float64, generator=g)
    x[:, [1, 3]] = torch.nan
    with torch.no_grad():
        eps = torch.randn(3, 200_000, 2, dtype=torch.float64, generator=g)
        reference = _log_mean_weight(vae, x, eps, adaptive=False)
        for k, adaptive in [(8, True), (64, True), (16, False)]:
            ratios = torch.stack(
                [
                    torch.exp(
                        _log_mean_weight(
                            vae,
                            x,
                            torch.randn(3, k, 2, dtype=torch.float64, generator=g),
                            adaptive,
                        )
                        - reference
                    )
                    for _ in range(400)
                ]
            )
            error = ratios.std(0) / math.sqrt(len(ratios))
            assert ((ratios.mean(0) - 1).abs() < 4 * error + 0.01).all(), k

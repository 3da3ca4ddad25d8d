"""Column likelihoods against scipy.stats."""

import numpy as np
import pytest
import torch
from scipy import stats

from skvae._likelihoods import (
    RowLikelihood,
    _Bernoulli,
    _Categorical,
    _FullGaussian,
    _Gaussian,
)


@pytest.mark.parametrize("variance", ["per_feature", "shared", "heteroscedastic"])
def test_gaussian_log_prob_matches_scipy(variance, rng):
    head = _Gaussian(3, variance, min_scale=0.01).double()
    params = torch.tensor(rng.normal(size=(5, head.n_params)))
    if variance != "heteroscedastic":
        with torch.no_grad():
            head.raw_scale.copy_(torch.tensor(rng.normal(size=head.raw_scale.shape)))
    x = torch.tensor(rng.normal(size=(5, 3)))
    loc, scale = head.loc_scale(params)
    expected = stats.norm.logpdf(
        x.numpy(), loc.detach().numpy(), scale.detach().numpy()
    )
    got = head.log_prob(params, x).detach().numpy()
    np.testing.assert_allclose(got, expected.sum(1), rtol=1e-12)
    assert (scale >= 0.01).all()


def test_bernoulli_log_prob_matches_scipy(rng):
    head = _Bernoulli(4)
    logits = torch.tensor(rng.normal(scale=3, size=(6, 4)))
    x = torch.tensor(rng.integers(0, 2, size=(6, 4)), dtype=torch.float64)
    p = 1 / (1 + np.exp(-logits.numpy()))
    expected = stats.bernoulli.logpmf(x.numpy(), p).sum(1)
    np.testing.assert_allclose(head.log_prob(logits, x).numpy(), expected, rtol=1e-10)


def test_categorical_log_prob_matches_scipy(rng):
    sizes = [3, 1, 5]
    head = _Categorical(sizes)
    logits = torch.tensor(rng.normal(size=(7, sum(sizes))))
    codes = [rng.integers(0, k, size=7) for k in sizes]
    onehot = np.concatenate(
        [np.eye(k)[c] for k, c in zip(sizes, codes, strict=True)], axis=1
    )
    expected = np.zeros(7)
    start = 0
    for k, c in zip(sizes, codes, strict=True):
        block = logits.numpy()[:, start : start + k]
        p = np.exp(block - block.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        expected += [
            stats.multinomial(1, p[i]).logpmf(np.eye(k)[c[i]]) for i in range(7)
        ]
        start += k
    got = head.log_prob(logits, torch.tensor(onehot)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_categorical_unknown_row_contributes_zero():
    head = _Categorical([2, 3])
    logits = torch.randn(1, 5, dtype=torch.float64)
    known = torch.tensor([[1.0, 0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    only_first = head.log_prob(logits, known)
    expected = torch.log_softmax(logits[:, :2], -1)[:, 0]
    torch.testing.assert_close(only_first, expected)


def test_sampling_frequencies():
    g = torch.Generator().manual_seed(0)
    n = 40000
    # Bernoulli with p = sigmoid(1)
    b = _Bernoulli(1).sample(torch.ones(n, 1), g)
    assert abs(b.mean().item() - 1 / (1 + np.exp(-1))) < 0.01
    # Categorical with probabilities (0.2, 0.3, 0.5)
    logits = torch.log(torch.tensor([0.2, 0.3, 0.5])).expand(n, 3)
    c = _Categorical([3]).sample(logits, g)
    assert torch.allclose(c.sum(1), torch.ones(n))
    np.testing.assert_allclose(c.mean(0).numpy(), [0.2, 0.3, 0.5], atol=0.01)
    # Gaussian: loc 2, scale min + softplus(raw) fixed at init (= 1)
    head = _Gaussian(1, "per_feature", 0.01)
    s = head.sample(torch.full((n, 1), 2.0), g).detach()
    assert abs(s.mean().item() - 2.0) < 0.02
    assert abs(s.std().item() - 1.0) < 0.02


def test_row_likelihood_sums_heads():
    heads = [_Gaussian(2, "per_feature", 0.01), _Bernoulli(1), _Categorical([2])]
    row = RowLikelihood(heads).double()
    params = torch.randn(4, row.n_params, dtype=torch.float64)
    x = torch.tensor([[0.1, -0.3, 1.0, 0.0, 1.0]] * 4, dtype=torch.float64)
    total = row.log_prob(params, x)
    parts = (
        heads[0].log_prob(params[:, :2], x[:, :2])
        + heads[1].log_prob(params[:, 2:3], x[:, 2:3])
        + heads[2].log_prob(params[:, 3:], x[:, 3:])
    )
    torch.testing.assert_close(total, parts)
    assert row.mean(params).shape == (4, 5)


def _full_head(rng, d=4):
    head = _FullGaussian(d, min_scale=0.01).double()
    with torch.no_grad():
        head.raw_scale.copy_(torch.tensor(rng.normal(size=d)))
        head.off_diagonal.copy_(torch.tensor(rng.normal(size=head.off_diagonal.shape)))
    factor = head.cholesky().detach().numpy()
    return head, factor @ factor.T


def test_full_gaussian_log_prob_is_the_marginal_of_the_observed_entries(rng):
    """A row with missing entries scores the density of its observed
    sub-vector under N(loc[o], Sigma[o, o]) (scipy.stats), whatever the
    pattern; a complete row the full density; broadcasting over draws."""
    head, sigma = _full_head(rng)
    params = rng.normal(size=(6, 4))
    x = rng.normal(size=(6, 4))
    x[1, 2] = x[2, [0, 3]] = x[3, :3] = x[4, :] = np.nan
    got = head.log_prob(torch.tensor(params), torch.tensor(x)).detach().numpy()
    for i in range(6):
        o = ~np.isnan(x[i])
        expected = (
            stats.multivariate_normal.logpdf(x[i, o], params[i, o], sigma[np.ix_(o, o)])
            if o.any()
            else 0.0
        )
        assert got[i] == pytest.approx(expected, rel=1e-6, abs=1e-9)
    draws = torch.tensor(rng.normal(size=(6, 3, 4)))
    many = head.log_prob(draws, torch.tensor(x)[:, None, :]).detach().numpy()
    for k in range(3):
        one = head.log_prob(draws[:, k], torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(many[:, k], one, rtol=1e-12)


def test_full_gaussian_conditional_matches_the_gaussian_formulas(rng):
    """The conditional mean of the missing entries is loc[m] + Sigma[m, o]
    Sigma[o, o]^-1 (x[o] - loc[o]); conditional draws have that mean and the
    covariance Sigma[m, m] - Sigma[m, o] Sigma[o, o]^-1 Sigma[o, m]
    (200,000 draws, to 4 standard errors); unconditional draws have Sigma."""
    head, sigma = _full_head(rng)
    loc = rng.normal(size=4)
    x = np.array([0.5, np.nan, -1.0, np.nan])
    m, o = np.isnan(x), ~np.isnan(x)
    gain = np.linalg.solve(sigma[np.ix_(o, o)], sigma[np.ix_(o, m)]).T
    mean = loc[m] + gain @ (x[o] - loc[o])
    cov = sigma[np.ix_(m, m)] - gain @ sigma[np.ix_(o, m)]
    params, given = torch.tensor(loc)[None], torch.tensor(x)[None]
    with torch.no_grad():
        got = head.conditional(params, given, "mean", None)[0].numpy()
    np.testing.assert_allclose(got[m], mean, rtol=1e-10)
    n = 200_000
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        draws = head.conditional(
            params.expand(n, -1), given.expand(n, -1), "sample", generator
        ).numpy()[:, m]
        joint = head.sample(torch.zeros(n, 4, dtype=torch.float64), generator)
    se = np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(draws.mean(0) - mean) < 4 * se)
    np.testing.assert_allclose(np.cov(draws.T), cov, rtol=0.02, atol=0.02)
    np.testing.assert_allclose(np.cov(joint.numpy().T), sigma, rtol=0.03, atol=0.03)


def test_full_gaussian_float32_keeps_its_digits_on_an_ill_conditioned_covariance(rng):
    """A float32 head whose covariance is near-singular as a learned one on
    collinear columns (two factors plus noise of sd 0.03: condition number
    1.3e4) scores incomplete rows to float32 precision against scipy in
    float64: the observed block's quadratic form is a difference of two
    larger ones, computed in float64."""
    d = 8
    loadings = rng.normal(size=(d, 2))
    sigma = loadings @ loadings.T + 0.03**2 * np.eye(d)
    assert np.linalg.cond(sigma) > 1e3
    factor = np.linalg.cholesky(sigma)
    head = _FullGaussian(d, min_scale=0.01)
    with torch.no_grad():
        diagonal = torch.tensor(np.diag(factor) - 0.01, dtype=torch.float32)
        head.raw_scale.copy_(diagonal + torch.log(-torch.expm1(-diagonal)))
        head.off_diagonal.copy_(torch.tensor(factor[np.tril_indices(d, -1)]))
    sigma = head.cholesky().detach().double().numpy()
    sigma = sigma @ sigma.T  # the float32 parameters' own covariance
    params = rng.normal(size=(5, d)).astype(np.float32)
    x = (params + rng.multivariate_normal(np.zeros(d), sigma, 5)).astype(np.float32)
    x[0, 1] = x[1, [0, 5]] = x[2, 2:6] = np.nan
    got = head.log_prob(torch.tensor(params), torch.tensor(x)).detach().numpy()
    for i in range(5):
        o = ~np.isnan(x[i])
        expected = stats.multivariate_normal.logpdf(
            x[i, o].astype(np.float64),
            params[i, o].astype(np.float64),
            sigma[np.ix_(o, o)],
        )
        assert got[i] == pytest.approx(expected, rel=1e-4, abs=1e-3), i

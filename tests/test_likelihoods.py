"""Column likelihoods against scipy.stats."""

import numpy as np
import pytest
import torch
from scipy import stats

from skvae._likelihoods import RowLikelihood, _Bernoulli, _Categorical, _Gaussian


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

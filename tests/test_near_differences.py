"""Columns that stay close to another: modelled through their difference."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from skvae import VAEImputer, VAETransformer
from skvae._relations import find_near_differences

from .conftest import FAST_TABLE

SIGMA = 0.03  # spread of each mode of the width minus the length


def _stones(n, seed):
    """Length ``a`` ~ N(6, 2); width ``b = a + d`` with ``d`` an equal mixture
    of N(-0.1, SIGMA) and N(0.1, SIGMA) (a hole at zero, as in diamonds);
    ``cut`` a fair coin, so the table gets the per-column model."""
    rng = np.random.default_rng(seed)
    a = rng.normal(6, 2, n)
    d = rng.choice([-0.1, 0.1], n) + rng.normal(0, SIGMA, n)
    cut = rng.choice(["good", "fair"], n)
    return pd.DataFrame({"a": a, "b": a + d, "cut": cut})


def _log_density(frame):
    d = frame["b"] - frame["a"]
    mix = 0.5 * stats.norm.pdf(d, -0.1, SIGMA) + 0.5 * stats.norm.pdf(d, 0.1, SIGMA)
    return stats.norm.logpdf(frame["a"], 6, 2) + np.log(mix) + np.log(0.5)


def _described(relations):
    return {r.column: (r.base, r.exact) for r in relations}


def test_find_near_differences():
    frame = _stones(500, 0)
    rng = np.random.default_rng(1)
    frame["loose"] = frame["a"] + rng.normal(0, 0.8, 500)  # 0.4 of its spread
    frame["count"] = rng.integers(0, 100, 500)
    found = find_near_differences(frame, ["a", "b", "loose", "count"], set())
    assert _described(found) == {"b": ("a", False)}
    assert found[0].describe() == "b - a (not constant)"
    # columns already in exact relations are left out
    assert find_near_differences(frame, ["a", "b"], {"a"}) == []


def test_no_near_difference_without_the_base_or_with_an_order():
    frame = _stones(500, 0)
    holes = frame.copy()
    holes.loc[:9, "a"] = np.nan  # b observed where a is not
    assert find_near_differences(holes, ["a", "b"], set()) == []
    # b never below another column: the order is modelled, not the difference
    ordered = frame.assign(floor=frame["b"] - 1.0 - np.abs(frame["a"] - 6) / 10)
    assert find_near_differences(ordered, ["a", "b", "floor"], set()) == []
    above = frame.assign(b=frame["a"] + np.abs(frame["b"] - frame["a"]))  # b >= a
    assert find_near_differences(above, ["a", "b"], set()) == []


def test_held_out_score_stays_below_the_true_density():
    """Gibbs' inequality: the held-out mean score of the stones cannot exceed
    the true mean log-density beyond 3 standard errors, and the difference's
    hole at zero is kept in samples (|d| < 0.03 in 1 % of true rows)."""
    train, test = _stones(3000, 2), _stones(3000, 3)
    vae = VAETransformer(**{**FAST_TABLE, "max_iter": 60}).fit(train)
    assert vae.relations_ == {"b": "b - a (not constant)"}
    truth = _log_density(test)
    scores = vae.score_samples(test)
    se = np.std(scores - truth, ddof=1) / math.sqrt(len(test))
    assert scores.mean() <= truth.mean() + 3 * se
    assert scores.mean() > truth.mean() - 0.5  # and the model is a fair one
    rows = vae.sample(5000, random_state=0)
    near_zero = ((rows["b"] - rows["a"]).abs() < 0.03).mean()
    assert near_zero < 0.05  # a smooth head of b given a puts its mode there


def test_given_values_imputation_and_errors():
    train = _stones(1000, 4)
    vae = VAETransformer(**FAST_TABLE).fit(train)
    rows = vae.sample(200, given={"a": 7.0}, random_state=0)
    assert (rows["a"] == 7.0).all()
    assert ((rows["b"] - 7.0).abs() < 0.3).all()
    with pytest.raises(ValueError, match="'b' is modelled through its difference"):
        vae.sample(5, given={"b": 7.0})
    imputer = VAEImputer(**FAST_TABLE).fit(train)
    holes = train.head(20).copy()
    holes.loc[:9, "b"] = np.nan
    filled = imputer.transform(holes)
    assert ((filled["b"] - filled["a"]).abs() < 0.5).all()  # b alone: spread 2
    pd.testing.assert_frame_equal(filled.iloc[10:], train.iloc[10:20])
    holes.loc[:2, "a"] = np.nan  # both missing: drawn together
    assert imputer.transform(holes)[["a", "b"]].notna().all().all()
    holes.loc[12:13, "a"] = np.nan  # b observed, its base missing
    before = holes.copy()
    with pytest.raises(ValueError, match="give 'a' too"):
        imputer.transform(holes)
    pd.testing.assert_frame_equal(holes, before)

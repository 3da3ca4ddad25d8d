"""Exact relations between columns, found in the training rows."""

import numpy as np
import pandas as pd
import pytest

from skvae import VAEImputer, VAETransformer
from skvae._relations import find_relations

from .conftest import FAST_TABLE

LEVELS = {"primary": 6, "secondary": 12, "bachelor": 16, "master": 18}


@pytest.fixture
def related():
    """A table with an equal pair (two prices, as in a car-choice table), a
    constant sum (hours asleep and awake), a level relation (years of an
    education level) and an order that is left to the model."""
    rng = np.random.default_rng(0)
    n = 400
    price = np.round(rng.lognormal(1.5, 0.4, n), 2)
    sleep = np.round(rng.uniform(4, 18, n), 1)
    education = rng.choice(list(LEVELS), n)
    low = np.round(rng.normal(10, 5, n), 1)
    return pd.DataFrame(
        {
            "price1": price,
            "price2": price.copy(),
            "sleep": sleep,
            "awake": np.round(24 - sleep, 1),
            "education": education.astype(object),
            "years": pd.Series(education).map(LEVELS).astype(np.int64),
            "temp_min": low,
            "temp_max": np.round(low + rng.gamma(2, 3, n), 1),
        }
    )


def _kinds(relations):
    return {r.column: (r.kind, r.base) for r in relations}


def test_find_relations_equal_sum_and_level(related):
    numeric = ["price1", "price2", "sleep", "awake", "years", "temp_min", "temp_max"]
    found = _kinds(find_relations(related, numeric, ["education"]))
    assert found == {
        "price1": ("difference", "price2"),
        "sleep": ("sum", "awake"),
        "years": ("level", "education"),
    }  # temp_max >= temp_min is an order: left to the model


def test_find_relations_rejects_unsafe_ones():
    rng = np.random.default_rng(1)
    a = rng.normal(size=100)
    frame = pd.DataFrame({"a": a, "b": a.copy(), "c": rng.integers(0, 9, 100)})
    frame.loc[:4, "a"] = np.nan  # b observed where a is not: no base
    assert _kinds(find_relations(frame, ["b", "c"], [])) == {}
    assert _kinds(find_relations(frame, ["a", "b"], [])) == {"a": ("difference", "b")}
    # an integer column is never derived from a float one (b - a not exact)
    ints = pd.DataFrame({"i": np.arange(50), "f": np.arange(50) * 1.0})
    assert _kinds(find_relations(ints, ["i", "f"], [])) == {"f": ("difference", "i")}
    # too few rows to trust a relation
    assert find_relations(frame.head(10), ["a", "b"], []) == []


def test_datetime_equality_and_identifier_like_levels():
    days = pd.date_range("2020-01-01", periods=60, freq="D")
    frame = pd.DataFrame(
        {"start": days, "logged": days, "code": [f"c{i}" for i in range(60)]}
    )
    found = _kinds(find_relations(frame, ["start", "logged"], ["code"]))
    # one row per level is not a function of the level, it is a lookup table
    assert found == {"start": ("difference", "logged")}


def test_samples_keep_relations_and_schema(related):
    before = related.copy()
    vae = VAETransformer(**FAST_TABLE).fit(related)
    pd.testing.assert_frame_equal(related, before)  # the user's frame untouched
    assert vae.relations_ == {
        "price1": "price1 - price2",
        "sleep": "sleep + awake",
        "years": "years - f(education)",
    }
    synthetic = vae.sample(2000, random_state=0)
    assert (synthetic.dtypes == related.dtypes).all()
    assert (synthetic["price1"] == synthetic["price2"]).all()
    assert np.allclose(synthetic["sleep"] + synthetic["awake"], 24.0)
    assert (synthetic["years"] == synthetic["education"].map(LEVELS)).all()
    # values stay on the columns' decimals and inside their training ranges
    assert (synthetic["sleep"] == synthetic["sleep"].round(1)).all()
    assert synthetic["sleep"].between(related["sleep"].min(), 18).all()


def test_scores_stay_finite_when_a_row_breaks_a_relation(related):
    vae = VAETransformer(**FAST_TABLE).fit(related)
    rows = related.head(50)
    broken = rows.assign(price1=rows["price1"] + 0.5)
    kept, lost = vae.score_samples(rows), vae.score_samples(broken)
    assert np.isfinite(lost).all()
    assert (lost < kept - 5).all()  # the residual's tail: a large penalty


def test_given_derived_column_fixes_its_base(related):
    vae = VAETransformer(**FAST_TABLE).fit(related)
    out = vae.sample(20, random_state=0, given={"price1": 5.25, "years": 16})
    assert (out["price1"] == 5.25).all() and (out["price2"] == 5.25).all()
    assert (out["education"] == "bachelor").all() and (out["years"] == 16).all()
    out = vae.sample(20, random_state=0, given={"awake": 10.5})
    assert (out["sleep"] == 13.5).all()
    with pytest.raises(ValueError, match="residual price1 - price2"):
        vae.sample(5, random_state=0, given={"price1": (1.0, 2.0)})


def test_a_range_on_a_base_keeps_its_relations(related):
    """A range on the base of a derived column: every row in the range, and
    the relation exact (a value moved into the range moves its derived
    column with it)."""
    vae = VAETransformer(**FAST_TABLE).fit(related)
    low, high = related["price2"].quantile([0.3, 0.6])
    out = vae.sample(300, random_state=0, given={"price2": (low, high)})
    assert out["price2"].between(low, high).all()
    assert (out["price1"] == out["price2"]).all()


def test_imputer_fills_a_base_from_its_derived_column(related):
    holes = related.copy()
    holes.loc[:39, "education"] = np.nan
    holes.loc[40:79, "price2"] = np.nan
    holes.loc[80:119, ["price1", "years", "awake"]] = np.nan  # derived, bases seen
    filled = VAEImputer(**FAST_TABLE).fit(related).transform(holes)
    assert (filled["education"].map(LEVELS) == filled["years"]).all()
    assert (filled["price1"] == filled["price2"]).all()
    assert np.allclose(filled["sleep"] + filled["awake"], 24.0)
    assert not filled.isna().any().any()


def test_a_nullable_column_missing_in_the_first_rows():
    values = pd.array([pd.NA] * 1200 + list(range(300)), dtype="Int64")
    frame = pd.DataFrame({"late": values, "x": np.arange(1500.0)})
    vae = VAETransformer(**FAST_TABLE).fit(frame)
    assert vae.relations_ == {}
    assert vae.sample(50, random_state=0)["late"].dtype == "Int64"

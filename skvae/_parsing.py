"""Read one DataFrame column as one kind of column (numpy and pandas only).

The table codec models each column of a user's DataFrame as one of five kinds:
``"boolean"``, ``"numeric"``, ``"datetime"``, ``"timedelta"`` or
``"categorical"``. :func:`column_kind` picks the kind at fit time, from the
dtype where the dtype says enough and from the values of object and string
columns. The ``as_*`` functions then read a column strictly as its fitted kind,
at fit time and for every later ``transform``/``score`` call:

* :func:`as_boolean` gives a bool array (True/False, 0/1, "yes"/"no", ...);
* :func:`as_float` gives a float64 array (numbers and numeric strings);
* :func:`as_int64` gives the integer count of a datetime or timedelta column
  in its unit, with a mask of missing values; :func:`datetime_dtype` and
  :func:`datetime_unit` give the dtype and unit to read it in.

Every failure is a ``ValueError`` (values that do not fit the fitted kind) or a
``TypeError`` (a column no kind can model) whose message starts with
``Column 'name'`` and says what to do. No pandas or numpy exception escapes.
"""

import datetime
import decimal
import numbers
import re
import warnings

import numpy as np
import pandas as pd
from pandas.api import types as pdt

KINDS = ("boolean", "numeric", "datetime", "timedelta", "categorical")
UNITS = ("s", "ms", "us", "ns")

_NOTE_BOOLEAN = "object column of booleans read as boolean"
_NOTE_NUMERIC = "holds numbers; read as numeric"
_NOTE_DATETIME = "holds dates and times; read as datetime"
_NOTE_ISO = "holds ISO-8601 date strings; read as datetime"
_NOTE_TIMEDELTA = "holds time spans; read as timedelta"

_TRUE = frozenset({"true", "t", "yes", "1"})
_FALSE = frozenset({"false", "f", "no", "0"})
# In strings that float() reads, one per line: a code ("02134") or an underscore.
_CODE = re.compile(r"^\s*[+-]?0\d", re.MULTILINE)
_CODE_OR_UNDERSCORE = re.compile(_CODE.pattern + "|_", re.MULTILINE)
_NAT_TEXT = frozenset({"", "nat", "nan", "none", "null"})
_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})
_SHOWN = 5  # offending values listed in an error message


# --------------------------------------------------------------------------- #
# Column kinds
# --------------------------------------------------------------------------- #


def column_kind(series):
    """The kind of column a DataFrame column is modelled as.

    The dtype decides where it can:

    * ``bool`` and pandas ``"boolean"``: ``"boolean"``;
    * numpy int/uint/float of any width and pandas ``Int``/``UInt``/``Float``:
      ``"numeric"``;
    * ``datetime64`` (naive or with a time zone, any of the units s, ms, us,
      ns): ``"datetime"``; ``timedelta64``: ``"timedelta"``;
    * ``category``: ``"categorical"``, even when the categories are numbers
      (the user asked for a category).

    Object and string columns are read from their non-missing values (None,
    NaN, ``pd.NA`` and NaT are ignored):

    * all ``bool``/``np.bool_``: ``"boolean"``;
    * all real numbers (int, float, ``np.number``, ``Decimal``; not bool), or
      strings that all read as finite numbers with ``float()`` ("3.5", "-2",
      " 7 ", "1e3"), or a mix of the two: ``"numeric"``. This is the case after
      ``SimpleImputer(strategy="most_frequent").set_output(transform="pandas")``,
      which turns numeric columns into object columns. A string whose integer
      part has a leading zero ("02134", "007"), or that has an underscore
      ("1_000"), is a code, such as a zip code, not a number: a column
      holding one stays ``"categorical"`` (and so do "nan" and "inf" as text);
    * all ``datetime.date``/``datetime.datetime``/``pd.Timestamp``/
      ``np.datetime64``: ``"datetime"``. Strings are ``"datetime"`` when every
      one parses with ``pd.to_datetime(..., format="ISO8601")`` and at least
      one contains the ``-`` date separator ("2021-03-04",
      "2021-03-04T12:00:00Z"), or when exactly one of the formats
      ``_DAY_FORMATS`` reads every one ("07/04/2014", "4 Jul 2014");
    * all ``datetime.timedelta``/``pd.Timedelta``/``np.timedelta64``:
      ``"timedelta"``;
    * anything else: ``"categorical"``, as is a column with no non-missing
      value.

    Parameters
    ----------
    series : pandas.Series
        One column of the user's DataFrame.

    Returns
    -------
    kind : {"boolean", "numeric", "datetime", "timedelta", "categorical"}
        How the column is modelled.
    note : str or None
        A short note when the kind was read from the values of an object or
        string column rather than from the dtype, else None.

    Raises
    ------
    TypeError
        For complex numbers; period, interval and sparse dtypes; cells that
        hold lists, dicts, sets or arrays; and any other dtype. The message
        names the column and says how to convert it.

    Examples
    --------
    >>> import pandas as pd
    >>> column_kind(pd.Series([1.5, 2.0], name="bill"))
    ('numeric', None)
    >>> column_kind(pd.Series(["3.5", "-2"], dtype=object, name="bill"))
    ('numeric', 'holds numbers; read as numeric')
    >>> column_kind(pd.Series(["02134", "10001"], name="zip"))
    ('categorical', None)
    """
    label = _label(series)
    dtype = series.dtype
    if isinstance(dtype, pd.SparseDtype):
        raise TypeError(
            f"{label} is sparse ({dtype}), which skvae does not read. Make it "
            f"dense first: df[{_name(series)!r}] = "
            f"df[{_name(series)!r}].sparse.to_dense()."
        )
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical", None
    if isinstance(dtype, pd.PeriodDtype):
        raise TypeError(
            f"{label} holds periods ({dtype}), which skvae does not model. "
            f"Convert them to timestamps with df[{_name(series)!r}]"
            ".dt.to_timestamp(), or to a category with .astype(str)"
            '.astype("category").'
        )
    if isinstance(dtype, pd.IntervalDtype):
        raise TypeError(
            f"{label} holds intervals ({dtype}), which skvae does not model. "
            f"Convert it to a numeric column (e.g. the midpoints, "
            f"df[{_name(series)!r}].array.mid) or to a categorical one "
            '(.astype(str).astype("category")).'
        )
    if pdt.is_complex_dtype(dtype):
        raise _complex_error(series)
    if pdt.is_bool_dtype(dtype):
        return "boolean", None
    if pdt.is_datetime64_any_dtype(dtype):
        return "datetime", None
    if getattr(dtype, "kind", None) == "m":
        return "timedelta", None
    if pdt.is_numeric_dtype(dtype):
        return "numeric", None
    if pdt.is_object_dtype(dtype) or pdt.is_string_dtype(dtype):
        return _kind_from_values(series)
    raise TypeError(
        f"{label} has dtype {dtype}, which skvae cannot model. Convert it to a "
        'numeric, boolean, datetime64, timedelta64 or "category" column.'
    )


def _kind_from_values(series):
    """The kind of an object or string column, read from its values."""
    present = _present(series.to_numpy(dtype=object))
    if present.size == 0:
        return "categorical", None
    inferred = pdt.infer_dtype(present, skipna=False)
    if inferred == "boolean":
        return "boolean", _NOTE_BOOLEAN
    if inferred in _NUMBER_KINDS:
        return "numeric", _NOTE_NUMERIC
    if inferred in ("datetime", "datetime64", "date"):
        return "datetime", _NOTE_DATETIME
    if inferred in ("timedelta", "timedelta64"):
        return "timedelta", _NOTE_TIMEDELTA
    if inferred == "string":
        return _kind_from_strings(present)
    # A mix of types (or something infer_dtype does not name): value by value.
    _check_hashable(series, present)
    if any(_is_complex(value) for value in present):
        raise _complex_error(series)
    is_text = _is_text(present)
    if all(_is_number(value) for value in present[~is_text]) and _all_number_text(
        present[is_text]
    ):
        return "numeric", _NOTE_NUMERIC
    if all(isinstance(value, (datetime.date, np.datetime64)) for value in present):
        return "datetime", _NOTE_DATETIME
    if all(
        isinstance(value, (datetime.timedelta, np.timedelta64)) for value in present
    ):
        return "timedelta", _NOTE_TIMEDELTA
    return "categorical", None


def _kind_from_strings(present):
    """The kind of a column whose non-missing values are all strings."""
    uniques = pd.unique(present)
    if _all_number_text(uniques):
        return "numeric", _NOTE_NUMERIC
    if (
        any("-" in text for text in uniques)
        and all(text.lstrip()[:1].isdigit() for text in uniques)
        and _parses_as_datetimes(uniques)
    ):
        return "datetime", _NOTE_ISO
    if (fmt := written_date_format(uniques)) is not None:
        return "datetime", f"holds dates written as {fmt}; read as datetime"
    return "categorical", None


def _parses_as_datetimes(values):
    """Whether every string of ``values`` parses as an ISO-8601 datetime."""
    try:
        _parse_datetimes(values)
    except Exception:  # any pandas parse failure means "not datetimes"
        return False
    return True


# --------------------------------------------------------------------------- #
# Booleans
# --------------------------------------------------------------------------- #


def as_boolean(series):
    """Read a column fitted as boolean as a bool array.

    Accepted: a ``bool`` column; a pandas ``"boolean"`` column without missing
    values; ``True``/``False``/``np.bool_`` values; numbers exactly 0 or 1 (int
    or float, of any dtype); and the strings "true"/"false", "t"/"f",
    "yes"/"no", "1"/"0" in any case and with surrounding spaces. The string
    "False" reads as False.

    Parameters
    ----------
    series : pandas.Series of length n_samples
        The column, at fit time or for later ``transform``/``score`` data.

    Returns
    -------
    values : ndarray of shape (n_samples,), dtype bool
        The column as booleans.

    Raises
    ------
    ValueError
        If the column has missing values (not supported yet for boolean
        columns), or holds a value that is not one of the above; the message
        names the column and lists up to five offending values.
    TypeError
        If the column holds complex numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> as_boolean(pd.Series(["yes", "False", " T ", "0"], name="smoker"))
    array([ True, False,  True, False])
    """
    _label(series)  # checks that it is a Series
    dtype = series.dtype
    if pdt.is_complex_dtype(dtype):
        raise _complex_error(series)
    if pdt.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        missing = _isna(series)
        if missing.any():
            raise _missing_boolean_error(series, missing)
        return series.to_numpy(dtype=bool, copy=True)
    if pdt.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(values)
        if missing.any():
            raise _missing_boolean_error(series, missing)
        bad = (values != 0) & (values != 1)
        if bad.any():
            raise _boolean_value_error(series, series.to_numpy(dtype=object)[bad])
        return values == 1
    values = series.to_numpy(dtype=object)
    missing = _isna(values)
    if missing.any():
        raise _missing_boolean_error(series, missing)
    if pdt.infer_dtype(values, skipna=False) == "boolean":
        return values.astype(bool)
    out = np.zeros(values.size, dtype=bool)
    bad = np.zeros(values.size, dtype=bool)
    is_text = _is_text(values)
    if is_text.any():
        codes, uniques = pd.factorize(values[is_text])
        read = [_text_boolean(text) for text in uniques]
        lookup = np.array([value is True for value in read], dtype=bool)
        unread = np.array([value is None for value in read], dtype=bool)
        out[is_text] = lookup[codes]
        bad[is_text] = unread[codes]
    rest = ~is_text
    read, bad[rest] = _read_one_by_one(series, values[rest], _value_boolean)
    out[rest] = [value is True for value in read]
    if bad.any():
        raise _boolean_value_error(series, values[bad])
    return out


def _read_one_by_one(series, values, read):
    """``read`` of each value that is not text (None: unreadable), and the mask
    of the unreadable ones; a complex value raises."""
    if any(_is_complex(value) for value in values):
        raise _complex_error(series)
    out = [read(value) for value in values]
    return out, np.array([value is None for value in out], dtype=bool)


def _text_boolean(text):
    """True, False, or None for a string that is not a boolean."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def _value_boolean(value):
    """True, False, or None for a non-string value that is not a boolean."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if _is_number(value):
        if value == 1:
            return True
        if value == 0:
            return False
    return None


def _missing_boolean_error(series, missing):
    name = _name(series)
    return ValueError(
        f"{_label(series)} has {int(np.sum(missing))} missing value(s), and "
        "missing values in boolean columns are not supported yet. Fill or drop "
        f"them (e.g. df[{name!r}] = df[{name!r}].fillna(False)), or cast the "
        f'column to "category" (df[{name!r}].astype("category")) to model '
        "missing as a level of its own."
    )


def _boolean_value_error(series, bad):
    return ValueError(
        f"{_label(series)} was fitted as boolean but holds {len(bad)} value(s) "
        f"that are not booleans: {_show(bad)}. Accepted: True/False, the numbers "
        "0/1, and the strings 'true'/'false', 't'/'f', 'yes'/'no', '1'/'0' "
        "(any case). Recode these values, or cast the column to "
        '"category" and fit again.'
    )


# --------------------------------------------------------------------------- #
# Numbers
# --------------------------------------------------------------------------- #


def as_float(series):
    """Read a column fitted as numeric as a float64 array.

    Numeric dtypes are read directly (a missing value of a nullable dtype
    reads as NaN) and booleans as 0/1. Object and string columns may hold
    numbers, booleans (0/1) and numeric strings: any string Python's
    ``float()`` reads, surrounding spaces allowed ("3.5", " -2 ", "1e3",
    "02134", "nan", "inf"). Missing values (None, NaN, ``pd.NA``) read as
    NaN. Finiteness is not checked here: the caller decides
    what NaN and infinity mean.

    Parameters
    ----------
    series : pandas.Series of length n_samples
        The column, at fit time or for later ``transform``/``score`` data.

    Returns
    -------
    values : ndarray of shape (n_samples,), dtype float64
        The column as floats.

    Raises
    ------
    ValueError
        If a value is not a number (e.g. the text "abc"); the message names the
        column and lists up to five offending values.
    TypeError
        If the column holds complex numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> as_float(pd.Series([" 7 ", 1.5, None, "1e3"], dtype=object, name="x"))
    array([   7. ,    1.5,    nan, 1000. ])
    """
    _label(series)  # checks that it is a Series
    dtype = series.dtype
    if pdt.is_complex_dtype(dtype):
        raise _complex_error(series)
    if (pdt.is_numeric_dtype(dtype) or pdt.is_bool_dtype(dtype)) and not isinstance(
        dtype, pd.CategoricalDtype
    ):
        try:
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        except (ValueError, TypeError, OverflowError) as err:
            raise ValueError(
                f"{_label(series)} (dtype {dtype}) could not be read as float64 "
                f"numbers ({err}). Cast it yourself with "
                f'df[{_name(series)!r}].astype("float64").'
            ) from err
    values = series.to_numpy(dtype=object)
    missing = _isna(values)
    out = np.full(values.size, np.nan)
    present = values[~missing]
    if pdt.infer_dtype(present, skipna=False) in _NUMBER_KINDS | {"boolean"}:
        try:
            out[~missing] = present.astype(np.float64)
        except (ValueError, TypeError, OverflowError):
            pass  # e.g. an int too large for a float: read value by value
        else:
            return out
    floats = np.full(present.size, np.nan)
    bad = np.zeros(present.size, dtype=bool)
    is_text = _is_text(present)
    if is_text.any():
        codes, uniques = pd.factorize(present[is_text])
        uniques = np.asarray(uniques, dtype=object)
        try:
            read = uniques.astype(np.float64)  # float() of each string
            unread = np.zeros(read.size, dtype=bool)
        except (ValueError, TypeError, OverflowError):
            read = np.array([_text_float(text) for text in uniques], dtype=np.float64)
            unread = np.array([not _reads_as_float(text) for text in uniques])
        floats[is_text] = read[codes]
        bad[is_text] = unread[codes]
    rest = ~is_text
    read, bad[rest] = _read_one_by_one(series, present[rest], _value_float)
    floats[rest] = [np.nan if value is None else value for value in read]
    if bad.any():
        raise ValueError(
            f"{_label(series)} was fitted as numeric but holds {int(bad.sum())} "
            f"value(s) that are not numbers: {_show(present[bad])}. Accepted: "
            "numbers, booleans and numeric strings such as '3.5' or '-2e3'. "
            "Fix or drop these values (or set them to NaN), or cast the column "
            'to "category" and fit again.'
        )
    out[~missing] = floats
    return out


def _value_float(value):
    """A float for a non-string number or boolean, else None."""
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if _is_number(value):
        try:
            return float(value)
        except (OverflowError, ValueError, TypeError):
            return None
    return None


def _reads_as_float(text):
    try:
        float(text)
    except (ValueError, OverflowError):
        return False
    return True


def _text_float(text):
    """float(text), or NaN where it does not read (for the error path)."""
    return float(text) if _reads_as_float(text) else np.nan


def _all_number_text(texts):
    """Whether every string reads as a finite number that is not a code.

    A string is a number when Python's ``float()`` reads it (surrounding
    spaces allowed), the number is finite, it has no underscore ("1_000") and
    its integer part has no leading zero: "02134" and "007" are codes (zip
    codes, identifiers), "0", "0.5" and "-0.25" are numbers.
    """
    texts = np.asarray(texts, dtype=object)
    try:
        values = texts.astype(np.float64)
    except (ValueError, TypeError, OverflowError):
        return False
    if not np.isfinite(values).all():
        return False  # "nan", "inf", "1e999"
    # One regex pass over all strings, one per line. A newline inside a string
    # that float() read can only be surrounding whitespace, so each line starts
    # at (the whitespace before) a number.
    return _CODE_OR_UNDERSCORE.search("\n".join(texts)) is None


def has_code_text(texts):
    """Whether any string in ``texts`` (numbers as written in a file) has an
    integer part with a leading zero ("02134", "007"): a code, which a CSV
    reader turns into a number and loses its zeros."""
    texts = [t for t in texts if isinstance(t, str) and "\n" not in t]
    return _CODE.search("\n".join(texts)) is not None


def _is_number(value):
    """Whether a value is a real number (not a bool, not complex)."""
    return isinstance(value, (numbers.Real, decimal.Decimal)) and not isinstance(
        value, (bool, np.bool_, np.timedelta64)
    )


def _is_complex(value):
    return isinstance(value, (complex, np.complexfloating))


def _complex_error(series):
    name = _name(series)
    return TypeError(
        f"{_label(series)} holds complex numbers, which skvae does not model. "
        "Split it into a real and an imaginary column, e.g. "
        f"df[{name + '_re'!r}] = np.real(df[{name!r}].to_numpy()) and "
        f"df[{name + '_im'!r}] = np.imag(df[{name!r}].to_numpy()), then drop "
        f"{name!r}."
    )


# --------------------------------------------------------------------------- #
# Datetimes and timedeltas
# --------------------------------------------------------------------------- #


def datetime_unit(dtype):
    """The unit of a datetime64 or timedelta64 dtype.

    Parameters
    ----------
    dtype : numpy or pandas dtype, or str
        ``datetime64[unit]``, ``datetime64[unit, tz]``, ``timedelta64[unit]``
        or a pyarrow timestamp/duration dtype.

    Returns
    -------
    unit : {"s", "ms", "us", "ns"}
        The resolution one integer count stands for.

    Raises
    ------
    TypeError
        If ``dtype`` is not a datetime or timedelta dtype in one of these
        units.

    Examples
    --------
    >>> datetime_unit("datetime64[ms, UTC]")
    'ms'
    """
    return _datetime_parts(dtype)[1]


def datetime_dtype(series, kind, text_format=None):
    """The dtype a column fitted as datetime or timedelta is read in.

    For a ``datetime64``/``timedelta64`` column this is its own dtype (unit and
    time zone). For an object or string column it is the dtype
    ``pd.to_datetime(..., format="ISO8601")`` or ``pd.to_timedelta`` gives its
    values; values with different UTC offsets (or naive ones mixed with
    ones that have an offset, read as UTC) are read as UTC. Store the
    result at fit time and pass it to :func:`as_int64` for fit and later data.

    Parameters
    ----------
    series : pandas.Series
        The column at fit time.
    kind : {"datetime", "timedelta"}
        The kind :func:`column_kind` gave the column.
    text_format : str or None
        For dates written other than ISO-8601, their format (from
        :func:`date_text_format`).

    Returns
    -------
    dtype : numpy.dtype or pandas.DatetimeTZDtype
        ``datetime64[unit]``, ``datetime64[unit, tz]`` or ``timedelta64[unit]``
        with a unit in {"s", "ms", "us", "ns"}.

    Raises
    ------
    ValueError
        If the values cannot be read as datetimes or timedeltas; the message
        names the column.

    Examples
    --------
    >>> import pandas as pd
    >>> when = pd.Series(pd.to_datetime(["2021-03-04"]).as_unit("s"), name="when")
    >>> datetime_dtype(when, "datetime")
    dtype('<M8[s]')
    """
    _label(series)  # checks that it is a Series
    if kind not in ("datetime", "timedelta"):
        raise ValueError(
            f"{_label(series)}: kind must be 'datetime' or 'timedelta', got {kind!r}."
        )
    dtype = series.dtype
    if kind == "datetime" and pdt.is_datetime64_any_dtype(dtype):
        _, unit, tz = _datetime_parts(dtype)
    elif kind == "timedelta" and getattr(dtype, "kind", None) == "m":
        _, unit, tz = _datetime_parts(dtype)
    else:
        index = _read_datetimes(
            series, kind, tz=None, fitting=True, text_format=text_format
        )
        unit, tz = index.unit, getattr(index, "tz", None)
    if kind == "timedelta":
        return np.dtype(f"m8[{unit}]")
    if tz is None:
        return np.dtype(f"M8[{unit}]")
    return pd.DatetimeTZDtype(unit=unit, tz=tz)


def as_int64(series, dtype, text_format=None):
    """Read a datetime or timedelta column as integer counts of its unit.

    A datetime is the count of units since 1970-01-01 (for a time zone, of
    the UTC instant: the zone is kept in ``dtype``, not in the counts), a
    timedelta the count of units in the span. Values finer than the unit are
    truncated. Object and string columns may hold ``date``/``datetime``/
    ``pd.Timestamp``/``np.datetime64`` values or ISO-8601 strings for a
    datetime column, ``timedelta``/``pd.Timedelta``/``np.timedelta64`` values or
    strings such as "1 days 02:00:00" for a timedelta column; strings without
    a UTC offset are read as wall times in the fitted time zone. Missing
    values (None, NaN, NaT, and strings pandas reads as NaT such as "") are
    returned in a mask; their counts are meaningless.

    To get datetimes back: ``pd.to_datetime(values, unit=unit, utc=True)``
    then ``.tz_convert(tz)`` (naive: ``pd.to_datetime(values, unit=unit)``);
    timedeltas: ``pd.to_timedelta(values, unit=unit)``.

    Parameters
    ----------
    series : pandas.Series of length n_samples
        The column, at fit time or for later ``transform``/``score`` data.
    dtype : numpy or pandas dtype, or str
        The fitted dtype, from :func:`datetime_dtype`: its kind, unit and time
        zone.
    text_format : str or None
        For dates written other than ISO-8601, their format (from
        :func:`date_text_format`); ISO-8601 strings are read too.

    Returns
    -------
    values : ndarray of shape (n_samples,), dtype int64
        The counts in the unit of ``dtype``.
    missing : ndarray of shape (n_samples,), dtype bool
        True where the value is missing.

    Raises
    ------
    ValueError
        If a value cannot be read as a datetime (or timedelta), is out of the
        range of the unit, or the column has or lacks a time zone where the
        fitted dtype does not; the message names the column and says what to
        do.

    Examples
    --------
    >>> import pandas as pd
    >>> when = pd.Series(["1970-01-01 00:00:02", None], name="when")
    >>> as_int64(when, "datetime64[s]")
    (array([2, 0]), array([False,  True]))
    """
    kind, unit, tz = _datetime_parts(dtype, series)
    index = _read_datetimes(series, kind, tz=tz, fitting=False, text_format=text_format)
    try:
        index = index.as_unit(unit)
    except Exception as err:  # OutOfBoundsDatetime / OutOfBoundsTimedelta
        raise ValueError(
            f"{_label(series)} holds values outside the range of "
            f"{kind} counts in unit {unit!r} ({err}). Drop or fix them."
        ) from err
    missing = np.asarray(index.isna(), dtype=bool)
    if getattr(index, "tz", None) is not None:
        index = index.tz_convert(None)  # the UTC wall time: the instant
    values = index.to_numpy().view(np.int64).copy()
    values[missing] = 0
    return values, missing


def _datetime_parts(dtype, series=None):
    """``(kind, unit, tz)`` of a datetime64 or timedelta64 dtype."""
    where = f"{_label(series)}: " if series is not None else ""
    try:
        dtype = pdt.pandas_dtype(dtype)
    except (TypeError, ValueError) as err:
        message = f"{where}{dtype!r} is not a datetime or timedelta dtype."
        raise TypeError(message) from err
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "datetime", dtype.unit, dtype.tz
    kind = getattr(dtype, "kind", None)
    if isinstance(dtype, pd.ArrowDtype) and kind in ("M", "m"):
        arrow = dtype.pyarrow_dtype
        unit = getattr(arrow, "unit", "s")  # date32/date64 have no unit
        return (
            "datetime" if kind == "M" else "timedelta",
            unit if unit in UNITS else "s",
            getattr(arrow, "tz", None),
        )
    if isinstance(dtype, np.dtype) and kind in ("M", "m"):
        unit = np.datetime_data(dtype)[0]
        if unit in UNITS:
            return ("datetime" if kind == "M" else "timedelta"), unit, None
    raise TypeError(
        f"{where}{dtype} is not a datetime64 or timedelta64 dtype in one of the "
        f"units {', '.join(UNITS)}."
    )


def _read_datetimes(series, kind, *, tz, fitting, text_format=None):
    """A DatetimeIndex or TimedeltaIndex of the column, checked against ``tz``.

    ``fitting`` skips the time-zone check (the fitted zone is being learnt).
    """
    label = _label(series)
    dtype = series.dtype
    if kind == "datetime" and pdt.is_datetime64_any_dtype(dtype):
        try:
            index = pd.DatetimeIndex(series)
        except Exception as err:
            raise ValueError(
                f"{label} (dtype {dtype}) could not be read as datetimes "
                f"({err}). Convert it with pd.to_datetime(df[{_name(series)!r}])."
            ) from err
        if not fitting:
            _check_zone(series, index.tz, tz, strings=False)
        return index
    if kind == "timedelta" and getattr(dtype, "kind", None) == "m":
        try:
            return pd.TimedeltaIndex(series)
        except Exception as err:
            raise ValueError(
                f"{label} (dtype {dtype}) could not be read as timedeltas "
                f"({err}). Convert it with pd.to_timedelta(df[{_name(series)!r}])."
            ) from err
    values = series.to_numpy(dtype=object)
    present = ~_isna(values)
    if kind == "datetime":
        allowed = (str, datetime.date, np.datetime64)
        accepted = (
            "datetime64 columns, date/datetime/Timestamp values and ISO-8601 "
            "strings such as '2021-03-04' or '2021-03-04T12:00:00Z'"
        )
        if text_format in _DAY_FORMATS:
            accepted += f", or, all of them, text written as {text_format} in fit"
    else:
        allowed = (str, datetime.timedelta, np.timedelta64)
        accepted = (
            "timedelta64 columns, timedelta/Timedelta values and strings such "
            "as '1 days 02:00:00'"
        )
    wrong = present & ~np.fromiter(
        (isinstance(value, allowed) for value in values), dtype=bool, count=values.size
    )
    if wrong.any():
        raise _datetime_value_error(series, kind, values[wrong], accepted)
    try:
        if kind == "datetime":
            index = _parse_datetimes(values, text_format)
        else:
            index = pd.TimedeltaIndex(pd.to_timedelta(values))
    except Exception as err:
        raise _datetime_value_error(
            series, kind, _unparsed(values, present, kind, text_format), accepted, err
        ) from err
    if kind == "datetime" and not fitting:
        if index.tz is None and tz is not None:
            try:
                index = index.tz_localize(tz)
            except Exception as err:  # nonexistent or ambiguous local times
                raise ValueError(
                    f"{label} holds times without a UTC offset that do not "
                    f"exist or are ambiguous in the fitted time zone {tz} "
                    f"({err}). Give them an offset, e.g. '2021-03-28T02:30+01:00'."
                ) from err
        texts = any(isinstance(value, str) for value in values[present])
        _check_zone(series, index.tz, tz, strings=texts, objects=not texts)
    return index


# dates written other than ISO-8601, read where exactly one of them reads
# every string of a column (the day first or the month first: whichever the
# values allow; neither, if both do)
_DAY_FORMATS = (
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%d %b %Y",
    "%b %d %Y",
    "%b %d, %Y",
    "%d-%b-%Y",
)


def written_date_format(texts):
    """The one format of ``_DAY_FORMATS`` that reads every string of
    ``texts`` (an object array, no missing values), or None for none or
    several."""
    texts = np.asarray(texts, dtype=object)
    if not texts.size or not all(
        isinstance(t, str) and t[:1].isalnum() for t in texts[:100]
    ):
        return None
    found = []
    for fmt in _DAY_FORMATS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pd.to_datetime(texts[:100], format=fmt)  # most fail here, fast
                pd.to_datetime(texts, format=fmt)
            except (ValueError, TypeError, OverflowError):
                continue
        found.append(fmt)
    return found[0] if len(found) == 1 else None


_TEXT_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m",
)


def date_text_format(series):
    """The ``strftime`` format that writes back the date strings of a text
    column read as datetime, so that samples are strings like the training
    ones (``"%Y-%m-%d"`` for ``"2016-01-31"``); None for a datetime column.

    The first format of a fixed list that reproduces every distinct training
    string (at most 1000 of them checked) is taken, else the one format of
    dates written other than ISO-8601 that reads them all (``"%m/%d/%Y"``
    for ``"07/04/2014"``, see :func:`written_date_format`), else
    ``"%Y-%m-%dT%H:%M:%S"`` (time zones, whose offsets are then not
    written; other layouts). Columns of datetime objects (not text) give
    None too.
    """
    if pdt.infer_dtype(series, skipna=True) != "string":  # datetime values
        return None
    values = pd.unique(series.dropna().to_numpy(dtype=object))
    head = values[:1000]
    try:
        parsed = _parse_datetimes(head)
    except Exception:  # not ISO-8601: dates written so
        return written_date_format(values)
    for fmt in _TEXT_FORMATS:
        if (parsed.strftime(fmt) == head).all():
            return fmt
    return written_date_format(values) or "%Y-%m-%dT%H:%M:%S"


def _parse_datetimes(values, text_format=None):
    """A DatetimeIndex of an object array; mixed UTC offsets are read as UTC.
    A column fitted on dates written as ``text_format`` (one of
    ``_DAY_FORMATS``) is read so where it is not ISO-8601."""
    with warnings.catch_warnings():
        # pandas 2 warns (and returns an object Index) for mixed offsets
        warnings.simplefilter("ignore")
        if text_format in _DAY_FORMATS:
            try:
                return pd.DatetimeIndex(pd.to_datetime(values, format=text_format))
            except (ValueError, TypeError, OverflowError):
                pass  # ISO-8601 or date objects: read below
        try:
            index = pd.to_datetime(values, format="ISO8601")
        except (ValueError, TypeError, OverflowError):
            index = None  # pandas 3 raises for mixed offsets: try UTC below
        if not isinstance(index, pd.DatetimeIndex):
            index = pd.to_datetime(values, format="ISO8601", utc=True)
    return pd.DatetimeIndex(index)


def _unparsed(values, present, kind, text_format=None):
    """The non-missing values pandas could not parse (for an error message)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if kind == "datetime" and text_format in _DAY_FORMATS:
                parsed = pd.to_datetime(values, format=text_format, errors="coerce")
            elif kind == "datetime":
                parsed = pd.to_datetime(
                    values, format="ISO8601", utc=True, errors="coerce"
                )
            else:
                parsed = pd.to_timedelta(values, errors="coerce")
        except Exception:
            return values[present]
    empty = np.fromiter(
        (isinstance(v, str) and v.strip().lower() in _NAT_TEXT for v in values),
        dtype=bool,
        count=values.size,
    )
    bad = present & np.asarray(parsed.isna()) & ~empty
    return values[bad] if bad.any() else values[present]


def _check_zone(series, found, fitted, *, strings, objects=False):
    name = _name(series)
    if fitted is None and found is not None:
        if strings:
            how = "Remove the UTC offsets from the strings"
        elif objects:
            how = (
                "Drop the zone from the values with .tz_localize(None) (local "
                "wall time) or .tz_convert(None) (UTC)"
            )
        else:
            how = (
                f"Drop the zone with df[{name!r}].dt.tz_localize(None) "
                f"(local wall time) or .dt.tz_convert(None) (UTC)"
            )
        raise ValueError(
            f"{_label(series)} was fitted on datetimes without a time zone but "
            f"holds datetimes in time zone {found}. {how}, or fit again."
        )
    if fitted is not None and found is None:
        raise ValueError(
            f"{_label(series)} was fitted on datetimes in time zone {fitted} but "
            "holds datetimes without one. Attach it with "
            f"df[{name!r}].dt.tz_localize({str(fitted)!r}), or fit again."
        )


def _datetime_value_error(series, kind, bad, accepted, err=None):
    detail = ""
    if err is not None:  # pandas' first line, without its "You might ..." advice
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        detail = f" ({first.split(' You might')[0].rstrip('. ')})"
    if isinstance(err, (pd.errors.OutOfBoundsDatetime, pd.errors.OutOfBoundsTimedelta)):
        name = _name(series)
        detail += (
            ". Values outside the nanosecond range (years 1677 to 2262) read "
            f"in a coarser unit: df[{name!r}] = "
            f'df[{name!r}].astype("{kind}64[s]")'
        )
    return ValueError(
        f"{_label(series)} was fitted as {kind} but holds value(s) that cannot "
        f"be read as {kind}s: {_show(bad)}{detail}. Accepted: {accepted}. Fix "
        "or drop these values (or set them to None)."
    )


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def _name(series):
    """The column's name, as a plain Python value."""
    if isinstance(series, pd.DataFrame):
        names = list(dict.fromkeys(series.columns))
        name = names[0] if len(names) == 1 else None
    else:
        name = getattr(series, "name", None)
    return name.item() if isinstance(name, np.generic) else name


def _label(series):
    """``Column 'name'``; also checks that ``series`` is a Series."""
    label = f"Column {_name(series)!r}"
    if isinstance(series, pd.DataFrame):
        raise TypeError(
            f"{label} selects {series.shape[1]} columns of the DataFrame: the "
            "name appears more than once. Give each column a unique name."
        )
    if not isinstance(series, pd.Series):
        raise TypeError(
            f"{label}: expected a pandas Series, got {type(series).__name__}. "
            "Pass one column of a DataFrame."
        )
    return label


def _isna(values):
    """Missing-value mask (None, NaN, pd.NA, NaT) as a bool ndarray."""
    return np.asarray(pd.isna(values), dtype=bool)


def _present(values):
    return values[~_isna(values)]


def _is_text(values):
    return np.fromiter(
        (isinstance(value, str) for value in values), dtype=bool, count=len(values)
    )


def _check_hashable(series, present):
    """Raise TypeError if a cell holds a list, dict, set, array or similar."""
    for value in present:
        try:
            hash(value)
        except TypeError:
            name = _name(series)
            what = type(value).__name__
            raise TypeError(
                f"{_label(series)} holds {what} values (e.g. {_show([value])}); "
                "each cell must hold one value. Explode them into rows "
                f"(df.explode({name!r})) or join each into one string "
                f"(df[{name!r}].map(lambda v: ','.join(map(str, v))))."
            ) from None


def _show(values, limit=_SHOWN):
    """Up to ``limit`` distinct values, as a comma-separated list of reprs."""
    shown = []
    for value in values:
        if isinstance(value, np.generic):
            value = value.item()
        text = repr(value)
        if len(text) > 40:
            text = text[:37] + "..."
        if text not in shown:
            shown.append(text)
            if len(shown) == limit:
                break
    return ", ".join(shown)

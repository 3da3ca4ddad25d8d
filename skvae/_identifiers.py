"""Identifier columns: detect them, and sample new unique values of their form.

An identifier (an order ID ``"ORD-000123"``, a UUID, a customer number in a
column named ``"customer_id"``) holds a unique or nearly unique value per row.
As a category it carries no information and copies real IDs into synthetic
rows. The synthesizer keeps such columns out of the model and, when sampling,
draws new values of the same dtype and form that never equal a training value.

This module uses numpy and pandas only, and takes all randomness from a
``numpy.random.Generator`` passed in.
"""

import math
import operator
import re

import numpy as np
import pandas as pd

from ._parsing import _all_number_text

_MIN_VALUES = 20  # fewer non-missing values: not an identifier
_DISTINCT_SHARE = 0.95  # text columns: share of distinct non-missing values
_SHAPE_SHARE = 0.5  # a shape held by at least this share of values is the form
_ID_NAMES = ("id", "key", "uuid")
_ID_SUFFIXES = ("_id", " id", "-id", "_key", "_uuid")
_CAMEL_ID = re.compile(r"[a-z](?:Id|ID)")  # the last three characters
_CHUNK = 1 << 16  # rows of text drawn at a time, to bound the working memory
_MAX_WIDTH = 64  # characters: a text form is never widened beyond this

_DIGITS = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = _UPPER.lower()
_HEX_LOWER = _DIGITS + "abcdef"
_HEX_UPPER = _DIGITS + "ABCDEF"
_TO_SHAPE = str.maketrans(dict.fromkeys(_DIGITS + _UPPER + _LOWER, "a"))


def is_identifier(series):
    """Whether a column looks like an identifier (detection rule below).

    Parameters
    ----------
    series : pandas.Series
        The column, with its name.

    Returns
    -------
    bool
        True when the column is an identifier under the rule below.

    Notes
    -----
    The rule, by dtype:

    * Text-like columns (object holding strings only, pandas ``string``/``str``
      dtype, or ``category`` dtype whose categories are strings): at least 20
      non-missing values, and at least 95 % of the non-missing values are
      distinct. Object columns holding non-strings (numbers, booleans, a mix)
      are not identifiers by this rule, nor text of numbers one of which has
      a fraction (``"40.1234"``: measurements written as text, as a float
      column holding a fraction).
    * Integer columns (numpy int/uint of any width, pandas nullable Int/UInt,
      and float columns whose values are all whole numbers: an integer column
      with missing values, as ``read_csv`` gives it): at least 20
      non-missing values, all of them distinct, and a name that looks like an
      identifier: equal (ignoring case) to ``"id"``, ``"key"`` or
      ``"uuid"``, or ending (ignoring case) with ``"_id"``, ``" id"``,
      ``"-id"``, ``"_key"`` or ``"_uuid"``, or a camelCase name ending with
      ``"Id"`` or ``"ID"`` after a lowercase letter (``"customerId"``,
      ``"orderID"``). A unique integer column with another name (a count, an
      amount) stays numeric unless it is declared an identifier.
    * Boolean and datetime columns, and float columns holding a fraction,
      are never identifiers.

    Examples
    --------
    >>> import pandas as pd
    >>> is_identifier(pd.Series([f"R{i:05d}" for i in range(50)]))
    True
    >>> is_identifier(pd.Series(range(100_000, 100_050), name="customer_id"))
    True
    >>> is_identifier(pd.Series(range(100_000, 100_050), name="income"))
    False
    """
    kind = _kind(series)
    n_values = int(series.count())
    if kind is None or n_values < _MIN_VALUES:
        return False
    n_distinct = int(series.nunique(dropna=True))
    if kind == "text":
        return n_distinct >= _DISTINCT_SHARE * n_values
    return n_distinct == n_values and _has_identifier_name(series.name)


class IdentifierColumn:
    """New unique values of the dtype and form of an identifier column.

    ``fit`` learns the form of the training values; ``sample`` draws values of
    that form that differ from each other and from every training value, with
    missing values at the training rate.

    The form of text values is learned character position by character
    position. Each value is split into runs of ASCII letters and digits (words)
    and runs of other characters (separators); its shape is the sequence of
    word lengths and separator texts (``"ORD-000123"``: a word of 3, ``"-"``, a
    word of 6). When at least half of the distinct training values share one
    shape, those values give the form: separators are kept, a letter position
    holding one letter in every value is kept (the ``"ORD"`` prefix), other
    letter positions draw letters of the case seen there, and digit positions
    always draw digits (the first digit of a run is never 0 when no training
    value has 0 there). A word whose characters are all hex digits of one case,
    with both digits and letters at some position (the groups of a UUID), draws
    hex digits of that case at each position. When no shape holds half of the
    values (free text, e-mail addresses), values are drawn as strings of the
    most common training length with characters drawn from all characters seen
    in training.

    The form of integers is the range of integers with as many decimal digits
    as the median training value (training values 100000 to 100999 give 100000
    to 999999; negative when the median is), cut to the limits of the dtype.

    A sample that needs more new values than the form holds widens it until
    it fits: integers gain a decimal digit (at the dtype's limit, the range
    reaches toward zero and past it), text repeats its last position that
    varies (``"p[1-9][0-9]"`` becomes ``"p[1-9][0-9]{2}"``). Only a dtype
    without enough unused integers (or text of 64 characters) makes a sample
    fail.
    Float columns whose values are all integers (an integer column with
    missing values, read from a file) are treated as integers, within the
    range of integers the float dtype holds exactly.

    Attributes
    ----------
    name_ : hashable
        The name of the training column.
    dtype_ : dtype
        The dtype of the training column.
    kind_ : {"text", "integer"}
        The kind of values.
    missing_rate_ : float
        The share of missing values (None, NaN, ``pd.NA``) in training.
    missing_value_ : object
        The missing value written into sampled object columns: the first
        missing value seen in training (None or NaN), None when there was none.
        Other dtypes use their own missing value (``pd.NA`` for the ``string``
        and nullable integer dtypes, NaN for ``category``, ``str`` and float).
    training_values_ : pandas.Index
        The distinct non-missing training values (for a ``category`` column,
        all its categories), which samples never repeat.
    alphabets_ : tuple of str or None
        For text, the characters that each position of a sampled value draws
        from (one character: a constant position); None for integers.
    pattern_ : str or None
        For text, a regular expression that every sampled value fully matches
        (``"ORD-[0-9]{6}"``) while the form holds enough new values; None for
        integers.
    range_ : tuple of (int, int) or None
        For integers, the lowest and highest value of the form; None for text.
    space_size_ : int
        The number of distinct values of the form, training values included.

    Notes
    -----
    Sampled ``category`` columns cannot reuse the training dtype, whose
    categories are the training values; they get a ``CategoricalDtype`` with
    the training categories followed by the new values (same ``ordered``).
    Every other dtype is kept as it is.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> ids = pd.Series([f"ORD-{i:06d}" for i in range(100)], name="order")
    >>> column = IdentifierColumn().fit(ids)
    >>> column.pattern_
    'ORD-[0-9]{6}'
    >>> new = column.sample(1000, np.random.default_rng(0))
    >>> bool(new.str.fullmatch(column.pattern_).all())
    True
    >>> bool(new.isin(ids).any()), bool(new.duplicated().any())
    (False, False)
    """

    def fit(self, series):
        """Learn the dtype, missing rate, training values and form of a column.

        Parameters
        ----------
        series : pandas.Series
            An identifier column: text-like, integer, or float holding integers.

        Returns
        -------
        self : IdentifierColumn
            The fitted column.

        Raises
        ------
        TypeError
            When the column holds neither strings nor integers.
        """
        kind = _kind(series)
        if kind is None:
            raise TypeError(
                f"Column {series.name!r} of dtype {series.dtype} cannot be an "
                "identifier: identifiers hold strings or integers."
            )
        self.name_ = series.name
        self.dtype_ = series.dtype
        self.kind_ = kind
        missing = series.isna().to_numpy(dtype=bool)
        self.missing_rate_ = float(missing.mean()) if missing.size else 0.0
        self.missing_value_ = None
        if pd.api.types.is_object_dtype(self.dtype_) and missing.any():
            self.missing_value_ = series.to_numpy(dtype=object)[missing][0]
        self.alphabets_ = self.pattern_ = self.range_ = None
        if kind == "text":
            distinct = pd.unique(series.to_numpy(dtype=object)[~missing])
            if isinstance(self.dtype_, pd.CategoricalDtype):
                excluded = self.dtype_.categories.to_numpy(dtype=object)
            else:
                excluded = distinct
            self.training_values_ = pd.Index(excluded, dtype=object)
            self.alphabets_ = _learn_alphabets(distinct)
            self.pattern_ = _pattern(self.alphabets_)
            self.space_size_ = self._space(self.alphabets_)
        else:
            self._work_dtype = _work_dtype(self.dtype_)
            numbers = _integers(series[~missing], self._work_dtype)
            self.training_values_ = pd.Index(np.unique(numbers))
            self.range_ = _integer_range(numbers, self.dtype_)
            self.space_size_ = self._space(self.range_)
        return self

    def sample(self, n, generator):
        """Draw new identifier values, with missing values at the training rate.

        Parameters
        ----------
        n : int
            The number of values.
        generator : numpy.random.Generator
            The source of all randomness: the same seed gives the same values.

        Returns
        -------
        pandas.Series of shape (n,)
            Named like the training column, of its dtype (``category``: the
            training categories extended by the new values). Each value is
            missing with probability ``missing_rate_``; the others are distinct
            from each other and from every training value.

        Raises
        ------
        ValueError
            When even the widest form the dtype allows holds fewer than the
            requested number of values not seen in training.
        """
        if not hasattr(self, "dtype_"):
            raise AttributeError("This IdentifierColumn is not fitted; call fit.")
        if not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"generator must be a numpy.random.Generator, got {type(generator)}."
            )
        n = operator.index(n)
        if n < 0:
            raise ValueError(f"n must be non-negative, got {n}.")
        missing = generator.random(n) < self.missing_rate_
        new = self._draw_new(n - int(missing.sum()), generator)
        if self.kind_ == "text":
            return self._text_series(new, missing)
        return self._integer_series(new, missing)

    def fill(self, given, generator, *, complete=True):
        """``given`` values kept, new values where they are missing.

        Parameters
        ----------
        given : pandas.Series of shape (n,)
            Values of the column, missing where new ones are wanted.
        generator : numpy.random.Generator
            The source of all randomness.
        complete : bool, default=True
            True fills every missing value (imputation); False leaves each
            missing with probability ``missing_rate_`` (conditional sampling).

        Returns
        -------
        pandas.Series of shape (n,)
            In the training dtype, with a fresh RangeIndex. The new values are
            distinct from each other, from every training value and from the
            given ones.
        """
        missing = given.isna().to_numpy(dtype=bool)
        known = given[~missing]
        if self.kind_ == "integer":
            known = _integers(known, self._work_dtype)
            exclude = np.unique(known)
        else:
            known = known.to_numpy(dtype=object)
            exclude = pd.unique(known)
        still = np.zeros(missing.size, dtype=bool)
        if not complete:
            still[missing] = generator.random(int(missing.sum())) < self.missing_rate_
        new = self._draw_new(int((missing & ~still).sum()), generator, exclude)
        values = np.empty(
            missing.size, dtype=object if self.kind_ == "text" else new.dtype
        )
        values[~missing] = known
        values[missing & ~still] = new
        if self.kind_ == "text":
            return self._text_series(values[~still], still)
        return self._integer_series(values[~still], still)

    def _draw_new(self, k, generator, exclude=None):
        """``k`` distinct values of the form, none of them a training value (nor
        in ``exclude``); a form too small for them is widened first."""
        excluded = self.training_values_
        if exclude is not None and len(exclude):
            excluded = excluded.append(pd.Index(exclude, dtype=excluded.dtype))
            excluded = excluded.unique()
        form = self.alphabets_ if self.kind_ == "text" else self.range_
        while True:
            space = self._space(form)
            if space > 2 * (k + len(excluded)) + 1024:
                break
            # small space: list it whole and pick without replacement
            pool = self._enumerate(form)
            pool = pool[excluded.get_indexer(pool) < 0]
            if pool.size >= k:
                return generator.choice(pool, size=k, replace=False)
            wider = self._widen(form)
            if wider is None:
                if self.kind_ == "text":
                    shape = f"(strings matching {_pattern(form)!r})"
                else:
                    shape = "(integers from {} to {}, all its dtype allows)"
                    shape = shape.format(*form)
                raise ValueError(
                    f"Identifier column {self.name_!r}: its form {shape} holds "
                    f"only {pool.size} values not seen in training, but {k} new "
                    "unique values were requested. Sample fewer rows, or model "
                    "the column as a category with identifier_features=None."
                )
            form = wider
        # at least half of the space is free, so each round keeps most draws
        new = self._draw(form, 0, generator)
        while new.size < k:
            shortfall = k - new.size
            drawn = self._draw(form, shortfall + shortfall // 8 + 16, generator)
            drawn = drawn[excluded.get_indexer(drawn) < 0]
            new = pd.unique(np.concatenate([new, drawn]))
        return new[:k]

    def _space(self, form):
        """The number of values of ``form``."""
        if self.kind_ == "integer":
            return form[1] - form[0] + 1
        return math.prod(len(a) for a in form)

    def _widen(self, form):
        """``form`` with room for more values, or None at the dtype's limits.

        Integers get one more decimal digit, and at the dtype's limit reach
        toward (and past) zero instead; text repeats its last position that
        varies (a digit where that is a leading digit), or gains a digit at
        its end when no position varies.
        """
        if self.kind_ == "integer":
            return _widen_range(*form, *_integer_limits(self.dtype_))
        if len(form) >= _MAX_WIDTH:
            return None
        variable = [j for j, alphabet in enumerate(form) if len(alphabet) > 1]
        if not variable:
            return (*form, _DIGITS)
        last = variable[-1]
        repeat = _DIGITS if form[last] == _DIGITS[1:] else form[last]
        return (*form[: last + 1], repeat, *form[last + 1 :])

    def _draw(self, form, m, generator):
        """``m`` values of ``form``, drawn uniformly and independently."""
        if self.kind_ == "integer":
            low, high = form
            return generator.integers(
                low, high, size=m, dtype=self._work_dtype, endpoint=True
            )
        sizes = np.asarray([len(a) for a in form], dtype=np.int64)
        variable = np.flatnonzero(sizes > 1)
        highs = sizes[variable] - 1
        code_dtype = np.uint8 if highs.max(initial=0) < 256 else np.int64
        new = np.empty(m, dtype=object)
        for start in range(0, m, _CHUNK):
            rows = min(m - start, _CHUNK)
            codes = np.zeros((rows, sizes.size), dtype=np.int64)
            codes[:, variable] = generator.integers(
                0,
                highs.astype(code_dtype),
                size=(rows, variable.size),
                dtype=code_dtype,
                endpoint=True,
            )
            new[start : start + rows] = _strings(form, codes)
        return new

    def _enumerate(self, form):
        """All values of ``form`` (only called when there are few)."""
        if self.kind_ == "integer":
            low, high = form
            start = np.asarray(low, dtype=self._work_dtype)
            return start + np.arange(high - low + 1, dtype=self._work_dtype)
        if not form:
            return np.array([""], dtype=object)
        sizes = tuple(len(a) for a in form)
        index = np.arange(math.prod(sizes))
        codes = np.stack(np.unravel_index(index, sizes), axis=1)
        return _strings(form, codes)

    def _text_series(self, new, missing):
        """A Series of ``missing.size`` values: ``new`` where ``missing`` is
        false. A ``category`` column gets the training categories followed by
        the values of ``new`` that are not among them."""
        n = missing.size
        if isinstance(self.dtype_, pd.CategoricalDtype):
            old = self.dtype_.categories
            extra = pd.Index(pd.unique(np.asarray(new, dtype=object)), dtype=old.dtype)
            categories = old.append(extra[old.get_indexer(extra) < 0])
            dtype = pd.CategoricalDtype(categories, ordered=self.dtype_.ordered)
            codes = np.full(n, -1, dtype=np.int64)
            codes[~missing] = categories.get_indexer(pd.Index(new, dtype=old.dtype))
            values = pd.Categorical.from_codes(codes, dtype=dtype)
            return pd.Series(values, name=self.name_)
        values = np.empty(n, dtype=object)
        values[missing] = self.missing_value_
        values[~missing] = new
        return pd.Series(values, dtype=self.dtype_, name=self.name_)

    def _integer_series(self, new, missing):
        numpy_dtype = _numpy_dtype(self.dtype_)
        if numpy_dtype.kind == "f":
            values = np.full(missing.size, np.nan, dtype=numpy_dtype)
        else:
            values = np.zeros(missing.size, dtype=numpy_dtype)
        values[~missing] = new
        result = pd.Series(values, dtype=self.dtype_, name=self.name_)
        if numpy_dtype.kind != "f" and missing.any():
            result = result.mask(missing)
        return result


def _kind(series):
    """``"text"``, ``"integer"`` (integer dtypes, floats holding integers) or
    None."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        strings = pd.api.types.infer_dtype(dtype.categories, skipna=True)
        return "text" if strings == "string" else None
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        values = series.dropna().to_numpy(dtype=np.float64)
        integral = np.isfinite(values).all() and (values == np.round(values)).all()
        return "integer" if integral else None
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        strings = pd.api.types.infer_dtype(series, skipna=True)
        if strings != "string":
            return None
        texts = series.dropna().to_numpy(dtype=object)
        if _all_number_text(texts):  # measurements written as text
            values = texts.astype(np.float64)
            if (values != np.round(values)).any():
                return None  # a fraction, as a float column's
        return "text"
    return None


def _has_identifier_name(name):
    if not isinstance(name, str):
        return False
    lower = name.lower()
    return (
        lower in _ID_NAMES
        or lower.endswith(_ID_SUFFIXES)
        or _CAMEL_ID.fullmatch(name[-3:]) is not None
    )


def _numpy_dtype(dtype):
    """The numpy dtype behind a numpy or pandas extension dtype."""
    return np.dtype(getattr(dtype, "numpy_dtype", dtype))


def _work_dtype(dtype):
    """The numpy integer dtype that holds every integer value of ``dtype``."""
    return np.dtype(np.uint64 if _numpy_dtype(dtype) == np.uint64 else np.int64)


def _integers(series, work_dtype):
    """The values of a column of integers (or integral floats), no missing."""
    if pd.api.types.is_float_dtype(series.dtype):
        floats = series.to_numpy(dtype=np.float64)
        if floats.size and np.abs(floats).max() >= 2.0**63:
            raise ValueError(
                f"Column {series.name!r} holds integers too large for int64."
            )
        return floats.astype(work_dtype)
    return series.to_numpy(dtype=work_dtype)


def _integer_range(values, dtype):
    """Integers with the decimal digits of the largest value (one more while the
    training values fill half of that range), of its sign, within ``dtype``."""
    largest = int(np.abs(values.astype(object)).max()) if values.size else 0
    negative = values.size and int(np.median(values.astype(np.float64))) < 0
    digits = len(str(largest))
    while values.size > (10**digits - 10 ** (digits - 1)) // 2 and digits < 20:
        digits += 1
    low, high = (10 ** (digits - 1) if digits > 1 else 0), 10**digits - 1
    if negative:
        low, high = -high, -max(low, 1)
    limits = _integer_limits(dtype)
    return max(low, limits[0]), min(high, limits[1])


def _widen_range(low, high, lowest, highest):
    """A wider range of integers than ``[low, high]`` within ``[lowest,
    highest]``: a digit more away from zero, or, at the limit, a digit less
    toward zero and then past it; None when it spans the limits."""
    if 0 < high < highest:
        return low, min(high * 10 + 9, highest)
    if high <= 0 and low > lowest:
        return max(low * 10 - 9, lowest), high
    # the end away from zero is at the limit: move the other end
    if low > lowest:
        return (low // 10 if low > 0 else max(low * 10 - 9, lowest)), high
    if high < highest:
        return low, (-(-high // 10) if high < 0 else min(high * 10 + 9, highest))
    return None


def _integer_limits(dtype):
    """The lowest and highest integer ``dtype`` holds exactly."""
    numpy_dtype = _numpy_dtype(dtype)
    if numpy_dtype.kind == "f":
        exact = 2 ** (np.finfo(numpy_dtype).nmant + 1)
        return max(-exact, -(2**63)), min(exact, 2**63 - 1)
    info = np.iinfo(numpy_dtype)
    return int(info.min), int(info.max)


def _learn_alphabets(values):
    """The characters each position of the form draws from.

    Parameters
    ----------
    values : ndarray of str
        Distinct training values.

    Returns
    -------
    tuple of str
        One alphabet per position of the values to draw; see
        :class:`IdentifierColumn` for the rule.
    """
    if values.size == 0:
        return ()
    # the shape: the value with each ASCII letter or digit replaced by "a"
    shapes = pd.Series([value.translate(_TO_SHAPE) for value in values])
    counts = shapes.value_counts(sort=True)
    if counts.iloc[0] < _SHAPE_SHARE * values.size:
        width = int(shapes.str.len().value_counts().index[0])
        characters = "".join(sorted(set("".join(values))))
        return (characters,) * width
    shape = counts.index[0]
    group = values[(shapes == shape).to_numpy()]
    width = len(group[0])
    if width == 0:
        return ()
    codes = np.array(list(group), dtype=f"<U{width}").view("<u4")
    codes = codes.reshape(-1, width)
    seen = [set(map(chr, np.unique(codes[:, j]))) for j in range(width)]
    is_word = [char == "a" for char in shape]
    alphabets = []
    start = 0
    while start < width:
        stop = start + 1
        while stop < width and is_word[stop] == is_word[start]:
            stop += 1
        if is_word[start]:
            alphabets.extend(_word_alphabets(seen[start:stop]))
        else:
            alphabets.extend("".join(s) for s in seen[start:stop])
        start = stop
    return tuple(alphabets)


def _word_alphabets(seen):
    """Alphabets for one run of letters and digits, from the characters seen
    at each of its positions."""
    union = set().union(*seen)
    digits, hex_lower, hex_upper = set(_DIGITS), set(_HEX_LOWER), set(_HEX_UPPER)
    mixed = any(s & digits and s - digits for s in seen)
    if mixed and (union <= hex_lower or union <= hex_upper):
        return [_HEX_LOWER if union <= hex_lower else _HEX_UPPER] * len(seen)
    alphabets = []
    for j, chars in enumerate(seen):
        if chars <= digits:
            run_start = j == 0 or not seen[j - 1] <= digits
            alphabets.append(_DIGITS[1:] if run_start and "0" not in chars else _DIGITS)
        elif not chars & digits and len(chars) == 1:
            alphabets.append(next(iter(chars)))
        else:
            alphabet = _DIGITS if chars & digits else ""
            alphabet += _UPPER if chars & set(_UPPER) else ""
            alphabet += _LOWER if chars & set(_LOWER) else ""
            alphabets.append(alphabet)
    return alphabets


def _strings(alphabets, codes):
    """Object array of strings, row ``i`` taking ``alphabets[j][codes[i, j]]``."""
    width = len(alphabets)
    if width == 0:
        return np.full(codes.shape[0], "", dtype=object)
    table = np.frombuffer("".join(alphabets).encode("utf-32-le"), dtype="<u4")
    offsets = np.cumsum([0] + [len(a) for a in alphabets[:-1]])
    points = np.ascontiguousarray(table[offsets + codes], dtype="<u4")
    return points.view(f"<U{width}")[:, 0].astype(object)


def _char_class(alphabet):
    """A regular expression matching one character of ``alphabet``."""
    if len(alphabet) == 1:
        return "\\" + alphabet if alphabet in ".^$*+?{}[]\\|()" else alphabet
    points = sorted(map(ord, alphabet))
    ranges = [[points[0], points[0]]]
    for point in points[1:]:
        if point == ranges[-1][1] + 1:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    parts = []
    for low, high in ranges:
        if high - low < 2:
            parts.extend(_class_char(p) for p in range(low, high + 1))
        else:
            parts.append(f"{_class_char(low)}-{_class_char(high)}")
    return "[" + "".join(parts) + "]"


def _class_char(point):
    char = chr(point)
    return "\\" + char if char in "\\]^-[" else char


def _pattern(alphabets):
    """A regular expression matching every string the alphabets can give."""
    parts = []
    for alphabet in alphabets:
        part = _char_class(alphabet)
        if parts and parts[-1][0] == part:
            parts[-1][1] += 1
        else:
            parts.append([part, 1])
    return "".join(p if k == 1 else f"{p}{{{k}}}" for p, k in parts)

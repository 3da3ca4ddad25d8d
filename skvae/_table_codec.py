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
from scipy.special import ndtr, ndtri

from ._codecs import Encoded

_Z_LIMIT = 8.0  # normal scores are clipped to +-8 (mass beyond: ~1e-15)
_U_MIN = float(ndtr(-_Z_LIMIT))
_MAX_KNOTS = 1000
_ATOM_SHARE = 1e-3  # a value repeating in >= 0.1 % of rows (and twice) is an atom
_SPIKE_SHARE = 0.5  # a column whose commonest atom holds half the rows is spiked
_MISSING = "__skvae_missing__"
_HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


def _scores(u):
    return ndtri(np.clip(u, _U_MIN, 1.0 - _U_MIN))


class _NumericColumn:
    """Quantile map of one numeric column, with atoms for repeated values."""

    kind = "interval_gaussian"
    width = 2

    def fit(self, series, spikes=False):
        self.dtype = series.dtype
        values = _numeric(series)
        n = values.size
        uniq, counts = np.unique(values, return_counts=True)
        is_atom = (counts >= 2) & (counts >= _ATOM_SHARE * n)
        rest = np.repeat(uniq[~is_atom], counts[~is_atom])
        if np.unique(rest).size < 2:  # too few continuous values for a density
            is_atom[:] = True
            rest = rest[:0]
        self.atoms = uniq[is_atom]
        atom_mass = counts[is_atom] / n
        # spike-and-slab: the atoms go to a companion categorical column, and
        # the map covers the continuous rest alone
        self.spiked = bool(
            spikes and rest.size and atom_mass.max(initial=0.0) >= _SPIKE_SHARE
        )
        if self.spiked:
            mapped, mapped_mass, n = self.atoms[:0], atom_mass[:0], rest.size
        else:
            mapped, mapped_mass = self.atoms, atom_mass
        # continuous part: piecewise-linear CDF through quantiles of the rest
        if rest.size:
            levels = np.linspace(0.0, 1.0, min(_MAX_KNOTS, rest.size))
            knots, first = np.unique(np.quantile(rest, levels), return_index=True)
            knot_mass = levels[first] * rest.size / n
        else:
            knots = knot_mass = np.empty(0)
        # one increasing list of breakpoints, each with F(x-) and F(x)
        xs = np.concatenate([mapped, knots])
        order = np.argsort(xs, kind="stable")
        xs = xs[order]
        jump = np.concatenate([mapped_mass, np.zeros(knots.size)])[order]
        # continuous mass below each breakpoint (linear between knots)
        if knots.size:
            cont = np.interp(xs, knots, knot_mass)
        else:
            cont = np.zeros(xs.size)
        left = cont + np.concatenate([[0.0], np.cumsum(jump)[:-1]])
        right = left + jump
        self.x_points = np.repeat(xs, 2)
        self.u_points = np.column_stack([left, right]).ravel()
        self.n_rows = n
        self.integer = np.all(np.mod(values, 1) == 0)
        self.low, self.high = values.min(), values.max()
        return self

    def encode(self, series):
        """``(n, 2)`` interval bounds in normal scores and the log-Jacobian ``(n,)``."""
        values = _numeric(series)
        xp, up = self.x_points, self.u_points
        first = np.searchsorted(xp, values, side="left")
        last = np.searchsorted(xp, values, side="right") - 1
        is_atom = np.isin(values, self.atoms)
        u = np.interp(values, xp, up)
        seg = np.clip(last + 1, 1, xp.size - 1)
        dx = xp[seg] - xp[seg - 1]
        with np.errstate(over="ignore"):  # subnormal spacings overflow
            slope = np.divide(
                up[seg] - up[seg - 1], dx, out=np.zeros_like(dx), where=dx > 0
            )
        inside = (values > xp[0]) & (values < xp[-1])
        point = ~is_atom & inside & (slope > 0) & np.isfinite(slope)
        # an atom is the interval [F(x-), F(x)] of its mass; a value the training
        # data never had nearby (a gap of the support, or out of range) gets the
        # mass of one training row around F(x)
        half = 0.5 / (self.n_rows + 1)
        lo = np.clip(u - half, 0.0, 1.0 - 2 * half)
        hi = np.clip(u + half, 2 * half, 1.0)
        lo = np.where(is_atom, up[np.minimum(first, up.size - 1)], lo)
        hi = np.where(is_atom, up[np.maximum(last, 0)], hi)
        z_point = _scores(u)
        z_lo = np.where(point, z_point, _scores(lo))
        z_hi = np.where(point, z_point, _scores(hi))
        if self.spiked:  # the companion column carries the atom's probability
            z_lo[is_atom], z_hi[is_atom] = -_Z_LIMIT, _Z_LIMIT
        # a point's density picks up dz/dx = F'(x) / phi(z)
        log_slope = np.log(np.where(point, slope, 1.0))
        logjac = np.where(point, log_slope + 0.5 * z_point**2 + _HALF_LOG_2PI, 0.0)
        return np.column_stack([z_lo, z_hi]), logjac

    def decode(self, encoded):
        u = 0.5 * (ndtr(encoded[:, 0]) + ndtr(encoded[:, 1]))
        values = np.interp(u, self.u_points, self.x_points)
        values = np.clip(values, self.low, self.high)
        if self.integer:
            values = np.rint(values)
        return values


class _BooleanColumn:
    kind = "bernoulli"
    width = 1

    def fit(self, series):
        self.dtype = series.dtype
        return self

    def encode(self, series):
        values = _boolean(series)
        return values.astype(float).reshape(-1, 1), np.zeros(values.size)

    def decode(self, encoded):
        return encoded[:, 0] > 0.5


class _CategoricalColumn:
    kind = "categorical"

    def fit(self, series, handle_unknown):
        self.dtype = dtype = series.dtype
        self.handle_unknown = handle_unknown
        values = series.to_numpy(dtype=object)
        observed = set(pd.unique(values[~pd.isna(values)]))
        if isinstance(dtype, pd.CategoricalDtype):  # keep the dtype's order
            levels = [c for c in dtype.categories if c in observed]
        else:
            levels = sorted(observed, key=lambda v: (str(type(v)), v))
        self.missing = bool(pd.isna(values).any())
        self.levels = levels + ([_MISSING] if self.missing else [])
        self.width = len(self.levels)
        return self

    def encode(self, series):
        values = series.to_numpy(dtype=object)
        known = self.levels[:-1] if self.missing else self.levels
        codes = pd.Index(known, dtype=object).get_indexer(values).astype(np.int64)
        missing = pd.isna(values)
        if self.missing:
            codes[missing] = len(known)
        unknown = (codes < 0) & ~missing
        if unknown.any() and self.handle_unknown == "error":
            examples = sorted({str(v) for v in values[unknown]})[:5]
            raise ValueError(
                f"Found unknown categories {examples} in column {series.name!r} during "
                "transform; use handle_unknown='ignore' to encode them as all-zero "
                "(the column then drops out of the likelihood)."
            )
        onehot = np.zeros((values.size, self.width))
        rows = np.nonzero(codes >= 0)[0]
        onehot[rows, codes[rows]] = 1.0
        return onehot, np.zeros(values.size)

    def decode(self, encoded):
        picked = np.asarray(self.levels, dtype=object)[encoded.argmax(axis=1)]
        return np.where(picked == _MISSING, None, picked)


class _SpikeColumn:
    """Which atom of a spiked numeric column a value is, one-hot; last: none."""

    kind = "categorical"
    dtype = None

    def __init__(self, atoms):
        self.atoms = atoms
        self.width = atoms.size + 1

    def encode(self, series):
        values = _numeric(series)
        codes = np.searchsorted(self.atoms, values)
        hit = codes < self.atoms.size
        hit[hit] = self.atoms[codes[hit]] == values[hit]
        onehot = np.zeros((values.size, self.width))
        onehot[np.arange(values.size), np.where(hit, codes, self.atoms.size)] = 1.0
        return onehot, np.zeros(values.size)

    def decode(self, encoded):
        """The atom of each row, NaN where the row has none."""
        codes = encoded.argmax(axis=1)
        return np.append(self.atoms, np.nan)[codes]


@dataclass
class _Block:
    name: str
    column: object
    companion: bool = False  # derived from the column of the same name, not decoded


def _is_categorical(series, explicit):
    if series.name in explicit:
        return True
    return not (
        pd.api.types.is_numeric_dtype(series.dtype)
        or pd.api.types.is_bool_dtype(series.dtype)
    )


class TableCodec:
    """Encode a mixed-type DataFrame column by column; decode to the same schema.

    Parameters
    ----------
    categorical_features : "from_dtype", None, or list of column names / indices
        / boolean mask
        Which columns are categorical. Pandas ``category``, object and string
        columns always are; listed numeric columns are too.
    handle_unknown : {"error", "ignore"}
        What to do with categories not seen in ``fit``.
    """

    def __init__(
        self, categorical_features="from_dtype", handle_unknown="error", spikes=True
    ):
        self.categorical_features = categorical_features
        self.handle_unknown = handle_unknown
        self.spikes = spikes

    def _explicit(self, columns):
        spec = self.categorical_features
        if spec is None or isinstance(spec, str):
            return set()
        spec = list(spec)
        if all(isinstance(s, (bool, np.bool_)) for s in spec):
            if len(spec) != len(columns):
                raise ValueError(
                    f"categorical_features is a mask of length {len(spec)}, but X "
                    f"has {len(columns)} columns."
                )
            return {c for c, flag in zip(columns, spec, strict=True) if flag}
        names = set()
        for s in spec:
            if isinstance(s, (int, np.integer)):
                if not -len(columns) <= s < len(columns):
                    raise ValueError(f"categorical_features index {s} is out of range.")
                names.add(columns[s])
            elif s in columns:
                names.add(s)
            else:
                raise ValueError(
                    f"categorical_features names {s!r}, not a column of X."
                )
        return names

    def fit(self, frame):
        self.columns = list(frame.columns)
        explicit = self._explicit(self.columns)
        self.blocks = []
        for name in self.columns:
            series = frame[name]
            if _is_categorical(series, explicit):
                column = _CategoricalColumn().fit(series, self.handle_unknown)
            elif pd.api.types.is_bool_dtype(series.dtype):
                column = _BooleanColumn().fit(series)
            else:
                column = _NumericColumn().fit(series, self.spikes)
            self.blocks.append(_Block(name, column))
            if getattr(column, "spiked", False):
                self.blocks.append(_Block(name, _SpikeColumn(column.atoms), True))
        order = {"interval_gaussian": 0, "bernoulli": 1, "categorical": 2}
        self._layout = sorted(self.blocks, key=lambda b: order[b.column.kind])
        return self

    def heads(self):
        """Likelihood heads as ``(kind, argument)`` pairs, in encoded order."""
        out = []
        for kind in ("interval_gaussian", "bernoulli", "categorical"):
            blocks = [b for b in self._layout if b.column.kind == kind]
            if not blocks:
                continue
            if kind == "categorical":
                out.append((kind, [b.column.width for b in blocks]))
            else:
                out.append((kind, len(blocks)))
        return out

    def column_models(self):
        """Per column: "quantile_normal", "spike_and_slab", "bernoulli" or
        "categorical"."""
        names = {}
        for block in self.blocks:
            kind = block.column.kind
            if block.companion:
                names[block.name] = "spike_and_slab"
            else:
                names[block.name] = {"interval_gaussian": "quantile_normal"}.get(
                    kind, kind
                )
        return [names[name] for name in self.columns]

    def encode(self, frame, dtype):
        parts, logjac = [], np.zeros(len(frame))
        for block in self._layout:
            values, lj = block.column.encode(frame[block.name])
            parts.append(values)
            logjac += lj
        return Encoded(np.hstack(parts).astype(dtype), logjac.astype(dtype))

    def decode(self, encoded):
        """A DataFrame with the training columns, order, dtypes and categories."""
        decoded, atoms, start = {}, {}, 0
        for block in self._layout:
            column = block.column
            values = column.decode(encoded[:, start : start + column.width])
            if block.companion:
                atoms[block.name] = values
            else:
                decoded[block.name] = values
            start += column.width
        for name, values in atoms.items():
            decoded[name] = np.where(np.isnan(values), decoded[name], values)
        for block in self.blocks:
            if not block.companion:
                decoded[block.name] = pd.Series(decoded[block.name]).astype(
                    block.column.dtype
                )
        return pd.DataFrame({name: decoded[name] for name in self.columns})


def _numeric(series):
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(values).all():
        raise ValueError(
            f"Column {series.name!r} contains NaN or infinity; numeric columns must "
            "be finite (impute them first, e.g. with sklearn.impute.SimpleImputer)."
        )
    return values


def _boolean(series):
    if series.isna().any():
        raise ValueError(f"Boolean column {series.name!r} contains missing values.")
    return series.to_numpy(dtype=bool)

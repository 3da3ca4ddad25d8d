"""The column model of a numeric, datetime or timedelta column (no torch).

A column maps to normal scores ``z`` through a distribution function ``F`` on
the real line, ``z = Phi^-1(F(x))``, and the decoder's Gaussian over ``z`` is
then a distribution over ``x`` in the user's units:

* ``F`` mixes the data's quantile function with a Cauchy tail,
  ``F = (1 - a) F_data + a F_Cauchy`` with ``a = 1 / (n + 1)``. ``F_data`` is
  piecewise linear through up to 1,000 quantiles of the values, with a jump at
  each value that repeats (an atom: at least twice and in 0.1 % of rows).
  The Cauchy part (centred on the median, half the interquartile range wide)
  gives every value a positive density or mass, in the gaps between training
  values and beyond their range; so every score is a log-density or log-mass of
  a normalised distribution.
* **The grid.** Each column has a step: the largest power of ten (for
  datetimes and timedeltas: calendar unit, from a day down to the dtype's
  resolution) that divides every training value's distance from the minimum,
  for floats every value itself (or agrees with every value to six significant
  digits, where the values fill at least 10 points of a step below 1: numbers
  summed or written in single precision, 27.59999 on a grid of 0.1; such a
  grid only rounds what decoding returns, never past a value that repeats);
  for integers, the distances' greatest common divisor where at least 10
  distinct values share it (years 1565, 1570, ...: 5). An integer column on a
  grid coarser than 1 gives the integers off its grid a share ``1 / (n +
  2)**2`` of the mass (``n`` training values; each such integer ``1 / step``
  of it, beside its nearest grid point; samples keep to the grid), so the pmf
  over all integers sums to at most 1 and an off-grid value keeps a finite
  score. A column whose step is at least 1 (integers, dates, whole numbers
  stored as floats) is *discrete*: a pmf over ``minimum + k * step`` for all
  integers ``k``, the mass of ``k`` being ``F``'s mass over ``[k - 1/2, k +
  1/2]`` steps; a value off the grid is scored as the grid point nearest to it
  (times the off-grid share above, in an integer column; a column of integer
  dtype takes whole numbers only). Other columns are continuous: an atom
  scores its mass, any other value its density.
* **Decoding** inverts ``F``, stays inside the training range and the support
  of the data (a value in a gap between atoms goes to the nearer atom), snaps
  discrete columns to the grid in exact integer arithmetic (no float64 round trip:
  ``INT64_MAX`` and 17-digit integers come back exactly when they are atoms,
  and every value stays in range) and rounds continuous columns to their step,
  so values recorded to one decimal come back with one decimal (never past an
  atom, which comes back as recorded).
"""

import datetime
import math

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ._parsing import (
    as_float,
    as_int64,
    date_text_format,
    datetime_dtype,
    datetime_unit,
)

_Z_LIMIT = 8.0  # a spiked atom in the slab encodes as [-8, 8], the whole line
_MAX_KNOTS = 1000
_ATOM_SHARE = 1e-3  # a value repeating in >= 0.1 % of rows (and twice) is an atom
_SPIKE_SHARE = 0.5  # a column whose commonest atom holds half the rows is spiked
_MIN_GRID_VALUES = 10  # distinct integers that a step other than 10**e needs
_SINGLE = 2e-6  # six significant digits: single precision's sums and prints
_SINGLE_MARGIN = 100  # a step this many such errors wide is no coincidence
_NARROW = 1e-3  # a grid cell narrower than this in z is scored as a point
_HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)
_DECIMALS = range(18, -13, -1)  # floats: steps from 1e18 down to 1e-12
_UNITS_NS = [86400 * 10**9, 3600 * 10**9, 60 * 10**9, 10**9, 10**6, 10**3, 1]
_PER_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def _log_phi(z):
    return -0.5 * z * z - _HALF_LOG_2PI


def _cauchy_cdf(t):
    """``(F(t), 1 - F(t))`` of the standard Cauchy, both accurate in the tails."""
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(divide="ignore"):
        tail = np.arctan(np.abs(1.0 / t)) / np.pi  # mass beyond |t|
    below = np.where(t < 0, tail, 1.0 - tail)
    above = np.where(t < 0, 1.0 - tail, tail)
    return below, above


def _cauchy_mass(a, b):
    """Standard Cauchy mass of ``[a, b]``, accurate for narrow far cells."""
    with np.errstate(divide="ignore", invalid="ignore"):
        near = np.arctan((b - a) / (1.0 + a * b))
    return np.where(a * b > -1.0, near, np.arctan(b) - np.arctan(a)) / np.pi


def _fraction(value):
    """Whether ``value`` is a finite number that is not whole."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, float | np.floating):
        return False
    return bool(np.isfinite(value) and not float(value).is_integer())


def is_open_end(end, side):
    """Whether a range's ``end`` leaves that side open: None, or the infinity
    of its ``side`` (-1 for the low end, 1 for the high end)."""
    if end is None:
        return True
    if isinstance(end, bool | np.bool_) or not isinstance(end, float | int | np.number):
        return False
    return bool(end == side * np.inf)


def _scores(below, above):
    """Normal scores of probabilities given as ``F`` and ``1 - F``."""
    return np.where(below < 0.5, ndtri(below), -ndtri(above))


def _float_step(values, eps):
    """Largest ``10**e`` (at most the largest magnitude) that all ``values`` are
    multiples of, to ``eps`` relative precision, or 0."""
    return _float_steps(values, eps)[0]


def _grid_end(t, step, side):
    """The first (``side`` -1) or last (1) multiple of the decimal ``step``
    from ``t`` inwards, up to float rounding, as the decimal reads it."""
    q = t / step
    k = np.rint(q)
    # a value on the grid stays (t / step carries float64's relative error)
    if abs(q - k) > max(1e-9, 1e-12 * abs(q)):
        k = np.ceil(q) if side < 0 else np.floor(q)
    per_unit = round(1 / step)
    return k / per_unit if abs(per_unit * step - 1) < 1e-9 else k * step


def _float_steps(values, eps):
    """``(step, printed)``: the :func:`_float_step` of ``values``, and the
    coarser ``10**e`` they agree with to six significant digits where they
    fill at least ``_MIN_GRID_VALUES`` points of a step below 1 that is wide
    beside that precision (numbers summed or written in single precision:
    27.59999 and 5.200005 on a grid of 0.1; not whole numbers that miss by a
    millionth, which may be precise), else ``step`` again."""
    largest = np.abs(values).max(initial=0.0)
    if largest == 0:
        return 1.0, 1.0
    printed, single = None, True
    for e in _DECIMALS:
        step = 10.0**e
        if step > largest:
            continue
        if step < 64 * eps * largest:  # finer than the floats resolve: no step
            return 0.0, printed or 0.0
        scaled = values / step
        off = np.abs(scaled - np.rint(scaled))
        if np.all(off <= 8 * eps * np.abs(scaled)):
            return step, printed or step
        wide = step >= _SINGLE_MARGIN * _SINGLE * largest
        if printed is None and single and wide:
            if np.all(off <= _SINGLE * np.abs(scaled)):
                if np.unique(np.rint(scaled)).size >= _MIN_GRID_VALUES:
                    if step < 1:
                        printed = step
                    else:
                        single = False  # whole numbers that miss by a millionth
    return 0.0, printed or 0.0


def _integer_step(offsets, units, any_step=False):
    """The largest of ``units`` (descending, ending at 1) dividing every
    offset; with ``any_step``, their greatest common divisor where at least
    ``_MIN_GRID_VALUES`` distinct offsets share it (years 1565, 1570, ...:
    5), so rarely by chance."""
    g = int(np.gcd.reduce(offsets)) if offsets.size else 0
    if any_step and g > 1 and np.unique(offsets).size >= _MIN_GRID_VALUES:
        return g
    return next((u for u in units if g and g % u == 0), 1)


class QuantileColumn:
    """Quantile map of one numeric, datetime or timedelta column to normal scores.

    Parameters
    ----------
    kind : {"numeric", "datetime", "timedelta"}
        How the column's values are read.
    """

    kind = "interval_gaussian"
    width = 2

    def __init__(self, kind="numeric"):
        self.value_kind = kind

    # -------------------------------------------------------------- reading

    def read(self, series, rounded=True):
        """Model coordinates ``t`` of a column: grid indices, or the values; NaN
        where a value is missing. ``rounded=False`` leaves a discrete column's
        coordinates off the grid where the values are (a range's ends)."""
        if getattr(self, "month_offset", None) is not None:
            ints, missing = self._integers(series)
            t = self._month_t(ints, rounded)
            t[missing] = np.nan
            return t
        if self.exact:
            ints, missing = self._integers(series)
            above, distance = self._distance(ints)
            t = np.where(above, 1.0, -1.0) * distance.astype(np.float64)
            t = np.rint(t / self.step) if rounded else t / self.step
            t[missing] = np.nan
            return t
        values = as_float(series)
        _check_finite(values, series.name)
        if not self.discrete:
            return values
        return np.rint(values / self.step) if rounded else values / self.step

    def _distance(self, ints):
        """``(above, distance)``: whether each of the integers ``ints`` is at
        least the minimum, and its exact distance from it (uint64)."""
        above = ints >= self.base
        u_ints, u_base = ints.view(np.uint64), self.base.view(np.uint64)
        return above, np.where(above, u_ints - u_base, u_base - u_ints)

    def _off_grid(self, series):
        """Which integers of an exact numeric column are off its grid, in
        integer arithmetic (a float quotient is inexact beyond 2**53)."""
        _, distance = self._distance(self._integers(series)[0])
        return distance % np.uint64(self.step) != 0

    def _wall_time_is_coarser(self, series):
        """Whether a zoned datetime column is modelled in its wall time (local
        midnights a day apart across clock changes) rather than as instants
        (a fixed UTC time of day): the one whose values share the coarser
        grid; on a tie the wall time, unless two instants share a wall time
        (the hour repeated when the clocks go back), which it would merge;
        True for a column with no zone."""
        tz = getattr(self.time_dtype, "tz", None)
        if tz is None:
            return True
        instants, missing = as_int64(
            series, self.time_dtype, getattr(self, "text_format", None)
        )
        instants = instants[~missing]
        wall = _wall_counts(instants, tz, datetime_unit(self.time_dtype))
        if instants.size < 2:
            return True
        coarse_wall = np.gcd.reduce(wall - wall.min())
        coarse_instants = np.gcd.reduce(instants - instants.min())
        if coarse_wall != coarse_instants:
            return bool(coarse_wall > coarse_instants)
        return np.unique(wall).size == np.unique(instants).size

    def datetimes(self, series):
        """A naive datetime column's values ``series`` (dates written as text,
        too) as ``datetime64`` read as :meth:`fit` reads them, NaT where
        missing."""
        values, missing = self._integers(series)
        out = values.view(f"M8[{datetime_unit(self.time_dtype)}]")
        return pd.Series(out, index=series.index).mask(missing)

    def _integers(self, series):
        """The column as int64 / uint64 (datetimes: counts of their unit), 0
        where a value is missing, and the mask of missing values."""
        if self.value_kind != "numeric":
            values, missing = as_int64(
                series, self.time_dtype, getattr(self, "text_format", None)
            )
            values = np.where(missing, 0, values)
            tz = getattr(self.time_dtype, "tz", None)
            if tz is not None and getattr(self, "wall_time", True):
                # the wall time: local midnights stay a day apart
                values = _wall_counts(values, tz, datetime_unit(self.time_dtype))
            return values, missing
        if pd.api.types.is_integer_dtype(series.dtype) and not series.isna().any():
            return series.to_numpy(dtype=self.int_dtype), np.zeros(len(series), bool)
        if pd.api.types.is_integer_dtype(series.dtype):  # nullable: exact values
            missing = series.isna().to_numpy()
            values = series.to_numpy(dtype=self.int_dtype, na_value=0)
            return values, missing
        values = as_float(series)  # integers given as floats or text later on
        _check_finite(values, series.name)
        missing = np.isnan(values)
        fractional = ~missing & (values != np.rint(values))
        if fractional.any():
            examples = ", ".join(map(repr, series[fractional].iloc[:3].tolist()))
            raise ValueError(
                f"Column {series.name!r} was fitted on integers ({self.dtype}) "
                f"and holds {int(fractional.sum())} value(s) that are not whole "
                f"numbers: {examples}. Round them, or cast the column to float "
                "and fit again."
            )
        info = np.iinfo(self.int_dtype)
        values = np.clip(
            np.rint(np.where(missing, 0.0, values)), info.min, float(info.max)
        )
        return values.astype(self.int_dtype), missing

    # ------------------------------------------------------------------ fit

    def fit(self, series, spikes=False, step=None):
        """Fit the map to the training values ``series``.

        ``spikes`` lets a dominant atom go to a companion column; ``step``
        (floats only) sets the grid instead of the values' own, e.g. for a
        residual that is constant in training but keeps its column's decimals.
        """
        self.dtype = dtype = series.dtype
        kind = self.value_kind
        self.exact = kind != "numeric" or pd.api.types.is_integer_dtype(dtype)
        self.discrete = self.exact
        self.text_format = date_text_format(series) if kind == "datetime" else None
        if kind != "numeric":
            self.time_dtype = datetime_dtype(series, kind, self.text_format)
            self.wall_time = self._wall_time_is_coarser(series)
        # datetime.date objects (no time of day) come back as dates
        self.date_objects = (
            kind == "datetime"
            and self.text_format is None
            and pd.api.types.infer_dtype(series, skipna=True) == "date"
            and not any(isinstance(v, datetime.datetime) for v in series.dropna())
        )
        # numbers written as text come back as text, written the same way
        self.number_text = None
        if kind == "numeric" and not pd.api.types.is_numeric_dtype(dtype):
            texts = series.dropna().to_numpy(dtype=object)
            if all(isinstance(v, str) for v in texts):
                self.number_text = _text_decimals(texts)
        self.print_step = None
        if self.exact:
            unsigned = pd.api.types.is_unsigned_integer_dtype(dtype)
            self.int_dtype = np.dtype(np.uint64 if unsigned else np.int64)
            ints, missing = self._integers(series)
            self.missing = bool(missing.any())
            ints = ints[~missing]
            self.base = ints.min()
            offsets = ints.view(np.uint64) - self.base.view(np.uint64)
            span = int(offsets.max())
            if kind == "numeric":
                units = [10**e for e in range(19, -1, -1)]
            else:
                per = _PER_NS[datetime_unit(self.time_dtype)]
                units = [u // per for u in _UNITS_NS if u % per == 0]
            self.step = _integer_step(
                offsets,
                [u for u in units if u <= max(span, 1)],
                any_step=kind == "numeric",
            )
            # integers off a coarser grid share a mass of 1/(n+2)^2 (see
            # _off_grid), so the pmf over all integers sums to at most 1
            self.off_grid_log_share = None
            if kind == "numeric" and self.step > 1:
                epsilon = 1.0 / (ints.size + 2) ** 2
                self.off_grid_log_share = (
                    math.log(epsilon / self.step),
                    math.log1p(-epsilon),
                )
            self.n_grid = span // self.step  # the last grid index, exactly
            index = offsets // np.uint64(self.step)
            self.month_offset = self._month_grid(ints) if kind == "datetime" else None
            if self.month_offset is not None:  # grid index: months from the first
                months = _months(ints, datetime_unit(self.time_dtype))[0]
                self.base_month = int(months.min())
                index = (months - self.base_month).astype(np.uint64)
                self.step, self.n_grid = 1, int(index.max())
            t = index.astype(np.float64)
        else:
            values = as_float(series)
            _check_finite(values, series.name)
            missing = np.isnan(values)
            self.missing = bool(missing.any())
            values = values[~missing]
            numpy_dtype = getattr(dtype, "numpy_dtype", dtype)
            floating = isinstance(numpy_dtype, np.dtype) and numpy_dtype.kind == "f"
            eps = np.finfo(numpy_dtype if floating else np.float64).eps
            printed = None
            if step is None:
                step, printed = _float_steps(values, eps)
            self.step = step
            self.discrete = self.step >= 1
            # a grid to six digits only rounds what decode returns
            if printed is not None and printed > step and not self.discrete:
                self.print_step = printed
            t = np.rint(values / self.step) if self.discrete else values
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            self._fit_map(t, spikes)  # subnormal spreads overflow harmlessly
        if self.exact:  # the exact index of each atom, whatever float64 holds
            order = np.argsort(t, kind="stable")
            at = np.searchsorted(t[order], self.atoms)
            self.atom_index = index[order][at]
        return self

    def _month_grid(self, ints):
        """The offset (counts of the unit) of every value from the start of
        its month when all values share it and fall in at least three months
        (a monthly series: every date the 1st, say), or else from the start
        of the next month (every date the last day of its month: a negative
        offset, and ``month_from_end`` set); None when neither is shared."""
        unit = datetime_unit(self.time_dtype)
        months, starts = _months(ints, unit)
        self.month_from_end = 0
        if np.unique(months).size < 3:
            return None
        for from_end in (0, 1):
            offset = ints - _month_starts(months + from_end, unit)
            if (offset == offset[0]).all():
                self.month_from_end = from_end
                return int(offset[0])
        return None

    def _grid_dates(self, months):
        """The grid date (counts of the unit) of each of ``months`` (since
        1970-01) of a column on a grid of months."""
        unit = datetime_unit(self.time_dtype)
        from_end = getattr(self, "month_from_end", 0)  # older pickles: starts
        return _month_starts(months + from_end, unit) + self.month_offset

    def grid_counts(self, ints):
        """The grid date nearest each of datetime counts ``ints`` (as floats
        of the unit), outside the training range too: the value a date off
        the grid is scored as."""
        if getattr(self, "month_offset", None) is not None:
            months = self._month_t(ints).astype(np.int64) + self.base_month
            return self._grid_dates(months).astype(float)
        base = float(self.base)
        return np.rint((ints - base) / self.step) * self.step + base

    def _month_t(self, ints, rounded=True):
        """Grid indices (months from the first) of datetime counts ``ints``; a
        value between two grid dates lies between their indices."""
        months, _ = _months(ints, datetime_unit(self.time_dtype))
        at = self._grid_dates(months)
        before = ints < at  # before this month's grid date: from the last one
        months = np.where(before, months - 1, months)
        at = np.where(before, self._grid_dates(months), at)
        after = self._grid_dates(months + 1)
        t = (months - self.base_month) + (ints - at) / (after - at)
        return np.rint(t) if rounded else t

    def _fit_map(self, t, spikes):
        n = t.size
        uniq, counts = np.unique(t, return_counts=True)
        is_atom = (counts >= 2) & (counts >= _ATOM_SHARE * n)
        rest = np.repeat(uniq[~is_atom], counts[~is_atom])
        if np.unique(rest).size < 2:  # too few other values for a density
            is_atom[:] = True
            rest = rest[:0]
        self.atoms = uniq[is_atom]
        atom_mass = counts[is_atom] / n
        self.spiked = bool(
            spikes and rest.size and atom_mass.max(initial=0.0) >= _SPIKE_SHARE
        )
        if self.spiked:  # the atoms go to a companion column; the map has the rest
            mapped, mapped_mass, n_map = self.atoms[:0], atom_mass[:0], rest.size
        else:
            mapped, mapped_mass, n_map = self.atoms, atom_mass, n
        if rest.size:
            levels = np.linspace(0.0, 1.0, min(_MAX_KNOTS, rest.size))
            knots, first = np.unique(np.quantile(rest, levels), return_index=True)
            knot_mass = levels[first] * rest.size / n_map
        else:
            knots = knot_mass = np.empty(0)
        xs = np.concatenate([mapped, knots])
        order = np.argsort(xs, kind="stable")
        xs = xs[order]
        jump = np.concatenate([mapped_mass, np.zeros(knots.size)])[order]
        cont = np.interp(xs, knots, knot_mass) if knots.size else np.zeros(xs.size)
        left = cont + np.concatenate([[0.0], np.cumsum(jump)[:-1]])
        right = left + jump
        self.x_points = np.repeat(xs, 2)
        self.u_points = np.column_stack([left, right]).ravel() / right[-1]
        self.low, self.high = t.min(), t.max()
        self.tail_weight = 1.0 / (n + 1)
        self.tail_loc = np.median(t)
        q1, q3 = np.quantile(t, [0.25, 0.75])
        spread = (q3 - q1) / 2 or (self.high - self.low) / 2
        # a spread below the values' float resolution (subnormal gaps) is none
        magnitude = max(abs(self.low), abs(self.high))
        scale = spread if spread > 1e-12 * magnitude else 0.0
        self.tail_scale = max(scale or self.step or magnitude or 1.0, 1e-290)
        self.u_decode, _ = self._cdf(self.x_points, self.u_points)  # F there

    # ---------------------------------------------------------- distribution

    def _cdf(self, t, data_below):
        """``(F, 1 - F)`` at ``t`` given the data part ``F_data(t)``."""
        a = self.tail_weight
        c_below, c_above = _cauchy_cdf((t - self.tail_loc) / self.tail_scale)
        below = (1 - a) * data_below + a * c_below
        above = (1 - a) * (1.0 - data_below) + a * c_above
        return below, above

    def _data_cdf(self, t):
        return np.interp(t, self.x_points, self.u_points)

    def _data_slope(self, t):
        """Slope of ``F_data`` at ``t`` (0 outside the range and on flats)."""
        xp, up = self.x_points, self.u_points
        seg = np.clip(np.searchsorted(xp, t, side="right"), 1, xp.size - 1)
        dx = xp[seg] - xp[seg - 1]
        with np.errstate(over="ignore"):  # subnormal spacings overflow
            slope = np.divide(
                up[seg] - up[seg - 1], dx, out=np.zeros_like(dx), where=dx > 0
            )
        inside = (t > xp[0]) & (t < xp[-1])
        return np.where(inside & np.isfinite(slope), slope, 0.0), seg

    def _jump(self, t):
        """``(F_data(t-), F_data(t))``: the ends of the jump at an atom ``t``."""
        xp, up = self.x_points, self.u_points
        first = np.minimum(np.searchsorted(xp, t, side="left"), up.size - 1)
        last = np.maximum(np.searchsorted(xp, t, side="right") - 1, 0)
        return up[first], up[last]

    def _tail_density(self, t):
        s = (t - self.tail_loc) / self.tail_scale
        return 1.0 / (np.pi * self.tail_scale * (1.0 + s * s))

    def _density(self, t):
        a = self.tail_weight
        slope, _ = self._data_slope(t)
        return (1 - a) * slope + a * self._tail_density(t)

    # --------------------------------------------------------------- encode

    def encode(self, series, free=False):
        """``(n, 2)`` interval bounds in normal scores and the log-Jacobian ``(n,)``;
        NaN where a value is missing (its indicator is a companion column)."""
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return self._encode(series)

    def _encode(self, series):
        t = self.read(series)
        missing = np.isnan(t)
        if missing.any():  # encoded as NaN: unobserved
            t = np.where(missing, self.tail_loc, t)
        is_atom = np.isin(t, self.atoms)
        if self.discrete:
            z_lo, z_hi, logjac = self._encode_cells(t)
        else:
            z_lo, z_hi, logjac = self._encode_points(t, is_atom)
        if self.spiked:  # the companion column carries the atom's probability
            z_lo[is_atom], z_hi[is_atom] = -_Z_LIMIT, _Z_LIMIT
            logjac[is_atom] = 0.0
        shares = getattr(self, "off_grid_log_share", None)  # older pickles: none
        if shares is not None:
            logjac = logjac + np.where(self._off_grid(series), *shares)
        if missing.any():
            z_lo[missing] = z_hi[missing] = np.nan
            logjac[missing] = 0.0
        return np.column_stack([z_lo, z_hi]), logjac

    def _encode_points(self, t, is_atom):
        data = self._data_cdf(t)
        jump_lo, jump_hi = self._jump(t)
        data_lo = np.where(is_atom, jump_lo, data)
        data_hi = np.where(is_atom, jump_hi, data)
        z_lo = _scores(*self._cdf(t, data_lo))
        z_hi = _scores(*self._cdf(t, data_hi))
        # a point's density picks up dz/dx = f(x) / phi(z)
        with np.errstate(divide="ignore"):
            log_density = np.log(self._density(t))
        logjac = np.where(is_atom, 0.0, log_density - _log_phi(z_lo))
        return z_lo, np.where(is_atom, z_hi, z_lo), logjac

    def _encode_cells(self, t):
        """Grid cell ``[t - 1/2, t + 1/2]`` of each value: its mass in ``z``."""
        a, xp = self.tail_weight, self.x_points
        lo, hi = t - 0.5, t + 0.5
        # beyond 2**52 the edges round to t: the cell is then the jump at t
        # plus the density there
        wide = hi > lo
        jump_lo, jump_hi = self._jump(t)
        data_lo = np.where(wide, self._data_cdf(lo), jump_lo)
        data_hi = np.where(wide, self._data_cdf(hi), jump_hi)
        slope, seg_lo = self._data_slope(lo)
        slope_hi, seg_hi = self._data_slope(hi)
        one_piece = wide & (seg_lo == seg_hi) & (lo > xp[0]) & (hi < xp[-1])
        diff = data_hi - data_lo
        # a cell finer than F's float64 resolution and without a jump: the
        # mean of the slopes at its edges
        data_mass = np.where(diff > 1e-12, diff, 0.5 * (slope + slope_hi))
        data_mass = np.where(one_piece, slope, data_mass)
        sl = (lo - self.tail_loc) / self.tail_scale
        sh = (hi - self.tail_loc) / self.tail_scale
        resolved = wide & (sh - sl > 1e-6)
        cauchy = np.where(resolved, _cauchy_mass(sl, sh), self._tail_density(t))
        mass = (1 - a) * np.maximum(data_mass, 0.0) + a * cauchy
        below_lo, above_lo = self._cdf(lo, data_lo)
        below_hi, above_hi = self._cdf(hi, data_hi)
        z_lo, z_hi = _scores(below_lo, above_lo), _scores(below_hi, above_hi)
        z_mid = _scores(below_lo + mass / 2, above_hi + mass / 2)
        with np.errstate(divide="ignore"):
            log_mass = np.log(mass)
        # narrow cells: mass = density x width, computed here in float64
        point = log_mass - _log_phi(z_mid) < np.log(_NARROW)
        z_lo = np.where(point, z_mid, z_lo)
        z_hi = np.where(point, z_mid, z_hi)
        logjac = np.where(point, log_mass - _log_phi(z_mid), 0.0)
        return z_lo, z_hi, logjac

    def log_density(self, series):
        """The log-density of the values ``series`` (none missing) under the
        column's own distribution in fit (the map's, a standard normal in
        its scores), in the user's units: of a point, its density; of an
        atom or a grid cell, its mass."""
        encoded, logjac = self.encode(series.reset_index(drop=True))
        lo, hi = encoded[:, 0], encoded[:, 1]
        point = lo >= hi
        with np.errstate(divide="ignore"):
            mass = np.log(np.maximum(ndtr(hi) - ndtr(lo), 0.0))
        return np.where(point, _log_phi(lo), mass) + logjac

    def limit(self, series, lower):
        """The normal score that keeps this column's decoded values at least
        (``lower``) or at most the values ``series`` (NaN where missing).

        Each value moves to the column's grid on its side (up for a lower
        limit), and out of a gap between atoms (values there decode to an
        end of the gap) to the gap's end on that side; the limit is then the
        edge, on that side, of the value's encoded interval, moved a few
        float32 steps inside it (a point: the point). A value of the
        column's own above (below) the given one is never beyond its limit;
        one equal to it has all but those steps of its interval inside.
        """
        side = np.ceil if lower else np.floor
        if self.value_kind == "numeric":
            values = series.to_numpy(np.float64, na_value=np.nan)
            if self.exact:  # whole numbers first: the column reads no fraction
                values = side(values)
            series = pd.Series(values)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            t = self.read(series.reset_index(drop=True), rounded=False)
            missing = np.isnan(t)
            t = np.where(missing, self.low, t)
            unit = 1.0 if self.discrete else self.step
            if unit:
                k = t / unit
                k = np.where(np.abs(k - np.rint(k)) < 1e-6, np.rint(k), side(k))
                t = k if self.discrete else np.round(k * unit, _decimals(unit))
            xp, up = self.x_points, self.u_points
            seg = np.clip(np.searchsorted(xp, t, side="right"), 1, xp.size - 1)
            gap = (up[seg] == up[seg - 1]) & (t > xp[seg - 1]) & (t < xp[seg])
            t = np.where(gap, xp[seg] if lower else xp[seg - 1], t)
            if self.discrete:
                z_lo, z_hi, _ = self._encode_cells(t)
            else:
                atom = np.isin(t, self.atoms) & (not self.spiked)
                z_lo, z_hi, _ = self._encode_points(t, atom)
            # a draw at an interval's very edge decodes to either side of it
            # (and float32 may round it outside): a few float32 steps inside
            edge, mid = (z_lo, 1.0) if lower else (z_hi, -1.0)
            inward = 4.0 * np.spacing(np.abs(edge).astype(np.float32)) * mid
            centre = (z_lo + z_hi) / 2
            nudged = (
                np.minimum(edge + inward, centre)
                if lower
                else np.maximum(edge + inward, centre)
            )
            edge = np.where(missing, np.nan, np.where(z_hi > z_lo, nudged, edge))
            if self.discrete or self.step:
                edge = self._float32_decoding_to(edge, t, lower)
        return edge

    # --------------------------------------------------------------- decode

    def missing_features(self):
        return np.zeros(self.width, dtype=bool)

    def encode_range(self, low, high, name):
        """Normal scores ``(z_lo, z_hi)`` of the values from ``low`` to ``high``
        (both included: whole grid cells of a discrete column, the jump of an
        atom at a bound). None, or an infinity on its side, leaves an end
        open (its score is -8 or 8, where the normal has no mass left).

        Raises
        ------
        ValueError
            If the range has no bound, is not two ordered values, or lies
            outside the values seen in fit (which samples never leave), or
            the column is a spike-and-slab.
        """
        if self.spiked:
            raise ValueError(
                f"Column {name!r} is a spike-and-slab (one value holds half its "
                "rows); a range on it is not supported: give one value."
            )
        t_lo, t_hi = self._range_ends(low, high, name)
        if t_hi < self.low or t_lo > self.high:
            first, last = self._values(np.array([self.low, self.high]))
            raise ValueError(
                f"The range ({low!r}, {high!r}) of column {name!r} lies outside "
                f"the values seen in fit ({first} to {last}), which samples never "
                "leave; give a range that overlaps them, or fix one value."
            )
        xp, up = self.x_points, self.u_points
        # the data's support: atoms (zero-width steps) and segments with mass
        mass = (up[1:] > up[:-1]) & (xp[:-1] <= t_hi) & (xp[1:] >= t_lo)
        if not mass.any():
            raise ValueError(
                f"No value of column {name!r} seen in fit lies in the range "
                f"({low!r}, {high!r}), and samples keep to the values seen in "
                "fit; widen the range, or fix one value."
            )
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            if t_lo == -np.inf:
                below = None
            elif self.discrete:
                below = self._cdf(t_lo - 0.5, self._data_cdf(t_lo - 0.5))
            else:
                below = self._cdf(t_lo, self._jump(t_lo)[0])
            if t_hi == np.inf:
                above = None
            elif self.discrete:
                above = self._cdf(t_hi + 0.5, self._data_cdf(t_hi + 0.5))
            else:
                above = self._cdf(t_hi, self._jump(t_hi)[1])
            z_lo = -_Z_LIMIT if below is None else float(_scores(*below))
            z_hi = _Z_LIMIT if above is None else float(_scores(*above))
            return z_lo, z_hi

    def clip_range(self, series, low, high):
        """``series`` (the column's values, none missing) with each value
        outside the range ``(low, high)`` (as :meth:`encode_range` reads it)
        moved to the nearer bound, as a Series of the column's dtype.

        A draw inside the range's normal scores can decode just outside it:
        decoding snaps a value to the data's support (in a gap between two
        values, to the nearer one), which near a bound may be a neighbour
        outside the range.
        """
        t_lo, t_hi = self._range_ends(low, high, series.name)
        t = np.clip(self.read(series), t_lo, t_hi)
        return self._values(t).set_axis(series.index)

    def _range_ends(self, low, high, name):
        """The coordinates ``(t_lo, t_hi)`` of a range's ends (infinite where
        open); on a grid, the first and last grid points inside the range."""
        if is_open_end(low, -1) and is_open_end(high, 1):
            raise ValueError(
                f"The range ({low!r}, {high!r}) of column {name!r} has no bound; "
                "leave the column out of given to draw it freely."
            )
        ends = {}
        for side, end in ((-1, low), (1, high)):
            if is_open_end(end, side):
                ends[side] = side * np.inf
                continue
            if is_open_end(end, -side):
                raise ValueError(
                    f"The range ({low!r}, {high!r}) of column {name!r} must be "
                    "two values, the first at most the second; an infinity "
                    "leaves open only its own end (-inf the low end, inf the "
                    "high one), as None does."
                )
            if self.exact and self.value_kind == "numeric" and _fraction(end):
                end = math.ceil(end) if side < 0 else math.floor(end)  # integers
            try:
                t = self.read(pd.Series([end], dtype=object, name=name), False)[0]
            except ValueError as error:
                raise ValueError(
                    f"The range ({low!r}, {high!r}) of column {name!r}: {error}"
                ) from None
            if self.discrete:  # inside the range, up to float rounding
                t = np.ceil(t - 1e-9) if side < 0 else np.floor(t + 1e-9)
            elif self.step:  # decimals: the first and last grid values inside
                t = _grid_end(t, self.step, side)
            ends[side] = float(t)
        t_lo, t_hi = ends[-1], ends[1]
        if np.isnan(t_lo) or np.isnan(t_hi) or t_lo > t_hi:
            raise ValueError(
                f"The range ({low!r}, {high!r}) of column {name!r} must be two "
                "values, the first at most the second (None leaves an end open), "
                "with a value of the column's grid between them."
            )
        return t_lo, t_hi

    def _values(self, t):
        """Model coordinates ``t`` as the column's values (a Series of its dtype)."""
        if self.discrete:
            t = self._exact(t) if self.exact else t * self.step
        return self.to_dtype(t)

    def decode(self, encoded, atoms=None, t=None):
        """Values of encoded rows; ``atoms`` (NaN: none) overrides the map.
        ``t``, if given, is the rows' decoding (:meth:`_decode_t` without
        atoms), known already."""
        if t is None:
            t = self._decode_t(encoded, atoms)
        elif atoms is not None:
            t = self._on_grid(np.where(np.isnan(atoms), t, atoms))
        values = self.values_of(t)
        return values if self.discrete else self._printed(values)

    def values_of(self, t):
        """The values at model coordinates ``t`` (none missing): floats, or
        exact integers (datetimes: counts of their unit) of a discrete column."""
        if not self.discrete:
            return t
        if not self.exact:
            return t * self.step
        return self._exact(t)

    def snap(self, t):
        """The encoding ``(n, 2)`` of the values at decoded coordinates ``t``
        (from :meth:`_decode_t`): an atom's or a grid cell's whole interval,
        a value rounded to the step."""
        # rows share few values (grid cells, atoms, rounded numbers): encode each once
        t, rows = np.unique(t, return_inverse=True)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            if self.discrete:
                z_lo, z_hi, _ = self._encode_cells(t)
            else:
                # a spiked column's atoms are its companion's, not the map's
                atom = np.isin(t, self.atoms) & (not self.spiked)
                z_lo, z_hi, _ = self._encode_points(t, atom)
            if self.discrete or self.step:
                # a point as the float32 score that decodes to it
                point = z_lo >= z_hi
                z = self._float32_decoding_to(z_lo[point], t[point])
                z_lo[point] = z_hi[point] = z
        return np.column_stack([z_lo, z_hi])[rows]

    def _float32_decoding_to(self, z, t, lower=None):
        """The scores ``z`` as float32 (the model's), each moved to the
        nearest float32 that decodes to ``t`` (``lower=None``), to ``t`` or
        above (``True``: a lower limit) or to ``t`` or below (``False``), as
        float64. The search gallops over float32 steps, then bisects (the
        decoding is monotone in the score). A cell narrower than float32
        resolves, deep in a tail, may decode to a neighbour only; NaN stays
        NaN."""
        z = z.astype(np.float32)
        rows = np.flatnonzero(np.isfinite(z) & (t >= self.low) & (t <= self.high))
        back = self._decode_t(np.repeat(z[rows, None].astype(np.float64), 2, 1))
        for side in (1, -1):
            if lower is (side < 0):  # a lower limit never moves down
                continue
            mine = rows[back < t[rows] if side > 0 else back > t[rows]]
            if mine.size:
                z[mine] = self._float32_search(z[mine], t[mine], side)
        return z.astype(np.float64)

    def _float32_search(self, z, t, side):
        """The float32 nearest ``z`` on its ``side`` (1: above) that decodes
        to ``t`` or beyond on that side; ``z`` where none is within 2**31
        steps."""

        def beyond(o):
            x = _from_ordinal(o).astype(np.float64)
            back = self._decode_t(np.column_stack([x, x]))
            return back >= t if side > 0 else back <= t

        start = _ordinal(z)
        bad, step = start.copy(), np.ones(z.size, dtype=np.int64)
        good = np.full(z.size, _MAX_ORDINAL * side, dtype=np.int64)
        pending = np.ones(z.size, dtype=bool)
        for _ in range(32):  # gallop: 1, 2, 4, ... steps
            if not pending.any():
                break
            guess = np.clip(start + side * step, -_MAX_ORDINAL, _MAX_ORDINAL)
            hit = beyond(guess) & pending
            good[hit] = guess[hit]
            miss = pending & ~hit
            bad[miss] = guess[miss]
            pending = miss & (np.abs(guess) < _MAX_ORDINAL)
            step *= 2
        found = beyond(good)
        for _ in range(33):  # bisect between a miss and a hit
            gap = np.abs(good - bad) > 1
            if not gap.any():
                break
            middle = bad + (good - bad) // 2
            hit = beyond(middle)
            good = np.where(gap & hit, middle, good)
            bad = np.where(gap & ~hit, middle, bad)
        return np.where(found, _from_ordinal(good), z)

    def _decode_t(self, encoded, atoms=None):
        """Decoded values in the encoding's units (grid indices if discrete)."""
        encoded = np.asarray(encoded, dtype=np.float64)  # float32 Phi: 1e-7 in u
        u = 0.5 * (ndtr(encoded[:, 0]) + ndtr(encoded[:, 1]))
        xp, up = self.x_points, self.u_points
        t = self._inverse(u)
        t = np.clip(t, self.low, self.high)
        # keep to the support of the data: a value in a gap between atoms goes
        # to the nearer end of the gap
        seg = np.clip(np.searchsorted(xp, t, side="right"), 1, xp.size - 1)
        gap = (up[seg] == up[seg - 1]) & (t > xp[seg - 1]) & (t < xp[seg])
        nearer = np.where(t - xp[seg - 1] < xp[seg] - t, xp[seg - 1], xp[seg])
        t = np.where(gap, nearer, t)
        if atoms is not None:
            t = np.where(np.isnan(atoms), t, atoms)
        return self._on_grid(t)

    def _on_grid(self, t):
        """Decoded values ``t`` on the column's grid (idempotent)."""
        if not self.discrete:
            if self.step:
                decimals = _decimals(self.step)
                t = np.clip(np.round(t, decimals), self.low, self.high)
            return t
        return np.rint(t)

    def _printed(self, t):
        """Decoded values ``t`` of a continuous column rounded to the grid its
        values agree with to six digits (``print_step``), but never past an
        atom, which comes back as recorded (9.7999997 on a grid of 0.1), nor
        out of the training range: monotone, as the decoding is."""
        step = getattr(self, "print_step", None)  # older pickles: none
        if step is None:
            return t
        rounded = np.round(t, _decimals(step))
        atoms = self.atoms
        if not atoms.size:
            return np.clip(rounded, self.low, self.high)
        above = np.searchsorted(atoms, t, side="left")
        ceiling = atoms[np.minimum(above, atoms.size - 1)]
        at = ceiling == t
        ceiling = np.where(above < atoms.size, ceiling, np.inf)
        floor = np.where(above > 0, atoms[np.maximum(above - 1, 0)], -np.inf)
        floor = np.where(at, t, floor)
        rounded = np.minimum(np.maximum(rounded, floor), ceiling)
        return np.clip(rounded, self.low, self.high)

    def _inverse(self, u):
        """``F^-1(u)``, exact enough that decoding an encoded value gives it
        back: the interpolation of ``F`` between the knots, then, where its
        error may reach the rounding to the column's grid, two Newton steps
        inside the knots' segment (``F`` mixes the data's piecewise-linear
        CDF with a Cauchy tail, which is not linear there)."""
        xp, ud = self.x_points, self.u_decode
        t = np.interp(u, ud, xp)
        unit = 1.0 if self.discrete else self.step
        if not unit:
            return t
        error = self._chord_error()
        margin = (0.5 - np.abs(t / unit - np.rint(t / unit))) * unit
        risky = np.flatnonzero((margin <= error.max()) & (u > ud[0]) & (u < ud[-1]))
        k = np.clip(np.searchsorted(ud, u[risky], side="right"), 1, xp.size - 1)
        reaches = error[k] >= margin[risky]
        risky, k = risky[reaches], k[reaches]
        if not risky.size:
            return t
        u, near = u[risky], t[risky]
        left, right = xp[k - 1], xp[k]
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            for _ in range(2):
                below, _ = self._cdf(near, self._data_cdf(near))
                moved = np.clip(near - (below - u) / self._density(near), left, right)
                near = np.where(np.isfinite(moved), moved, near)
        t[risky] = near
        return t

    def decode_error(self, values):
        """A bound on how far the decoding may miss at ``values`` (the
        model coordinates of a continuous column): see :meth:`_chord_error`."""
        xp = self.x_points
        k = np.clip(np.searchsorted(xp, values, side="right"), 1, xp.size - 1)
        return self._chord_error()[k]

    def _chord_error(self):
        """Per knot segment (indexed by its upper knot), a bound on how far
        the interpolation of ``F`` between knots misses ``F^-1``: the
        Cauchy part's rise over the segment over the data part's slope (0
        where the data part is flat: a gap between atoms, whose values go to
        an end of the gap)."""
        error = getattr(self, "_chord", None)
        if error is None:
            xp, a = self.x_points, self.tail_weight
            c, _ = _cauchy_cdf((xp - self.tail_loc) / self.tail_scale)
            dx = np.diff(xp)
            with np.errstate(divide="ignore", invalid="ignore"):
                slope = (1 - a) * np.diff(self.u_points) / dx
                error = np.where(slope > 0, a * np.diff(c) / slope, 0.0)
            error = np.concatenate([[0.0], error])
            self._chord = error
        return error

    def mean(self, values, weights):
        """Weighted means per row of decoded ``values`` (n, K), on the column's
        grid when it is discrete (exact values otherwise)."""
        mean = np.einsum("nk,nk->n", weights, values.astype(np.float64))
        if not self.discrete:
            return mean
        if not self.exact:
            return np.rint(mean / self.step) * self.step
        if getattr(self, "month_offset", None) is not None:
            return self._exact(self._month_t(np.rint(mean).astype(np.int64)))
        base = float(self.base)
        t = np.rint((mean - base) / self.step)
        return self._exact(t)

    def _exact(self, t):
        """Grid indices ``t`` (floats) as exact integers of the column."""
        top = float(self.n_grid)
        if top > self.n_grid:  # float rounding went past the last index
            top = np.nextafter(top, 0.0)
        k = np.clip(t, 0.0, top).astype(np.uint64)
        k = np.minimum(k, np.uint64(self.n_grid))
        if self.atoms.size:
            hit = np.minimum(np.searchsorted(self.atoms, t), self.atoms.size - 1)
            k = np.where(self.atoms[hit] == t, self.atom_index[hit], k)
        if getattr(self, "month_offset", None) is not None:
            return self._grid_dates(k.astype(np.int64) + self.base_month)
        values = self.base.view(np.uint64) + k * np.uint64(self.step)
        return values.view(self.int_dtype)

    def to_dtype(self, values, missing=None):
        """Decoded values as a Series of the training dtype, missing (NaN, NA,
        NaT) where the boolean ``missing`` says."""
        out = self._to_dtype(values)
        if missing is None or not missing.any():
            return out
        if isinstance(out.dtype, pd.api.extensions.ExtensionDtype) and (
            pd.api.types.is_integer_dtype(out.dtype)
        ):  # exact integers, whatever float64 holds
            array = pd.arrays.IntegerArray(out.to_numpy(out.dtype.numpy_dtype), missing)
            # back from the numpy-nullable array to the training dtype (pyarrow)
            return pd.Series(array, copy=False).astype(out.dtype)
        return out.mask(missing)

    def _as_text(self, values):
        """Decoded numbers as the training text wrote them: with its number
        of decimals where every text had the same (``number_text``, an
        int), else as the shortest text that reads back as the number,
        without a trailing ``.0`` (``number_text`` -1)."""
        values = np.asarray(values, dtype=np.float64)
        decimals = self.number_text
        return _format_numbers(values, None if decimals < 0 else decimals)

    def _to_dtype(self, values):
        if self.value_kind == "numeric":
            if getattr(self, "number_text", None) is not None:  # older: none
                return pd.Series(self._as_text(values), dtype=object).astype(self.dtype)
            return pd.Series(values).astype(self.dtype)
        unit = datetime_unit(self.time_dtype)
        if self.value_kind == "timedelta":
            out = pd.Series(values.view(f"m8[{unit}]"))
        else:
            out = pd.Series(values.view(f"M8[{unit}]"))
            tz = getattr(self.time_dtype, "tz", None)
            if tz is not None and not getattr(self, "wall_time", True):
                out = out.dt.tz_localize("UTC").dt.tz_convert(tz)  # instants
            elif tz is not None:  # a wall time; in a clock change, the later one
                out = out.dt.tz_localize(
                    tz,
                    ambiguous=np.zeros(len(out), dtype=bool),
                    nonexistent="shift_forward",
                )
            text_format = getattr(self, "text_format", None)  # older pickles
            if text_format is not None:  # text in training: text back
                out = out.dt.strftime(text_format)
            elif getattr(self, "date_objects", False):  # older pickles: none
                out = out.dt.date.where(out.notna(), None)
        return out.astype(self.dtype)


def _wall_counts(values, tz, unit):
    """UTC datetime counts ``values`` of ``unit`` as counts of the wall time
    in time zone ``tz``."""
    utc = pd.to_datetime(values, unit=unit, utc=True).as_unit(unit)
    return utc.tz_convert(tz).tz_localize(None).to_numpy().view(np.int64)


def _text_decimals(texts):
    """The decimals that every one of the number ``texts`` has (0: none is
    written with a decimal point), or -1 where they differ or one has an
    exponent."""
    counts = set()
    for text in texts:
        text = text.strip().lower()
        if "e" in text:
            return -1
        whole, point, fraction = text.partition(".")
        counts.add(len(fraction) if point else 0)
        if len(counts) > 1:
            return -1
    return counts.pop() if counts else -1


def _format_numbers(values, decimals):
    """Numbers as text with ``decimals`` decimals (None: the shortest text
    that reads back as the same float, without a trailing ``.0``)."""
    if decimals is None:
        return [np.format_float_positional(v, trim="-") for v in values]
    return [f"{v:.{decimals}f}" for v in values]


def _decimals(step):
    """Decimals of a float column's step (``10**-d``)."""
    return -int(round(np.log10(step)))


def _check_finite(values, name):
    """Infinity is an error; NaN is a missing value."""
    if np.isinf(values).any():
        raise ValueError(
            f"Column {name!r} contains infinity; numeric values must be finite "
            "(a missing value may be NaN): drop those rows, or replace the "
            "infinite values."
        )


def _months(ints, unit):
    """Months since 1970-01 of datetime counts ``ints`` of ``unit``, and the
    counts at which each of those months starts."""
    months = ints.astype(f"M8[{unit}]").astype("M8[M]").view(np.int64)
    return months, _month_starts(months, unit)


def _month_starts(months, unit):
    """The counts of ``unit`` at which months (since 1970-01) start."""
    return months.astype("M8[M]").astype(f"M8[{unit}]").view(np.int64)


_MAX_ORDINAL = int(np.float32(np.finfo(np.float32).max).view(np.int32))


def _ordinal(x):
    """float32 values as integers in the same order, one per float32 (the
    two zeros share 0)."""
    bits = np.asarray(x, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(bits < 0, -(bits & 0x7FFFFFFF), bits)


def _from_ordinal(o):
    """The float32 values of :func:`_ordinal` integers."""
    bits = np.where(o < 0, (-o) | 0x80000000, o).astype(np.uint32)
    return bits.view(np.float32)

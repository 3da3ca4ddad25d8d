"""Calendar features of a datetime column: where its values fall in the year,
the week and the day (numpy only).

A date's position on the time line says little about what depends on the
season, the weekday or the hour: temperatures follow the year, sales the
week. The calendar features make those cycles inputs of the networks, as
``(cos, sin)`` of each cycle's phase. They are functions of the column's
value, read by the encoder and, in the autoregressive order, by the columns
after the date; they have no likelihood of their own, so the model's density
is unchanged in kind (a product of conditionals over the columns).
"""

import numpy as np

from ._parsing import datetime_unit

_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_DAY = 86400.0
# the cycles, in seconds: the mean Gregorian year, the week and the day
CYCLES = {"year": 365.2425 * _DAY, "week": 7 * _DAY, "day": _DAY}


class CalendarFeatures:
    """``(cos, sin)`` of the phase of each calendar cycle a datetime column
    resolves and repeats.

    A cycle is kept when the column's grid step is at most half of it and its
    values span at least one whole cycle: daily data spanning years gets the
    year and the week, timestamps within a few days the day.

    Parameters
    ----------
    column : QuantileColumn
        A fitted datetime column (its values are exact counts of its unit).
    """

    kind = "calendar"
    dtype = None
    missing = False

    def __init__(self, column):
        self.column = column
        seconds = _SECONDS[datetime_unit(column.time_dtype)]
        self.unit_seconds = seconds
        if getattr(column, "month_offset", None) is not None:
            seconds = CYCLES["year"] / 12  # a grid step is a month
        step, span = column.step * seconds, column.n_grid * column.step * seconds
        self.cycles = [
            name for name, period in CYCLES.items() if 2 * step <= period <= span
        ]
        self.width = 2 * len(self.cycles)

    def encode(self, series, free=False):
        """``(n, width)`` features of the column's values (NaN where missing),
        from the values themselves (on the grid: a value off it is scored
        as the nearest grid date), outside the training range too, and a
        log-Jacobian of 0 (they add no density)."""
        counts, missing = self.column._integers(series)
        return self._phases(self.column.grid_counts(counts), missing), np.zeros(
            missing.size
        )

    def features(self, t):
        """The features of grid indices ``t`` of the column (NaN: missing)."""
        missing = np.isnan(t)
        return self._phases(self.column.values_of(np.where(missing, 0.0, t)), missing)

    def _phases(self, counts, missing):
        seconds = counts.astype(np.float64) * self.unit_seconds
        out = np.empty((counts.size, self.width))
        for i, name in enumerate(self.cycles):
            period = CYCLES[name]
            phase = 2 * np.pi * np.mod(seconds, period) / period
            out[:, 2 * i], out[:, 2 * i + 1] = np.cos(phase), np.sin(phase)
        out[missing] = np.nan
        return out

    def missing_features(self):
        return np.zeros(self.width, dtype=bool)

"""ArrayCodec: every column of a float array under one likelihood family (no torch)."""

import numpy as np

from ._codecs import Encoded, value_text
from ._relations import Order, close_limits, drop_implied

_MAX_STANDARDISED = 1e15
_CHUNK_ROWS = 2**14  # rows per chunk where a full-size temporary would be needed


def _mean_std(X, missing):
    """Column means and standard deviations of the observed values, in float64,
    two passes over chunks.

    ``X.std`` would hold a full-size temporary of deviations. Chunks are made
    C-contiguous, so that the rounding does not depend on the memory layout.
    ``missing`` says which columns have NaN; the others are summed as before.
    """
    total = np.zeros(X.shape[1])
    count = np.zeros(X.shape[1])
    for first in range(0, X.shape[0], _CHUNK_ROWS):
        chunk = np.ascontiguousarray(X[first : first + _CHUNK_ROWS])
        if missing.any():
            observed = ~np.isnan(chunk)
            count += observed.sum(axis=0)
            chunk = np.where(observed, chunk, 0.0)
        total += chunk.sum(axis=0, dtype=np.float64)
    count = np.where(missing, count, X.shape[0])
    mean = total / count
    squares = np.zeros(X.shape[1])
    for first in range(0, X.shape[0], _CHUNK_ROWS):
        deviation = np.ascontiguousarray(X[first : first + _CHUNK_ROWS]) - mean
        if missing.any():
            deviation = np.nan_to_num(deviation, nan=0.0)
        squares += np.einsum("ij,ij->j", deviation, deviation)
    return mean, np.sqrt(squares / count)


_NO_ORDERS = np.zeros((0, 3), dtype=np.intp)  # older pickles: no orders
_MIN_ROWS = 20  # rows needed to trust that two columns are equal
_MAX_ORDERED = 256  # columns, at most, among which orders are looked for
_SLACK = 1e-5  # an order's limit this much wider (in sd), at least
_ROUNDING = 4e-7  # and this times its columns' magnitude (float32 rounding)
_SCREEN_ROWS = 64  # rows that group the candidate columns


def _equal_columns(X, missing):
    """``(m, 2)`` int array of pairs ``(b, a)``, ``a < b`` for complete ones:
    column ``b`` of ``X`` equals column ``a`` wherever ``b`` is observed
    (in at least ``_MIN_ROWS`` rows). A base ``a`` has no missing value and
    is never itself derived; columns with one value only are left out."""
    head = np.ascontiguousarray(X[:_SCREEN_ROWS])
    varies = [
        j
        for j in range(X.shape[1])
        if np.unique(head[~np.isnan(head[:, j]), j]).size > 1
        and (~np.isnan(X[:, j])).sum() >= _MIN_ROWS
    ]
    complete = [j for j in varies if not missing[j]]
    groups = {}
    for j in complete:
        groups.setdefault(head[:, j].tobytes(), []).append(j)
    pairs = []
    for columns in groups.values():
        for b in columns[1:]:
            # the first equal column: equality is transitive, so it is no b
            a = next((a for a in columns if a < b and (X[:, b] == X[:, a]).all()), None)
            if a is not None:
                pairs.append((b, a))
    derived = {b for b, _ in pairs}
    candidates = [a for a in complete if a not in derived]
    for b in (j for j in varies if missing[j]):
        seen = ~np.isnan(head[:, b])
        close = (head[seen][:, candidates] == head[seen, b][:, None]).all(axis=0)
        rows = ~np.isnan(X[:, b])
        for a in np.asarray(candidates)[close]:
            if (X[rows, b] == X[rows, a]).all():
                pairs.append((b, int(a)))
                break
    return np.asarray(pairs, dtype=np.intp).reshape(-1, 2)


def _array_orders(X, columns, low, high):
    """The orders between ``columns`` of a complete array ``X``, as
    :func:`~skvae._relations.find_orders` finds them in a table (``Order``
    of column indices, the later one bounded): ``X[:, b] >= X[:, a]`` (or
    ``<=``) in every row, not equal in every row, their ranges (``low``,
    ``high``: each column's) overlapping. Screened on the first rows; a
    column is compared in place, with no copy of the array."""
    head = np.ascontiguousarray(X[:_SCREEN_ROWS][:, columns])
    low, high = low[columns], high[columns]
    found = []
    for j, b in enumerate(columns):
        for i, a in enumerate(columns[:j]):
            for lower in (True, False):
                if lower:
                    screened = (head[:, j] >= head[:, i]).all() and low[j] < high[i]
                else:
                    screened = (head[:, j] <= head[:, i]).all() and high[j] > low[i]
                if not screened:
                    continue
                column, base = X[:, b], X[:, a]
                holds = (column >= base).all() if lower else (column <= base).all()
                if holds and not (column == base).all():
                    found.append(Order(b, a, lower))
    return found


class ArrayCodec:
    """A numeric array under one likelihood family over all its columns.

    Gaussian columns are standardised (by the model, batch by batch); the
    log-Jacobian of that map is returned with the rows so that densities stay
    in the user's units. A NaN is a missing value: it stays NaN in the encoded
    rows (the likelihood skips it), and every column with a NaN in the
    training data gets a missingness indicator after the data's columns. A
    column that is constant in the training data gets the median scale of the
    others (1 if all are constant), so a later non-constant value is not
    judged on an arbitrarily small scale, and decodes to its constant.
    Bernoulli columns must hold 0 and 1 only.

    A Gaussian column equal to another wherever it is observed in training
    (the other complete; ``equal_`` lists the pairs) is modelled as its difference
    from that column, which is 0 in training: a constant, so samples,
    reconstructions and imputations keep the columns equal. The map is a
    shift with unit Jacobian, so densities stay in the user's units; a row
    whose two columns differ is scored by the difference's tail. Where the
    base is missing and the equal column observed, the base takes its value
    (in scores too: the row is scored as the complete row it implies).

    Parameters
    ----------
    likelihood : {"gaussian", "bernoulli"}
    """

    def __init__(self, likelihood):
        self.likelihood = likelihood

    def fit(self, X):
        self.n_features_ = X.shape[1]
        self.dtype_ = X.dtype
        self.missing_ = np.isnan(X).any(axis=0)
        if self.likelihood == "gaussian":
            with np.errstate(over="ignore", invalid="ignore"):
                self.mean_, std = _mean_std(X, self.missing_)
            if not (np.isfinite(std).all() and np.isfinite(self.mean_).all()):
                raise ValueError(
                    "X is too large to standardise in floating point (its variance "
                    f"overflows; max |X| = {np.abs(X).max():.3g}); rescale it."
                )
            self.equal_ = _equal_columns(X, self.missing_)
            derived = self.equal_[:, 0]
            self.mean_[derived], std[derived] = 0.0, 0.0  # the differences: 0
            positive = std > 1e-12 * np.maximum(1.0, np.abs(self.mean_))
            self.constant_ = ~positive
            fill = float(np.median(std[positive])) if positive.any() else 1.0
            self.scale_ = np.where(positive, std, fill)
            self.log_jacobian_ = -float(np.log(self.scale_).sum())
            self.orders_ = self._find_orders(X)
            self.n_rows_ = X.shape[0]
        else:
            self._check_binary(X)
            self.log_jacobian_ = 0.0
        return self

    def _find_orders(self, X):
        """``(k, 3)`` int array of ``(b, a, lower)``: column ``b`` is never
        below (``lower``) or never above an earlier column ``a`` in the
        training rows (see :func:`~skvae._relations.find_orders`), among the
        columns that vary and are not differences; only in an array without
        missing values, of at most ``_MAX_ORDERED`` columns."""
        found = np.zeros((0, 3), dtype=np.intp)
        if self.missing_.any() or not 2 <= X.shape[1] <= _MAX_ORDERED:
            return found
        derived = set(self.equal_[:, 0].tolist())
        keep = [
            j for j in range(X.shape[1]) if not self.constant_[j] and j not in derived
        ]
        low = np.array([X[:, j].min() for j in range(X.shape[1])])
        high = np.array([X[:, j].max() for j in range(X.shape[1])])
        self._magnitude = np.maximum(np.abs(low), np.abs(high))
        if X.shape[0] < _MIN_ROWS:
            return found
        orders = _array_orders(X, keep, low, high)
        orders = close_limits(drop_implied(orders, keep, set(keep)), keep)
        rows = sorted((int(o.column), int(o.base), int(o.lower)) for o in orders)
        return np.asarray(rows, dtype=np.intp).reshape(-1, 3) if rows else found

    def _order_slack(self):
        """Each order's slack in its bounded column's sd: ``_SLACK``, or,
        where the model computes in float32 (``float32_``, set by the
        estimator), more than the rounding error of standardising its two
        columns' values, whichever is larger."""
        b, a = self.orders_[:, 0], self.orders_[:, 1]
        magnitude = getattr(self, "_magnitude", None)  # pickles of 5beec7e
        if magnitude is None or not getattr(self, "float32_", True):
            return np.full(len(b), _SLACK)
        size = magnitude[a] + magnitude[b]
        return np.maximum(_SLACK, _ROUNDING * size / self.scale_[b])

    def heads(self):
        heads = [(self.likelihood, self.n_features_)]
        if self.missing_.any():
            heads.append(("missing", int(self.missing_.sum())))
        orders = getattr(self, "orders_", _NO_ORDERS)
        if len(orders):
            b, a = orders[:, 0], orders[:, 1]
            heads.append(
                (
                    "gaussian_orders",
                    {
                        "columns": b.tolist(),
                        "bases": a.tolist(),
                        "lower": orders[:, 2].astype(bool).tolist(),
                        # b >= a in user units, in the standardised ones
                        "slope": (self.scale_[a] / self.scale_[b]).tolist(),
                        "intercept": (
                            (self.mean_[a] - self.mean_[b]) / self.scale_[b]
                        ).tolist(),
                        "slack": self._order_slack().tolist(),
                        # the chance that a new row breaks an order kept in n
                        # rows, with prior 1/2 that it is a law (as for tables)
                        "share": 1 / (self.n_rows_ + 2) ** 2,
                    },
                )
            )
        return heads

    def order_texts(self):
        """``[(b, "b >= a")]`` of the orders, with column indices for names
        (``"x3 >= x1"``; the caller names them)."""
        return [
            (int(b), int(a), ">=" if lower else "<=")
            for b, a, lower in getattr(self, "orders_", _NO_ORDERS)
        ]

    def broken_relations(self, values, given, names):
        """``[(relation in words, rows, example)]`` as
        :meth:`TableCodec.broken_relations` gives them: the pairs of equal
        columns that rows of ``values`` (``(n, d)``) break where ``given``
        (boolean, ``(n, d)``) marks both given; ``names`` are the columns'."""
        found = []
        for b, a in getattr(self, "equal_", ()):
            off = given[:, b] & given[:, a] & (values[:, b] != values[:, a])
            if off.any():
                first = np.argmax(off)
                example = ", ".join(
                    f"{names[j]} = {value_text(values[first, j])}"
                    for j in sorted((a, b))
                )
                found.append((f"{names[b]} = {names[a]}", int(off.sum()), example))
        return found

    def column_models(self):
        return [self.likelihood] * self.n_features_

    def missing_columns(self):
        """Boolean ``(n_features,)``: the columns with missing values in fit."""
        return self.missing_.copy()

    def missing_features(self):
        """Boolean ``(n_encoded,)``: the encoded features that say "missing"."""
        flags = np.zeros(self.n_features_ + int(self.missing_.sum()), dtype=bool)
        flags[self.n_features_ :] = True
        return flags

    def _check_binary(self, X):
        bad = ~np.isin(X, (0.0, 1.0)) & ~np.isnan(X)
        if bad.any():
            column = int(np.nonzero(bad.any(axis=0))[0][0])
            value = X[bad[:, column], column][0]
            raise ValueError(
                "likelihood='bernoulli' needs X with values in {0, 1}; "
                f"column {column} contains {float(value):g}."
            )

    def encode(self, X, dtype, free=False):
        """Encoded rows; a missing value stays NaN, and its indicator is 1 (NaN
        with ``free``: the entry is to be drawn, missing or not)."""
        # row-major whatever the input's layout (pandas may hold columns
        # Fortran-ordered): the same numbers then give the same arithmetic
        values = np.ascontiguousarray(X, dtype=dtype)
        equal = getattr(self, "equal_", ())  # older pickles: none
        if len(equal):
            if np.shares_memory(values, X):
                values = values.copy()
            for b, a in equal:  # a missing base takes its equal column's value
                gap = np.isnan(values[:, a])
                values[gap, a] = values[gap, b]
            for b, a in equal:
                values[:, b] -= values[:, a]
        missing = np.isnan(values)
        if self.missing_.any():
            indicators = missing[:, self.missing_].astype(dtype)
            if free:
                indicators[indicators == 1] = np.nan
            values = np.hstack([values, indicators])
        if self.likelihood == "bernoulli":
            self._check_binary(values)
            return Encoded(values, self.log_jacobian_)
        # the model standardises batch by batch; check here that it can
        data = values[:, : self.n_features_]
        with np.errstate(over="ignore", invalid="ignore"):
            far = np.maximum(
                np.abs(np.fmax.reduce(data, axis=0, initial=-np.inf) - self.mean_),
                np.abs(np.fmin.reduce(data, axis=0, initial=np.inf) - self.mean_),
            )
        far = np.where(np.isfinite(far), far, 0.0)  # all-missing columns
        if len(values) and (far / self.scale_).max() > _MAX_STANDARDISED:
            column = int(np.argmax(far / self.scale_))
            raise ValueError(
                f"Column {column} of X has a value more than "
                f"{_MAX_STANDARDISED:.0e} training standard deviations from its "
                "training mean, beyond what the model's floating-point arithmetic "
                "represents (codes, densities); check that column's units."
            )
        m = int(self.missing_.sum())
        shift = np.concatenate([self.mean_, np.zeros(m)])
        scale = np.concatenate([self.scale_, np.ones(m)])
        log_jacobian = self.log_jacobian_
        if missing.any():  # a missing value's scale is not in its row's density
            log_scale = np.log(self.scale_)
            log_jacobian = -np.where(missing, 0.0, log_scale).sum(axis=1)
        return Encoded(values, log_jacobian, shift, scale)

    def decode(self, encoded):
        """Rows in the training dtype; NaN where an indicator says missing."""
        d = self.n_features_
        values = encoded[:, :d]
        if self.likelihood == "gaussian":
            values = values * self.scale_ + self.mean_
            # a column constant in training decodes to its value, not to the
            # model's narrow density around it
            values[:, self.constant_] = self.mean_[self.constant_]
            orders = getattr(self, "orders_", _NO_ORDERS)
            if len(orders):
                # the draws keep an order up to the slack of its limits and
                # rounding: a value past its base's by at most twice the
                # slack is the tie (before equal columns copy it)
                reach = 2 * self._order_slack() * self.scale_[orders[:, 0]]
                for (b, a, lower), width in zip(orders, reach, strict=True):
                    gap = (
                        values[:, a] - values[:, b]
                        if lower
                        else values[:, b] - values[:, a]
                    )
                    tie = (gap > 0) & (gap <= width)
                    values[:, b] = np.where(tie, values[:, a], values[:, b])
            for b, a in getattr(self, "equal_", ()):
                values[:, b] += values[:, a]
        values = values.astype(self.dtype_, copy=False)
        if self.missing_.any():
            missing = encoded[:, d:] > 0.5
            values[:, self.missing_] = np.where(
                missing, np.nan, values[:, self.missing_]
            )
        return values

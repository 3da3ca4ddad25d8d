"""Between the user's data and the encoded float matrix the model sees (no torch)."""

import numpy as np

_ROW_MULTIPLIERS = np.random.default_rng(20261124).integers(
    1, 2**63, size=4096, dtype=np.uint64
) | np.uint64(1)


_MAX_STANDARDISED = 1e15
_CHUNK_ROWS = 2**14  # rows per chunk where a full-size temporary would be needed


def _mix64(h):
    """SplitMix64 finaliser, elementwise on uint64 (wrapping arithmetic)."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def row_keys(X):
    """A 63-bit hash of each row's values, shape ``(n,)``, dtype int64.

    Used to pick each row's evaluation noise, so that a row's score depends on
    the row alone. Rows are hashed in chunks, so the temporaries stay small.
    """
    keys = np.empty(X.shape[0], dtype=np.int64)
    for first in range(0, X.shape[0], _CHUNK_ROWS):
        rows = slice(first, first + _CHUNK_ROWS)
        keys[rows] = _row_keys(X[rows])
    return keys


def _row_keys(X):
    bits = np.ascontiguousarray(X, dtype=np.float64).view(np.uint64)
    with np.errstate(over="ignore"):
        h = np.zeros(bits.shape[0], dtype=np.uint64)
        for start in range(0, bits.shape[1], _ROW_MULTIPLIERS.size):
            block = bits[:, start : start + _ROW_MULTIPLIERS.size]
            mult = np.roll(_ROW_MULTIPLIERS, start)[: block.shape[1]]
            h = _mix64(h + _mix64(block * mult).sum(axis=1, dtype=np.uint64))
    return (h >> np.uint64(1)).astype(np.int64)


def _mean_std(X):
    """Column means and standard deviations in float64, two passes over chunks.

    ``X.std`` would hold a full-size temporary of deviations.
    """
    total = np.zeros(X.shape[1])
    for first in range(0, X.shape[0], _CHUNK_ROWS):
        total += X[first : first + _CHUNK_ROWS].sum(axis=0, dtype=np.float64)
    mean = total / X.shape[0]
    squares = np.zeros(X.shape[1])
    for first in range(0, X.shape[0], _CHUNK_ROWS):
        deviation = X[first : first + _CHUNK_ROWS] - mean
        squares += np.einsum("ij,ij->j", deviation, deviation)
    return mean, np.sqrt(squares / X.shape[0])


class NumericCodec:
    """Encode a numeric array for one likelihood family over all its columns.

    Gaussian columns are standardised; the log-Jacobian of that map is returned
    with the encoded rows so that densities stay in the user's units. A column
    that is constant in the training data gets the median scale of the others
    (1 if all are constant), so a later non-constant value is not judged on an
    arbitrarily small scale. Bernoulli columns must hold 0 and 1 only.

    Parameters
    ----------
    likelihood : {"gaussian", "bernoulli"}
    """

    def __init__(self, likelihood):
        self.likelihood = likelihood

    def fit(self, X):
        self.n_features_ = X.shape[1]
        self.dtype_ = X.dtype
        if self.likelihood == "gaussian":
            with np.errstate(over="ignore", invalid="ignore"):
                self.mean_, std = _mean_std(X)
            if not (np.isfinite(std).all() and np.isfinite(self.mean_).all()):
                raise ValueError(
                    "X is too large to standardise in floating point (its variance "
                    f"overflows; max |X| = {np.abs(X).max():.3g}); rescale it."
                )
            positive = std > 1e-12 * np.maximum(1.0, np.abs(self.mean_))
            fill = float(np.median(std[positive])) if positive.any() else 1.0
            self.scale_ = np.where(positive, std, fill)
            self.log_jacobian_ = -float(np.log(self.scale_).sum())
        else:
            self._check_binary(X)
            self.log_jacobian_ = 0.0
        return self

    def heads(self):
        """Likelihood heads as ``(kind, n_features)`` pairs."""
        return [(self.likelihood, self.n_features_)]

    def _check_binary(self, X):
        bad = ~np.isin(X, (0.0, 1.0))
        if bad.any():
            column = int(np.nonzero(bad.any(axis=0))[0][0])
            value = X[bad.any(axis=1)][0, column]
            raise ValueError(
                "likelihood='bernoulli' needs X with values in {0, 1}; "
                f"column {column} contains {value!r}."
            )

    def encode(self, X, dtype):
        """Encoded rows ``(n, d)`` and per-row log-Jacobians ``(n,)``, in ``dtype``."""
        if self.likelihood == "gaussian":
            # one output array and no temporaries: memory stays at one copy
            encoded = np.empty(X.shape, dtype=dtype)
            np.subtract(X, self.mean_, out=encoded, casting="unsafe")
            encoded /= self.scale_.astype(dtype)
            extreme = max(encoded.max(initial=0.0), -encoded.min(initial=0.0))
            if extreme > _MAX_STANDARDISED:
                raise ValueError(
                    f"X has values more than {_MAX_STANDARDISED:.0e} training "
                    "standard deviations from the training mean; its log-likelihood "
                    "is not representable in floating point."
                )
        else:
            self._check_binary(X)
            encoded = X
        logjac = np.full(X.shape[0], self.log_jacobian_)
        return encoded.astype(dtype, copy=False), logjac.astype(dtype)

    def decode(self, encoded, dtype=None):
        """Map encoded values (decoder means or samples) back to user units.

        The result has ``dtype``, by default the dtype of the training data.
        """
        dtype = self.dtype_ if dtype is None else dtype
        if self.likelihood == "gaussian":
            encoded = encoded * self.scale_ + self.mean_
        return encoded.astype(dtype, copy=False)

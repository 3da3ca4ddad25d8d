"""ArrayCodec: every column of a float array under one likelihood family (no torch)."""

import numpy as np

from ._codecs import Encoded

_MAX_STANDARDISED = 1e15
_CHUNK_ROWS = 2**14  # rows per chunk where a full-size temporary would be needed


def _mean_std(X):
    """Column means and standard deviations in float64, two passes over chunks.

    ``X.std`` would hold a full-size temporary of deviations. Chunks are made
    C-contiguous, so that the rounding does not depend on the memory layout.
    """
    total = np.zeros(X.shape[1])
    for first in range(0, X.shape[0], _CHUNK_ROWS):
        chunk = np.ascontiguousarray(X[first : first + _CHUNK_ROWS])
        total += chunk.sum(axis=0, dtype=np.float64)
    mean = total / X.shape[0]
    squares = np.zeros(X.shape[1])
    for first in range(0, X.shape[0], _CHUNK_ROWS):
        deviation = np.ascontiguousarray(X[first : first + _CHUNK_ROWS]) - mean
        squares += np.einsum("ij,ij->j", deviation, deviation)
    return mean, np.sqrt(squares / X.shape[0])


class ArrayCodec:
    """A numeric array under one likelihood family over all its columns.

    Gaussian columns are standardised (by the model, batch by batch); the
    log-Jacobian of that map is returned with the rows so that densities stay
    in the user's units. A column that is constant in the training data gets
    the median scale of the others (1 if all are constant), so a later
    non-constant value is not judged on an arbitrarily small scale. Bernoulli
    columns must hold 0 and 1 only.

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
        return [(self.likelihood, self.n_features_)]

    def column_models(self):
        return [self.likelihood] * self.n_features_

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
        # row-major whatever the input's layout (pandas may hold columns
        # Fortran-ordered): the same numbers then give the same arithmetic
        values = np.ascontiguousarray(X, dtype=dtype)
        if self.likelihood == "bernoulli":
            self._check_binary(values)
            return Encoded(values, self.log_jacobian_)
        # the model standardises batch by batch; check here that it can
        with np.errstate(over="ignore", invalid="ignore"):
            far = np.maximum(
                np.abs(values.max(axis=0, initial=-np.inf) - self.mean_),
                np.abs(values.min(axis=0, initial=np.inf) - self.mean_),
            )
        if len(values) and (far / self.scale_).max() > _MAX_STANDARDISED:
            raise ValueError(
                f"X has values more than {_MAX_STANDARDISED:.0e} training "
                "standard deviations from the training mean; its log-likelihood "
                "is not representable in floating point."
            )
        return Encoded(values, self.log_jacobian_, self.mean_, self.scale_)

    def decode(self, encoded):
        if self.likelihood == "gaussian":
            encoded = encoded * self.scale_ + self.mean_
        return encoded.astype(self.dtype_, copy=False)

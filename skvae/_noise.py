"""Common random numbers for evaluation: a row's latent noise is chosen by its values.

``score_samples`` and the validation score are Monte-Carlo estimates. Each row
takes its standard-normal draws from a table seeded at ``fit``, at the entry
``key % size`` where ``key`` hashes the row's values. A row's estimate then
depends on nothing but the row and the fitted model: scores are deterministic
and invariant to the batch a row is in and to the order of rows, while the
noise still averages out over the rows of a data set.
"""

import numpy as np
import torch

_NOISE_TABLE_BUDGET = 2**22  # floats in the table
_MAX_TABLE_ROWS = 4096
_CHUNK_ROWS = 2**14  # rows hashed at a time, so the temporaries stay small
_ROW_MULTIPLIERS = np.random.default_rng(20261124).integers(
    1, 2**63, size=4096, dtype=np.uint64
) | np.uint64(1)


def _mix64(h):
    """SplitMix64 finaliser, elementwise on uint64 (wrapping arithmetic)."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def row_keys(X):
    """A 63-bit hash of each row's values.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Float rows; equal rows (bit for bit, as float64) get equal keys.

    Returns
    -------
    keys : ndarray of shape (n,), dtype int64
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


def noise_table(n_samples, n_components, seed, dtype):
    """Seeded standard-normal draws of shape ``(size, n_samples, n_components)``.

    ``size`` is at most 4096 and keeps the table within 2**22 floats. The draws
    come in antithetic pairs, ``eps`` and ``-eps`` (the last one unpaired when
    ``n_samples`` is odd): each is still standard normal, so every average over
    them is unbiased, and the odd part of the integrand cancels exactly.
    """
    size = max(
        1, min(_MAX_TABLE_ROWS, _NOISE_TABLE_BUDGET // max(1, n_samples * n_components))
    )
    generator = torch.Generator().manual_seed(int(seed))
    table = torch.randn(
        (size, n_samples, n_components), generator=generator, dtype=torch.float64
    )
    pairs = n_samples // 2
    table[:, 1 : 2 * pairs : 2] = -table[:, 0 : 2 * pairs : 2]
    return table.to(dtype)


def pick_noise(table, keys):
    """The table entries of rows with int64 ``keys``: ``(len(keys), S, q)``."""
    return table[keys.remainder(table.shape[0])]

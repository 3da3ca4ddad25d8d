"""Common random numbers: each row's evaluation noise is chosen by its values."""

import numpy as np
import torch
from scipy import stats

from skvae import VAETransformer, _noise
from skvae._noise import noise_table, pick_noise, row_keys

from .conftest import FAST


def test_row_keys_depend_on_the_row_alone(rng):
    X = rng.normal(size=(5000, 7))
    keys = row_keys(X)
    assert keys.dtype == np.int64 and (keys >= 0).all()
    assert len(np.unique(keys)) == len(X)  # 63-bit hashes of distinct rows
    # a row's key does not depend on its neighbours, position or chunk
    np.testing.assert_array_equal(row_keys(X[::-1]), keys[::-1])
    np.testing.assert_array_equal(row_keys(X[10:11]), keys[10:11])
    # one bit of one value changes the key
    nudged = X[:1].copy()
    nudged[0, 3] = np.nextafter(nudged[0, 3], np.inf)
    assert row_keys(nudged)[0] != keys[0]


def test_row_keys_are_the_same_across_chunks(rng, monkeypatch):
    X = rng.normal(size=(300, 3))
    whole = row_keys(X)
    monkeypatch.setattr(_noise, "_CHUNK_ROWS", 7)
    np.testing.assert_array_equal(row_keys(X), whole)


def test_noise_table_is_seeded_standard_normal():
    table = noise_table(16, 8, seed=3, dtype=torch.float64)
    assert table.shape == (4096, 16, 8)
    torch.testing.assert_close(table, noise_table(16, 8, 3, torch.float64))
    assert not torch.equal(table, noise_table(16, 8, 4, torch.float64))
    draws = table.flatten().numpy()
    assert stats.kstest(draws[:200_000], "norm").pvalue > 1e-3
    # the table stays within its budget of floats however many draws per row
    assert noise_table(1000, 64, 0, torch.float32).numel() <= 2**22


def test_pick_noise_takes_the_rows_of_the_keys():
    table = noise_table(2, 3, seed=0, dtype=torch.float64)
    keys = torch.tensor([0, 5, table.shape[0] + 5])
    picked = pick_noise(table, keys)
    assert picked.shape == (3, 2, 3)
    torch.testing.assert_close(picked[1], picked[2])
    torch.testing.assert_close(picked[0], table[0])


def test_scores_do_not_depend_on_the_batch(rng):
    X = rng.normal(size=(300, 4))
    vae = VAETransformer(**FAST).fit(X)
    rows = vae.score_samples(X)
    order = rng.permutation(len(X))
    # equal up to the rounding of matrix products of another shape
    close = dict(rtol=1e-12, atol=0)
    np.testing.assert_allclose(vae.score_samples(X[order]), rows[order], **close)
    np.testing.assert_allclose(vae.score_samples(X[:1]), rows[:1], **close)
    # a duplicated row gets the same score as its twin
    np.testing.assert_allclose(vae.score_samples(X[[3, 3]]), rows[[3, 3]], **close)


def test_noise_table_pairs_are_adjacent_so_even_splits_are_independent():
    table = noise_table(7, 3, seed=0, dtype=torch.float64)
    torch.testing.assert_close(table[:, 1:6:2], -table[:, 0:6:2])
    # the unpaired last draw, and the pairs among themselves, are not negations
    assert not torch.allclose(table[:, 6], -table[:, 5])
    assert not torch.allclose(table[:, 2], -table[:, 0])

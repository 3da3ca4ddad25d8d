"""Out-of-core training with partial_fit and distributed grid search with Dask."""

import tracemalloc

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skvae import VAETransformer
from skvae._testing import make_ppca

KW = dict(n_components=4, hidden_layer_sizes=(32,), kl_warmup_iter=0, random_state=0)


def test_fit_makes_no_full_copy_of_an_array():
    # numpy reports its buffers to tracemalloc: standardising or splitting the
    # whole array would show up as a peak of about its size. The latent mixture
    # (sampler="prior" leaves it out) takes a fixed amount, whatever the rows.
    X = np.random.default_rng(0).normal(size=(200_000, 20)).astype(np.float32)
    kwargs = dict(max_iter=1, hidden_layer_sizes=(8,), sampler="prior", random_state=0)
    VAETransformer(**kwargs).fit(X[:500])  # first-use imports are traced too
    tracemalloc.start()
    try:
        VAETransformer(**kwargs).fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # measured: 0.72 (validation rows, row indices); 2.04 when fit copied X
    assert peak < X.nbytes


@pytest.mark.slow
def test_partial_fit_over_chunks_matches_an_in_memory_fit():
    X_train, X_test, _, _ = make_ppca(n_train=4000, n_test=2000, seed=3)
    epochs = 8
    # the same batch size for both: "auto" would size it by the chunk
    in_memory = VAETransformer(
        max_iter=epochs,
        early_stopping=False,
        learning_rate="constant",
        batch_size=64,
        **KW,
    ).fit(X_train)
    streamed = VAETransformer(batch_size=64, **KW)
    for _ in range(epochs):
        for chunk in np.array_split(X_train, 10):
            streamed.partial_fit(chunk)
    assert streamed.t_ == in_memory.t_ == epochs * len(X_train)
    reference = in_memory.score(X_test)
    assert abs(streamed.score(X_test) - reference) < 0.01 * abs(reference)


def test_dask_incremental_streams_blocks():
    da = pytest.importorskip("dask.array")
    # ImportError too: a dask-ml older than the installed scikit-learn (as
    # another package's pin can leave it) fails to import
    wrappers = pytest.importorskip("dask_ml.wrappers", exc_type=ImportError)
    X_train, X_test, _, _ = make_ppca(n_train=2000, n_test=500, seed=4)
    blocks = da.from_array(X_train, chunks=(200, 20))
    model = wrappers.Incremental(VAETransformer(**KW)).fit(blocks)
    assert model.estimator_.t_ == len(X_train)
    assert np.isfinite(model.estimator_.score(X_test))


@pytest.mark.slow
def test_grid_search_on_a_dask_cluster_matches_n_jobs_1():
    distributed = pytest.importorskip("distributed")
    joblib = pytest.importorskip("joblib")
    X, _, _, _ = make_ppca(n_train=600, n_test=1, d=8, q=2, seed=5)
    grid = {"n_components": [1, 2, 3]}
    est = VAETransformer(hidden_layer_sizes=(), max_iter=20, random_state=0)
    local = GridSearchCV(est, grid, cv=3, n_jobs=1).fit(X)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        with joblib.parallel_backend("dask"):
            remote = GridSearchCV(est, grid, cv=3, n_jobs=-1).fit(X)
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        np.testing.assert_array_equal(local.cv_results_[key], remote.cv_results_[key])
    assert remote.best_params_ == local.best_params_

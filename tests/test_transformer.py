"""Behaviour of VAETransformer: exact limits, model selection, API contracts."""

import pickle

import joblib
import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from sklearn.base import clone
from sklearn.decomposition import PCA, FactorAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skvae import VAETransformer
from skvae._testing import make_ppca

from .conftest import FAST


@pytest.mark.slow
def test_linear_vae_reaches_the_ppca_likelihood(ppca_data):
    X_train, X_test, mean, cov = ppca_data
    vae = VAETransformer(4, hidden_layer_sizes=(), random_state=0).fit(X_train)
    elbo = vae.score(X_test)
    reference = max(
        PCA(4).fit(X_train).score(X_test), FactorAnalysis(4).fit(X_train).score(X_test)
    )
    exact = multivariate_normal(mean, cov).logpdf(X_test).mean()
    iwae = vae.score_samples(X_test, n_importance=200).mean()
    assert elbo > reference - 0.05
    assert elbo < exact + 0.02  # a lower bound, up to sampling noise
    # the mean ELBO from 16 draws a row varies by about 0.01 nats with the
    # draws (12 noise seeds); from 256 draws by a quarter of that
    precise = vae.set_params(n_eval_samples=256).score(X_test)
    assert precise - 0.005 < iwae < exact + 0.02  # up to Monte-Carlo noise


@pytest.mark.slow
@pytest.mark.parametrize("decoder_variance", ["shared", "per_feature"])
def test_training_elbo_never_exceeds_the_maximum_likelihood(
    ppca_data, decoder_variance
):
    # A linear decoder with a per-feature variance is factor analysis; with a
    # shared variance on internally standardised data it is probabilistic PCA of
    # the standardised data. The ELBO on the training rows cannot exceed the
    # maximum likelihood of its family (PCA is exact; FA's EM is run to a tight tol).
    X_train = ppca_data[0]
    vae = VAETransformer(
        4, hidden_layer_sizes=(), decoder_variance=decoder_variance, random_state=0
    ).fit(X_train)
    if decoder_variance == "shared":
        std = X_train.std(axis=0)
        standardised = (X_train - X_train.mean(axis=0)) / std
        best = PCA(4).fit(standardised).score(standardised) - np.log(std).sum()
    else:
        best = FactorAnalysis(4, tol=1e-8, max_iter=10000).fit(X_train).score(X_train)
    elbo = vae.score(X_train)
    assert best - 0.1 < elbo <= best + 1e-3


@pytest.mark.slow
def test_grid_search_finds_the_latent_dimension():
    X, _, _, _ = make_ppca(n_train=1500, n_test=1, d=10, q=3, seed=1)
    grid = {"n_components": [1, 2, 3, 4, 5]}
    search = GridSearchCV(
        VAETransformer(hidden_layer_sizes=(), random_state=0), grid, cv=3
    ).fit(X)
    scores = search.cv_results_["mean_test_score"]
    # the linear VAE is factor analysis: its held-out gains must follow FA's
    fa = GridSearchCV(FactorAnalysis(), grid, cv=3).fit(X)
    fa_scores = fa.cv_results_["mean_test_score"]
    assert search.best_params_["n_components"] >= 3
    np.testing.assert_allclose(np.diff(scores[:3]), np.diff(fa_scores[:3]), atol=0.1)
    assert np.all(np.diff(fa_scores[:3]) > 0.5)  # steep up to the true q
    assert np.all(np.abs(scores[3:] - scores[2]) < 0.1)  # flat after


def test_same_seed_is_bit_identical(small_X):
    a = VAETransformer(**FAST).fit(small_X)
    b = VAETransformer(**FAST).fit(small_X)
    np.testing.assert_array_equal(a.transform(small_X), b.transform(small_X))
    assert a.score(small_X) == b.score(small_X)
    np.testing.assert_array_equal(
        a.sample(5, random_state=1), b.sample(5, random_state=1)
    )
    np.testing.assert_array_equal(a.sample(5), b.sample(5))
    c = VAETransformer(**{**FAST, "random_state": 1}).fit(small_X)
    assert not np.array_equal(a.transform(small_X), c.transform(small_X))


def test_sample_stream_and_shapes(small_X):
    vae = VAETransformer(**FAST).fit(small_X)
    first, second = vae.sample(4), vae.sample(4)
    assert first.shape == (4, 5) and not np.array_equal(first, second)
    assert vae.sample(3, random_state=0).dtype == small_X.dtype
    assert vae.inverse_transform(vae.transform(small_X)).shape == small_X.shape
    with pytest.raises(ValueError, match="n_components=8"):
        vae.inverse_transform(np.zeros((2, 3)))


def test_float32_stays_float32(small_X):
    X32 = small_X.astype(np.float32)
    vae = VAETransformer(**FAST).fit(X32)
    assert vae.transform(X32).dtype == np.float32
    assert vae.sample(2).dtype == np.float32
    assert vae.score_samples(X32).dtype == np.float64


def test_score_is_mean_of_score_samples_and_deterministic(small_X):
    vae = VAETransformer(**FAST).fit(small_X)
    rows = vae.score_samples(small_X)
    assert vae.score(small_X) == pytest.approx(rows.mean(), rel=1e-12)
    np.testing.assert_allclose(rows[::-1], vae.score_samples(small_X[::-1]), rtol=1e-12)
    np.testing.assert_allclose(rows[:7], vae.score_samples(small_X[:7]), rtol=1e-12)


def test_score_is_in_the_users_units(small_X):
    # Scaling the data by c moves the log-density by -d*log(c) per row.
    vae = VAETransformer(**FAST).fit(small_X)
    scaled = VAETransformer(**FAST).fit(small_X * 10.0)
    # (the training runs agree to rounding; the evaluation noise differs)
    expected = vae.score(small_X) - 5 * np.log(10.0)
    assert scaled.score(small_X * 10.0) == pytest.approx(expected, abs=0.05)


def test_pickle_and_joblib_round_trip(small_X, tmp_path):
    vae = VAETransformer(**FAST).fit(small_X)
    restored = pickle.loads(pickle.dumps(vae))
    np.testing.assert_array_equal(vae.transform(small_X), restored.transform(small_X))
    assert vae.score(small_X) == restored.score(small_X)
    joblib.dump(vae, tmp_path / "vae.joblib")
    loaded = joblib.load(tmp_path / "vae.joblib")
    np.testing.assert_array_equal(
        vae.sample(3, random_state=0), loaded.sample(3, random_state=0)
    )


def test_pipeline_with_classifier():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    X = rng.normal(size=(300, 6)) + y[:, None] * 2.0
    pipe = make_pipeline(
        StandardScaler(), VAETransformer(2, random_state=0), LogisticRegression()
    )
    assert pipe.fit(X, y).score(X, y) > 0.9


def test_warm_start_and_partial_fit_continue_training(small_X):
    vae = VAETransformer(**{**FAST, "warm_start": True}, early_stopping=False).fit(
        small_X
    )
    weights = vae.module_.decoder[-1].weight.detach().clone()
    vae.fit(small_X)
    assert vae.n_iter_ == 10 and len(vae.loss_curve_) == 10
    assert not torch.equal(weights, vae.module_.decoder[-1].weight)
    inc = VAETransformer(**FAST)
    for _ in range(3):
        inc.partial_fit(small_X)
    assert inc.n_iter_ == 3 and inc.t_ == 3 * len(small_X)
    # a clone starts afresh: no epochs, rows or history carried over
    cold = clone(inc).fit(small_X)
    assert cold.t_ == 5 * int(0.9 * len(small_X)) and len(cold.loss_curve_) == 5


def test_fitted_weights_are_the_moving_average_of_the_trained_ones(small_X):
    """The documented average, replayed here from the weights Adam produced
    at each step of two more ``partial_fit`` calls: update ``t`` moves the
    average towards them by ``1 - min(ema_momentum, (1 + t) / (10 + t))``.
    The state keeps the trained weights, which the calls continue."""
    momentum = 0.6
    vae = VAETransformer(**FAST, ema_momentum=momentum).partial_fit(small_X)
    params = list(vae.module_.parameters())
    average = [p.detach().clone().double() for p in params]
    t = vae._state.n_averaged
    trained = []
    vae._state.optimizer.register_step_post_hook(
        lambda *args: trained.append([p.detach().clone().double() for p in params])
    )
    vae.partial_fit(small_X).partial_fit(small_X)
    assert len(trained) == 2 * int(np.ceil(len(small_X) / FAST["batch_size"]))
    for weights in trained:
        rate = 1 - min(momentum, (1 + t) / (10 + t))
        average = [a + rate * (w - a) for a, w in zip(average, weights, strict=True)]
        t += 1
    assert vae._state.n_averaged == t
    for fitted, expected in zip(vae.module_.parameters(), average, strict=True):
        np.testing.assert_allclose(fitted.detach(), expected, rtol=1e-5, atol=1e-6)
    for kept, last in zip(vae._state.weights, trained[-1], strict=True):
        np.testing.assert_allclose(kept, last, rtol=1e-6, atol=1e-7)
    # 0 keeps the last trained weights
    vae = VAETransformer(**FAST, ema_momentum=0).partial_fit(small_X)
    assert vae._state.weights is None


@pytest.mark.slow
def test_loss_curve_is_the_negative_training_elbo(ppca_data):
    X_train = ppca_data[0]
    vae = VAETransformer(
        4, hidden_layer_sizes=(), random_state=0, early_stopping=False
    ).fit(X_train)
    # The last epoch's loss is a one-draw estimate made while the weights moved.
    assert abs(vae.loss_curve_[-1] + vae.score(X_train)) < 0.1
    assert vae.best_loss_ == min(vae.loss_curve_)


def test_bernoulli_likelihood():
    rng = np.random.default_rng(0)
    X = (rng.random((200, 8)) < np.linspace(0.1, 0.9, 8)).astype(float)
    vae = VAETransformer(**{**FAST, "max_iter": 30}, likelihood="bernoulli").fit(X)
    assert set(np.unique(vae.sample(50))) <= {0.0, 1.0}
    means = vae.inverse_transform(vae.transform(X))
    assert ((means >= 0) & (means <= 1)).all()
    # a lower bound on a log-probability of discrete data is negative
    assert (vae.score_samples(X) < 0).all()
    with pytest.raises(ValueError, match="values in \\{0, 1\\}"):
        vae.fit(X + 0.5)


def test_cuda_without_cuda_is_a_clear_error(small_X):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        VAETransformer(**{**FAST, "device": "cuda"}).fit(small_X)
    assert VAETransformer(**{**FAST, "device": "auto"}).fit(small_X).device_ == "cpu"


def test_global_torch_state_is_left_alone(small_X):
    torch.manual_seed(123)
    expected = torch.rand(3)
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    VAETransformer(**FAST).fit(small_X).sample(2)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_version_mismatch_and_missing_cuda_warn_on_load(small_X):
    vae = VAETransformer(**FAST).fit(small_X)
    state = pickle.loads(pickle.dumps(vae)).__getstate__()
    assert state["_skvae_version"] == __import__("skvae").__version__
    state["_skvae_version"] = "0.0.1"
    clone_ = VAETransformer.__new__(VAETransformer)
    with pytest.warns(UserWarning, match="pickled with skvae 0.0.1"):
        clone_.__setstate__(dict(state))
    if not torch.cuda.is_available():
        state["_skvae_version"] = __import__("skvae").__version__
        state["device_"] = "cuda"
        gpu_trained = VAETransformer.__new__(VAETransformer)
        with pytest.warns(UserWarning, match="not available; it will run on the CPU"):
            gpu_trained.__setstate__(dict(state))
        assert gpu_trained.device_ == "cpu"
        np.testing.assert_array_equal(
            gpu_trained.transform(small_X), vae.transform(small_X)
        )

"""The training loop: batching, stopping, divergence and interruption."""

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

from skvae import VAEImputer, VAETransformer, _device, _settings, _training
from skvae._training import iter_batches

from .conftest import FAST

X = np.random.default_rng(0).normal(size=(120, 4)) * [1, 2, 3, 4]


def test_iter_batches_covers_every_row_once():
    g = torch.Generator().manual_seed(0)
    batches = iter_batches(103, 10, g)
    rows = torch.cat(batches).sort().values
    assert torch.equal(rows, torch.arange(103))
    assert [len(b) for b in batches] == [10] * 10 + [3]


def test_loss_decreases():
    vae = VAETransformer(
        **{
            **FAST,
            "max_iter": 60,
            "early_stopping": False,
            "kl_warmup_iter": 0,
            "batch_size": 16,
        }
    ).fit(X)
    # the rows are independent Gaussians: the best loss is their negative
    # log-likelihood under the fitted diagonal Gaussian
    floor = -stats.norm.logpdf(X, X.mean(0), X.std(0)).sum(1).mean()
    assert vae.loss_curve_[0] > floor + 0.3
    assert vae.loss_curve_[-1] < floor + 0.05


def test_early_stopping_keeps_the_best_weights():
    vae = VAETransformer(**{**FAST, "max_iter": 200, "n_iter_no_change": 3}).fit(X)
    assert vae.n_iter_ < 200
    assert vae.best_validation_score_ == max(vae.validation_scores_)
    assert vae.best_loss_ is None


def test_the_weights_kept_are_the_best_from_the_end_of_the_warm_up(monkeypatch):
    # a barely trained model has a small KL term and can win the held-out
    # ELBO during the warm-up: only epochs at the full KL weight compete
    scores = iter(-float(epoch) for epoch in range(1, 100))
    monkeypatch.setattr(_training, "evaluate", lambda *args: next(scores))
    params = {**FAST, "kl_warmup_iter": 5, "max_iter": 20, "n_iter_no_change": 3}
    with pytest.warns(UserWarning, match=r"full KL weight \(epoch 5\)"):
        vae = VAETransformer(**params).fit(X)
    assert vae.validation_scores_[:6] == [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0]
    assert vae.best_validation_score_ == -5.0
    scores = iter(-float(epoch) for epoch in range(1, 100))
    vae = VAETransformer(**{**params, "max_iter": 3}).fit(X)  # inside the warm-up
    assert vae.best_validation_score_ == vae.validation_scores_[-1] == -3.0


def test_auto_budget_stops_growing_with_the_rows():
    # 80 epochs (50 of KL warm-up) up to 10**5 training rows; beyond, the
    # epochs that read 8 * 10**6 rows, so fit time is flat in n, not linear;
    # the KL warm-up stays at 50 epochs when early stopping lengthens a fit
    assert _settings.resolve_max_iter("auto", 26_048) == 80
    assert _settings.resolve_max_iter("auto", 100_000) == 80
    assert _settings.resolve_max_iter("auto", 900_000) == 8
    assert _settings.resolve_max_iter("auto", 10**8) == 5
    assert _settings.resolve_max_iter(300, 10**8) == 300
    # with early stopping, a small table gets the epochs that read 1.6 * 10**6
    # rows (at most 300), and the held-out ELBO decides when to stop
    assert _settings.resolve_max_iter("auto", 26_048, True) == 80
    assert _settings.resolve_max_iter("auto", 7_200, True) == 222
    assert _settings.resolve_max_iter("auto", 1_000, True) == 300
    assert _settings.resolve_max_iter("auto", 900_000, True) == 8
    assert _settings.resolve_max_iter("auto", 1_000) == 80
    assert _settings.resolve_max_iter("auto", 1_000, True, hidden=False) == 80
    assert _settings.resolve_kl_warmup_iter("auto", (64,), 26_048) == 50
    assert _settings.resolve_kl_warmup_iter("auto", (64,), 1_000) == 50
    assert _settings.resolve_kl_warmup_iter("auto", (64,), 900_000) == 5
    assert _settings.resolve_kl_warmup_iter("auto", (), 900_000) == 0
    assert _settings.resolve_kl_warmup_iter(7, (64,), 900_000) == 7


def test_auto_batch_keeps_the_steps_of_a_small_table():
    # 25 steps per epoch, and at least 7,500 steps (300 epochs of 25) in the
    # early-stopping budget, up to 10**5 training rows: Adult's 23,443 and 80
    # epochs take 250 rows per step (937 at 25 steps per epoch: 2,080 steps)
    def auto(n, linear=False):
        return _settings.resolve_batch_size("auto", n, linear)

    assert auto(23_443) == 250 and 23_443 * 80 / auto(23_443) >= 7_500
    assert auto(1_000) == 64 and auto(4_000) == 160  # 25 steps per epoch
    assert auto(9_720) == 212
    assert auto(90_000) == 960 and auto(100_000) == 1024  # the cap
    assert auto(900_000) == auto(1_333_334) == auto(10**7) == 1024
    assert auto(23_443, linear=True) == 234  # 100 steps per epoch
    assert auto(30) == 30  # never more than the rows
    partial_fit = _settings.resolve_batch_size("auto", 23_443, False, budget=False)
    assert partial_fit == 937  # one epoch a call: 25 steps
    assert _settings.resolve_batch_size(37, 23_443, False) == 37


def test_fit_resolves_the_auto_batch_on_its_training_rows():
    # early stopping holds out a tenth: 5,400 training rows and a budget of
    # 296 epochs take 213 rows per step; partial_fit reads its own chunk
    X = np.random.default_rng(0).normal(size=(6_000, 3))
    vae = VAETransformer(max_iter=1, random_state=0)
    with pytest.warns(ConvergenceWarning):
        vae.fit(X)
    assert vae.batch_size_ == 213
    vae = VAETransformer(max_iter=1, early_stopping=False, random_state=0)
    with pytest.warns(ConvergenceWarning):
        vae.fit(X)
    assert vae.batch_size_ == 212  # 6,000 rows and a budget of 266 epochs
    assert VAETransformer(random_state=0).partial_fit(X).batch_size_ == 240


def test_max_iter_warns_like_mlp():
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(2\\) reached"):
        VAETransformer(**{**FAST, "max_iter": 2}).fit(X)


def test_diverging_learning_rate_is_a_clear_error():
    with pytest.raises(
        ValueError, match="non-finite in the first epoch.*learning_rate_init"
    ):
        VAETransformer(**{**FAST, "learning_rate_init": 1e8, "max_iter": 5}).fit(
            X * 1e3
        )


def test_divergence_after_good_epochs_keeps_the_last_finite_weights(monkeypatch):
    real_epoch = _training._epoch
    calls = {"n": 0}

    def epoch_that_blows_up(module, *args, **kwargs):
        calls["n"] += 1
        loss = real_epoch(module, *args, **kwargs)
        if calls["n"] == 4:
            with torch.no_grad():
                next(module.parameters()).fill_(float("nan"))
            return loss * float("nan")
        return loss

    monkeypatch.setattr(_training, "_epoch", epoch_that_blows_up)
    with pytest.warns(ConvergenceWarning, match="non-finite after 3 epochs"):
        vae = VAETransformer(**{**FAST, "max_iter": 10, "early_stopping": False}).fit(X)
    assert vae.n_iter_ == 3
    assert np.isfinite(vae.transform(X)).all() and np.isfinite(vae.score(X))


def test_ctrl_c_keeps_a_usable_model(monkeypatch):
    real_epoch = _training._epoch
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(_training, "_epoch", interrupted)
    with pytest.warns(UserWarning, match="interrupted by the user after 5 epochs"):
        vae = VAETransformer(**{**FAST, "max_iter": 50}).fit(X)
    assert vae.n_iter_ == 5
    assert vae.best_validation_score_ == max(vae.validation_scores_)
    assert np.isfinite(vae.score(X)) and vae.sample(3).shape == (3, 4)


def test_flush_denormals_is_restored():
    before = _device.flushes_denormals()
    with _device.flush_denormals():
        assert _device.flushes_denormals()
    assert _device.flushes_denormals() == before


@pytest.mark.slow
def test_mixed_precision_trains_as_well_as_full_precision(ppca_data):
    X_train, X_test, mean, cov = ppca_data
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
    exact = stats.multivariate_normal(mean, cov).logpdf(X_test).mean()
    # max_iter=200: room to converge after the 50-epoch KL warm-up
    kwargs = dict(hidden_layer_sizes=(32,), max_iter=200, device="cpu", random_state=0)
    full = VAETransformer(mixed_precision=False, **kwargs).fit(X_train)
    mixed = VAETransformer(mixed_precision=True, **kwargs).fit(X_train)
    # bfloat16 matmuls change the trajectory, not what it reaches
    assert not np.array_equal(full.transform(X_test), mixed.transform(X_test))
    # measured on two machines: exact -60.773, full -60.852 / -60.863,
    # mixed -60.836 / -60.880 nats per row (bfloat16 rounds differently
    # where the CPU has no bfloat16 instructions)
    assert full.score(X_test) - 0.02 < mixed.score(X_test) < exact
    assert mixed.score(X_test) > exact - 0.15
    # scores are computed in full precision whatever the training precision
    assert mixed.module_.compute_dtype is None


def test_mixed_precision_leaves_float64_models_alone():
    a = VAETransformer(mixed_precision=True, **FAST).fit(X)
    b = VAETransformer(mixed_precision=False, **FAST).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_early_stopping_restores_the_weights_of_the_best_epoch():
    from skvae._device import make_generator
    from skvae._likelihoods import RowLikelihood, _Gaussian
    from skvae._model import VAE
    from skvae._noise import noise_table
    from skvae._training import Rows, TrainState, Validation, evaluate, make_optimizer

    rng = np.random.default_rng(0)
    data = torch.tensor(rng.normal(size=(80, 4)))
    module = VAE(4, 2, (32,), "relu", RowLikelihood([_Gaussian(4)]), torch.float64)
    module.reset_parameters(make_generator(0))
    state = TrainState(make_optimizer(module, 3e-2, 0.0))
    train_rows = Rows(data[:40], torch.zeros(40, dtype=torch.float64))
    eps = noise_table(1, 2, 0, torch.float64)[:40]
    validation = Validation(Rows(data[40:], torch.zeros(40, dtype=torch.float64)), eps)
    # 40 training rows and a large step size: the best held-out ELBO is not the last
    _training.train(
        module,
        state,
        train_rows,
        validation=validation,
        max_iter=60,
        batch_size=8,
        kl_weight=1.0,
        tol=0.0,
        n_iter_no_change=60,
        generator=make_generator(1),
    )
    scores = state.validation_scores
    best = int(np.argmax(scores))
    assert best < len(scores) - 1 and scores[-1] < scores[best]
    assert evaluate(module, validation) == state.best_validation_score == scores[best]


def test_warnings_point_at_the_users_line():
    import inspect
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        VAETransformer(**{**FAST, "max_iter": 2}).fit(X)
        VAETransformer(**{**FAST, "max_iter": 2}).fit_transform(X)
        VAEImputer(**{**FAST, "max_iter": 2}).fit_transform(X)
    warned = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(warned) == 3
    for offset, warning in enumerate(warned):
        assert (warning.filename, warning.lineno) == (__file__, line + offset)

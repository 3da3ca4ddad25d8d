"""warm_start and partial_fit continue a model only if its structure is unchanged."""

import numpy as np
import pandas as pd
import pytest

from skvae import VAETransformer

from .conftest import FAST

# every structural parameter, with a value it starts at and one it changes to
CHANGES = [
    ("n_components", 2, 3),
    ("hidden_layer_sizes", (8,), (4,)),
    ("activation", "relu", "tanh"),
    ("likelihood", "auto", "per_column"),
    ("decoder_variance", "auto", "shared"),
    ("autoregressive", "auto", False),
    ("categorical_features", "from_dtype", ["c"]),
    ("handle_unknown", "error", "ignore"),
]


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x": rng.normal(size=80),
            "c": rng.integers(0, 3, 80),
            "s": rng.choice(["u", "v"], 80).astype(object),
        }
    )


def _data(name, frame):
    # per-column parameters change the model of a table, the others of an array
    if name in ("categorical_features", "handle_unknown", "autoregressive"):
        return frame
    return frame[["x"]].assign(y=frame["x"] ** 2).to_numpy()


@pytest.mark.parametrize("name, before, after", CHANGES, ids=[c[0] for c in CHANGES])
def test_warm_start_refuses_a_changed_structural_parameter(name, before, after, frame):
    X = _data(name, frame)
    vae = VAETransformer(**{**FAST, name: before}, warm_start=True).fit(X)
    weights = {k: v.clone() for k, v in vae.module_.state_dict().items()}
    vae.set_params(**{name: after})
    with pytest.raises(ValueError, match=f"{name} was .* warm_start=True"):
        vae.fit(X)
    # the fitted model is left as it was
    for key, value in vae.module_.state_dict().items():
        assert (value == weights[key]).all(), key
    vae.set_params(**{name: before}).fit(X)
    assert vae.n_iter_ == 2 * FAST["max_iter"]
    # without warm_start the change simply refits
    vae.set_params(warm_start=False, **{name: after}).fit(X)
    assert vae.n_iter_ == FAST["max_iter"]


@pytest.mark.parametrize("name, before, after", CHANGES, ids=[c[0] for c in CHANGES])
def test_partial_fit_refuses_a_changed_structural_parameter(name, before, after, frame):
    X = _data(name, frame)
    vae = VAETransformer(**{**FAST, name: before}).partial_fit(X)
    vae.set_params(**{name: after})
    with pytest.raises(ValueError, match=f"{name} was .* partial_fit"):
        vae.partial_fit(X)
    assert vae.set_params(**{name: before}).partial_fit(X).n_iter_ == 2


def test_an_auto_setting_may_be_written_out(small_X):
    vae = VAETransformer(**{**FAST, "hidden_layer_sizes": "auto"}, warm_start=True)
    vae.fit(small_X)
    assert vae.hidden_layer_sizes_ == (256, 128)
    vae.set_params(hidden_layer_sizes=[256, 128], decoder_variance="per_feature")
    assert vae.fit(small_X).n_iter_ == 2 * FAST["max_iter"]


def test_training_settings_may_change(small_X):
    vae = VAETransformer(**FAST, warm_start=True).fit(small_X)
    vae.set_params(max_iter=3, learning_rate_init=1e-3, batch_size=8, alpha=0.1)
    vae.fit(small_X)
    assert vae.n_iter_ == FAST["max_iter"] + 3 and vae.batch_size_ == 8


def test_partial_fit_keeps_the_warm_up_of_its_first_call(monkeypatch):
    # the auto warm-up depends on the rows of a fit; under partial_fit the
    # first call sets it, so a short last chunk does not restart the KL ramp
    monkeypatch.setattr("skvae._settings.ROW_VISITS", 8_000)
    rng = np.random.default_rng(0)
    vae = VAETransformer(**{**FAST, "hidden_layer_sizes": (8,)})
    vae.partial_fit(rng.normal(size=(1_600, 3)))
    assert vae.kl_warmup_iter_ == 3  # 5 epochs of 1,600 rows read 8,000
    vae.partial_fit(rng.normal(size=(50, 3)))
    assert vae.kl_warmup_iter_ == 3


@pytest.mark.parametrize("before, after", [("shared", "auto"), ("auto", "per_feature")])
def test_imputer_warm_start_sees_what_auto_variance_resolves_to(before, after):
    """``VAEImputer``'s "auto" variance resolves by the data of the first fit
    (a full covariance on 80 rows of 2 features), so a switch to or from it
    is a change of structure, as for ``VAETransformer``."""
    from skvae import VAEImputer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    X[rng.random(X.shape) < 0.1] = np.nan
    imputer = VAEImputer(**{**FAST, "decoder_variance": before}, warm_start=True)
    imputer.fit(X)
    imputer.set_params(decoder_variance=after)
    with pytest.raises(ValueError, match="decoder_variance was .* warm_start=True"):
        imputer.fit(X)

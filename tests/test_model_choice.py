"""Which model an input gets: its columns' dtypes and explicit parameters, never
its container."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import config_context
from sklearn.datasets import load_diabetes
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skvae import VAETransformer

from .conftest import FAST, FAST_TABLE

FITTED = [
    "likelihood_",
    "hidden_layer_sizes_",
    "decoder_variance_",
    "autoregressive_",
    "batch_size_",
    "kl_warmup_iter_",
    "mixed_precision_",
    "n_iter_",
    "loss_curve_",
    "validation_scores_",
]


def _same_model(a, b):
    for name in FITTED:
        assert getattr(a, name) == getattr(b, name), name
    np.testing.assert_array_equal(a.column_models_, b.column_models_)
    state_a, state_b = a.module_.state_dict(), b.module_.state_dict()
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        assert torch.equal(state_a[key], state_b[key]), key


@pytest.mark.slow
def test_pandas_output_pipeline_is_bit_identical_to_arrays():
    # the pipeline of the report: every step hands the next a DataFrame
    X = load_diabetes().data
    arrays = make_pipeline(StandardScaler(), VAETransformer(random_state=0)).fit(X)
    with config_context(transform_output="pandas"):
        frames = make_pipeline(StandardScaler(), VAETransformer(random_state=0))
        frames.fit(X)
        Z = frames.transform(X)
        score = frames.score(X)
    assert isinstance(Z, pd.DataFrame)
    _same_model(arrays[-1], frames[-1])
    np.testing.assert_array_equal(Z.to_numpy(), arrays.transform(X))
    assert score == arrays.score(X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_an_all_float_frame_gets_the_model_of_its_array(dtype, rng):
    X = (rng.normal(size=(200, 4)) * [1, 10, 100, 0.1]).astype(dtype)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    array = VAETransformer(**FAST).fit(X)
    table = VAETransformer(**FAST).fit(frame)
    assert table.likelihood_ == "gaussian"
    _same_model(array, table)
    np.testing.assert_array_equal(table.transform(frame), array.transform(X))
    assert table.transform(frame).dtype == dtype
    np.testing.assert_array_equal(table.score_samples(frame), array.score_samples(X))
    # the same draws, returned in the container that fit saw
    synthetic = table.sample(5, random_state=0)
    assert list(synthetic.columns) == ["a", "b", "c", "d"]
    assert (synthetic.dtypes == dtype).all()
    np.testing.assert_array_equal(synthetic.to_numpy(), array.sample(5, random_state=0))
    back = table.inverse_transform(table.transform(frame.head(3)))
    assert isinstance(back, pd.DataFrame) and list(back.columns) == list(frame)


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(np.arange(120) % 7, name="int"),
        pd.Series(np.arange(120) % 3 == 0, name="bool"),
        pd.Series(pd.Categorical(np.arange(120) % 2), name="category"),
        pd.Series(np.where(np.arange(120) % 2, "u", "v"), dtype=object, name="obj"),
        pd.Series(np.where(np.arange(120) % 2, "u", "v"), dtype="string", name="s"),
    ],
    ids=lambda c: c.name,
)
def test_a_column_that_is_not_float_gives_per_column_models(column, rng):
    frame = pd.DataFrame({"x": rng.normal(size=120), column.name: column})
    vae = VAETransformer(**FAST_TABLE).fit(frame)
    assert vae.likelihood_ == "per_column" and vae.autoregressive_
    assert vae.column_models_[0] == "quantile_normal"
    assert vae.hidden_layer_sizes_ == (16,)
    synthetic = vae.sample(10, random_state=0)
    assert (synthetic.dtypes == frame.dtypes).all()


def test_per_column_models_on_request_for_an_all_float_table(rng):
    X = rng.gamma(2.0, size=(150, 3))
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    vae = VAETransformer(likelihood="per_column", **FAST_TABLE).fit(frame)
    assert list(vae.column_models_) == ["quantile_normal"] * 3
    assert vae.decoder_variance_ == "heteroscedastic"
    assert np.isfinite(vae.score_samples(frame)).all()
    # an array asks the same way and gets an array back
    on_array = VAETransformer(likelihood="per_column", **FAST_TABLE).fit(X)
    np.testing.assert_array_equal(on_array.transform(X), vae.transform(frame))
    synthetic = on_array.sample(20, random_state=0)
    assert isinstance(synthetic, np.ndarray) and synthetic.dtype == X.dtype
    assert (synthetic >= X.min(0)).all() and (synthetic <= X.max(0)).all()


def test_categorical_features_choose_per_column_models_for_arrays(rng):
    X = np.column_stack([rng.normal(size=100), rng.integers(0, 3, 100)])
    vae = VAETransformer(categorical_features=[1], **FAST_TABLE).fit(X)
    assert vae.likelihood_ == "per_column"
    assert list(vae.column_models_) == ["quantile_normal", "categorical"]
    assert set(vae.sample(50, random_state=0)[:, 1]) <= {0.0, 1.0, 2.0}


def test_the_gaussian_model_on_request_for_a_table(rng):
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=100),
            "n": rng.integers(0, 9, 100),
            "b": rng.random(100) < 0.5,
        }
    )
    vae = VAETransformer(likelihood="gaussian", **FAST).fit(frame)
    reference = VAETransformer(**FAST).fit(frame.to_numpy(dtype=float))
    _same_model(vae, reference)
    synthetic = vae.sample(20, random_state=0)
    assert (synthetic.dtypes == frame.dtypes).all()


def test_the_gaussian_model_names_a_column_it_cannot_read(rng):
    frame = pd.DataFrame({"x": rng.normal(size=50), "city": ["Oslo", "Lima"] * 25})
    with pytest.raises(
        ValueError, match="Column 'city' has dtype (object|str).*'auto'"
    ):
        VAETransformer(likelihood="gaussian", **FAST).fit(frame)
    with pytest.raises(
        ValueError, match="categorical_features=.*likelihood='gaussian'"
    ):
        VAETransformer(likelihood="gaussian", categorical_features=["x"], **FAST).fit(
            frame
        )

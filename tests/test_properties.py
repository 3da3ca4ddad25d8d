"""Property-based tests: any input gives a clear error or finite, well-shaped output."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import NotFittedError

from skvae import VAETransformer

from .conftest import FAST

QUICK = {**FAST, "max_iter": 2}  # hypothesis fits many times
CLEAR_ERRORS = (ValueError, TypeError, NotFittedError)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)
anything = st.floats(allow_nan=True, allow_infinity=True, width=64)


def _not_from_torch(error):
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert "torch" not in tb.tb_frame.f_code.co_filename, repr(error)


def _check_all_methods(X, n_components):
    copy = np.array(X, copy=True)
    try:
        vae = VAETransformer(n_components, **QUICK).fit(X)
    except CLEAR_ERRORS as error:
        _not_from_torch(error)
        return
    finally:
        np.testing.assert_array_equal(X, copy)  # the caller's data is untouched
    Z = vae.transform(X)
    assert Z.shape == (X.shape[0], n_components) and np.isfinite(Z).all()
    assert Z.dtype == (X.dtype if X.dtype == np.float32 else np.float64)
    scores = vae.score_samples(X)
    assert scores.shape == (X.shape[0],) and np.isfinite(scores).all()
    back = vae.inverse_transform(Z)
    assert back.shape == X.shape and np.isfinite(back).all()
    assert np.isfinite(vae.sample(3)).all()


@pytest.mark.slow
@SETTINGS
@given(
    X=hnp.arrays(
        dtype=st.sampled_from([np.float64, np.float32, np.int64]),
        shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=12),
        elements=st.integers(-1000, 1000),
    ),
    n_components=st.integers(1, 4),
)
def test_numeric_arrays_give_finite_output(X, n_components):
    _check_all_methods(X, n_components)


@SETTINGS
@given(
    X=hnp.arrays(
        dtype=np.float64,
        shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6),
        elements=anything,
    )
)
def test_any_array_gives_a_clear_error_or_finite_output(X):
    try:
        _check_all_methods(X, 2)
    except AssertionError:
        raise
    except CLEAR_ERRORS as error:  # raised by transform & co. on odd shapes
        _not_from_torch(error)


@st.composite
def mixed_frames(draw):
    n = draw(st.integers(2, 30))
    columns = {}
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["float", "int", "bool", "category", "object"]))
        if kind == "float":
            values = draw(st.lists(finite, min_size=n, max_size=n))
        elif kind == "int":
            values = draw(st.lists(st.integers(-50, 50), min_size=n, max_size=n))
        elif kind == "bool":
            values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        else:
            levels = st.sampled_from(["a", "b", "c", None])
            values = draw(st.lists(levels, min_size=n, max_size=n))
        series = pd.Series(values)
        if kind == "category":
            series = series.astype("category")
        elif kind == "object":
            series = series.astype(object)
        columns[f"{kind}{i}"] = series
    return pd.DataFrame(columns)


@pytest.mark.slow
@SETTINGS
@given(frame=mixed_frames())
def test_mixed_frames_keep_schema_and_stay_finite(frame):
    before = frame.copy()
    try:
        vae = VAETransformer(**QUICK).fit(frame)
    except CLEAR_ERRORS as error:
        _not_from_torch(error)
        return
    pd.testing.assert_frame_equal(frame, before)
    assert np.isfinite(vae.transform(frame)).all()
    assert np.isfinite(vae.score_samples(frame)).all()
    synthetic = vae.sample(7, random_state=0)
    assert list(synthetic.columns) == list(frame.columns)
    assert (synthetic.dtypes == frame.dtypes).all()
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize("n_rows", [2, 3])
def test_tiny_frames(n_rows):
    frame = pd.DataFrame({"x": np.arange(n_rows, dtype=float), "c": ["a"] * n_rows})
    vae = VAETransformer(**QUICK).fit(frame)
    assert vae.sample(2, random_state=0).shape == (2, 2)

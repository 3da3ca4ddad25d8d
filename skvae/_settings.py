"""What each "auto" parameter means, resolved once in ``fit`` into fitted attributes.

Which model an input gets depends on its columns' dtypes and on explicit
parameters, never on its container: an array and a DataFrame whose columns are
all float get the same model (:func:`resolve_likelihood`).
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd

from ._device import native_bfloat16

# parameters that set the fitted model's shape or its encoding: warm_start and
# partial_fit cannot continue a model fitted with other values
STRUCTURAL = (
    "n_components",
    "hidden_layer_sizes",
    "activation",
    "likelihood",
    "decoder_variance",
    "autoregressive",
    "categorical_features",
    "handle_unknown",
    "identifier_features",
)
_RESOLVED = ("hidden_layer_sizes", "decoder_variance", "autoregressive")


def _names_columns(spec):
    """Whether a ``categorical_features``/``identifier_features`` value names
    columns (not None, "auto" or "from_dtype", nor an all-False mask)."""
    if spec is None or isinstance(spec, str):
        return False
    # names, indices, or a boolean mask with a True
    return any(s is not False and s is not np.False_ for s in spec)


def resolve_likelihood(likelihood, categorical_features, X, identifier_features=None):
    """``"gaussian"``, ``"bernoulli"`` or ``"per_column"``: the model ``X`` gets.

    ``"auto"`` gives one column model per column (``"per_column"``) to a
    DataFrame with a column that is not float (int, bool, category, object,
    string, datetime, ...) and to any input with ``categorical_features`` or
    ``identifier_features`` naming columns; every other input is an all-float
    table and gets the Gaussian model.

    Raises
    ------
    ValueError
        If ``categorical_features`` or ``identifier_features`` names columns
        under ``likelihood`` set to ``"gaussian"`` or ``"bernoulli"``.
    """
    named = {
        name: spec
        for name, spec in [
            ("categorical_features", categorical_features),
            ("identifier_features", identifier_features),
        ]
        if _names_columns(spec)
    }
    explicit = bool(named)
    if likelihood != "auto":
        if explicit and likelihood != "per_column":
            name, value = next(iter(named.items()))
            raise ValueError(
                f"{name}={value!r} asks for per-column models, but "
                f"likelihood={likelihood!r} models every column alike; use "
                "likelihood='auto' or 'per_column'."
            )
        return likelihood
    if explicit:
        return "per_column"
    if isinstance(X, pd.DataFrame) and not all(
        pd.api.types.is_float_dtype(dtype) for dtype in X.dtypes
    ):
        return "per_column"
    return "gaussian"


MAX_FULL_FEATURES = 256  # decoder_variance="full": d x d per incomplete row


@dataclass(frozen=True)
class Structure:
    """The resolved settings that shape the network."""

    hidden_layer_sizes: tuple
    decoder_variance: str
    autoregressive: bool


def resolve_structure(estimator, likelihood, shape=None):
    """The :class:`Structure` of ``estimator``'s parameters for ``likelihood``
    and training data of ``shape`` (None: the data the model was fitted to).

    ``"auto"`` means, per column model: ``(128,)`` hidden units for per-column
    models, whose autoregressive network brings a hidden layer of its own, and
    ``(256, 128)`` otherwise; heteroscedastic decoder variance and the
    autoregressive network for per-column models, no autoregressive network
    and the estimator's choice of Gaussian variance otherwise
    (``_auto_gaussian_variance(shape)``).

    Raises
    ------
    ValueError
        If ``hidden_layer_sizes`` holds anything but positive integers.
    """
    per_column = likelihood == "per_column"
    sizes = estimator.hidden_layer_sizes
    if isinstance(sizes, str):  # "auto"
        sizes = (128,) if per_column else (256, 128)
    sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
    if not all(
        isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must hold positive integers, got "
            f"{estimator.hidden_layer_sizes!r}."
        )
    variance = estimator.decoder_variance
    if variance == "auto":
        if per_column:
            variance = "heteroscedastic"
        elif likelihood == "gaussian":
            variance = estimator._auto_gaussian_variance(shape)
        else:
            variance = "per_feature"
    if variance == "full" and likelihood != "gaussian":
        raise ValueError(
            "decoder_variance='full' is the covariance of the Gaussian model "
            "(float arrays and all-float DataFrames), but this model is "
            f"likelihood={likelihood!r}; use decoder_variance='auto'."
        )
    d = None if shape is None else shape[1]
    if variance == "full" and d is not None and d > MAX_FULL_FEATURES:
        raise ValueError(
            f"decoder_variance='full' learns a covariance of X's {d} features, "
            f"and works on at most {MAX_FULL_FEATURES}; use "
            "decoder_variance='per_feature'."
        )
    autoregressive = estimator.autoregressive
    if autoregressive == "auto":
        autoregressive = per_column
    return Structure(tuple(int(s) for s in sizes), variance, bool(autoregressive))


def _comparable(value):
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, (list, tuple, np.ndarray, pd.Index)):
        return tuple(_comparable(v) for v in value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    return value


def structural_params(estimator):
    """The values of the :data:`STRUCTURAL` parameters, comparable with ``==``."""
    return {name: _comparable(getattr(estimator, name)) for name in STRUCTURAL}


def check_structure_unchanged(estimator, saved, method):
    """Raise if a structural parameter changed since the model was initialised.

    ``saved`` is :func:`structural_params` at initialisation; the parameters
    that "auto" resolves are compared by what they resolve to, against the
    fitted ``hidden_layer_sizes_``, ``decoder_variance_`` and
    ``autoregressive_``. ``method`` names the caller.

    Raises
    ------
    ValueError
        Naming the first parameter that changed.
    """
    now = structural_params(estimator)
    resolved = resolve_structure(estimator, estimator.likelihood_)
    for name in STRUCTURAL:
        if name in _RESOLVED:
            changed = getattr(resolved, name) != getattr(estimator, name + "_")
        else:
            changed = now[name] != saved[name]
        if changed:
            raise ValueError(
                f"{name} was {saved[name]!r} when the model was first fitted and is "
                f"{getattr(estimator, name)!r} now; {method} continues the fitted "
                f"model, and {name} sets its structure. Set {name} back, or fit a "
                "new model (warm_start=False, or a fresh estimator for partial_fit)."
            )


MAX_AUTO_BATCH = 1024  # rows per step of batch_size="auto"
MIN_AUTO_STEPS = 7500  # steps of "auto" in a budget: 300 epochs of 25 steps


def resolve_batch_size(batch_size, n_train, linear, budget=True):
    """Rows per step: ``"auto"`` aims at 25 steps per epoch (100 for a linear
    model) and, with ``budget`` and up to 10**5 training rows, at least
    :data:`MIN_AUTO_STEPS` steps in the epoch budget of ``max_iter="auto"``
    with early stopping (see :func:`resolve_max_iter`; ``budget=False`` for
    ``partial_fit``, one epoch a call), 64 to :data:`MAX_AUTO_BATCH` rows
    each; never more than ``n_train``. Beyond 10**5 rows the budget reads a
    fixed number of rows and a batch of 1024 rows gives the steps."""
    if batch_size == "auto":
        batch_size = n_train // (100 if linear else 25)
        if budget and n_train <= ROW_VISITS // AUTO_EPOCHS:
            epochs = resolve_max_iter("auto", n_train, True, hidden=not linear)
            batch_size = min(batch_size, n_train * epochs // MIN_AUTO_STEPS)
        batch_size = int(np.clip(batch_size, 64, MAX_AUTO_BATCH))
    return int(min(batch_size, n_train))


AUTO_EPOCHS = 80  # max_iter="auto" on up to ROW_VISITS / AUTO_EPOCHS rows
ROW_VISITS = 8 * 10**6  # rows read by the budget of a larger fit
MIN_AUTO_EPOCHS = 5


def auto_epochs(n_train):
    """The epoch budget of ``max_iter="auto"``: 80 epochs, or on more than
    10**5 training rows as many as read ``8 * 10**6`` rows (at least 5), so
    that the cost of a fit stops growing with the rows."""
    return int(np.clip(ROW_VISITS // max(n_train, 1), MIN_AUTO_EPOCHS, AUTO_EPOCHS))


MIN_ROW_VISITS = 16 * 10**5  # rows read at least by "auto" with early stopping
MAX_AUTO_EPOCHS = 300


def resolve_max_iter(max_iter, n_train, early_stopping=False, hidden=True):
    """``"auto"``: :func:`auto_epochs`, or for a model with hidden layers and
    early stopping, where more, as many epochs as read ``1.6 * 10**6`` rows,
    at most 300 (a table of fewer than 20,000 training rows gets more epochs,
    and the held-out ELBO decides when to stop; a linear model already takes
    100 steps an epoch); an int is kept."""
    if max_iter != "auto":
        return int(max_iter)
    epochs = auto_epochs(n_train)
    if early_stopping and hidden:
        longer = min(MAX_AUTO_EPOCHS, MIN_ROW_VISITS // max(n_train, 1))
        epochs = max(epochs, longer)
    return epochs


def resolve_kl_warmup_iter(kl_warmup_iter, hidden_layer_sizes, n_train):
    """``"auto"``: with hidden layers, the first 5/8 of :func:`auto_epochs`
    (50 of 80 epochs); none for a linear model."""
    if kl_warmup_iter == "auto":
        return round(auto_epochs(n_train) * 5 / 8) if hidden_layer_sizes else 0
    return int(kl_warmup_iter)


def resolve_mixed_precision(mixed_precision, dtype, device):
    """Whether the networks train in bfloat16: only float32 models; ``"auto"``
    where ``device`` multiplies bfloat16 natively."""
    if dtype != np.float32 or not mixed_precision:
        return False
    if mixed_precision == "auto":
        return native_bfloat16(device)
    return True

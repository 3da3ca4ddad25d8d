"""The shared skeleton of skvae's estimators: fit, score, sample, persistence.

``fit`` validates the data, resolves every "auto" setting once into fitted
attributes (:mod:`skvae._settings`), fits a codec (:mod:`skvae._codecs`), builds
the VAE (:mod:`skvae._model`), trains it (:mod:`skvae._training`) and fits the
latent sampler (:mod:`skvae._latent_mixture`). Subclasses add their public
face (``transform`` for :class:`~skvae.VAETransformer`).
"""

import datetime
import functools
import math
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._array_codec import ArrayCodec
from ._device import make_generator, on_device, optimizer_to, resolve_device
from ._latent_mixture import MAX_DRAWS, LatentMixture
from ._layers import ACTIVATIONS
from ._likelihoods import make_row_likelihood
from ._model import VAE
from ._noise import noise_table, pick_noise, row_keys
from ._settings import (
    check_structure_unchanged,
    resolve_batch_size,
    resolve_kl_warmup_iter,
    resolve_likelihood,
    resolve_max_iter,
    resolve_mixed_precision,
    resolve_structure,
    structural_params,
)
from ._table_codec import BatchedFrame, TableCodec
from ._training import (
    Rows,
    TrainState,
    Validation,
    inference_rows,
    make_optimizer,
    train,
    warn_not_converged,
)
from ._warnings import warn

_MAX_SEED = np.iinfo(np.int32).max
_MIN_DECODER_SCALE = 0.03  # ~ sqrt(1e-3): decoder variance >= 1e-3 x feature variance


def _skvae_version():
    from . import __version__

    return __version__


def _to_rows(encoded, device="cpu"):
    """:class:`Rows` on ``device`` from a codec's :class:`Encoded` rows."""
    values = encoded.values
    # torch shares only writeable arrays with positive strides
    if not values.flags.writeable or min(values.strides, default=0) < 0:
        values = values.copy()
    # as_tensor shares memory where it can; nothing writes to these tensors
    x = torch.as_tensor(values, device=device)
    log_jacobian = encoded.log_jacobian
    if np.ndim(log_jacobian) == 0:  # one value for every row: a broadcast view
        log_jacobian = torch.tensor(log_jacobian, dtype=x.dtype, device=device)
        log_jacobian = log_jacobian.expand(x.shape[0])
    else:
        log_jacobian = torch.as_tensor(log_jacobian, device=device)
    shift = scale = None
    if encoded.shift is not None:
        shift, scale = (
            torch.as_tensor(a, dtype=x.dtype, device=device)
            for a in (encoded.shift, encoded.scale)
        )
    return Rows(x, log_jacobian, shift, scale)


def _check_numeric_frame(X, likelihood):
    """A DataFrame under one likelihood family must hold numbers only."""
    for name, dtype in X.dtypes.items():
        if not (
            pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
        ) or pd.api.types.is_complex_dtype(dtype):
            raise ValueError(
                f"Column {name!r} has dtype {dtype}; likelihood={likelihood!r} "
                "models numeric columns only. Use likelihood='auto' or "
                "'per_column' for one model per column."
            )


def _check_some_observed(X):
    """Every column must have a value in some training row."""
    if isinstance(X, pd.DataFrame):
        empty = [name for name in X.columns if X[name].isna().all()]
    else:
        empty = [int(j) for j in np.nonzero(np.isnan(X).all(axis=0))[0]]
    if empty:
        raise ValueError(
            f"Column {empty[0]!r} is missing in every training row, so nothing can "
            "be learned about its values; drop it (or fill it) before fitting."
        )


def _column_name(names, j):
    """Column ``j`` by its name, or ``x{j}`` for an array."""
    return f"x{j}" if names is None else str(names[j])


def _warn_outside(outside):
    """Warn of given values outside their column's values in fit."""
    if not outside:
        return
    values = "; ".join(
        f"given[{name!r}] = {value!r} lies outside the values of column "
        f"{name!r} seen in fit ({_shown(first)} to {_shown(last)})"
        for name, value, first, last in outside
    )
    warn(
        f"{values}. The other columns are drawn from the model's extrapolation "
        "beyond its training data; check that the value is meant.",
        UserWarning,
    )


def _shown(value):
    """A value for a message: a timestamp at midnight as its date."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return str(value.date())
    return str(value)


def keep_equal(out, fixed, equal):
    """``out`` (an array, or a DataFrame of floats) with each pair ``(b, a)``
    of ``equal`` columns made equal where one was drawn: a drawn base takes
    a fixed partner's value, then a drawn ``b`` its base's, unless drawn
    missing (the decoded sum ``a + 0`` can be an ulp off a weighted mean).
    ``fixed`` is a boolean ``(n, d)`` mask of the cells given. Column dtypes
    are kept."""
    if not len(equal):
        return out
    frame = isinstance(out, pd.DataFrame)
    columns = {}

    def column(j):
        if j not in columns:  # an array's column is a view, written in place
            columns[j] = out.iloc[:, j].to_numpy(copy=True) if frame else out[:, j]
        return columns[j]

    for b, a in equal:
        take = ~fixed[:, a] & fixed[:, b]
        column(a)[take] = column(b)[take]
    for b, a in equal:
        take = ~fixed[:, b] & ~np.isnan(column(b))
        column(b)[take] = column(a)[take]
    if frame:
        for j, values in columns.items():
            out.isetitem(j, pd.Series(values, index=out.index))
    return out


def _as_date_text(value, text_format):
    """A date or datetime given for a column of date text, written as the
    column's text is; any other value as it is."""
    if isinstance(value, (datetime.date, np.datetime64)) and not pd.isna(value):
        return pd.Timestamp(value).strftime(text_format)
    return value


def _keep_given(out, given, fixed, text_formats=None):
    """``out`` with the given entries of ``given`` (a one-row table of fixed
    ``{position: value}`` or a table of partial rows) in the output dtypes;
    ``text_formats`` (``{position: strftime format}``) writes a date given for
    a column of date text as the column's text is."""
    text_formats = text_formats or {}
    if isinstance(out, np.ndarray):
        values = np.asarray(given, dtype=np.float64)
        if fixed is not None:
            values = np.broadcast_to(values, out.shape)
        keep = ~np.isnan(values)
        out[keep] = values[keep]
        return out
    if not isinstance(given, pd.DataFrame):  # an all-float frame read as an array
        given = pd.DataFrame(given, columns=out.columns)
    for j, name in enumerate(out.columns):
        if fixed is not None and j not in fixed:
            continue
        column = given.iloc[:, j] if fixed is None else None
        if j in text_formats:
            as_text = functools.partial(_as_date_text, text_format=text_formats[j])
            if fixed is not None:
                fixed = {**fixed, j: as_text(fixed[j])}
            else:
                column = column.astype(object).map(as_text)
        try:
            if fixed is not None:
                value = pd.Series([fixed[j]] * len(out), dtype=object)
                out[name] = value.astype(out[name].dtype)
            else:
                keep = column.notna().to_numpy()
                values = pd.Series(column.to_numpy(dtype=object), dtype=object)
                values = values.astype(out[name].dtype)
                out[name] = out[name].mask(keep, values)
        except (TypeError, ValueError):  # left as decoded from the encoding
            pass
    return out


def _has_near(codec):
    """Whether ``codec`` models a column through its near difference."""
    derived = getattr(codec, "derived", {})  # array codecs, older pickles: none
    return any(not relation.exact for relation in derived.values())


class _BaseVAE(BaseEstimator):
    """Fit, score and sample a VAE; subclasses give it a public face."""

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [
            StrOptions({"auto"}),
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "likelihood": [StrOptions({"auto", "gaussian", "bernoulli", "per_column"})],
        "decoder_variance": [
            StrOptions({"auto", "per_feature", "shared", "heteroscedastic", "full"})
        ],
        "kl_weight": [Interval(Real, 0, None, closed="left")],
        "kl_warmup_iter": [
            StrOptions({"auto"}),
            Interval(Integral, 0, None, closed="left"),
        ],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "ema_momentum": [Interval(Real, 0, 1, closed="left")],
        "max_iter": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "n_eval_samples": [Interval(Integral, 1, None, closed="left")],
        "categorical_features": [
            StrOptions({"from_dtype"}),
            "array-like",
            None,
        ],
        "handle_unknown": [StrOptions({"error", "ignore"})],
        "identifier_features": [StrOptions({"auto"}), "array-like", None],
        "sampler": [StrOptions({"aggregate_posterior", "prior"})],
        "autoregressive": ["boolean", StrOptions({"auto"})],
        "device": [str],
        "mixed_precision": ["boolean", StrOptions({"auto"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    # ------------------------------------------------------------------ fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the VAE to X.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted estimator.

        Raises
        ------
        ValueError
            If ``X`` cannot be modelled (naming the column or parameter), or,
            with ``warm_start=True``, if a parameter that sets the model's
            structure changed since the first fit.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAETransformer
        >>> X = np.random.default_rng(0).normal(size=(100, 4))
        >>> vae = VAETransformer(max_iter=3, random_state=0).fit(X)
        >>> vae.n_iter_, vae.device_, vae.hidden_layer_sizes_
        (3, 'cpu', (256, 128))
        """
        reuse = self.warm_start and hasattr(self, "module_")
        return self._fit(X, reuse=reuse, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Run one epoch over X, initialising the model on the first call.

        ``early_stopping`` does not apply: every row of ``X`` is used for
        training. The encoding (feature scaling, levels) is taken from the
        first call's data.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted estimator.

        Raises
        ------
        ValueError
            If a parameter that sets the model's structure changed since the
            first call.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAETransformer
        >>> X = np.random.default_rng(0).normal(size=(100, 4))
        >>> vae = VAETransformer(random_state=0)
        >>> for chunk in np.array_split(X, 4):
        ...     vae = vae.partial_fit(chunk)
        >>> vae.n_iter_, vae.t_
        (4, 100)
        """
        reuse = hasattr(self, "module_")
        return self._fit(X, reuse=reuse, incremental=True)

    def _fit(self, X, *, reuse, incremental):
        if reuse:
            method = "partial_fit" if incremental else "warm_start=True"
            check_structure_unchanged(self, self._structural_params, method)
            likelihood = self.likelihood_
        else:
            likelihood = resolve_likelihood(
                self.likelihood, self.categorical_features, X, self.identifier_features
            )
        X = self._validate(X, likelihood, reset=not reuse)
        n_samples = X.shape[0]
        if n_samples < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples, got "
                f"n_samples={n_samples}."
            )
        device = resolve_device(self.device)
        if not reuse:
            self._initialise(X, likelihood, device)
        self.device_ = device
        self.module_.to(device)
        optimizer_to(self._state.optimizer, device)

        early = self.early_stopping and not incremental
        validation = index = None
        if early:
            train_idx, val_idx = train_test_split(
                np.arange(n_samples),
                test_size=self.validation_fraction,
                random_state=self._split_seed,
            )
            index = torch.as_tensor(train_idx, dtype=torch.int32, device=device)
            held_out = X.iloc[val_idx] if isinstance(X, pd.DataFrame) else X[val_idx]
            validation = self._validation(held_out, device)
            self._state.best_validation_score = -np.inf
        n_train = n_samples if index is None else index.shape[0]
        self.max_iter_ = resolve_max_iter(
            self.max_iter, n_train, early, bool(self.hidden_layer_sizes_)
        )
        self.batch_size_ = resolve_batch_size(
            self.batch_size,
            n_train,
            linear=not self.hidden_layer_sizes_,
            budget=not incremental,
        )
        if not (incremental and reuse):  # partial_fit: set by the first call
            self.kl_warmup_iter_ = resolve_kl_warmup_iter(
                self.kl_warmup_iter, self.hidden_layer_sizes_, n_train
            )
        self.mixed_precision_ = resolve_mixed_precision(
            self.mixed_precision, self._np_dtype, device
        )
        if not incremental:
            self._state.lr_reductions = 0
            for group in self._state.optimizer.param_groups:
                group["lr"] = self.learning_rate_init
        rows = _to_rows(self._codec.encode(X, self._np_dtype), device)
        converged = train(
            self.module_,
            self._state,
            rows,
            index=index,
            validation=validation,
            max_iter=1 if incremental else self.max_iter_,
            batch_size=self.batch_size_,
            kl_weight=self.kl_weight,
            kl_warmup_iter=self.kl_warmup_iter_,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            generator=make_generator(self._fit_rng.randint(_MAX_SEED), device),
            adaptive=self.learning_rate == "adaptive",
            compute_dtype=torch.bfloat16 if self.mixed_precision_ else None,
            ema_momentum=self.ema_momentum,
            verbose=self.verbose,
        )
        self.module_.to("cpu")
        optimizer_to(self._state.optimizer, "cpu")
        self._latent_mixture = (
            self._fit_latent_mixture(rows)
            if self.sampler == "aggregate_posterior"
            else None
        )
        self._publish_history(early)
        self._n_features_out = self.n_components
        scores = self.validation_scores_
        first = max(0, self.kl_warmup_iter_ - 1)  # the first at the full KL weight
        if early and len(scores or ()) > first + 1 and np.argmax(scores[first:]) == 0:
            warn(
                "The held-out ELBO was best after the first epoch at the full KL "
                f"weight (epoch {first + 1}), so the model keeps those weights. "
                "Held-out rows may hold values the training rows never have (an "
                "identifier column: declare it in identifier_features), or the "
                "learning rate is too large.",
                UserWarning,
            )
        if not converged and not incremental and self.max_iter != "auto":
            warn_not_converged(self.max_iter)
        return self

    def _initialise(self, X, likelihood, device):
        rng = check_random_state(self.random_state)
        init_seed, split_seed, eval_seed, sample_seed, fit_seed = rng.randint(
            _MAX_SEED, size=5
        )
        self._split_seed = int(split_seed)
        self._eval_seed = int(eval_seed)
        self._sample_rng = np.random.RandomState(sample_seed)
        self._fit_rng = np.random.RandomState(fit_seed)
        structure = resolve_structure(self, likelihood, X.shape)
        self._init_shape = tuple(X.shape[:2])
        self.likelihood_ = likelihood
        self.hidden_layer_sizes_ = structure.hidden_layer_sizes
        self.decoder_variance_ = structure.decoder_variance
        self.autoregressive_ = structure.autoregressive
        self._structural_params = structural_params(self)
        if likelihood == "per_column":
            self._codec = TableCodec(
                self.categorical_features,
                self.handle_unknown,
                self.identifier_features,
                spikes=structure.autoregressive,
                orders=structure.autoregressive,
            ).fit(X)
            for name, note in self._codec.notes:
                warn(f"Column {name!r} {note}.", UserWarning)
            if not self._codec.heads():
                names = ", ".join(map(repr, X.columns))
                raise ValueError(
                    f"Every column is an identifier ({names}), left out of the "
                    "model, so there is nothing to model: fit on "
                    "a table with other columns too, or pass identifier_features"
                    "=None to model them as categories."
                )
            self._np_dtype = np.float32
        else:
            self._codec = ArrayCodec(likelihood).fit(X)
            float64 = X.dtype == np.float64 and device == "cpu"
            self._np_dtype = np.float64 if float64 else np.float32
            self._codec.float32_ = not float64  # the orders' rounding slack
        self.column_models_ = np.asarray(self._codec.column_models(), dtype=object)
        derived = getattr(self._codec, "derived", {})
        self.relations_ = {name: r.describe() for name, r in derived.items()}
        limits = [(o.column, o.describe()) for o in getattr(self._codec, "ordered", ())]
        limits += [
            (column, f"{column} kept apart by the levels of {base}")
            for column, base in getattr(self._codec, "ranges", ())
        ]
        limits += [
            (later, f"{later} among the levels seen with {earlier}'s level")
            for earlier, later, _, _ in getattr(self._codec, "nested", ())
        ]
        for column, text in limits:  # several joined by commas
            kept = self.relations_.get(column)
            self.relations_[column] = text if kept is None else f"{kept}, {text}"
        names = getattr(self, "feature_names_in_", None)
        for b, a in getattr(self._codec, "equal_", ()):
            b, a = (_column_name(names, j) for j in (b, a))
            self.relations_[b] = f"{b} - {a}"
        for b, a, sign in getattr(self._codec, "order_texts", list)():
            b, a = (_column_name(names, j) for j in (b, a))
            kept = self.relations_.get(b)
            text = f"{b} {sign} {a}"
            self.relations_[b] = text if kept is None else f"{kept}, {text}"
        row_likelihood = make_row_likelihood(
            self._codec.heads(), structure.decoder_variance, _MIN_DECODER_SCALE
        )
        module = VAE(
            n_inputs=row_likelihood.n_features,
            n_components=self.n_components,
            hidden_layer_sizes=structure.hidden_layer_sizes,
            activation=self.activation,
            likelihood=row_likelihood,
            dtype=self._torch_dtype(),
            autoregressive=structure.autoregressive,
            numeric_order=getattr(self._codec, "complete_numeric", lambda: None)(),
            calendars=getattr(self._codec, "calendars", dict)(),
            leading_discrete=getattr(self._codec, "leading_discrete", set)(),
            companions=getattr(self._codec, "bounded_companions", dict)(),
        )
        module.reset_parameters(make_generator(init_seed))
        self.module_ = module.to(device)
        self._state = TrainState(
            make_optimizer(
                self.module_, self.learning_rate_init, self.alpha / X.shape[0]
            )
        )

    def _validation(self, X, device):
        """Held-out rows ``X`` with one fixed draw of evaluation noise each."""
        rows, keys = self._rows(X, device)
        table = noise_table(1, self.n_components, self._eval_seed, self._torch_dtype())
        return Validation(rows, pick_noise(table, keys).to(device))

    def _fit_latent_mixture(self, rows):
        """The mixture over draws from q(z|x) of the training ``rows``.

        Only a random subset of at most ``MAX_DRAWS`` rows is encoded, so the
        memory this takes does not grow with the data.
        """
        rng = np.random.RandomState(self._fit_rng.randint(_MAX_SEED))
        total = len(rows)
        # Generator.choice draws without a permutation of all rows
        pick = np.random.default_rng(rng.randint(_MAX_SEED))
        chosen = np.sort(pick.choice(total, min(total, MAX_DRAWS), replace=False))
        x, _ = rows.take(torch.as_tensor(chosen, device=rows.values.device))
        codes = self._map(lambda module, s: torch.cat(module.encode(x[s]), 1), len(x))
        codes = codes.astype(np.float64)
        q = self.n_components
        seed = rng.randint(_MAX_SEED)
        return LatentMixture.fit(codes[:, :q], codes[:, q:], seed, n_samples=total)

    def _publish_history(self, early):
        state = self._state
        self.n_iter_ = state.n_iter
        self.t_ = state.t
        self.loss_curve_ = list(state.loss_curve)
        if early:
            self.validation_scores_ = list(state.validation_scores)
            self.best_validation_score_ = state.best_validation_score
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(state.loss_curve, default=None)

    # --------------------------------------------------------------- validation

    def _validate(self, X, likelihood, reset):
        """``X`` as the codec of ``likelihood`` reads it: a float array, or a
        DataFrame for per-column models."""
        frame = isinstance(X, pd.DataFrame)
        if frame and X.columns.duplicated().any():
            twice = list(dict.fromkeys(X.columns[X.columns.duplicated()]))
            raise ValueError(
                f"X has duplicate column names: {', '.join(map(repr, twice))}. "
                "Give every column its own name (or drop the copies)."
            )
        if frame and (X.shape[0] == 0 or X.shape[1] == 0):
            raise ValueError(
                f"Found array with {X.shape[0]} sample(s) and {X.shape[1]} "
                "feature(s) while a minimum of 1 is required."
            )
        if frame and likelihood != "per_column":
            _check_numeric_frame(X, likelihood)
        if frame and likelihood == "per_column":
            validate_data(self, X, skip_check_array=True, reset=reset)
            validated = X
        elif likelihood == "per_column" and not reset:
            array = check_array(X, dtype=None, ensure_all_finite=False)
            validate_data(self, array, skip_check_array=True, reset=False)
            return pd.DataFrame(array, columns=self._codec.columns)
        else:
            validated = self._validate_array(X, reset)
        if reset:  # what sample and inverse_transform return
            _check_some_observed(X if frame else validated)
            self._output_schema = X.dtypes if frame else validated.dtype
        if likelihood == "per_column" and not frame:
            names = [f"x{i}" for i in range(validated.shape[1])]
            return pd.DataFrame(validated, columns=names)
        return validated

    def _validate_array(self, X, reset):
        # the finiteness check sums X first; huge values overflow in that sum
        # and numpy warns before the check raises its clear error
        with np.errstate(over="ignore", invalid="ignore"):
            return validate_data(
                self,
                X,
                dtype=[np.float64, np.float32],
                ensure_all_finite="allow-nan",
                reset=reset,
            )

    def _validate_fitted(self, X):
        check_is_fitted(self)
        return self._validate(X, self.likelihood_, reset=False)

    # ---------------------------------------------------------------- inference

    def _rows(self, X, device="cpu", free=False):
        """Validated ``X`` as :class:`Rows` on ``device``, and its rows' noise keys
        (on the CPU); ``free`` encodes missing values as entries to draw."""
        encoded = self._codec.encode(X, self._np_dtype, free=free)
        return _to_rows(encoded, device), torch.as_tensor(row_keys(encoded.values))

    def _derivations(self, X):
        """:meth:`TableCodec.derivations` of ``X``, each checked to be drawn
        after its base in the autoregressive order, where the base's draw
        can fix it; an empty dict for other codecs.

        Raises
        ------
        ValueError
            If a column modelled through its near difference is observed
            where its base is missing and the model cannot draw the base
            first (naming both columns).
        """
        if not isinstance(self._codec, TableCodec):
            return {}
        out = self._codec.derivations(X)
        chained = self.module_.numeric_chained.cpu().numpy()
        for start, item in out.items():
            base = item.base_features.start
            if not (chained[start] and chained[base] and base < start):
                relation = item.relation
                b, a = relation.column, relation.base
                raise ValueError(
                    f"Column {b!r} is modelled through its difference from "
                    f"{a!r}, but this model cannot draw {a!r} before it "
                    f"(one of them had missing values in training, or the "
                    f"model has no autoregressive decoder), and rows hold "
                    f"{b!r} without {a!r}; give {a!r} too, or leave {b!r} "
                    "missing there."
                )
        return out

    @staticmethod
    def _bound_bases(rows, derivations):
        """Write into the encoded ``rows`` the intervals that each missing
        base of :meth:`_derivations` is drawn within (see
        :meth:`~skvae._table_codec._Derivation.base_intervals`)."""
        for item in derivations.values():
            intervals = item.base_intervals()
            held = np.flatnonzero(~np.isnan(intervals[:, 0]))
            ends = intervals[held]
            # a range given on the base: the two intervals' overlap (the
            # range alone where they do not overlap)
            given = rows.values[held, item.base_features].cpu().numpy()
            low = np.fmax(ends[:, 0], given[:, 0])
            high = np.fmin(ends[:, 1], given[:, 1])
            overlap = low <= high
            ends = np.where(overlap[:, None], np.column_stack([low, high]), given)
            ends = np.where(np.isnan(ends), intervals[held], ends)
            values = torch.as_tensor(ends, dtype=rows.values.dtype)
            rows.values[held, item.base_features] = values

    @staticmethod
    def _deriver(derivations, rows):
        """``derive(features, chain)`` for :meth:`VAE.complete`: the encoded
        residuals that the drawn bases of ``chain`` determine, for the rows
        at the positions ``rows`` (each repeated as many times as it has
        particles); None without derivations."""
        if not derivations:
            return None

        def derive(features, chain):
            item = derivations.get(features.start)
            if item is None:
                return None
            per_row = chain.shape[0] // len(rows)
            base = chain[:, item.base_features].cpu().numpy()
            values, log_jacobian = item.encode(base, np.repeat(rows, per_row))
            like = {"dtype": chain.dtype, "device": chain.device}
            values = torch.as_tensor(values, **like)
            return values, torch.as_tensor(log_jacobian, **like)

        return derive

    def _batches(self, fn, n, samples_per_row=1):
        """``fn(module, rows)`` over slices ``rows`` of ``range(n)``, as numpy arrays.

        Runs in eval and inference mode on ``device_``, in batches whose memory
        is bounded whatever ``n``.
        """
        cost = samples_per_row * self.module_.likelihood.row_cost
        step = max(1, inference_rows(self.device_) // cost)
        with on_device(self.module_, self.device_) as module, torch.inference_mode():
            module.eval()
            for start in range(0, n, step):
                out = fn(module, slice(start, start + step))
                if isinstance(out, tuple):
                    yield tuple(part.cpu().numpy() for part in out)
                else:
                    yield out.cpu().numpy()

    def _map(self, fn, n, samples_per_row=1):
        """:meth:`_batches` concatenated into one numpy array."""
        return np.concatenate(list(self._batches(fn, n, samples_per_row)))

    def _snapper(self):
        """For the model's autoregressive draws: ``snap(features, values, rows)``
        gives the encoding of the values drawn numeric entries decode to (see
        :meth:`TableCodec.snap`), and writes a datetime's calendar features
        into ``rows``; None for an array codec, whose numbers are read as
        drawn."""
        codec = self._codec
        if not isinstance(codec, TableCodec):
            return None
        companions = codec.spike_companions()
        indicators = codec.missing_indicators()
        calendars = getattr(self.module_, "calendars", {})

        def snap(features, values, rows):
            part = companions.get(features.start)
            companion = None if part is None else rows[:, part].cpu().numpy()
            indicator = indicators.get(features.start)
            missing = None
            if indicator is not None:
                missing = (rows[:, indicator] > 0.5).cpu().numpy()
            out, days, edges, t = codec.snap(
                features.start, values.cpu().numpy(), companion, missing
            )
            calendar = calendars.get(features.start)
            if calendar is not None:
                rows[:, calendar] = torch.as_tensor(days, dtype=rows.dtype).to(rows)
            for part, edge in edges:
                rows[:, part] = torch.as_tensor(edge, dtype=rows.dtype).to(rows)
            out = torch.as_tensor(out, dtype=values.dtype)
            if t is not None:
                snap.decoded[features.start] = (out.numpy(), t)
            return out.to(values.device)

        snap.decoded = {}  # the last draws' decodings, for TableCodec.decode
        return snap

    def _auto_gaussian_variance(self, shape):
        """``decoder_variance="auto"`` of the Gaussian model for training data
        of ``shape`` (None: the fitted model's)."""
        return "per_feature"

    def _torch_dtype(self):
        return torch.float64 if self._np_dtype == np.float64 else torch.float32

    def _complete(
        self,
        X,
        *,
        impute,
        n_importance,
        mean,
        random_state,
        repeat=None,
        patches=None,
        pattern=False,
    ):
        """Rows of ``X`` with their missing entries drawn from the model given
        the others (:meth:`VAE.complete`), decoded into the training container.

        A missing entry is free: it is drawn given the row's observed values
        (not given which entries are missing). Without ``impute`` it may come
        back missing (conditional sampling); with it, the draw is of a
        complete row, never missing (the model's distribution of complete rows
        given the observed values: imputation under missingness at random).
        ``pattern`` imputes given the pattern of missing values too: a missing
        entry keeps its indicator or missing level, and its value is drawn
        given them.
        ``mean`` gives the weighted mean (numbers) or mode (the rest) of the
        ``n_importance`` particles; otherwise one particle per row is drawn by
        its weight (sampling-importance-resampling). Batches of
        ``inference_rows(device) // n_importance`` rows bound the memory. ``repeat``
        completes the one row of ``X`` that many times. The particles' codes
        come from fixed draws chosen by each row's values when ``mean``, and
        from ``random_state`` otherwise; the particles' values of per-column
        models are drawn from ``random_state``, so the same ``X`` gives the
        same result, but a row's estimate varies by its Monte-Carlo error with
        the rows around it.
        """
        rows, keys = self._rows(X, free=not (impute and pattern))
        derivations = self._derivations(X)
        for feature, value in (patches or {}).items():  # ranges, in encoded units
            rows.values[:, feature] = value
        self._bound_bases(rows, derivations)
        n = len(rows) if repeat is None else repeat
        dtype, device = self._torch_dtype(), self.device_
        table = noise_table(n_importance, self.n_components, self._eval_seed, dtype)
        seed = check_random_state(random_state).randint(_MAX_SEED)
        generator = make_generator(seed, device)
        rng = np.random.default_rng(seed)
        blocked = None
        if impute:
            blocked = torch.as_tensor(self._codec.missing_features(), device=device)
        tabular = isinstance(self._codec, TableCodec)
        pick = "sample" if tabular or not mean else "mean"
        snap = self._snapper()

        def particles(module, s):
            if repeat is None:
                x, _ = rows.slice(s, device)
                positions = np.arange(n)[s]
            else:
                x, _ = rows.slice(slice(0, 1), device)
                x = x.expand(len(range(n)[s]), -1)
                positions = np.zeros(x.shape[0], dtype=np.intp)
            derive = self._deriver(derivations, positions)
            if mean:
                eps = pick_noise(table, keys[s]).to(device)
            else:
                shape = (x.shape[0], n_importance, self.n_components)
                eps = torch.randn(
                    shape, generator=generator, dtype=dtype, device=device
                )
            out, log_w, params = module.complete(
                x, eps, pick, generator, blocked, snap, derive=derive
            )
            if mean and tabular:  # numbers: the particles' conditional means
                loc, scale = module.interval_moments(params) or (out[..., :0],) * 2
                return out, torch.softmax(log_w, 1), loc, scale
            return out, torch.softmax(log_w, 1)

        def resample(module, s):
            out, weights = particles(module, s)[:2]
            u = torch.rand(
                weights.shape, generator=generator, dtype=dtype, device=device
            )
            tiny = torch.finfo(dtype).tiny
            gumbel = -torch.log(-torch.log(u.clamp_min(tiny)))
            chosen = (torch.log(weights) + gumbel).argmax(1)
            return out[torch.arange(out.shape[0], device=device), chosen]

        def average(module, s):
            out, weights = particles(module, s)[:2]
            return torch.einsum("nk,nkd->nd", weights, out)

        # identifiers are outside the model: kept where given, new elsewhere
        ids = self._codec.fill_identifiers(X, n, rng, impute) if tabular else None
        if not mean:
            return self._decode(resample, n, rng, n_importance, ids)
        if not tabular:
            return self._decode(average, n, rng, n_importance)
        batched = BatchedFrame(n)
        needed = X.columns[X.isna().any().to_numpy()]
        for out, weights, loc, scale in self._batches(particles, n, n_importance):
            weights = weights.astype(np.float64)
            batched.add(self._codec.decode_mean(out, weights, loc, scale, needed))
        frame = batched.frame(self._codec.columns, ids)
        if isinstance(self._output_schema, pd.Series):
            return frame
        return frame.to_numpy(dtype=self._output_schema)

    def _decode(
        self, fn, n, rng=None, samples_per_row=1, identifiers=None, decoded=None
    ):
        """Decoder outputs ``fn(module, rows)`` decoded batch by batch into the
        container ``fit`` saw: a DataFrame with the training columns and dtypes,
        or an array in the training dtype. Memory: the result plus a batch.
        Identifier columns come from ``identifiers``, or are drawn new;
        ``decoded`` holds, for each batch, the decodings of the numbers that
        ``fn`` snapped (see :meth:`_snapper`), emptied after each."""
        schema = self._output_schema
        if isinstance(self._codec, TableCodec):
            batched = BatchedFrame(n)
            for part in self._batches(fn, n, samples_per_row):
                batched.add(
                    self._codec.decode(part, rng, identifiers=False, decoded=decoded)
                )
                if decoded is not None:
                    decoded.clear()
            if identifiers is None:
                identifiers = self._codec.sample_identifiers(n, rng)
            frame = batched.frame(self._codec.columns, identifiers)
            if isinstance(schema, pd.Series):
                return frame
            return frame.to_numpy(dtype=schema)
        dtype = schema if not isinstance(schema, pd.Series) else self._np_dtype
        out, start = np.empty((n, self.n_features_in_), dtype=dtype), 0
        for part in self._batches(fn, n, samples_per_row):
            out[start : start + len(part)] = self._codec.decode(part)
            start += len(part)
        if not isinstance(schema, pd.Series):
            return out
        frame = pd.DataFrame(out, columns=schema.index)
        for name, dtype in schema.items():
            column = frame[name]
            if pd.api.types.is_bool_dtype(dtype):
                column = column > 0.5
            elif pd.api.types.is_integer_dtype(dtype):
                column = np.rint(column)
            frame[name] = column.astype(dtype)
        return frame

    def sample(self, n_samples=1, random_state=None, *, given=None, n_importance=100):
        """Draw rows from the model: ``z`` as set by ``sampler``, then ``x ~ p(x | z)``.

        With ``given``, rows are drawn from the model's conditional
        distribution of the other columns given the fixed values, never by
        rejection: each row gets ``n_importance`` particles, codes
        ``z_k ~ r(z | fixed values)`` that complete the row column by column
        (the fixed values kept), and one particle is picked by its importance
        weight ``p(z_k) p(fixed values | z_k, ...) / r(z_k | fixed values)``
        (sampling-importance-resampling). The proposal ``r`` is the encoder's,
        widened and mixed with the prior; from 32 particles on it draws half
        of them, and a Gaussian matched to their weighted codes the others
        (see the User Guide). The draws are exact as
        ``n_importance`` grows; with few particles they lean towards the
        encoder's guess. A free column that had missing values in training
        may come back missing.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.
        random_state : int, RandomState instance or None, default=None
            Seed for these draws. None continues a stream seeded at ``fit``, so
            successive calls differ but the sequence is reproducible.
        given : dict, array-like or DataFrame, default=None
            Fixed values. A dict maps column names (or, after a fit on an
            array, indices) to one value each, fixed in every row, e.g.
            ``{"sex": "Female", "income": ">50K"}``; on a per-column model a
            numeric, datetime or timedelta column can take a range instead,
            ``(low, high)`` with both ends included and None (or an infinity)
            for an open end, e.g. ``{"age": (30, 40), "hours": (50, None)}``:
            its values are drawn from the model given the range. A table of
            ``n_samples`` partial rows, with the training columns, completes
            each row once: its missing entries (NaN, None, ``pd.NA``, NaT) are
            drawn, the others kept.
        n_importance : int, default=100
            Particles per row with ``given``.

        Returns
        -------
        X : ndarray or DataFrame of shape (n_samples, `n_features_in_`)
            Rows in the units of the training data: an array in its float
            dtype, or, after a fit on a DataFrame, a DataFrame with its
            columns and dtypes. Given values are returned as given.

        Raises
        ------
        TypeError
            If ``n_samples`` is not an integer.
        ValueError
            If ``n_samples`` is less than 1; if ``given`` is empty, names a
            column that is not in the training data, holds a value the column
            cannot take (a category not seen in ``fit``, text in a numeric
            column), a list of values, a range with no bound or without a
            value seen in fit inside it (samples keep to those values), is
            a table whose length is not ``n_samples``, or, after a fit on a
            DataFrame, is neither a dict nor a DataFrame.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAETransformer
        >>> X = np.random.default_rng(0).normal(size=(100, 4))
        >>> vae = VAETransformer(max_iter=3, random_state=0).fit(X)
        >>> vae.sample(3, random_state=0).shape
        (3, 4)
        """
        check_is_fitted(self)
        if isinstance(n_samples, bool) or not isinstance(n_samples, Integral):
            raise TypeError(f"n_samples must be an integer, got {n_samples!r}.")
        if n_samples < 1:
            raise ValueError(f"n_samples must be at least 1, got {n_samples}.")
        rng = self._sample_rng if random_state is None else random_state
        seed = check_random_state(rng).randint(_MAX_SEED)
        if given is not None:
            return self._sample_given(given, n_samples, seed, n_importance)
        generator = make_generator(seed, self.device_)
        rng = np.random.default_rng(seed)
        dtype, device = self._torch_dtype(), self.device_
        snap = self._snapper()

        def draw(module, rows):
            n = len(range(n_samples)[rows])
            if self._latent_mixture is None:
                z = torch.randn(
                    (n, self.n_components),
                    generator=generator,
                    dtype=dtype,
                    device=device,
                )
            else:
                z = self._latent_mixture.sample(n, generator, dtype, device)
            return module.generate(z, "sample", generator, snap)

        decoded = None if snap is None else snap.decoded
        return self._decode(draw, n_samples, rng, decoded=decoded)

    def _sample_given(self, given, n_samples, seed, n_importance):
        if (
            isinstance(n_importance, bool)
            or not isinstance(n_importance, Integral)
            or n_importance < 1
        ):
            raise ValueError(
                f"n_importance must be a positive integer, got {n_importance!r}."
            )
        patches = None
        if isinstance(given, dict):
            if not given:
                raise ValueError(
                    "given is empty: name at least one column to fix, or call "
                    "sample without given for unconditional rows."
                )
            ranges = {k: v for k, v in given.items() if isinstance(v, tuple)}
            fixed_values = {k: v for k, v in given.items() if k not in ranges}
            row, fixed = self._given_row(fixed_values)
            ranges = self._named_ranges(ranges)
            if isinstance(self._codec, TableCodec):
                self._codec.check_given(row, ranges)
            patches = self._codec.encode_ranges(ranges) if ranges else None
            repeat = n_samples
        else:
            if hasattr(self, "feature_names_in_") and not isinstance(
                given, pd.DataFrame
            ):
                raise ValueError(
                    "given must be a dict of fixed values, e.g. {'column': "
                    "value}, or a DataFrame of partial rows with the training "
                    f"columns; got {type(given).__name__}."
                )
            row = self._validate_fitted(given)
            if len(row) != n_samples:
                raise ValueError(
                    f"given is a table of {len(row)} partial rows, but n_samples="
                    f"{n_samples}; pass n_samples=len(given)."
                )
            fixed, repeat = None, None
        try:
            out = self._complete(
                row,
                impute=False,
                n_importance=int(n_importance),
                mean=False,
                random_state=seed,
                repeat=repeat,
                patches=patches,
            )
        except ValueError as error:
            raise ValueError(f"given cannot be used: {error}") from None
        if fixed is not None and isinstance(self._codec, TableCodec):
            _warn_outside(self._codec.outside_training(row))
            if off := self._codec.off_relations(row):
                warn("; ".join(off) + ". Check that the value is meant.", UserWarning)
        if isinstance(self._codec, TableCodec) and (
            self._codec.derived or getattr(self._codec, "nested", [])
        ):
            # a given derived column fixes its base too, and a nesting's later
            # level its earlier one: return them exactly
            row = self._codec.implied(row)
            if fixed is not None:
                fixed = {
                    j: row.iloc[0, j]
                    for j in range(row.shape[1])
                    if pd.notna(row.iloc[0, j])
                }
        formats = None
        if isinstance(self._codec, TableCodec):
            formats = self._codec.date_text_formats()
        related = isinstance(out, pd.DataFrame) and bool(
            getattr(self._codec, "derived", {})
        )
        drawn = out.copy() if related else None  # _keep_given writes into out
        out = _keep_given(out, row, fixed, formats)
        if related:
            out = self._codec.follow_bases(out, drawn)
        equal = getattr(self._codec, "equal_", ())
        if len(equal):
            cells = np.asarray(row, dtype=np.float64)
            out = keep_equal(out, np.broadcast_to(~np.isnan(cells), out.shape), equal)
        if patches is not None:
            if isinstance(out, pd.DataFrame):
                out = self._codec.clip_to_ranges(out, ranges)
            else:  # an array read by per-column models
                frame = pd.DataFrame(out, columns=self._codec.columns)
                out = self._codec.clip_to_ranges(frame, ranges).to_numpy(out.dtype)
        self._warn_broken(out, row, fixed is not None, ranges if patches else {})
        return out

    def _warn_broken(self, out, row, one_row, ranges):
        """Warn where the given cells of ``row`` (one row for every row of
        ``out``, or a row each) and the columns of ``ranges`` break a
        relation that holds in every training row; the sampled rows ``out``
        keep them."""
        given = np.asarray(pd.DataFrame(row).notna(), dtype=bool)
        given = np.broadcast_to(given, out.shape)
        if ranges:
            given = given.copy()
            for name in ranges:
                given[:, self._codec.columns.index(name)] = True
        if isinstance(self._codec, TableCodec):
            frame = out
            if not isinstance(out, pd.DataFrame):
                frame = pd.DataFrame(out, columns=self._codec.columns)
            broken = self._codec.broken_relations(frame, given)
        else:
            names = getattr(self, "feature_names_in_", None)
            names = [_column_name(names, j) for j in range(out.shape[1])]
            values = np.asarray(out, dtype=np.float64)
            broken = self._codec.broken_relations(values, given, names)
        if not broken:
            return
        if one_row:
            words = "; ".join(
                f"{example} break {words}" for words, _, example in broken
            )
            if ranges:
                count = max(n for _, n, _ in broken)
                words += f" (in {count} of {len(out)} rows, within the given ranges)"
            warn(
                f"The given values {words}, which holds in every training row; "
                "the rows keep the given values. Check that they are meant.",
                UserWarning,
            )
            return
        words = "; ".join(
            f"{words} ({count} rows; first {example})"
            for words, count, example in broken
        )
        warn(
            f"Given rows break relations that hold in every training row: "
            f"{words}; the rows keep the given values. Check that they are meant.",
            UserWarning,
        )

    def _named_ranges(self, ranges):
        """``{column name: (low, high)}`` of the ranges of a ``given`` dict
        (keyed by names or, after a fit on an array, positions)."""
        if not ranges:
            return {}
        for key, value in ranges.items():
            if len(value) != 2:
                raise ValueError(
                    f"given[{key!r}] = {value!r}: a range is a pair (low, high)."
                )
        if not isinstance(self._codec, TableCodec):
            raise ValueError(
                f"given[{next(iter(ranges))!r}] is a range; ranges apply to "
                "per-column models (likelihood='per_column'), whose numbers are "
                "modelled through intervals. Give one value per column."
            )
        columns = self._codec.columns
        positions = self._given_positions(ranges)
        return {columns[j]: value for j, (_, value) in positions.items()}

    def _given_positions(self, given):
        """``{column position: (key, value)}`` of a ``given`` dict."""
        names = list(getattr(self, "feature_names_in_", []))
        d = self.n_features_in_
        positions = {}
        for key, value in given.items():
            if pd.api.types.is_list_like(value) and not isinstance(value, tuple):
                raise ValueError(
                    f"given[{key!r}] = {value!r} is a {type(value).__name__}; give "
                    "one value, or a (low, high) tuple for a range of numbers. For "
                    "rows with any of several values, sample once per value, or "
                    "pass a table of partial rows as given."
                )
            if not isinstance(value, tuple) and pd.isna(value) is True:
                raise ValueError(
                    f"given[{key!r}] is a missing value ({value!r}); give a "
                    "value, or leave the column out of given to draw it."
                )
            if isinstance(key, str) and key in names:
                positions[names.index(key)] = key, value
            elif (
                isinstance(key, Integral)
                and not isinstance(key, bool)
                and not names
                and -d <= key < d
            ):
                positions[int(key) % d] = key, value
            else:
                known = f"the columns are {names[:10]}" if names else f"{d} columns"
                raise ValueError(
                    f"given names {key!r}, which is not a column of the training "
                    f"data ({known}{', ...' if len(names) > 10 else ''})."
                )
        return positions

    def _given_row(self, given):
        """A one-row table of the fixed values (the rest missing), and
        ``{column position: value}`` of them."""
        resolved = self._given_positions(given)
        positions = {j: value for j, (_, value) in resolved.items()}
        d = self.n_features_in_
        if isinstance(self._codec, TableCodec):
            columns = self._codec.columns
            row = pd.DataFrame(
                {
                    c: pd.Series([positions.get(j)], dtype=object)
                    for j, c in enumerate(columns)
                }
            )
        else:
            row = np.full((1, d), np.nan, dtype=self._np_dtype)
            for j, (key, value) in resolved.items():
                try:
                    row[0, j] = float(value)
                except (TypeError, ValueError):
                    row[0, j] = np.inf
                if not np.isfinite(row[0, j]):
                    raise ValueError(
                        f"given[{key!r}] = {value!r} is not a finite number; the "
                        "columns are numeric."
                    )
        return row, positions

    def score_samples(self, X, n_importance=None):
        """Per-row estimate of a lower bound on the log-likelihood, in nats.

        Each score is a Monte-Carlo estimate, unbiased for the row's ELBO (or
        IWAE bound), with ``n_eval_samples`` (or ``n_importance``) latent draws
        in antithetic pairs chosen by the row's values. It is not a bound on
        every row: the estimate of one row can exceed ``log p(x)`` by its
        Monte-Carlo error (on a small discrete model, up to 0.07 nats with 16
        draws), while the mean over many rows is a bound up to that error.
        More draws (``n_importance``) shrink the error and the gap.

        A row with a missing value in a numeric column that had none in
        training (a column that the columns after it in the autoregressive
        order read) is scored by importance sampling instead: the log of the
        mean weight of as many particles as draws, each completing the row
        as :meth:`sample` does with ``given`` (``log p`` of the observed
        values, a lower bound in expectation by Jensen's inequality).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data to score.
        n_importance : int, default=None
            None gives the ELBO with ``n_eval_samples`` latent draws per row. An
            int ``K`` gives the importance-weighted bound (IWAE) with ``K``
            draws, which is tighter (it rises with ``K`` towards log p(x)) and
            costs ``K`` decoder passes per row.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Estimates of lower bounds on ``log p(x)`` in the units of ``X``,
            including the log-Jacobian of the internal encoding, so they
            compare directly with ``PCA.score_samples``. For per-column models
            ``p`` is a density for continuous columns, a probability for
            discrete ones; identifier columns add nothing.

        Raises
        ------
        ValueError
            If ``n_importance`` is not None or a positive integer, or ``X``
            does not match the training data.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAETransformer
        >>> X = np.random.default_rng(0).normal(size=(100, 4))
        >>> vae = VAETransformer(max_iter=3, random_state=0).fit(X)
        >>> elbo = vae.score_samples(X)
        >>> iwae = vae.score_samples(X, n_importance=50)
        >>> elbo.shape, bool(iwae.mean() > elbo.mean())
        ((100,), True)
        """
        X = self._validate_fitted(X)
        if n_importance is None:
            n_draws, bound = self.n_eval_samples, VAE.elbo
        elif (
            isinstance(n_importance, Integral)
            and not isinstance(n_importance, bool)
            and n_importance >= 1
        ):
            n_draws, bound = int(n_importance), VAE.iwae
        else:
            raise ValueError(
                "n_importance must be None or a positive integer, got "
                f"{n_importance!r}."
            )
        rows, keys = self._rows(X)
        derivations = self._derivations(X)
        self._bound_bases(rows, derivations)
        table = noise_table(
            n_draws, self.n_components, self._eval_seed, self._torch_dtype()
        )
        device = self.device_
        generator = make_generator(self._eval_seed, device)
        snap = self._snapper()

        def score(module, s):
            x, log_jacobian = rows.slice(s, device)
            eps = pick_noise(table, keys[s]).to(device)
            out = bound(module, x, eps)
            # a value missing where the autoregressive order reads it: the
            # columns after it are integrated over it by importance sampling
            gap = torch.isnan(x[:, module.numeric_chained]).any(1)
            if bool(gap.any()):
                positions = np.arange(len(rows))[s][gap.cpu().numpy()]
                _, log_w, _ = module.complete(
                    x[gap],
                    eps[gap],
                    "sample",
                    generator,
                    None,
                    snap,
                    adaptive=False,
                    derive=self._deriver(derivations, positions),
                )
                out[gap] = torch.logsumexp(log_w, 1) - math.log(n_draws)
            return out + log_jacobian

        return self._map(score, len(rows), samples_per_row=n_draws).astype(np.float64)

    def score(self, X, y=None):
        """Mean ELBO per sample (higher is better).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data to score.
        y : None
            Ignored.

        Returns
        -------
        score : float
            ``mean(score_samples(X))``, in nats per row in the units of ``X``.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAETransformer
        >>> X = np.random.default_rng(0).normal(size=(100, 4))
        >>> vae = VAETransformer(max_iter=3, random_state=0).fit(X)
        >>> isinstance(vae.score(X), float)
        True
        """
        return float(np.mean(self.score_samples(X)))

    # ------------------------------------------------------------ sklearn glue

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def __getstate__(self):
        state = super().__getstate__()
        state["_skvae_version"] = _skvae_version()
        return state

    def __setstate__(self, state):
        name = type(self).__name__
        saved = state.pop("_skvae_version", None)
        if saved is not None and saved != _skvae_version():
            warn(
                f"This {name} was pickled with skvae {saved} and is loaded "
                f"with skvae {_skvae_version()}; results may differ.",
                UserWarning,
            )
        device = state.get("device_", "cpu")
        if device.startswith("cuda") and not torch.cuda.is_available():
            warn(
                f"This model was trained on {device!r}, which is not available; "
                "it will run on the CPU.",
                UserWarning,
            )
            state["device_"] = "cpu"
        super().__setstate__(state)

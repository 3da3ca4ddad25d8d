"""VAEImputer: missing values filled from a variational autoencoder."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._base import _MAX_SEED, _BaseVAE, _has_near, keep_equal
from ._settings import MAX_FULL_FEATURES

_CHECK_ROWS = 2**16  # rows encoded at a time to check rows without a missing value


class VAEImputer(TransformerMixin, _BaseVAE):
    """Fill missing values with draws or means from a variational autoencoder.

    The model is :class:`VAETransformer`'s, fitted to the incomplete rows: its
    likelihood counts the observed entries only, the encoder reads which
    entries are missing, and whether a value is missing is modelled with the
    values (so it may depend on them). ``transform`` fills each missing entry
    of a row from the model's distribution of complete rows given the row's
    observed entries (imputation under missingness at random: which entries
    are missing is not itself taken as evidence about their values),
    estimated by self-normalised importance sampling (Mattei & Frellsen
    2019): each row gets ``n_importance`` particles, codes ``z_k`` that
    complete the row column by column, weighted by ``p(z_k) p(x_obs, nothing
    missing | z_k, ...) / r(z_k)``. The codes come from the encoder, widened
    and mixed with the prior; from 32 particles on, half of them, and the
    others from a Gaussian matched to their weighted codes (two stages of
    adaptive importance sampling; see the User Guide). The estimate is exact
    as ``n_importance`` grows.

    * ``sample_posterior=False``: a number is filled with the weighted mean of
      the particles' values (the conditional mean, which minimises the squared
      error; integer, datetime and timedelta columns are rounded to their
      grid), any other column with its level of largest weight (the
      conditional mode);
    * ``sample_posterior=True``: each entry is one draw from ``p(x_mis |
      x_obs)`` (a particle picked by its weight: sampling-importance-
      resampling), for multiple imputation: call ``transform`` again, or refit
      with other ``random_state`` values, for more draws.

    A missing value in a column that had none in training is filled the same
    way (the entry is marginalised, its value drawn given the others).
    Observed entries are returned as given. Identifier columns get new values.

    Read more in the :ref:`User Guide <imputation>`.

    Parameters
    ----------
    n_components : int, default=8
        Number of latent dimensions, as in :class:`VAETransformer`.
    n_importance : int, default=100
        Particles per row with a missing value. More give a closer estimate of
        the conditional mean or distribution, at proportional cost.
    sample_posterior : bool, default=False
        Fill with one draw from the conditional distribution instead of its
        mean or mode.
    add_indicator : bool, default=False
        Append one boolean column per feature with missing values in ``fit``,
        true where the value was missing (as :class:`~sklearn.impute.MissingIndicator`
        with ``features="missing-only"``), named ``missingindicator_<name>``.
    condition_on_pattern : bool, default=False
        Fill given which entries are missing too, as evidence about their
        values (the model learns how missingness goes with the values).
        False imputes under missingness at random, given the observed values
        only. True helps where values go missing because of what they are
        (on diabetes with larger values missing more often, the bias of the
        imputed mean was -0.69 sd with it and -0.94 without, measured under
        the per-feature variance; -0.78 without it under the full covariance
        that ``"auto"`` now picks there) and hurts
        where they do not (on adult with 10 % missing completely at random,
        categorical accuracy 0.69 with it and 0.76 without): the pattern
        moves the latent code to where the model saw few observed values.
    hidden_layer_sizes : array-like of int or "auto", default="auto"
        As in :class:`VAETransformer`.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        As in :class:`VAETransformer`.
    likelihood : {"auto", "gaussian", "bernoulli", "per_column"}, default="auto"
        As in :class:`VAETransformer`: a float array (or an all-float
        DataFrame) gets a Gaussian model, a DataFrame with other column types
        one model per column.
    decoder_variance : {"auto", "per_feature", "shared", "heteroscedastic", \
            "full"}, default="auto"
        As in :class:`VAETransformer`, but ``"auto"`` gives the Gaussian model
        a full covariance (``"full"``) where the training rows outnumber its
        ``d (d + 1) / 2`` entries (``d`` features, at most 256), and
        ``"per_feature"`` otherwise. A full covariance lets each missing
        entry be imputed by its regression on the row's observed entries as
        well as through the latent code; on scikit-learn's breast_cancer,
        wine and diabetes at 20 % missing completely at random it lowered the
        imputation RMSE (standardised units, 3 seeds) from 0.480 / 0.778 /
        0.752 to 0.383 / 0.755 / 0.682. On digits (1797 rows, 61 varying
        columns) ``"auto"`` keeps ``"per_feature"``: forcing ``"full"``
        there raised the RMSE from 0.666 to 0.697 (one seed).
    kl_weight : float, default=1.0
        As in :class:`VAETransformer`.
    kl_warmup_iter : int or "auto", default="auto"
        As in :class:`VAETransformer`.
    alpha : float, default=1e-4
        As in :class:`VAETransformer`.
    batch_size : int or "auto", default="auto"
        As in :class:`VAETransformer`.
    learning_rate : {"adaptive", "constant"}, default="adaptive"
        As in :class:`VAETransformer`.
    learning_rate_init : float, default=3e-3
        As in :class:`VAETransformer`.
    ema_momentum : float, default=0.99
        As in :class:`VAETransformer`.
    max_iter : int or "auto", default="auto"
        As in :class:`VAETransformer`.
    tol : float, default=1e-4
        As in :class:`VAETransformer`.
    early_stopping : bool, default=True
        As in :class:`VAETransformer`.
    validation_fraction : float, default=0.1
        As in :class:`VAETransformer`.
    n_iter_no_change : int, default=10
        As in :class:`VAETransformer`.
    n_eval_samples : int, default=16
        As in :class:`VAETransformer` (for ``score_samples``).
    categorical_features : "from_dtype", None or array-like, default="from_dtype"
        As in :class:`VAETransformer`.
    handle_unknown : {"error", "ignore"}, default="error"
        As in :class:`VAETransformer`.
    identifier_features : "auto", None or array-like, default="auto"
        As in :class:`VAETransformer`.
    sampler : {"aggregate_posterior", "prior"}, default="aggregate_posterior"
        As in :class:`VAETransformer` (for :meth:`sample`).
    autoregressive : bool or "auto", default="auto"
        As in :class:`VAETransformer`.
    device : str, default="auto"
        As in :class:`VAETransformer`.
    mixed_precision : bool or "auto", default="auto"
        As in :class:`VAETransformer`.
    random_state : int, RandomState instance or None, default=None
        Seeds the fit, the particles and, with ``sample_posterior``, the draws.
        An int gives identical results on the CPU.
    verbose : int, default=0
        As in :class:`VAETransformer`.
    warm_start : bool, default=False
        As in :class:`VAETransformer`.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network, kept on the CPU.
    likelihood_ : {"gaussian", "bernoulli", "per_column"}
        The model the training data got.
    column_models_ : ndarray of str of shape (`n_features_in_`,)
        The model of each input column.
    relations_ : dict
        As in :class:`VAETransformer`.
    indicator_features_ : ndarray of int
        Indices of the features with missing values in ``fit`` (the columns
        ``add_indicator`` appends).
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    VAETransformer : The same model as a transformer, with ``sample(given=...)``.
    sklearn.impute.IterativeImputer : Imputation by chained regressions.
    sklearn.impute.KNNImputer : Imputation from the nearest rows.

    References
    ----------
    Mattei, P.-A. and Frellsen, J. (2019). MIWAE: Deep Generative Modelling and
    Imputation of Incomplete Data Sets. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> from skvae import VAEImputer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)) @ [[1, 1, 0], [0, 1, 1], [0, 0, 1]]
    >>> X[rng.random(X.shape) < 0.2] = np.nan
    >>> filled = VAEImputer(max_iter=5, random_state=0).fit_transform(X)
    >>> bool(np.isnan(filled).any())
    False
    """

    _parameter_constraints = {
        **_BaseVAE._parameter_constraints,
        "n_importance": [Interval(Integral, 1, None, closed="left")],
        "sample_posterior": ["boolean"],
        "add_indicator": ["boolean"],
        "condition_on_pattern": ["boolean"],
    }

    def __init__(
        self,
        n_components=8,
        *,
        n_importance=100,
        sample_posterior=False,
        add_indicator=False,
        condition_on_pattern=False,
        hidden_layer_sizes="auto",
        activation="relu",
        likelihood="auto",
        decoder_variance="auto",
        kl_weight=1.0,
        kl_warmup_iter="auto",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="adaptive",
        learning_rate_init=3e-3,
        ema_momentum=0.99,
        max_iter="auto",
        tol=1e-4,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        n_eval_samples=16,
        categorical_features="from_dtype",
        handle_unknown="error",
        identifier_features="auto",
        sampler="aggregate_posterior",
        autoregressive="auto",
        device="auto",
        mixed_precision="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.n_components = n_components
        self.n_importance = n_importance
        self.sample_posterior = sample_posterior
        self.add_indicator = add_indicator
        self.condition_on_pattern = condition_on_pattern
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.decoder_variance = decoder_variance
        self.kl_weight = kl_weight
        self.kl_warmup_iter = kl_warmup_iter
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.ema_momentum = ema_momentum
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.n_eval_samples = n_eval_samples
        self.categorical_features = categorical_features
        self.handle_unknown = handle_unknown
        self.identifier_features = identifier_features
        self.sampler = sampler
        self.autoregressive = autoregressive
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def _auto_gaussian_variance(self, shape):
        """``"full"`` where the rows outnumber the covariance's entries
        ``d (d + 1) / 2`` (and ``d <= 256``), ``"per_feature"`` otherwise;
        ``shape`` None stands for the data of the first fit."""
        n, d = self._init_shape if shape is None else shape[:2]
        enough = d <= MAX_FULL_FEATURES and n >= d * (d + 1) // 2
        return "full" if enough else "per_feature"

    def _fit(self, X, *, reuse, incremental):
        super()._fit(X, reuse=reuse, incremental=incremental)
        self.indicator_features_ = np.nonzero(self._codec.missing_columns())[0]
        return self

    def transform(self, X):
        """Fill the missing values of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows with missing values: NaN in arrays; NaN, None, ``pd.NA`` or
            NaT in DataFrames.

        Returns
        -------
        X_imputed : ndarray or DataFrame of shape (n_samples, n_features_out)
            ``X`` with every missing value filled: after a fit on a DataFrame
            with string column names, a DataFrame ``X`` comes back as a
            DataFrame with its columns, index and dtypes (a category column
            filled with its categories); anything else as an array in the
            float dtype of the model (``set_output`` can name it). With
            ``add_indicator``, the indicator columns follow.

        Raises
        ------
        ValueError
            If ``X`` does not match the training data (naming the column).

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAEImputer
        >>> X = np.random.default_rng(0).normal(size=(100, 3))
        >>> X[0, 1] = np.nan
        >>> imputer = VAEImputer(max_iter=3, random_state=0).fit(X)
        >>> imputer.transform(X[:2]).shape
        (2, 3)
        """
        check_is_fitted(self)
        # a DataFrame comes back as one after a fit on a DataFrame (an array
        # otherwise, named by set_output as get_feature_names_out says)
        frame = isinstance(X, pd.DataFrame) and hasattr(self, "feature_names_in_")
        validated = self._validate_fitted(X)
        if isinstance(validated, pd.DataFrame):
            missing = validated.isna().to_numpy()
        else:
            missing = np.isnan(validated)
        rows = np.nonzero(missing.any(axis=1))[0]
        if isinstance(validated, pd.DataFrame):  # per-column models
            self._check_complete_rows(validated, missing)
        if self.sample_posterior:
            seed = self._sample_rng.randint(_MAX_SEED)
        else:
            seed = self._eval_seed
        filled = None
        if rows.size:
            part = (
                validated.iloc[rows]
                if isinstance(validated, pd.DataFrame)
                else validated[rows]
            )
            filled = self._complete(
                part,
                impute=True,
                pattern=self.condition_on_pattern,
                n_importance=self.n_importance,
                mean=not self.sample_posterior,
                random_state=seed,
            )
            codec = self._codec
            # a nesting's earlier level is implied where the draws were
            # conditioned on it: not with the missingness pattern as an event
            levels = not self.condition_on_pattern and isinstance(filled, pd.DataFrame)
            if isinstance(part, pd.DataFrame) and (
                getattr(codec, "derived", {})
                or (levels and getattr(codec, "nested", []))
            ):
                # a base that a given derived value determines comes back exact
                if isinstance(filled, pd.DataFrame):
                    filled = codec.implied(part, into=filled, levels=levels)
                else:  # an array read by per-column models
                    into = pd.DataFrame(filled, columns=part.columns)
                    into = codec.implied(part, into=into, levels=False)
                    filled = into.to_numpy(filled.dtype)
        if frame:
            out = _fill_frame(X, missing, rows, filled)
            if getattr(self._codec, "derived", {}):
                out = self._codec.keep_relations(out, missing)
                if filled is not None and _has_near(self._codec):
                    out = self._codec.follow_bases(
                        out, _fill_frame(X, _all_rows(missing, rows), rows, filled)
                    )
        else:
            out = _fill_array(validated, missing, rows, filled, self._np_dtype)
        out = keep_equal(out, ~missing, getattr(self._codec, "equal_", ()))
        if not self.add_indicator:
            return out
        indicators = missing[:, self.indicator_features_]
        if frame:
            names = self.get_feature_names_out()[self.n_features_in_ :]
            flags = pd.DataFrame(indicators, columns=names, index=X.index)
            return pd.concat([out, flags], axis=1)
        return np.hstack([out, indicators.astype(out.dtype)])

    def _check_complete_rows(self, frame, missing):
        """Encode the rows of ``frame`` without a missing value, a chunk at a
        time, only for the errors the encoding raises (an unknown category,
        text in a numeric column): they come
        back as given, but must be what ``fit`` saw, as the others are."""
        complete = np.nonzero(~missing.any(axis=1))[0]
        for start in range(0, complete.size, _CHECK_ROWS):
            chunk = complete[start : start + _CHECK_ROWS]
            self._codec.encode(frame.iloc[chunk], self._np_dtype)

    def get_feature_names_out(self, input_features=None):
        """Output feature names: the input names, then the indicators' names.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; None takes ``feature_names_in_``, or
            ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The input names and, with ``add_indicator``,
            ``missingindicator_<name>`` for each feature in
            ``indicator_features_``.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        if not self.add_indicator:
            return names
        extra = [f"missingindicator_{names[i]}" for i in self.indicator_features_]
        return np.concatenate([names, np.asarray(extra, dtype=object)])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _fill_array(X, missing, rows, filled, dtype):
    if isinstance(X, pd.DataFrame):  # an array read by per-column models
        X = X.to_numpy(dtype=np.float64)
    out = np.array(X, dtype=X.dtype if X.dtype.kind == "f" else dtype)
    if filled is not None:
        part = out[rows]
        mask = missing[rows]
        part[mask] = np.asarray(filled, dtype=out.dtype)[mask]
        out[rows] = part
    return out


def _all_rows(missing, rows):
    """A mask of every cell of the rows ``rows`` (``missing``'s shape)."""
    mask = np.zeros_like(missing)
    mask[rows] = True
    return mask


def _fill_frame(X, missing, rows, filled):
    out = X.copy()
    if filled is None:
        return out
    if not isinstance(filled, pd.DataFrame):  # an all-float frame's Gaussian model
        filled = pd.DataFrame(filled, columns=X.columns)
    # by position: an index may repeat labels
    filled.index = rows
    for j, name in enumerate(X.columns):
        mask = missing[:, j]
        if not mask.any():
            continue
        values = filled[name].reindex(range(len(X)))
        column = out[name].reset_index(drop=True)
        if isinstance(values.dtype, pd.CategoricalDtype) and isinstance(
            column.dtype, pd.CategoricalDtype
        ):  # new identifiers are new categories; X's order and flag are kept
            old, drawn = column.cat.categories, values.cat.categories
            column = column.cat.set_categories(old.append(drawn[~drawn.isin(old)]))
            values = values.astype(column.dtype)
        # a Series on the same index is set as it is, without alignment
        out[name] = column.mask(pd.Series(mask), values).set_axis(out.index)
    return out

"""VAETransformer: a variational autoencoder as a scikit-learn transformer."""

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from ._base import _BaseVAE


class VAETransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _BaseVAE):
    """Variational autoencoder with the scikit-learn transformer API.

    The encoder maps a row ``x`` to a diagonal Gaussian posterior
    ``q(z|x) = N(loc(x), diag scale(x)^2)`` over ``n_components`` latent
    variables with prior ``N(0, I)``; the decoder maps ``z`` to the parameters of
    ``p(x|z)``. Training maximises the evidence lower bound (ELBO) with Adam on
    reparameterised samples ``z = loc + scale * eps``.

    ``transform`` returns posterior means, so the estimator is used like
    :class:`~sklearn.decomposition.PCA`; ``score`` is the mean ELBO per sample in
    nats, a lower bound on the mean log-likelihood, comparable with
    ``PCA.score``, ``FactorAnalysis.score`` and ``GaussianMixture.score``.

    Which model an input gets depends on its columns' dtypes and on explicit
    parameters, never on its container. An array, and a DataFrame whose
    columns are all float, get one likelihood over every column (Gaussian by
    default): the same numbers give the same model, so a pipeline with
    ``set_output(transform="pandas")`` fits exactly what it fits on arrays. A
    DataFrame with any other column type (int, bool, category, object, string)
    gets one column model per column (``likelihood="per_column"``): a
    quantile-normal map for numbers, Bernoulli for booleans, softmax for
    categories, and it is modelled, sampled and decoded with its schema.
    ``likelihood`` chooses either explicitly; the fitted ``likelihood_`` and
    ``column_models_`` say what was chosen.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    n_components : int, default=8
        Number of latent dimensions. More than the data need costs little: the
        KL term switches unused dimensions off (their posterior stays at the
        prior).

    hidden_layer_sizes : array-like of int or "auto", default="auto"
        Widths of the encoder's hidden layers; the decoder mirrors them. ``()``
        gives an affine encoder and decoder: with ``"per_feature"`` variance the
        model is factor analysis, with ``"shared"`` probabilistic PCA of the
        internally standardised data. ``"auto"`` is ``(128,)`` for per-column
        models, whose autoregressive network brings a hidden layer of its own,
        and ``(256, 128)`` otherwise; the fitted ``hidden_layer_sizes_`` holds
        the sizes used.

    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation between hidden layers.

    likelihood : {"auto", "gaussian", "bernoulli", "per_column"}, \
            default="auto"
        Decoder distribution. ``"gaussian"`` and ``"bernoulli"`` (0/1 data)
        model every column alike, after converting the input to a float array
        (a DataFrame must then hold numeric or boolean columns only).
        ``"per_column"`` gives each column a model of its own kind (see
        ``categorical_features``), for any input. ``"auto"`` is
        ``"per_column"`` for a DataFrame with a column that is not float, or
        when ``categorical_features`` or ``identifier_features`` names
        columns, and ``"gaussian"`` otherwise. Resolved in ``fit`` into
        ``likelihood_``.

    decoder_variance : {"auto", "per_feature", "shared", "heteroscedastic", \
            "full"}, default="auto"
        Gaussian decoder variance: one learned value per feature (the factor
        analysis noise model), one shared value (probabilistic PCA, sigma-VAE),
        a function of ``z`` (and, with ``autoregressive``, of the discrete
        columns) output by the decoder, or a full covariance matrix shared by
        all rows (``"full"``, Gaussian model only, at most 256 features: a row
        with missing entries costs a Cholesky factorisation of the
        precision's block of its missing entries, and the covariance explains
        the linear structure that the latent code would otherwise carry).
        ``"auto"`` is ``"heteroscedastic"`` for per-column models, whose
        numbers spread differently from row to row, and ``"per_feature"``
        otherwise. Every
        choice is floored at 1e-3 times the feature's variance (for
        ``"full"``, each feature's variance given the ones before it).

    kl_weight : float, default=1.0
        Weight of the KL term in the training loss (``beta``). Scores always use
        the ELBO proper (weight 1).

    kl_warmup_iter : int or "auto", default="auto"
        Epochs over which the KL weight rises linearly from 0 to ``kl_weight``
        (KL annealing, Bowman et al. 2016); training does not stop early before
        it ends. The warm-up keeps latent units of a nonlinear model from
        collapsing to the prior early in training. ``"auto"`` is, with
        hidden layers, the first 5/8 of the epochs of ``max_iter="auto"``
        (50 of 80, whatever ``max_iter`` is) and 0 without: a linear VAE has
        no such spurious optima
        (Lucas et al. 2019), and there the warm-up only delays convergence.
        Resolved in ``fit`` into ``kl_warmup_iter_``.

    alpha : float, default=1e-4
        L2 penalty on the network weights, divided by the number of samples as
        in :class:`~sklearn.neural_network.MLPRegressor`.

    batch_size : int or "auto", default="auto"
        Rows per optimisation step; ``"auto"`` aims at 25 steps per epoch,
        ``n_samples // 25``, and, up to 10**5 training rows, at least 7,500
        steps in the epochs that ``max_iter="auto"`` gives with early
        stopping (``n_samples * epochs // 7500``, whichever is smaller),
        clipped to [64, 1024] (and to ``n_samples``, the training rows): from
        about 5,300 training rows to 10**5, a fit takes more steps per epoch
        than 25. A
        linear model (``hidden_layer_sizes=()``) gets ``n_samples // 100``: it
        needs the extra, smaller steps to reach its exact optimum. Resolved in
        every ``fit`` into ``batch_size_``.

    learning_rate : {"adaptive", "constant"}, default="adaptive"
        Step-size schedule. ``"adaptive"`` divides the step size by 10 when
        ``n_iter_no_change`` epochs pass without improvement, twice, before
        stopping; the smaller steps average out the Monte-Carlo gradient noise
        and tighten the bound. ``"constant"`` stops at the first plateau.

    learning_rate_init : float, default=3e-3
        Initial Adam step size.

    ema_momentum : float, default=0.99
        The fitted weights are the exponential moving average of the weights
        over the optimisation steps, with this momentum per step (Polyak
        averaging; Keras calls it ``ema_momentum``): Adam at a constant step
        size leaves the weights jittering around an optimum, and their
        average over the last ``1 / (1 - ema_momentum)`` steps is nearer to
        it. The held-out rows of ``early_stopping`` score the average; Adam
        keeps training the weights themselves, and ``warm_start`` and
        ``partial_fit`` continue them. 0 keeps the last weights.

    max_iter : int or "auto", default="auto"
        Maximum number of epochs. ``"auto"`` is a budget of 80 epochs, or,
        on more than 10**5 training rows, of as many epochs as read
        ``8 * 10**6`` rows (at least 5: 8 epochs on 10**6 rows), so that the
        time of a fit stops growing with the rows. With ``early_stopping`` and
        hidden layers, a table of fewer than 20,000 training rows gets as many epochs as
        read ``1.6 * 10**6`` rows, at most 300 (222 on 7,200 rows), and the
        held-out ELBO decides when to stop. A fit that spends it ends
        without a warning (with ``early_stopping`` it keeps the weights of
        its best held-out epoch from the end of the KL warm-up on, or its last
        ones if it ends inside the warm-up; ``validation_scores_`` shows
        whether they were still rising). An int that is reached before the
        stopping rule fires raises a ConvergenceWarning, as in
        :class:`~sklearn.neural_network.MLPRegressor`. Resolved in ``fit`` into
        ``max_iter_``.

    tol : float, default=1e-4
        Improvement, in nats per sample, below which an epoch counts as no
        progress; see ``n_iter_no_change``.

    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows, stop when their ELBO stops
        improving, and keep the weights with the best held-out ELBO among the
        epochs from the end of the KL warm-up on (see ``kl_warmup_iter``:
        before it the model is trained for another objective, and one barely
        trained has a small KL term, which on a small table can win the held-out
        ELBO while its columns are still near their uniform start). Without it a
        nonlinear VAE overfits small data sets and its held-out score degrades.

    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.

    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` (in the validation ELBO
        with early stopping, else the training loss) before training stops.

    n_eval_samples : int, default=16
        Latent draws per row in the Monte-Carlo estimate of ``score_samples``.

    categorical_features : "from_dtype", None or array-like, default="from_dtype"
        Columns to model as categorical under per-column models: pandas
        ``category`` columns, and object and string columns that hold text;
        column names, integer indices or a boolean mask add other columns (and
        make ``likelihood="auto"`` choose per-column models, for arrays too).
        An object or string column whose values are all numbers, dates or
        booleans is modelled as what it holds, with a warning naming it. A
        categorical column models its 199 commonest levels one by one; rarer
        levels share one more level and, within it, their training shares.
        An integer column that numbers groups (it determines another numeric
        column in every row, as a state its benefit level) is named in a
        warning that suggests declaring it here (see the User Guide).

    identifier_features : "auto", None or array-like, default="auto"
        Identifier columns (order IDs, references): left out of the model
        (they add nothing to a row's score) and sampled as new unique values of
        the same form, never a training value. ``"auto"`` takes text columns
        with at least 20 values, 95 % of them distinct, and integer columns
        named like an ID (``"id"``, ``"*_id"``, ``"customerId"``) whose values
        are all distinct, and warns naming each; a list of names declares
        them; None declares none.

    handle_unknown : {"error", "ignore"}, default="error"
        A category not seen in ``fit``: raise, or encode it as all zeros so the
        column drops out of that row's likelihood.

    sampler : {"aggregate_posterior", "prior"}, default="aggregate_posterior"
        Where :meth:`sample` draws latent codes from. ``"prior"``: N(0, I).
        ``"aggregate_posterior"``: a Gaussian mixture fitted at the end of
        ``fit`` to draws from ``q(z|x)`` over the training rows (ex-post
        density estimation, Ghosh et al. 2020), with ``n_samples // 200``
        full-covariance components clipped to [1, 50]. It covers the region
        the decoder was trained on, where the prior leaves holes, and makes
        synthetic rows closer to the data. The mixture holds only its
        weights, means and covariances, no per-row codes.

    autoregressive : bool or "auto", default="auto"
        Model the columns one after another, each given ``z`` and the
        columns before it: the datetime columns with calendar features (see
        the User Guide), the discrete columns (booleans and categories of
        per-column models, or every column under ``likelihood="bernoulli"``)
        that the numbers read, that have fewer than 500 rows per level in
        the rows given to ``fit``, or that one of these is nested in, the
        numeric columns of per-column models that had no missing
        value in training, then the other discrete columns, through a
        masked network added to the decoder output (MADE: a linear map and
        one hidden layer as wide as the decoder's first, which also reads
        ``z``); the other columns come given all of them. The likelihood
        stays exact, so scores remain lower bounds, and :meth:`sample` draws
        the columns in order.
        Dependence between columns then no longer has to pass through ``z``.
        With it, a zero-inflated numeric column (one value in at least half of
        the rows) becomes a spike-and-slab whose atom is one of these discrete
        columns. ``"auto"`` turns it on for per-column models and off
        otherwise; resolved in ``fit`` into ``autoregressive_``.

    device : str, default="auto"
        ``"auto"`` trains on CUDA when available, else on the CPU; or a torch
        device string such as ``"cpu"`` or ``"cuda:0"``.

    mixed_precision : bool or "auto", default="auto"
        Run the encoder and decoder networks in bfloat16 during training
        (autocast), keeping float32 weights, optimizer state, likelihood and KL
        arithmetic. Scores, ``transform`` and ``sample`` always run in full
        precision. ``"auto"`` turns it on for float32 models on devices with
        native bfloat16 matrix products (recent CUDA GPUs, CPUs with AVX512-BF16
        or AMX). Models of float64 arrays on the CPU train in float64, and
        never in mixed precision; per-column models are float32. Resolved in
        every ``fit`` into ``mixed_precision_``.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, the reparameterisation noise, the
        validation split and the evaluation noise. An int gives bit-identical
        results on the CPU.

    verbose : int, default=0
        Show a progress bar over epochs when positive.

    warm_start : bool, default=False
        Continue from the previous solution when ``fit`` is called again. The
        parameters that set the model's structure (``n_components``,
        ``hidden_layer_sizes``, ``activation``, ``likelihood``,
        ``decoder_variance``, ``autoregressive``, ``categorical_features``,
        ``handle_unknown``) must then keep their values: a change raises a
        ValueError naming the parameter (the same holds for ``partial_fit``).

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network, kept on the CPU.

    device_ : str
        Device used for training and inference.

    likelihood_ : {"gaussian", "bernoulli", "per_column"}
        The model the training data got (see ``likelihood``).

    column_models_ : ndarray of str of shape (`n_features_in_`,)
        The model of each input column: ``"gaussian"`` or ``"bernoulli"``, or
        under per-column models ``"quantile_normal"``, ``"spike_and_slab"``,
        ``"bernoulli"`` or ``"categorical"``.

    relations_ : dict
        Columns that the training rows determine exactly from another column
        (equal to it in every row, a constant sum with it, or one value per
        level of a categorical column), mapped to the residual modelled in
        their place, e.g. ``{"education-num": "education-num -
        f(education)"}``. The residual is constant, so samples keep the
        relation; fixing such a column in :meth:`sample`'s ``given`` fixes the
        column it is determined by. Also numeric columns that stay close to
        an earlier one, modelled through their difference from it, which is
        not constant, e.g. ``{"y": "y - x (not constant)"}`` (see the User
        Guide). Under the autoregressive model, and the Gaussian model of
        data without missing values, also the
        orders: a numeric, datetime or timedelta column never below (or
        above) a complete column of the same kind before it, where their
        ranges overlap, e.g. ``{"temp_max":
        "temp_max >= temp_min"}`` (several joined by commas); the base's
        value limits the column's draws (in all but a share ``1 / (n +
        2)**2`` of rows, for ``n`` training rows; see the User Guide). And
        the level ranges: a numeric column whose smallest (or largest)
        values a level of a discrete column holds apart from the other
        levels, each level of at least 20 rows, e.g.
        ``{"petal length (cm)": "petal length (cm) kept apart by the levels
        of species"}``; a level's range then limits the column's draws (in
        all but a share ``2 / (n + 1)`` of rows, for ``n`` rows of the
        level). And nested categories: a categorical column that an earlier
        one determines, or that determines it, in every training row, e.g.
        ``{"manufacturer": "manufacturer among the levels seen with model's
        level"}``; it is drawn among those levels (in all but a share
        ``1 / (n + 2)**2`` of rows). For
        arrays and all-float frames (the Gaussian model): equal columns
        only, named ``x0, x1, ...`` for an array, e.g. ``{"x2": "x2 - x0"}``.

    hidden_layer_sizes_ : tuple of int
        Widths of the encoder's hidden layers (the decoder mirrors them).

    decoder_variance_ : str
        Variance model of the Gaussian decoder heads.

    autoregressive_ : bool
        Whether the decoder models the columns in order (see ``autoregressive``).

    batch_size_ : int
        Rows per optimisation step in the last ``fit``.

    kl_warmup_iter_ : int
        Epochs of KL warm-up.

    mixed_precision_ : bool
        Whether the networks trained in bfloat16 mixed precision in the last
        ``fit``.

    n_iter_ : int
        Epochs run.

    t_ : int
        Training rows seen by the optimiser.

    loss_curve_ : list of float
        Mean training loss per epoch: the negative ELBO per sample in the user's
        units, estimated with one latent draw per row (with the KL weight of
        that epoch, so it equals the negative ELBO once the warm-up is over and
        with ``kl_weight=1``).

    best_loss_ : float or None
        Lowest training loss, or None with early stopping.

    validation_scores_ : list of float or None
        Held-out ELBO per sample after each epoch, or None without early stopping.

    best_validation_score_ : float or None
        Best held-out ELBO from the end of the KL warm-up on (the weights kept;
        the last epoch's score for a fit that ends inside the warm-up), or
        None without early stopping.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.decomposition.PCA : Probabilistic PCA, the linear-Gaussian special case.
    sklearn.decomposition.FactorAnalysis : Linear-Gaussian model, per-feature noise.
    sklearn.neural_network.BernoulliRBM : Another generative neural transformer.

    Notes
    -----
    ``score_samples`` is a Monte-Carlo estimate with common random numbers: the
    latent draws for a row are fixed at ``fit`` and chosen by the row's values,
    so a fitted model scores the same row the same way every time, whatever
    else is in the batch.

    The same int ``random_state`` gives identical results on the CPU; CUDA uses a
    different random stream and float32, so GPU results differ within a
    tolerance.

    References
    ----------
    Kingma, D. P. and Welling, M. (2014). Auto-Encoding Variational Bayes. ICLR.

    Burda, Y., Grosse, R. and Salakhutdinov, R. (2016). Importance Weighted
    Autoencoders. ICLR.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skvae import VAETransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> vae = VAETransformer(n_components=2, max_iter=5, random_state=0)
    >>> vae.fit_transform(X).shape
    (1797, 2)
    >>> vae.sample(3, random_state=0).shape
    (3, 64)
    """

    def __init__(
        self,
        n_components=8,
        *,
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

    def transform(self, X):
        """Posterior means of the latent variables.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            ``E[z | x]`` for every row: in the float dtype of ``X`` for the
            Gaussian and Bernoulli models, float64 for per-column models.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAETransformer
        >>> X = np.random.default_rng(0).normal(size=(100, 4))
        >>> vae = VAETransformer(max_iter=3, random_state=0).fit(X)
        >>> vae.transform(X).shape
        (100, 8)
        """
        X = self._validate_fitted(X)
        rows, _ = self._rows(X)
        device = self.device_
        loc = self._map(
            lambda module, s: module.encode(rows.slice(s, device)[0])[0], len(rows)
        )
        dtype = np.float64 if self.likelihood_ == "per_column" else X.dtype
        return loc.astype(dtype, copy=False)

    def inverse_transform(self, X):
        """Decoder means (or modes) for latent codes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent codes, e.g. the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray or DataFrame of shape (n_samples, `n_features_in_`)
            ``E[x | z]`` in the units and container of the training data: the
            Gaussian means, or the probabilities of 1 for
            ``likelihood="bernoulli"``. Per-column models give each column its
            most likely value (the median of a number, the mode of a category).

        Raises
        ------
        ValueError
            If ``X`` does not have ``n_components`` columns.

        Examples
        --------
        >>> import numpy as np
        >>> from skvae import VAETransformer
        >>> X = np.random.default_rng(0).normal(size=(100, 4))
        >>> vae = VAETransformer(max_iter=3, random_state=0).fit(X)
        >>> vae.inverse_transform(vae.transform(X[:5])).shape
        (5, 4)
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} features, but inverse_transform expects "
                f"n_components={self.n_components} latent features."
            )
        z = torch.tensor(Z, dtype=self._torch_dtype())
        pick = "mode" if self.likelihood_ == "per_column" else "mean"
        device, snap = self.device_, self._snapper()
        return self._decode(
            lambda module, s: module.generate(z[s].to(device), pick, None, snap),
            len(z),
            decoded=None if snap is None else snap.decoded,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

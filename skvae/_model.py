"""The variational autoencoder: encoder q(z|x), decoder p(x|z), prior N(0, I).

All the maths of the objective lives here; :meth:`_VAE.elbo` is the single function
behind the training loss, the validation score and ``score_samples``. Randomness is
never drawn here: callers pass the standard-normal noise ``eps`` explicitly.

References: Kingma & Welling (2014), "Auto-Encoding Variational Bayes", eq. 10 and
appendix B (closed-form Gaussian KL); Burda, Grosse & Salakhutdinov (2016),
"Importance Weighted Autoencoders", eq. 8.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}

_MIN_LATENT_SCALE = 1e-5
_LOG_2PI = math.log(2.0 * math.pi)


def _mlp(sizes, activation, dtype):
    """Affine layers between consecutive ``sizes``, activation between them."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        if i:
            layers.append(ACTIVATIONS[activation]())
        layers.append(nn.utils.skip_init(nn.Linear, n_in, n_out, dtype=dtype))
    return nn.Sequential(*layers)


class _Autoregressive(nn.Module):
    """Masked network from encoded rows to decoder outputs (MADE).

    Every input and output carries an order (see
    :meth:`_RowLikelihood.autoregressive_degrees`); an output depends on an
    input only if the input's order is lower. The network is a masked linear
    map plus, when ``n_hidden > 0``, one masked hidden layer that also reads
    the latent code, so a column's parameters can depend on interactions of
    the columns before it and ``z`` (Germain et al. 2015, "MADE: Masked
    Autoencoder for Distribution Estimation", with direct connections). Both
    output maps start at zero: an untrained network adds nothing.

    Parameters
    ----------
    inputs, outputs : Tensor of int
        Orders of the encoded inputs and of the decoder outputs.
    n_columns : int
        Number of discrete columns, whose orders are 1 to ``n_columns``.
    n_components : int
        Latent dimension.
    n_hidden : int
        Width of the masked hidden layer; 0 leaves only the linear map.
    activation : str
        Key of :data:`ACTIVATIONS`.
    dtype : torch.dtype
        Parameter dtype.
    """

    def __init__(
        self, inputs, outputs, n_columns, n_components, n_hidden, activation, dtype
    ):
        super().__init__()
        self.register_buffer("mask", (inputs[None, :] < outputs[:, None]).to(dtype))
        self.weight = nn.Parameter(torch.zeros(self.mask.shape, dtype=dtype))
        # hidden orders worth having: a unit of order m feeds only outputs of a
        # higher order, and the top order K + 1 exists only with other heads
        n_orders = n_columns if int(outputs.max()) > n_columns else n_columns - 1
        self.n_hidden = n_hidden if n_orders > 0 else 0
        if self.n_hidden:
            units = torch.arange(self.n_hidden)
            if self.n_hidden >= n_orders:
                hidden = units % n_orders + 1
            else:  # fewer units than orders: spread them over the orders
                hidden = units * n_orders // self.n_hidden + 1
            self.register_buffer(
                "mask_in", (inputs[None, :] <= hidden[:, None]).to(dtype)
            )
            self.register_buffer(
                "mask_out", (hidden[None, :] < outputs[:, None]).to(dtype)
            )
            self.hidden = nn.Linear(len(inputs), self.n_hidden, dtype=dtype)
            self.latent = nn.Linear(
                n_components, self.n_hidden, bias=False, dtype=dtype
            )
            self.activation = ACTIVATIONS[activation]()
            self.out_weight = nn.Parameter(
                torch.zeros(self.mask_out.shape, dtype=dtype)
            )

    def zero_outputs(self):
        nn.init.zeros_(self.weight)
        if self.n_hidden:
            nn.init.zeros_(self.out_weight)

    def forward(self, x, z):
        """Output contributions for encoded rows ``x`` and codes ``z`` (broadcast)."""
        inner = None
        if self.n_hidden:  # start() then add_inputs() of every input, fused
            inner = F.linear(x, self.hidden.weight * self.mask_in, self.hidden.bias)
            inner = inner + self.latent(z)
        return self.outputs(x, inner, slice(None))

    def start(self, z):
        """The hidden layer's pre-activation before any input is read (or None)."""
        if not self.n_hidden:
            return None
        return self.hidden.bias + self.latent(z)

    def add_inputs(self, inner, x, columns):
        """``inner`` plus the contribution of the encoded inputs ``columns`` of ``x``.

        Sampling fills the discrete columns one at a time and adds each as it is
        drawn, instead of recomputing the hidden layer from all inputs.
        """
        if not self.n_hidden:
            return None
        weight = self.hidden.weight[:, columns] * self.mask_in[:, columns]
        return inner + x[..., columns] @ weight.T

    def outputs(self, x, inner, rows):
        """Contributions to the decoder outputs ``rows`` (a slice)."""
        out = x @ (self.weight[rows] * self.mask[rows]).T
        if self.n_hidden:
            weight = self.out_weight[rows] * self.mask_out[rows]
            out = out + self.activation(inner) @ weight.T
        return out


class _VAE(nn.Module):
    """Gaussian-encoder VAE with a row likelihood made of column heads.

    Parameters
    ----------
    n_inputs : int
        Width of the encoded data.
    n_components : int
        Latent dimension q.
    hidden_layer_sizes : tuple of int
        Encoder hidden widths; the decoder mirrors them. ``()`` gives an affine
        encoder and decoder (probabilistic PCA / factor analysis).
    activation : str
        Key of :data:`ACTIVATIONS`.
    likelihood : _RowLikelihood
        The decoder distribution.
    dtype : torch.dtype
        Parameter dtype.
    autoregressive : bool, default=False
        Add to the decoder output an :class:`_Autoregressive` network of the
        row's discrete (Bernoulli and categorical) columns and ``z``, with a
        hidden layer as wide as the decoder's first, so that each discrete
        column is modelled given ``z`` and the discrete columns before it, and
        every other column given ``z`` and all discrete columns (see
        :meth:`_RowLikelihood.autoregressive_degrees`). Without discrete columns
        it changes nothing.
    """

    def __init__(
        self,
        n_inputs,
        n_components,
        hidden_layer_sizes,
        activation,
        likelihood,
        dtype,
        autoregressive=False,
    ):
        super().__init__()
        hidden = tuple(hidden_layer_sizes)
        self.n_components = n_components
        self.encoder = _mlp((n_inputs, *hidden, 2 * n_components), activation, dtype)
        self.decoder = _mlp(
            (n_components, *hidden[::-1], likelihood.n_params), activation, dtype
        )
        self.likelihood = likelihood.to(dtype)
        columns = likelihood.discrete_columns() if autoregressive else []
        self.autoregressive = None
        if len(columns) > 0:
            self.autoregressive = _Autoregressive(
                *likelihood.autoregressive_degrees(columns),
                len(columns),
                n_components,
                hidden[-1] if hidden else 0,
                activation,
                dtype,
            )
        self.discrete_heads = nn.ModuleList([head for head, _, _ in columns])
        self.discrete_slices = [(ds, ps) for _, ds, ps in columns]
        self.register_buffer(
            "discrete", likelihood.discrete_features(columns), persistent=False
        )
        # set by the training loop: the networks' matmuls run in this dtype
        self.compute_dtype = None

    def reset_parameters(self, generator):
        """Initialise every weight from ``generator`` (PyTorch's default scheme)."""
        for layer in self.modules():
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_uniform_(
                    layer.weight, a=math.sqrt(5), generator=generator
                )
                if layer.bias is not None:
                    bound = 1.0 / math.sqrt(layer.in_features)
                    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
        if self.autoregressive is not None:
            self.autoregressive.zero_outputs()
        self.likelihood.reset_parameters(generator)

    def encode(self, x):
        """Posterior q(z|x) as ``(loc, scale)``, each of shape ``(n, n_components)``."""
        loc, raw = self._network(self.encoder, x).chunk(2, dim=-1)
        # softplus is ~9x slower on a strided view than on contiguous memory
        return loc, _MIN_LATENT_SCALE + F.softplus(raw.contiguous())

    def decode(self, z, x=None):
        """Likelihood parameters for latent codes ``z`` of shape ``(..., q)``.

        With an autoregressive decoder the parameters also depend on the
        discrete columns of the encoded rows ``x`` (broadcasting against ``z``);
        ``x=None`` leaves that part out, for :meth:`generate` to add.
        """
        params = self._network(self.decoder, z)
        if self.autoregressive is not None and x is not None:
            params = params + self._network(self.autoregressive, x, z)
        return params

    @torch.no_grad()
    def generate(self, z, pick, generator=None):
        """Encoded rows decoded from ``z`` of shape ``(n, q)``, column by column.

        ``pick`` is ``"sample"``, ``"mode"`` or ``"mean"``, the likelihood method
        applied to each column. With an autoregressive decoder the discrete
        columns are picked in order, each given the ones picked before it
        (``"mean"`` then picks their modes: the later columns are defined given
        actual values), and the other columns last, given all of them.
        """
        base = self.decode(z)

        def choose(head, params, how):
            method = getattr(head, how)
            return method(params, generator) if how == "sample" else method(params)

        if self.autoregressive is None:
            return choose(self.likelihood, base, pick)
        x = torch.zeros(
            (z.shape[0], self.likelihood.n_features), dtype=base.dtype, device=z.device
        )
        network = self.autoregressive
        inner = network.start(z)
        columns = zip(self.discrete_heads, self.discrete_slices, strict=True)
        for head, (ds, ps) in columns:
            params = base[:, ps] + network.outputs(x, inner, ps)
            x[:, ds] = choose(head, params, "mode" if pick == "mean" else pick)
            inner = network.add_inputs(inner, x, ds)
        rest = choose(self.likelihood, base + network(x, z), pick)
        return torch.where(self.discrete, x, rest)

    def _network(self, net, inputs, *more):
        """``net(inputs)``, under autocast to ``compute_dtype`` when one is set.

        The output comes back in the input dtype, so the likelihood and KL
        arithmetic never runs in reduced precision.
        """
        if self.compute_dtype is None:
            return net(inputs, *more)
        with torch.autocast(inputs.device.type, dtype=self.compute_dtype):
            out = net(inputs, *more)
        return out.to(inputs.dtype)

    def _reconstruction(self, x, loc, scale, eps):
        """log p(x | z) at ``z = loc + scale * eps``; ``eps`` is ``(n, S, q)``."""
        z = loc.unsqueeze(1) + scale.unsqueeze(1) * eps
        x = x.unsqueeze(1)
        return self.likelihood.log_prob(self.decode(z, x), x), z

    def elbo(self, x, eps, kl_weight=1.0):
        """Evidence lower bound per row.

        Parameters
        ----------
        x : Tensor of shape (n, n_inputs)
            Encoded rows.
        eps : Tensor of shape (n, S, n_components)
            Standard-normal draws; the reconstruction term averages over ``S``.
        kl_weight : float, default=1.0
            Weight of the KL term (1 gives the ELBO proper).

        Returns
        -------
        elbo : Tensor of shape (n,)
            ``E_q[log p(x|z)] - kl_weight * KL(q(z|x) || N(0, I))``.
        """
        loc, scale = self.encode(x)
        reconstruction, _ = self._reconstruction(x, loc, scale, eps)
        kl = 0.5 * (loc.square() + scale.square() - 1.0).sum(-1) - torch.log(scale).sum(
            -1
        )
        return reconstruction.mean(1) - kl_weight * kl

    def iwae(self, x, eps):
        """Importance-weighted bound with ``K = eps.shape[1]`` samples, shape ``(n,)``.

        ``log (1/K) sum_k p(x, z_k) / q(z_k | x)`` with ``z_k ~ q(z|x)``; it equals
        the single-sample ELBO at K=1 and rises towards log p(x) as K grows.
        """
        loc, scale = self.encode(x)
        reconstruction, z = self._reconstruction(x, loc, scale, eps)
        log_prior = -0.5 * (z.square() + _LOG_2PI).sum(-1)
        log_posterior = -(0.5 * eps.square() + 0.5 * _LOG_2PI).sum(-1) - torch.log(
            scale
        ).sum(-1, keepdim=True)
        log_w = reconstruction + log_prior - log_posterior
        return torch.logsumexp(log_w, dim=1) - math.log(eps.shape[1])

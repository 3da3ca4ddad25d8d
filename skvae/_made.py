"""The autoregressive network over a row's columns (MADE): orders, masks, net.

Germain, Gregor, Murray & Larochelle (2015), "MADE: Masked Autoencoder for
Distribution Estimation": each unit carries an order and may read only units
of a lower order, so the outputs of column ``j`` depend on columns ``< j`` only
and the likelihood factorises exactly as ``prod_j p(x_j | z, x_<j)``.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ._layers import ACTIVATIONS

_MAX_DIRECT = 2**20  # entries of the direct map (outputs x inputs) at most


def made_orders(likelihood, columns, covariates=None):
    """Orders of the encoded inputs and decoder outputs in the factorisation.

    The ``K`` columns of the order take orders 1 to ``K``, in the order given,
    for their inputs and their outputs alike; every other input and output
    takes ``K + 1``. An output may depend on an input only if the input's
    order is lower, so ``p(x | z)`` factorises exactly over the columns of
    the order, times the other heads given all of them.

    Parameters
    ----------
    likelihood : RowLikelihood
        The row's likelihood (its ``n_features`` and ``n_params``).
    columns : list of (head, slice, slice or list of int)
        The columns in their order, with their encoded features and decoder
        outputs, from ``likelihood.discrete_columns()`` and
        ``likelihood.numeric_columns()`` (see ``VAE._ordered_columns``).
    covariates : dict, optional
        ``{first input of a column: slice of inputs}`` that are functions of
        that column (a datetime's calendar): they take its order.

    Returns
    -------
    inputs : Tensor of shape (n_features,)
    outputs : Tensor of shape (n_params,)
    """
    inputs = torch.full((likelihood.n_features,), len(columns) + 1)
    outputs = torch.full((likelihood.n_params,), len(columns) + 1)
    for order, (_, ds, ps) in enumerate(columns, start=1):
        inputs[ds] = order
        outputs[ps] = order
    for start, features in (covariates or {}).items():
        inputs[features] = inputs[start]
    return inputs, outputs


class MADE(nn.Module):
    """Masked network from encoded rows to decoder outputs (MADE).

    Every input and output carries an order (see :func:`made_orders`); an
    output depends on an input only if the input's order is lower. The network
    is a masked linear map (while it has at most 2**20 entries) plus, when
    ``n_hidden > 0``, one masked hidden
    layer that also reads the latent code, so a column's parameters can depend
    on interactions of the columns before it and ``z`` (Germain et al. 2015,
    with direct connections). Both output maps start at zero: an untrained
    network adds nothing.

    Parameters
    ----------
    inputs, outputs : Tensor of int
        Orders of the encoded inputs and of the decoder outputs.
    n_columns : int
        Number of columns in the order, whose orders are 1 to ``n_columns``.
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
        # the direct map is outputs x inputs: kept only while that is small, so
        # parameters stay linear in the number of category levels
        self.direct = len(inputs) * len(outputs) <= _MAX_DIRECT or n_hidden == 0
        if self.direct:
            mask = (inputs[None, :] < outputs[:, None]).to(dtype)
            self.register_buffer("mask", mask)
            self.weight = nn.Parameter(torch.zeros(mask.shape, dtype=dtype))
        # hidden orders worth having: a unit of order m feeds only outputs of a
        # higher order, and the top order K + 1 exists only with other heads
        n_orders = n_columns if int(outputs.max()) > n_columns else n_columns - 1
        self.n_hidden = n_hidden if n_orders > 0 else 0
        if self.n_hidden:
            units = torch.arange(self.n_hidden)
            if self.n_hidden >= n_orders:
                # sorted, so that the units a column reads or feeds are a slice
                hidden = torch.sort(units % n_orders + 1).values
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
        if self.direct:
            nn.init.zeros_(self.weight)
        if self.n_hidden:
            nn.init.zeros_(self.out_weight)

    def forward(self, x, z):
        """Output contributions for encoded rows ``x`` and codes ``z`` (broadcast)."""
        inner = None
        if self.n_hidden:
            inner = F.linear(x, self.hidden.weight * self.mask_in, self.hidden.bias)
            inner = inner + self.latent(z)
        return self.outputs(x, inner, slice(None))

    def start(self, z, outputs):
        """A :class:`Filling` for rows filled in column by column from codes
        ``z``: the network's contributions are added, in place, to
        ``outputs`` (the decoder's other outputs, shape ``(n, n_params)``)."""
        pre = None
        if self.n_hidden:
            pre = self.hidden.bias + self.latent(z)
        return Filling(self, pre, outputs)

    def outputs(self, x, inner, rows):
        """Contributions to the decoder outputs ``rows`` (a slice or indices),
        from the inputs ``x`` and the hidden layer's pre-activation ``inner``."""
        out = 0.0
        if self.direct:
            # only the inputs below these outputs' order can reach them
            mask = self.mask[rows]
            span = _span(mask.any(0))
            out = x[..., span] @ (self.weight[rows, span] * mask[:, span]).T
        if self.n_hidden:
            mask = self.mask_out[rows]
            units = _span(mask.any(0))
            weight = self.out_weight[rows, units] * mask[:, units]
            out = out + self.activation(inner[..., units]) @ weight.T
        return out


class Filling:
    """The network while rows are filled in column by column.

    Each input, as it is drawn (:meth:`add`), adds its part of the hidden
    pre-activation. The hidden units are sorted by order and a unit reads
    only inputs of its order or below, so once a column of a higher order
    asks for its outputs (:meth:`outputs`) the units below that order are
    final: they are activated, and their contribution and the direct one of
    the inputs added since are added, in one product, to every output
    above them. The outputs so accumulate, each input and unit entering
    once, in products as wide as the outputs that read them, instead of one
    narrow product per column over all the inputs before it.
    """

    def __init__(self, made, pre, out):
        self.made, self.pre, self.out = made, pre, out
        self.done = 0  # hidden units added to the outputs
        self.pending = []  # inputs not yet added to the outputs
        if made.direct:
            self.direct = made.weight * made.mask
        if made.n_hidden:
            self.weight_in = made.hidden.weight * made.mask_in
            self.weight_out = made.out_weight * made.mask_out

    def add(self, x, columns):
        """Add the encoded inputs ``columns`` (a slice) of rows ``x``."""
        made = self.made
        part = x[:, columns]
        if made.direct:
            self.pending.append((part, self.direct[:, columns]))
        if made.n_hidden:
            units = _span(made.mask_in[:, columns].any(1))
            if units.start < self.done and units.stop > units.start:
                raise RuntimeError("inputs added after the outputs above them")
            self.pre[:, units].addmm_(part, self.weight_in[units, columns].T)

    def outputs(self, rows):
        """The outputs ``rows`` (a slice or indices), complete given the
        inputs below their order (a copy)."""
        made, parts = self.made, self.pending
        if made.n_hidden:
            stop = _span(made.mask_out[rows].any(0)).stop
            if stop > self.done:
                units = slice(self.done, stop)
                hidden = made.activation(self.pre[:, units])
                parts.append((hidden, self.weight_out[:, units]))
                self.done = stop
        if parts:
            weight = torch.cat([w for _, w in parts], 1)
            reads = _span(weight.any(1))
            inputs = torch.cat([p for p, _ in parts], 1)
            self.out[:, reads].addmm_(inputs, weight[reads].T)
            self.pending = []
        return self.out[:, rows].clone()


def _span(flags):
    """The slice from the first to the last True of a 1-d boolean tensor
    (empty if none)."""
    found = torch.nonzero(flags)
    if not len(found):
        return slice(0, 0)
    return slice(int(found[0]), int(found[-1]) + 1)

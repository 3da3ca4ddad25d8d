"""The variational autoencoder: encoder q(z|x), decoder p(x|z), prior N(0, I).

All the maths of the objective lives here; :meth:`VAE.elbo` is the single function
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

from ._layers import mlp, reset_linear
from ._likelihoods import (
    _FullGaussian,
    _IntervalGaussian,
    filled,
    kl_normal_standard_normal,
    nested_choose,
    nested_log_factor,
    normal_log_prob,
    ordered_choose,
    truncation_log_prob,
)
from ._made import MADE, made_orders

_MIN_LATENT_SCALE = 1e-5
# the imputation proposals' standard deviations are this many times the
# variational posterior's (or the first stage's weighted spread)
PROPOSAL_WIDENING = 1.5
ADAPTIVE_MIN_PARTICLES = 32  # particles from which imputation adapts in 2 stages


def _standard_log_prob(z):
    """Log-density of codes ``z`` (..., q) under the prior N(0, I)."""
    return normal_log_prob(z, 0.0, torch.ones_like(z)).sum(-1)


def _prior_share(k):
    """Codes from the prior among ``k`` of an imputation proposal: a tenth,
    rounded up, none when there is one."""
    return -(-k // 10) if k > 1 else 0


def _defensive_draws(eps, loc, scale, n_prior):
    """Codes from ``N(loc, scale)``, the last ``n_prior`` of each row's from the
    prior instead, and the log importance ratio of the prior to that mixture
    at each.

    ``eps`` is ``(n, m, q)`` standard-normal noise; ``loc`` and ``scale``
    broadcast against it. Returns ``z`` of the shape of ``eps`` and ``log
    p(z) - log r(z)`` of shape ``(n, m)``, for the proposal ``r = (1 - s)
    N(loc, scale) + s N(0, I)`` with ``s = n_prior / m`` (a stratified sample
    of it).
    """
    m = eps.shape[1]
    from_prior = torch.arange(m, device=eps.device) >= m - n_prior
    z = torch.where(from_prior[:, None], eps, loc + scale * eps)
    log_prior = _standard_log_prob(z)
    log_r = normal_log_prob(z, loc, scale).sum(-1)
    if n_prior:
        share = n_prior / m
        log_r = torch.logaddexp(log_r + math.log1p(-share), log_prior + math.log(share))
    return z, log_prior - log_r


class VAE(nn.Module):
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
        Key of :data:`~skvae._layers.ACTIVATIONS`.
    likelihood : RowLikelihood
        The decoder distribution.
    dtype : torch.dtype
        Parameter dtype.
    autoregressive : bool, default=False
        Add to the decoder output a :class:`~skvae._made.MADE` network of the
        row's columns and ``z``, with a hidden layer as wide as the decoder's
        first, so that each column of an order is modelled given ``z`` and
        the columns before it: each datetime with a calendar, the discrete
        (Bernoulli and categorical) columns of ``leading_discrete``, the
        other numeric (interval-Gaussian) columns, the other discrete
        columns; the missingness indicators given all of them (see
        :func:`~skvae._made.made_orders`).
    numeric_order : sequence of bool, optional
        Which numeric columns take part in the order (default all). A column
        with missing values in training stays out: the columns after it
        would read a missing value as 0, not integrate over it; it is
        modelled, like the missingness indicators, given all the others.
    calendars : dict, optional
        ``{first encoded feature of a datetime column: slice of its calendar
        features}`` (covariates with no likelihood): the columns after the
        datetime in the order read them, and :meth:`generate` has ``snap``
        compute them once the datetime is drawn.
    leading_discrete : set of int, optional
        First encoded features of the discrete columns that come before the
        numeric columns in the order; None (the default) puts every discrete
        column there.
    companions : dict, optional
        ``{first encoded feature of a numeric column: its companion's
        slice}``: each such companion (a discrete column not in
        ``leading_discrete``) comes right before its column in the order.
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
        numeric_order=None,
        calendars=None,
        leading_discrete=None,
        companions=None,
    ):
        super().__init__()
        hidden = tuple(hidden_layer_sizes)
        self.n_components = n_components
        self.encoder = mlp((n_inputs, *hidden, 2 * n_components), activation, dtype)
        self.decoder = mlp(
            (n_components, *hidden[::-1], likelihood.n_params), activation, dtype
        )
        self.likelihood = likelihood.to(dtype)
        columns = likelihood.discrete_columns()
        numeric = likelihood.numeric_columns() if autoregressive else []
        if autoregressive and numeric_order is not None:
            order = zip(numeric, numeric_order, strict=True)
            numeric = [column for column, keep in order if keep]
        self.calendars = dict(calendars or {})
        # datetimes with a calendar lead the order: every other column reads it
        leading = [c for c in numeric if c[1].start in self.calendars]
        numeric = leading + [c for c in numeric if c[1].start not in self.calendars]
        # discrete columns that numbers read lead them; the others follow them
        first = list(range(len(columns)))
        if leading_discrete is not None and numeric:
            first = [i for i in first if columns[i][1].start in leading_discrete]
        # a companion that orders limit comes right before its number
        at = {ds.start: i for i, (_, ds, _) in enumerate(columns)}
        before = {}
        for j in range(len(leading), len(numeric)):
            companion = (companions or {}).get(numeric[j][1].start)
            if companion is not None and companion.start in at:
                before[j] = at[companion.start]
        interleaved = set(before.values())
        first = [i for i in first if i not in interleaved]
        later = [
            i for i in range(len(columns)) if i not in first and i not in interleaved
        ]
        middle = []
        for j in range(len(leading), len(numeric)):
            if j in before:
                middle.append((True, before[j]))
            middle.append((False, j))
        self.order = [
            *((False, j) for j in range(len(leading))),
            *((True, i) for i in first),
            *middle,
            *((True, i) for i in later),
        ]
        self.autoregressive = None
        if autoregressive and len(columns) + len(numeric) > 0:
            order = [(columns if d else numeric)[i] for d, i in self.order]
            self.autoregressive = MADE(
                *made_orders(likelihood, order, self.calendars),
                len(columns) + len(numeric),
                n_components,
                hidden[-1] if hidden else 0,
                activation,
                dtype,
            )
        self.discrete_heads = nn.ModuleList([head for head, _, _ in columns])
        self.discrete_slices = [(ds, ps) for _, ds, ps in columns]
        self.numeric_slices = [(column.j, ds, ps) for column, ds, ps in numeric]
        chained = likelihood.features_of(columns + numeric)
        for start, features in self.calendars.items():
            chained[features] = chained[start]  # computed with their datetime
        if self.autoregressive is not None and likelihood.bounds is not None:
            chained[likelihood.bounds[1]] = True  # computed with their bases
        self.register_buffer("chained", chained, persistent=False)
        self.register_buffer(
            "numeric_chained", likelihood.features_of(numeric), persistent=False
        )
        # set by the training loop: the networks' matmuls run in this dtype
        self.compute_dtype = None

    def reset_parameters(self, generator):
        """Initialise every weight from ``generator`` (PyTorch's default scheme)."""
        for layer in self.modules():
            if isinstance(layer, nn.Linear):
                reset_linear(layer, generator)
        if self.autoregressive is not None:
            self.autoregressive.zero_outputs()
        self.likelihood.reset_parameters(generator)

    def encode(self, x):
        """Posterior q(z|x) as ``(loc, scale)``, each of shape ``(n, n_components)``.

        An unobserved entry (NaN) reads as 0; a column that has missing values
        has an indicator among the encoded features, so the encoder knows.
        """
        loc, raw = self._network(self.encoder, filled(x)).chunk(2, dim=-1)
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
            params = params + self._network(self.autoregressive, filled(x), z)
        return params

    @torch.no_grad()
    def generate(self, z, pick, generator=None, snap=None):
        """Encoded rows decoded from ``z`` of shape ``(n, q)``, column by column.

        ``pick`` is ``"sample"``, ``"mode"`` or ``"mean"``, the likelihood method
        applied to each column. With an autoregressive decoder the columns are
        picked in order, each given the ones picked before it (see
        :meth:`_ordered_columns`; ``"mean"`` picks the discrete columns'
        modes: the later columns are defined given actual values), then
        the rest (missingness indicators, numbers with missing values)
        given all of them, and last, again, each number that
        an order bounds by another with missing values, truncated given it
        (see :meth:`_late_bounds`; with ``snap`` only). ``snap(features,
        values, rows)``, if given, returns the encoding of the value each drawn
        numeric entry decodes to (an atom's whole interval, a grid cell),
        which the later columns read, as they read it in training; for a
        datetime it also writes the value's calendar features into ``rows``.
        """
        base = self.decode(z)
        if self.autoregressive is None:
            return _choose(self.likelihood, base, pick, generator)
        x = torch.zeros(
            (z.shape[0], self.likelihood.n_features), dtype=base.dtype, device=z.device
        )
        filling = self.autoregressive.start(z, base)
        how = "mode" if pick == "mean" else pick
        for discrete, head, ds, ps in self._ordered_columns():
            params = filling.outputs(ps)
            limits = None if discrete else self._order_limits(head, x)
            nest = self.likelihood.nested(x, ds) if discrete else None
            if nest is not None:
                x[:, ds] = nested_choose(head, params, *nest, how, generator)
            elif limits is None:
                x[:, ds] = _choose(head, params, how if discrete else pick, generator)
            else:
                low, high, log_epsilon = limits
                x[:, ds] = ordered_choose(
                    *head.loc_scale(params), low, high, pick, generator, log_epsilon
                )
            if snap is not None and not discrete:
                x[:, ds] = snap(ds, x[:, ds], x)
            if discrete:
                self._level_edges(x, ds)
            filling.add(x, ds)
            calendar = self._calendar(ds) if snap is not None else None
            if calendar is not None:
                filling.add(x, calendar)
        late = self._late_bounds() if snap is not None else []
        for head, ds, ps in self.likelihood._parts():
            chained = self.chained[ds]
            if bool(chained.all()):
                continue
            params = filling.outputs(ps)
            if late and head is self.likelihood.bounds[2]:
                interval_params = params
            draw = _choose(head, params, pick, generator)
            for fs, loc, scale, (low, high, log_epsilon) in self._limited(
                head, ds, params, x, late
            ):
                draw[:, fs] = ordered_choose(
                    loc, scale, low, high, pick, generator, log_epsilon
                )
            x[:, ds] = torch.where(chained, x[:, ds], draw)  # keep the chain
        if late:
            _, _, interval, ds, _ = self.likelihood.bounds
            drawn = set()
            for j, bases in late:
                for features, _ in bases:
                    if features.start not in drawn:  # writes its edges into x
                        snap(features, x[:, features], x)
                        drawn.add(features.start)
                column = interval.column(j)
                loc, scale = column.loc_scale(
                    interval_params[:, interval.column_params(j)]
                )
                low, high, log_epsilon = self._order_limits(column, x)
                x[:, ds.start + 2 * j : ds.start + 2 * j + 2] = ordered_choose(
                    loc, scale, low, high, pick, generator, log_epsilon
                )
        return x

    def _late_bounds(self):
        """``[(column index, [(base features, edge features)])]``: the
        columns of the interval-Gaussian head that an order bounds by a base
        outside the autoregressive order (a column with missing values,
        drawn with the rest given the order), with the encoded features of
        those bases and of all their orders' edges; a base comes before the
        columns it bounds, so each column is drawn again, truncated, after
        its bases."""
        bounds = getattr(self.likelihood, "bounds", None)
        if bounds is None or self.autoregressive is None:
            return []
        head, edges, _, ds, _ = bounds
        bases = sorted(getattr(head, "bases", {}).items())
        late = {}
        for k, base in bases:
            features = slice(ds.start + 2 * base, ds.start + 2 * base + 2)
            if not bool(self.chained[features.start]):
                j = head.columns[int(head.targets[k])]
                mine = [edges.start + i for i, b in bases if b == base]
                late.setdefault(j, []).append((features, mine))
        return sorted(late.items())

    def _limited(self, head, ds, params, rows, late=()):
        """``(features, loc, scale, limits)`` of the columns of the
        interval-Gaussian ``head`` (encoded features ``ds``, outputs
        ``params``) outside the order that an order bounds, their limits
        read from ``rows`` (see :meth:`_order_limits`); the features are
        the column's pair within the head's. The columns of ``late`` (see
        :meth:`_late_bounds`) are left out."""
        if not isinstance(head, _IntervalGaussian):
            return []
        out = []
        later = {j for j, _ in late}
        for j in range(head.n_locs):
            if bool(self.chained[ds.start + 2 * j]) or j in later:
                continue
            column = head.column(j)
            limits = self._order_limits(column, rows)
            if limits is not None:
                loc, scale = column.loc_scale(params[:, head.column_params(j)])
                out.append((slice(2 * j, 2 * j + 2), loc, scale, limits))
        return out

    def _ordered_columns(self):
        """``(discrete, head, features, outputs)`` of the columns in the
        autoregressive order: datetimes with a calendar, the discrete columns
        that the numbers read (see ``TableCodec.leading_discrete``), the
        other numeric columns, the other discrete columns."""
        numeric = [(False, *column) for column in self._numeric_columns()]
        discrete = [
            (True, head, ds, ps)
            for head, (ds, ps) in zip(
                self.discrete_heads, self.discrete_slices, strict=True
            )
        ]
        order = getattr(self, "order", None)
        if order is None:  # older pickles: every discrete column first
            lead = getattr(self, "n_leading", 0)  # older still: none
            return numeric[:lead] + discrete + numeric[lead:]
        return [(discrete if d else numeric)[i] for d, i in order]

    def _order_limits(self, column, rows):
        """``(low, high, log_epsilon)`` of a numeric column that an order
        bounds, its limits ``(n, 1)`` read from the encoded ``rows`` (see
        :class:`~skvae._likelihoods._OrderBounds`); None for another."""
        bounds = getattr(self.likelihood, "bounds", None)  # older pickles: none
        if bounds is None or column.j not in bounds[0].columns:
            return None
        head, edges = bounds[:2]
        return head.limits(rows[:, edges], column.j)

    def _level_edges(self, rows, features, free=None):
        """Write into ``rows`` the edges of the level ranges of the discrete
        column at ``features``, once it is drawn (only at the ``free``
        entries, where given)."""
        bounds = getattr(self.likelihood, "bounds", None)
        if bounds is None:
            return
        head, edges = bounds[:2]
        for k, value in head.level_edges(rows, features):
            f = edges.start + k
            if free is not None:
                value = torch.where(free[:, f], value, rows[:, f])
            rows[:, f] = value

    def _calendar(self, features):
        """The calendar features of the datetime at ``features``, or None."""
        return getattr(self, "calendars", {}).get(features.start)

    def _numeric_columns(self):
        """``(column, features, outputs)`` of the numeric columns in the order."""
        heads = [h for h in self.likelihood.heads if isinstance(h, _IntervalGaussian)]
        return [(heads[0].column(j), ds, ps) for j, ds, ps in self.numeric_slices]

    @torch.no_grad()
    def complete(
        self,
        x,
        eps,
        pick,
        generator=None,
        blocked=None,
        snap=None,
        adaptive=True,
        derive=None,
    ):
        """Particles for the free entries of rows, and their importance weights.

        For each row, ``K = eps.shape[1]`` codes ``z_k`` are drawn from a
        proposal ``r`` and each completes the row as :meth:`generate` does,
        column by column, keeping the fixed entries: a free entry is drawn
        from its head given ``z_k`` and the entries before it in the
        autoregressive order. The log-weight of a particle, ``log p(z_k) +
        log p(fixed entries | z_k, drawn entries) - log r(z_k)``, makes the
        particles a self-normalised importance sample of ``p(free entries |
        fixed entries)``, exact as ``K`` grows, and their mean weight an
        unbiased estimate of ``p(fixed entries)``. Every proposal is a
        defensive mixture (Hesterberg 1995) with a fixed share of the codes
        from the prior, which covers every code whatever the encoder makes
        of a partial row and keeps each weight below the particle's
        likelihood divided by that share.

        * ``adaptive=False`` (for scores): half the codes (rounded down) from
          the prior, the others from the encoder ``q(z | x)`` (which reads the
          row's free entries as 0).
        * ``adaptive=True`` (for imputation and conditional sampling): the
          encoder's scale is widened by :data:`PROPOSAL_WIDENING`, since a
          variational posterior is narrower than the true one, and a tenth
          of the codes (rounded up) come from the prior. From
          :data:`ADAPTIVE_MIN_PARTICLES` particles on, this is the first of
          two stages of adaptive importance sampling (population Monte
          Carlo, Cappe et al. 2004): it draws ``2 ceil(K / 4)`` codes (so
          that the stages share no antithetic pair of the noise table), and
          the rest come from a diagonal Gaussian matched to its weighted
          codes (their weighted mean, and their weighted standard deviation,
          at least half the first stage's, widened alike), again a tenth from
          the prior. A particle is weighted by the proposal of its own stage,
          so each stage's mean weight is unbiased given the stages before.

        Parameters
        ----------
        x : Tensor of shape (n, n_features)
            Encoded rows; NaN marks the free entries.
        eps : Tensor of shape (n, K, n_components)
            Standard-normal draws for the codes.
        pick : {"sample", "mode", "mean"}
            How each free entry is chosen given its head's parameters
            (``"mean"`` takes modes of discrete columns, as :meth:`generate`).
        generator : torch.Generator, optional
            Source of the draws when ``pick="sample"``.
        blocked : Tensor of bool of shape (n_features,), optional
            Encoded features that stand for a missing value (missingness
            indicators, missing levels). Given, the completion imputes: no
            entry comes back missing. A free entry is drawn among the other
            levels and its weight takes the probability that it is observed,
            so the particles sample the model's complete rows given the fixed
            entries; an entry fixed at a missing level gets a value drawn so,
            while the rows' other heads keep reading it as missing.
        snap : callable, optional
            As in :meth:`generate`, for the drawn numeric entries.
        adaptive : bool, default=True
            The proposal, as above.
        derive : callable, optional
            ``derive(features, rows)`` gives, for the numeric column at
            ``features``, ``(values, log_jacobian)``: its encoded values
            ``(m, 2)`` that the drawn entries before it in ``rows`` determine
            (NaN where none), and their log-Jacobians ``(m,)``; or None. A
            determined entry is fixed at that value (a column modelled
            through its difference from a base drawn before it, whose value
            is given): its likelihood and log-Jacobian enter the weight.

        Returns
        -------
        particles : Tensor of shape (n, K, n_features)
            The completed rows.
        log_weights : Tensor of shape (n, K)
            Unnormalised log importance weights.
        params : Tensor of shape (n, K, n_params)
            The decoder outputs each particle's non-discrete entries were
            drawn from (for conditional means, see :meth:`interval_moments`).
        """
        k = eps.shape[1]
        loc, scale = self.encode(x)
        loc, scale = loc.unsqueeze(1), scale.unsqueeze(1)
        if not adaptive:
            z, log_ratio = _defensive_draws(eps, loc, scale, k // 2)
            return self._particles(
                x, z, log_ratio, pick, generator, blocked, snap, derive
            )
        scale = scale * PROPOSAL_WIDENING
        first = min(k, 2 * -(-k // 4)) if k >= ADAPTIVE_MIN_PARTICLES else k
        z, log_ratio = _defensive_draws(eps[:, :first], loc, scale, _prior_share(first))
        stages = [
            self._particles(x, z, log_ratio, pick, generator, blocked, snap, derive)
        ]
        if k > first:
            log_w = stages[0][1]
            # a row whose particles all have weight 0 keeps them all alike
            log_w = torch.where(torch.isfinite(log_w).any(1, keepdim=True), log_w, 0)
            weights = torch.softmax(log_w, 1).unsqueeze(-1)
            center = (weights * z).sum(1, keepdim=True)
            spread = (weights * (z - center) ** 2).sum(1, keepdim=True).sqrt()
            spread = torch.maximum(spread, scale / 2) * PROPOSAL_WIDENING
            second = eps[:, first:]
            z, log_ratio = _defensive_draws(
                second, center, spread, _prior_share(second.shape[1])
            )
            stages.append(
                self._particles(x, z, log_ratio, pick, generator, blocked, snap, derive)
            )
        return tuple(torch.cat(parts, 1) for parts in zip(*stages, strict=True))

    def _particles(self, x, z, log_ratio, pick, generator, blocked, snap, derive):
        """The rows ``x`` completed from codes ``z`` of shape (n, m, q), drawn
        from a proposal ``r`` with ``log_ratio = log p(z) - log r(z)``:
        (particles, log-weights, decoder outputs), each with ``m`` per row."""
        n, m = z.shape[:2]
        out, log_likelihood, params = self._complete(
            x.repeat_interleave(m, 0),
            z.reshape(n * m, -1),
            pick,
            generator,
            blocked,
            snap,
            derive,
        )
        log_w = log_ratio + log_likelihood.reshape(n, m)
        return out.reshape(n, m, -1), log_w, params.reshape(n, m, -1)

    def interval_moments(self, params):
        """``(loc, scale)`` of the interval-Gaussian heads' normal scores in
        decoder outputs ``params`` (``(..., m)`` each), or None."""
        for head, _, ps in self.likelihood._parts():
            if isinstance(head, _IntervalGaussian):
                return head.loc_scale(params[..., ps])
        return None

    def _complete(self, x, z, pick, generator, blocked, snap, derive=None):
        like = self.likelihood
        base = self.decode(z)
        free = torch.isnan(x)
        chain = filled(x)
        out = x.clone()
        total = torch.zeros(x.shape[0], dtype=base.dtype, device=base.device)
        if blocked is None:
            blocked = torch.zeros(x.shape[1], dtype=torch.bool, device=x.device)
        network = self.autoregressive
        filling = None if network is None else network.start(z, base)
        how = "mode" if pick == "mean" else pick
        for discrete, head, ds, ps in self._ordered_columns():
            if not discrete and network is None:
                continue  # numbers in the order only with the network
            params = base[:, ps] if network is None else filling.outputs(ps)
            given = x[:, ds]
            fixed = None if derive is None or discrete else derive(ds, chain)
            if fixed is not None:  # determined by the entries drawn before it
                values, log_jacobian = fixed
                open_ = torch.isnan(values)
                given = torch.where(open_, given, values)
                chain[:, ds] = torch.where(open_, chain[:, ds], values)
                free[:, ds] = torch.isnan(given)
                total = total + log_jacobian
            total = total + head.log_prob(params, given)
            if discrete:
                is_free = free[:, ds].any(-1, keepdim=True)
                nest = like.nested(chain, ds)
                if nest is not None:
                    total = total + nested_log_factor(params, given, *nest)
                    draw, observed = _nested_unblocked(
                        head, params, *nest, blocked[ds], how, generator
                    )
                    if observed is not None:
                        total = total + torch.where(is_free[:, 0], observed, 0.0)
                else:
                    if bool(blocked[ds].any()):  # a free entry drawn as observed
                        kept = params.masked_fill(blocked[ds], -torch.inf)
                        observed = torch.logsumexp(kept, -1) - torch.logsumexp(
                            params, -1
                        )
                        total = total + torch.where(is_free[:, 0], observed, 0.0)
                    draw = _choose(
                        head,
                        params.masked_fill(blocked[ds], -torch.inf),
                        how,
                        generator,
                    )
                chain[:, ds] = torch.where(is_free, draw, chain[:, ds])
                self._level_edges(chain, ds, free)
                missing = (chain[:, ds] * blocked[ds]).sum(-1, keepdim=True) > 0
                out[:, ds] = torch.where(is_free | missing, draw, given)
            else:
                limits = self._order_limits(head, chain)
                cell = chain[:, ds]
                if limits is None:
                    draw = _choose(head, params, pick, generator)
                else:
                    loc, scale = head.loc_scale(params)
                    low, high, log_epsilon = limits
                    total = total + truncation_log_prob(
                        loc, scale, given, low, high, log_epsilon
                    )
                    draw = ordered_choose(
                        loc, scale, low, high, pick, generator, log_epsilon
                    )
                    cell = _inside(cell, low, high)
                # a fixed interval (a range, or the cell of a fixed value) is
                # drawn from the head truncated to it
                within = head.sample_within(params, cell, generator)
                value = torch.where(free[:, ds], draw, within)
                out[:, ds] = value
                chain[:, ds] = value if snap is None else snap(ds, value, chain)
                bounds = getattr(like, "bounds", None)
                if snap is not None and bounds is not None:
                    # a fixed base's edges are its own value's, not its snapped
                    # one's (which stays inside the training range)
                    fixed = x[:, bounds[1]]
                    chain[:, bounds[1]] = torch.where(
                        torch.isnan(fixed), chain[:, bounds[1]], fixed
                    )
            if network is not None:
                filling.add(chain, ds)
            calendar = self._calendar(ds) if snap is not None else None
            if calendar is not None and network is not None:
                # a fixed value's calendar is its own, not its snapped cell's
                # (which stays inside the training range)
                fixed = x[:, calendar]
                kept = torch.where(torch.isnan(fixed), chain[:, calendar], fixed)
                chain[:, calendar] = out[:, calendar] = kept
                filling.add(chain, calendar)
        params = base if network is None else filling.outputs(slice(None))
        late = self._late_bounds() if snap is not None else []
        # the other heads (numbers, missingness indicators), given the chain
        blocked_logits = like.discrete_params(blocked)
        for head, ds, ps in like._parts():
            chained = self.chained[ds]  # drawn and scored in the chain above
            if bool(chained.all()):
                continue
            given, head_params = x[:, ds].masked_fill(chained, torch.nan), params[:, ps]
            total = total + head.log_prob(head_params, given)
            if bool(blocked[ds].all()):  # missingness: a free entry is observed
                not_missing = -F.softplus(head_params)
                total = total + torch.where(free[:, ds], not_missing, 0.0).sum(-1)
            ordered = getattr(head, "has_orders", False)
            if isinstance(head, _FullGaussian) or ordered:
                # given the row's observed entries
                draw = head.conditional(head_params, given, pick, generator)
                if ordered and pick == "sample":
                    # the orders' factors of the completed row (of its
                    # observed entries where the drawn ones come from their
                    # own truncated conditionals) over the observed entries'
                    done = torch.where(torch.isnan(given), draw, given)
                    scored = given if head.proposal_is_exact else done
                    total = (
                        total
                        + head.order_log_factor(head_params, scored, done)
                        - head.order_log_factor(head_params, given)
                    )
                    if head.proposal_is_exact:  # free bases, truncated
                        total = total + head.proposal_log_ratio(
                            head_params, given, done
                        )
            else:
                masked = head_params.masked_fill(blocked_logits[ps], -torch.inf)
                draw = _choose(head, masked, pick, generator)
            cells = chain[:, ds].clone()
            for fs, loc, scale, (low, high, log_epsilon) in self._limited(
                head, ds, head_params, chain, late
            ):
                total = total + truncation_log_prob(
                    loc, scale, given[:, fs], low, high, log_epsilon
                )
                draw[:, fs] = ordered_choose(
                    loc, scale, low, high, pick, generator, log_epsilon
                )
                cells[:, fs] = _inside(cells[:, fs], low, high)
            replace = (free[:, ds] | blocked[ds]) & ~chained
            out[:, ds] = torch.where(replace, draw, out[:, ds])
            if isinstance(head, _IntervalGaussian):
                # a fixed interval (a range, or the cell of a fixed value) is
                # drawn from the head truncated to it
                within = head.sample_within(head_params, cells, generator)
                out[:, ds] = torch.where(torch.isnan(given), out[:, ds], within)
        if late:
            total = total + self._complete_late(
                x, chain, out, params, late, pick, generator, snap
            )
        return out, total, params

    def _complete_late(self, x, chain, out, params, late, pick, generator, snap):
        """For :meth:`_complete`: draw again in ``out`` the free entries of
        the columns of ``late`` (see :meth:`_late_bounds`) from their heads
        truncated to their orders, each once its bases are drawn, and draw a
        fixed interval within them; returns the orders' log-factors of the
        fixed entries."""
        _, _, interval, ds, ps = self.likelihood.bounds
        free = torch.isnan(x)
        # a fixed base's edges are its value's (NaN: missing, no limit)
        rows = chain.clone()
        for _, bases in late:
            for _, mine in bases:
                rows[:, mine] = x[:, mine]
        total = 0.0
        drawn = set()
        scratch = out.clone()  # snap writes edges here, not into the particles
        for j, bases in late:
            for features, mine in bases:
                if features.start in drawn:
                    continue
                drawn.add(features.start)
                snap(features, out[:, features], scratch)
                # a free base, or a range on it (whose edges are not given)
                rows[:, mine] = torch.where(
                    torch.isnan(x[:, mine]), scratch[:, mine], rows[:, mine]
                )
            fs = slice(ds.start + 2 * j, ds.start + 2 * j + 2)
            column = interval.column(j)
            column_params = params[:, ps][:, interval.column_params(j)]
            loc, scale = column.loc_scale(column_params)
            low, high, log_epsilon = self._order_limits(column, rows)
            given = x[:, fs]
            total = total + truncation_log_prob(
                loc, scale, given, low, high, log_epsilon
            )
            draw = ordered_choose(loc, scale, low, high, pick, generator, log_epsilon)
            within = column.sample_within(
                column_params, _inside(chain[:, fs], low, high), generator
            )
            out[:, fs] = torch.where(free[:, fs], draw, within)
        return total

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
        kl = kl_normal_standard_normal(loc, scale)
        return reconstruction.mean(1) - kl_weight * kl

    def iwae(self, x, eps):
        """Importance-weighted bound with ``K = eps.shape[1]`` samples, shape ``(n,)``.

        ``log (1/K) sum_k p(x, z_k) / q(z_k | x)`` with ``z_k ~ q(z|x)``; it equals
        the single-sample ELBO at K=1 and rises towards log p(x) as K grows.
        """
        loc, scale = self.encode(x)
        reconstruction, z = self._reconstruction(x, loc, scale, eps)
        q_z = normal_log_prob(z, loc.unsqueeze(1), scale.unsqueeze(1))
        log_w = reconstruction + _standard_log_prob(z) - q_z.sum(-1)
        return torch.logsumexp(log_w, dim=1) - math.log(eps.shape[1])


def _inside(cell, low, high):
    """The part of encoded intervals ``cell`` (``(n, 2)``) inside the limits
    ``low`` and ``high`` (``(n, 1)``); the interval itself where none is."""
    start = torch.maximum(cell[:, 0:1], low)
    stop = torch.minimum(cell[:, 1:2], high)
    point = cell[:, 0:1] >= cell[:, 1:2]  # a point inside stays itself
    meets = torch.where(point, start <= stop, start < stop)
    return torch.where(meets, torch.cat([start, stop], -1), cell)


def _nested_unblocked(head, logits, allowed, log_epsilon, blocked, how, generator):
    """For :meth:`VAE._complete`: a nested categorical column's draw (see
    :func:`nested_choose`) among the levels not ``blocked`` (``(k,)``
    bool), and ``log p(not blocked)`` under the mixture (None when nothing
    is blocked); the untruncated share is that of the mixture given the
    level is not blocked, per row."""
    if not bool(blocked.any()):
        return nested_choose(head, logits, allowed, log_epsilon, how, generator), None
    log_q = torch.log_softmax(logits, -1)

    def log_mass(levels):
        return torch.logsumexp(log_q.masked_fill(~levels, -torch.inf), -1)

    kept = allowed & ~blocked
    inside = math.log(-math.expm1(log_epsilon)) + log_mass(kept) - log_mass(allowed)
    outside = log_epsilon + log_mass(~blocked.expand_as(allowed))
    observed = torch.logaddexp(inside, outside)
    kept = torch.where(kept.any(-1, keepdim=True), kept, ~blocked)
    draw = nested_choose(
        head,
        logits.masked_fill(blocked, -torch.inf),
        kept,
        (outside - observed)[:, None],
        how,
        generator,
    )
    return draw, observed


def _choose(head, params, how, generator):
    """``head.sample``, ``head.mode`` or ``head.mean`` of ``params``."""
    method = getattr(head, how)
    return method(params, generator) if how == "sample" else method(params)

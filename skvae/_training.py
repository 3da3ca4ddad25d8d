"""The optimisation loop: Adam on the negative ELBO, early stopping, warm-up.

The loop reads its data as :class:`Rows` (values on the training device, with the
standardisation applied batch by batch) and keeps what must survive between
calls (``warm_start``, ``partial_fit``) in a :class:`TrainState`.
"""

import copy
from dataclasses import dataclass, field

import torch
from sklearn.exceptions import ConvergenceWarning
from torch.optim.swa_utils import get_ema_multi_avg_fn
from tqdm.auto import tqdm

from ._device import flush_denormals
from ._warnings import warn

_MAX_LR_REDUCTIONS = 2
INFERENCE_ROWS = 2**17  # rows x samples per inference batch on an accelerator
_CPU_INFERENCE_ROWS = 2**13  # on the CPU, batches that stay in cache: ~2x faster


def inference_rows(device):
    """Rows x samples per inference batch on ``device``."""
    return _CPU_INFERENCE_ROWS if torch.device(device).type == "cpu" else INFERENCE_ROWS


@dataclass
class Rows:
    """Rows as the model reads them, on one device.

    Attributes
    ----------
    values : Tensor of shape (n, d)
        Encoded rows, or the raw numbers when ``shift`` and ``scale`` are set.
    log_jacobian : Tensor of shape (n,)
        Log-Jacobian of the encoding per row (added to every log-density so
        that it is in the user's units); may be a broadcast view.
    shift, scale : Tensor of shape (d,) or None
        When set, the model reads ``(values - shift) / scale``, computed batch
        by batch so that no standardised copy of the data is ever held.
    """

    values: torch.Tensor
    log_jacobian: torch.Tensor
    shift: torch.Tensor | None = None
    scale: torch.Tensor | None = None

    def __len__(self):
        return self.values.shape[0]

    def _standardised(self, values):
        if self.shift is None:
            return values
        device = values.device
        return (values - self.shift.to(device)) / self.scale.to(device)

    def take(self, index):
        """Rows ``index`` (an int tensor on their device) as ``(x, log_jacobian)``."""
        values = self.values.index_select(0, index)  # a copy, not advanced indexing
        return self._standardised(values), self.log_jacobian.index_select(0, index)

    def slice(self, rows, device=None):
        """Rows in the slice ``rows`` as ``(x, log_jacobian)`` on ``device``."""
        values = self._standardised(self.values[rows].to(device))
        return values, self.log_jacobian[rows].to(device)


def iter_batches(n, batch_size, generator):
    """Index tensors covering ``range(n)`` once, in a random order."""
    dtype = torch.int32 if n < 2**31 else torch.int64  # half the memory
    order = torch.randperm(n, generator=generator, device=generator.device, dtype=dtype)
    return torch.split(order, batch_size)


@dataclass
class TrainState:
    """What the loop keeps between calls (``warm_start`` and ``partial_fit``)."""

    optimizer: torch.optim.Optimizer
    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = float("inf")
    best_validation_score: float = -float("inf")
    n_iter: int = 0
    t: int = 0
    lr_reductions: int = 0
    # with weight averaging: the weights Adam trains (the module shows their
    # average between calls) and that average, both CPU-side
    weights: list = None
    average: list = None
    n_averaged: int = 0


@dataclass
class Validation:
    """Held-out rows for early stopping and their fixed evaluation noise."""

    rows: Rows
    eps: torch.Tensor  # (n, 1, n_components), common random numbers


def make_optimizer(module, learning_rate, weight_decay):
    """Adam with an L2 penalty on weights only (biases and variances are free)."""
    decay, free = [], []
    for name, param in module.named_parameters():
        (decay if name.endswith("weight") else free).append(param)
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": free, "weight_decay": 0.0},
    ]
    return torch.optim.Adam(groups, lr=learning_rate, fused=True)


class _Averaging:
    """The exponential moving average of a module's weights (Polyak averaging).

    Adam at a constant step size leaves the weights jittering around an
    optimum; their average over the last ``1 / (1 - momentum)`` steps is
    nearer to it. The average starts at the weights it is given and is
    updated after every step with :func:`torch.optim.swa_utils.get_ema_multi_avg_fn`;
    the momentum of update ``t`` (counted over the life of the state) is
    ``min(momentum, (1 + t) / (10 + t))``, as in TensorFlow's
    ``ExponentialMovingAverage`` with ``num_updates``, so that the average
    of a short fit does not keep its random start.
    """

    def __init__(self, module, momentum, state):
        self.params = list(module.parameters())
        self.momentum = momentum
        self.state = state
        with torch.no_grad():
            if state.weights is not None:  # continue the trained weights
                for param, weight in zip(self.params, state.weights, strict=True):
                    param.copy_(weight)
                self.average = [
                    a.to(p.device)
                    for a, p in zip(state.average, self.params, strict=True)
                ]
            else:
                self.restart()

    def restart(self):
        """Start the average again at the module's weights."""
        self.average = [p.detach().clone() for p in self.params]

    def update(self):
        t = self.state.n_averaged
        momentum = min(self.momentum, (1 + t) / (10 + t))
        update = get_ema_multi_avg_fn(momentum)
        update(self.average, [p.detach() for p in self.params], None)
        self.state.n_averaged = t + 1

    def swap(self):
        """Exchange the module's weights and the average."""
        with torch.no_grad():
            for param, average in zip(self.params, self.average, strict=True):
                kept = param.detach().clone()
                param.copy_(average)
                average.copy_(kept)

    def publish(self):
        """Keep the trained weights and the average in the state, CPU-side, and
        give the module the average."""
        state = self.state
        state.weights = [p.detach().to("cpu", copy=True) for p in self.params]
        state.average = [a.to("cpu", copy=True) for a in self.average]
        with torch.no_grad():
            for param, average in zip(self.params, self.average, strict=True):
                param.copy_(average)


def _epoch(
    module,
    rows,
    index,
    state,
    *,
    batch_size,
    kl_weight,
    generator,
    compute_dtype,
    averaging=None,
):
    """One pass over ``rows`` (those in ``index``, or all).

    With a ``compute_dtype`` the networks run under autocast to it (mixed
    precision); weights, Adam's moments and the loss stay in full precision.
    ``averaging`` (an :class:`_Averaging`) is updated after every step.
    Returns the mean loss as a 0-d tensor (no host sync).
    """
    module.train()
    module.compute_dtype = compute_dtype
    try:
        n = len(rows) if index is None else index.shape[0]
        total = 0.0
        for batch in iter_batches(n, batch_size, generator):
            if index is not None:
                batch = index.index_select(0, batch)
            xb, log_jacobian = rows.take(batch)
            shape = (xb.shape[0], 1, module.n_components)
            eps = torch.randn(
                shape, generator=generator, dtype=xb.dtype, device=xb.device
            )
            loss_rows = -(module.elbo(xb, eps, kl_weight) + log_jacobian)
            state.optimizer.zero_grad(set_to_none=True)
            loss_rows.mean().backward()
            state.optimizer.step()
            if averaging is not None:
                averaging.update()
            total = total + loss_rows.detach().sum()
    finally:
        module.compute_dtype = None
    state.t += n
    return total / n


@torch.inference_mode()
def evaluate(module, validation):
    """Mean ELBO (``kl_weight=1``) of the held-out rows, in the user's units."""
    module.eval()
    rows = validation.rows
    step = max(1, inference_rows(rows.values.device) // module.likelihood.row_cost)
    total = 0.0
    for start in range(0, len(rows), step):
        x, log_jacobian = rows.slice(slice(start, start + step))
        eps = validation.eps[start : start + step]
        total += float((module.elbo(x, eps) + log_jacobian).sum())
    return total / len(rows)


def train(
    module,
    state,
    rows,
    *,
    index=None,
    validation=None,
    max_iter,
    batch_size,
    kl_weight,
    tol,
    n_iter_no_change,
    generator,
    kl_warmup_iter=0,
    adaptive=False,
    compute_dtype=None,
    ema_momentum=0.0,
    verbose=0,
):
    """Run up to ``max_iter`` epochs of Adam on the negative ELBO.

    Parameters
    ----------
    module : VAE
        Trained in place; on return it holds the best weights seen from the
        end of the warm-up on when ``validation`` is given (the last ones if
        training ends inside the warm-up), else the last ones.
    state : TrainState
        Optimizer and history, extended in place.
    rows : Rows
        The data on the training device.
    index : Tensor of int, optional
        The rows of ``rows`` to train on; None trains on all.
    validation : Validation, optional
        Held-out rows for early stopping.
    max_iter, batch_size, tol, n_iter_no_change : int, int, float, int
        As the estimator's parameters of these names.
    kl_weight : float
        Weight of the KL term once the warm-up is over.
    generator : torch.Generator
        Source of the batch order and the reparameterisation noise.
    kl_warmup_iter : int, default=0
        Epochs (counted over the life of ``state``) over which the KL weight
        rises linearly to ``kl_weight``; no early stop happens before the end,
        and the best held-out weights are chosen from its last epoch on.
    adaptive : bool, default=False
        On a plateau, divide the step size by 10 (at most twice) instead of
        stopping.
    compute_dtype : torch.dtype, optional
        Train the networks in mixed precision with this dtype; validation
        scores are always computed in full precision.
    ema_momentum : float, default=0.0
        With a positive value, the module ends with the exponential moving
        average of the weights over the steps (this momentum per step), and
        the held-out rows score that average; ``state`` keeps the trained
        weights, which the next call continues. 0 keeps the last weights.
    verbose : int, default=0
        Show a progress bar over epochs when positive.

    Returns
    -------
    converged : bool
        Whether the stopping rule fired before ``max_iter`` (MLP's rule: stop when
        ``n_iter_no_change`` epochs in a row fail to improve by ``tol``).

    Raises
    ------
    ValueError
        If the loss is not finite after the first epoch.
    """
    best_state = None
    averaging = None
    if ema_momentum:
        averaging = _Averaging(module, ema_momentum, state)
    else:  # the module's weights are the ones trained from here on
        state.weights = state.average = None
    last_good = copy.deepcopy(module.state_dict())
    no_improvement = 0
    converged = False
    bar = tqdm(range(max_iter), disable=not verbose, desc="skvae", unit="epoch")
    try:
        with flush_denormals():
            for _ in bar:
                ramp = min(1.0, (state.n_iter + 1) / max(kl_warmup_iter, 1))
                loss = float(
                    _epoch(
                        module,
                        rows,
                        index,
                        state,
                        batch_size=batch_size,
                        kl_weight=kl_weight * ramp,
                        generator=generator,
                        compute_dtype=compute_dtype,
                        averaging=averaging,
                    )
                )
                if not torch.isfinite(torch.tensor(loss)):
                    module.load_state_dict(last_good)
                    if averaging is not None:  # it took the bad steps in
                        averaging.restart()
                    _diverged(state.n_iter)
                    break
                last_good = copy.deepcopy(module.state_dict())
                state.n_iter += 1
                state.loss_curve.append(loss)
                if validation is not None:
                    if averaging is not None:
                        averaging.swap()  # score the average
                    score = evaluate(module, validation)
                    state.validation_scores.append(score)
                    improved = score > state.best_validation_score + tol
                    if score > state.best_validation_score and ramp >= 1.0:
                        state.best_validation_score = score
                        best_state = copy.deepcopy(module.state_dict())
                    if averaging is not None:
                        averaging.swap()
                    bar.set_postfix(
                        loss=f"{loss:.4g}", val_elbo=f"{score:.4g}", refresh=False
                    )
                else:
                    improved = loss < state.best_loss - tol
                    state.best_loss = min(state.best_loss, loss)
                    bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
                no_improvement = 0 if improved or ramp < 1.0 else no_improvement + 1
                if no_improvement > n_iter_no_change:
                    if not adaptive or state.lr_reductions >= _MAX_LR_REDUCTIONS:
                        converged = True
                        break
                    state.lr_reductions += 1
                    no_improvement = 0
                    for group in state.optimizer.param_groups:
                        group["lr"] /= 10.0
    except KeyboardInterrupt:
        warn(
            f"Training interrupted by the user after {state.n_iter} epochs; "
            "the model keeps the best weights seen so far.",
            UserWarning,
        )
        converged = True
    finally:
        bar.close()
        if averaging is not None:
            averaging.publish()
        if best_state is not None:
            module.load_state_dict(best_state)
        elif validation is not None and state.validation_scores:
            # every epoch was inside the warm-up: the last weights are kept
            state.best_validation_score = state.validation_scores[-1]
        module.eval()
    return converged


def _diverged(n_iter):
    advice = (
        "Try a smaller learning_rate_init, a larger alpha, or rescale the data "
        "(e.g. with StandardScaler)."
    )
    if n_iter == 0:
        raise ValueError(
            f"The training loss became non-finite in the first epoch. {advice}"
        )
    warn(
        f"The training loss became non-finite after {n_iter} epochs; training "
        f"stopped with the last finite weights. {advice}",
        ConvergenceWarning,
    )


def warn_not_converged(max_iter):
    """MLP's warning for a fit that ran out of epochs."""
    warn(
        f"Stochastic Optimizer: Maximum iterations ({max_iter}) reached and the "
        "optimization hasn't converged yet.",
        ConvergenceWarning,
    )

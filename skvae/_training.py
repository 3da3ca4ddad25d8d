"""The optimisation loop and the device and noise plumbing around it."""

import contextlib
import copy
import time
import warnings
from dataclasses import dataclass, field

import torch
from sklearn.exceptions import ConvergenceWarning
from tqdm.auto import tqdm

_NOISE_TABLE_BUDGET = 2**22  # floats in the table of evaluation noise
_MAX_LR_REDUCTIONS = 2
_INFERENCE_ROWS = 2**17  # rows x samples per inference batch


def resolve_device(device):
    """Turn the ``device`` parameter into a concrete device string."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available; "
            "use device='auto' or device='cpu'."
        )
    try:
        return str(torch.device(device))
    except RuntimeError as error:
        raise ValueError(
            f"device={device!r} is not a valid torch device; use 'auto', 'cpu', "
            "'cuda' or 'cuda:N'."
        ) from error


def native_bfloat16(device):
    """Whether ``device`` runs bfloat16 matrix products natively (and fast)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        # AVX512-BF16 or AMX; torch exposes these checks only privately
        checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(torch.cpu, name, lambda: False)() for name in checks)
    return False


def make_generator(seed, device="cpu"):
    return torch.Generator(device=device).manual_seed(int(seed))


def noise_table(n_samples, n_components, seed, dtype):
    """A seeded table of standard-normal draws, ``(size, n_samples, n_components)``.

    Evaluation uses common random numbers indexed by row content: each row takes
    the entry ``key % size`` of this table, where ``key`` hashes the row. A row's
    estimate then depends on nothing but the row, so scores are deterministic and
    invariant to batch composition and order, while the noise still averages out
    over the rows of a data set.
    """
    size = max(1, min(4096, _NOISE_TABLE_BUDGET // max(1, n_samples * n_components)))
    return torch.randn(
        (size, n_samples, n_components),
        generator=make_generator(seed),
        dtype=torch.float64,
    ).to(dtype)


def pick_noise(table, keys):
    """Rows of ``table`` chosen by the int64 tensor ``keys``."""
    return table[keys.remainder(table.shape[0])]


def iter_batches(n, batch_size, generator):
    """Index tensors covering ``range(n)`` once, in a random order."""
    dtype = torch.int32 if n < 2**31 else torch.int64  # half the memory
    order = torch.randperm(n, generator=generator, device=generator.device, dtype=dtype)
    return torch.split(order, batch_size)


def gather_rows(x, index, standardise=None):
    """Rows ``index`` of ``x``, standardised by ``(shift, scale)`` when given."""
    rows = x.index_select(0, index)  # a row copy, not advanced indexing
    if standardise is None:
        return rows
    return (rows - standardise[0]) / standardise[1]


def map_batches(fn, *tensors, batch_size=_INFERENCE_ROWS):
    """Apply ``fn`` to aligned row batches of ``tensors``; concatenate the outputs."""
    n = tensors[0].shape[0]
    outputs = [
        fn(*(t[start : start + batch_size] for t in tensors))
        for start in range(0, max(n, 1), batch_size)
    ]
    if isinstance(outputs[0], tuple):
        return tuple(torch.cat(parts) for parts in zip(*outputs, strict=True))
    return torch.cat(outputs)


def _flushes_denormals():
    tiny = torch.tensor([1e-39], dtype=torch.float32)
    return bool((tiny * 1.0).item() == 0.0)


@contextlib.contextmanager
def flush_denormals():
    """Treat subnormal floats as zero on CPU for the duration, then restore.

    Weights that decay towards zero become subnormal and make CPU arithmetic
    many times slower (TVAE's epochs slow down 4x over 300 epochs this way).
    """
    previous = _flushes_denormals()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(previous)


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
    epoch_seconds: list = field(default_factory=list)


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


def optimizer_to(optimizer, device):
    """Move the optimizer's state tensors (Adam moments) to ``device``."""
    for state in optimizer.state.values():
        for key, value in state.items():
            if torch.is_tensor(value):
                state[key] = value.to(device)


def _epoch(module, data, state, *, batch_size, kl_weight, generator, compute_dtype):
    """One pass over ``data``; returns the mean loss as a 0-d tensor (no host sync).

    With a ``compute_dtype`` the networks run under autocast to it (mixed
    precision); weights, Adam's moments and the loss stay in ``x.dtype``.
    """
    module.train()
    module.compute_dtype = compute_dtype
    try:
        return _batches(module, data, state, batch_size, kl_weight, generator)
    finally:
        module.compute_dtype = None


def _batches(module, data, state, batch_size, kl_weight, generator):
    x, offset, rows, standardise = data
    n = x.shape[0] if rows is None else rows.shape[0]
    total = torch.zeros((), dtype=x.dtype, device=x.device)
    q = module.n_components
    for index in iter_batches(n, batch_size, generator):
        if rows is not None:
            index = rows.index_select(0, index)
        xb = gather_rows(x, index, standardise)
        eps = torch.randn(
            (xb.shape[0], 1, q), generator=generator, dtype=x.dtype, device=x.device
        )
        loss_rows = -(module.elbo(xb, eps, kl_weight) + offset.index_select(0, index))
        loss = loss_rows.mean()
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        state.optimizer.step()
        total = total + loss_rows.detach().sum()
    state.t += n
    return total / n


@torch.inference_mode()
def evaluate(module, x, offset, eps):
    """Mean ELBO (``kl_weight=1``) of ``x`` plus its log-Jacobian ``offset``."""
    module.eval()
    rows = map_batches(lambda a, b: module.elbo(a, b), x, eps)
    return float((rows + offset).mean())


def train(
    module,
    state,
    data,
    validation=None,
    *,
    max_iter,
    batch_size,
    kl_weight,
    tol,
    n_iter_no_change,
    generator,
    kl_warmup_iter=0,
    adaptive=False,
    compute_dtype=None,
    verbose=0,
):
    """Run up to ``max_iter`` epochs of Adam on the negative ELBO.

    Parameters
    ----------
    module : _VAE
        Trained in place; on return it holds the best weights seen when
        ``validation`` is given, else the last ones.
    state : TrainState
        Optimizer and history, extended in place.
    data : tuple of (Tensor, Tensor, Tensor or None, tuple or None)
        Rows ``x`` of shape ``(n, d)``, their log-Jacobians ``(n,)``, the indices
        of the rows to train on (None: all), and ``(shift, scale)`` to
        standardise each batch with (None: ``x`` is encoded already).
    validation : tuple of (Tensor, Tensor, Tensor), optional
        Encoded rows, log-Jacobians and evaluation noise for early stopping.
    kl_warmup_iter : int, default=0
        Epochs (counted over the life of ``state``) over which the KL weight
        rises linearly to ``kl_weight``; no early stop happens before the end.
    adaptive : bool, default=False
        On a plateau, divide the step size by 10 (at most ``_MAX_LR_REDUCTIONS``
        times) instead of stopping.
    compute_dtype : torch.dtype, optional
        Train the networks in mixed precision with this dtype; validation
        scores are always computed in full precision.

    Returns
    -------
    converged : bool
        Whether the stopping rule fired before ``max_iter`` (MLP's rule: stop when
        ``n_iter_no_change`` epochs in a row fail to improve by ``tol``).
    """
    best_state = None
    last_good = copy.deepcopy(module.state_dict())
    no_improvement = 0
    converged = False
    bar = tqdm(range(max_iter), disable=not verbose, desc="skvae", unit="epoch")
    try:
        with flush_denormals():
            for _ in bar:
                started = time.perf_counter()
                ramp = min(1.0, (state.n_iter + 1) / max(kl_warmup_iter, 1))
                loss = float(
                    _epoch(
                        module,
                        data,
                        state,
                        batch_size=batch_size,
                        kl_weight=kl_weight * ramp,
                        generator=generator,
                        compute_dtype=compute_dtype,
                    )
                )
                if not torch.isfinite(torch.tensor(loss)):
                    module.load_state_dict(last_good)
                    _diverged(state.n_iter)
                    break
                state.epoch_seconds.append(time.perf_counter() - started)
                last_good = copy.deepcopy(module.state_dict())
                state.n_iter += 1
                state.loss_curve.append(loss)
                if validation is not None:
                    score = evaluate(module, *validation)
                    state.validation_scores.append(score)
                    improved = score > state.best_validation_score + tol
                    if score > state.best_validation_score:
                        state.best_validation_score = score
                        best_state = copy.deepcopy(module.state_dict())
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
        warnings.warn(
            f"Training interrupted by the user after {state.n_iter} epochs; "
            "the model keeps the best weights seen so far.",
            UserWarning,
            stacklevel=3,
        )
        converged = True
    finally:
        bar.close()
        if best_state is not None:
            module.load_state_dict(best_state)
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
    warnings.warn(
        f"The training loss became non-finite after {n_iter} epochs; training "
        f"stopped with the last finite weights. {advice}",
        ConvergenceWarning,
        stacklevel=4,
    )


def warn_not_converged(max_iter):
    warnings.warn(
        f"Stochastic Optimizer: Maximum iterations ({max_iter}) reached and the "
        "optimization hasn't converged yet.",
        ConvergenceWarning,
        stacklevel=3,
    )

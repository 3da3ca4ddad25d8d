"""Training speed: skvae against TVAE, epoch-time drift, step breakdown, scaling.

Four measurements, each printed as a table, with verdicts where there is a target:

1. **Equal architecture on UCI Adult.** ``VAETransformer(n_components=128,
   hidden_layer_sizes=(128, 128), batch_size=500, max_iter=E,
   early_stopping=False, autoregressive=False)`` against ``TVAE(embedding_dim=128,
   compress_dims=(128, 128), decompress_dims=(128, 128), batch_size=500,
   epochs=E)`` told which columns are discrete, both on all 32,561 rows with
   the same torch thread count. skvae's per-epoch time is the private
   ``vae._state.epoch_seconds`` (each epoch's pass over the data, timed inside
   the training loop). TVAE has no timer, so the module-level ``tqdm`` of
   ``ctgan/synthesizers/tvae.py`` (its epoch iterator) is replaced for the
   duration of ``fit`` by a wrapper that records ``time.perf_counter()`` and
   ``time.process_time()`` as each epoch starts and once after the last; a
   TVAE epoch thus includes its per-epoch bookkeeping (one ``.item()`` per
   batch and a ``pd.concat`` of the growing loss table). The same wrapper is
   put on skvae's epoch iterator (``skvae._training.tqdm``) for "stamped" wall
   and CPU times measured identically for both. CPU time is much less affected
   than wall time by other processes on a shared machine. Reported: median
   epoch, the sum of epochs ("training"), the rest of ``fit`` (column
   encoding, model set-up), the wall time of the whole ``fit``, the ratios
   TVAE / skvae, and the number of subnormal decoder weights left at the end.
   skvae runs three times: with its default precision (on a CPU with
   AVX512-BF16 or AMX that means bfloat16 mixed precision for the networks),
   as "skvae fp32" with ``mixed_precision=False``, and as "skvae AR" with the
   autoregressive network that DataFrames get by default (a masked linear map
   and a masked hidden layer of 128 on top of the decoder: more than TVAE's
   architecture, so it is shown, not judged). Target: skvae >= 5x faster per
   epoch (aim 10x).
2. **Flat epoch times.** The mean of epochs 6-15 against the mean of the last
   10 epochs (291-300 with the default ``--epochs 300``), wall and CPU, for
   both models, and the mean epoch time in ten equal blocks of the run.
   Target for skvae: the late wall-time mean within 20 % of the early one.
   Weights that decay into subnormal floats can make CPU arithmetic slow
   (skvae flushes them to zero while training); how much depends on the CPU.
3. **Where the step time goes.** One batch of Adult at the architecture of
   section 1, timed part by part (the fastest of 5 blocks of 50 calls each):
   the whole training step; the encoder and decoder networks' forward and
   backward passes; their matrix products alone, in the compute dtype without
   autograd (forward, weight gradient, and input gradient except for the
   first layer); the column likelihoods' forward and backward passes; the
   reparameterisation noise; and Adam's step. With TVAE's median epoch from
   section 1 divided by its batches per epoch, it prints two upper bounds on
   the per-epoch ratio: if everything but the networks cost nothing, and if
   everything but their matrix products, the noise and Adam cost nothing.
   No target: it shows how far the 5x target of section 1 can be reached on
   this machine.
4. **Scaling in rows.** A 20-column float32 array drawn from a rank-4 Gaussian
   plus isotropic noise at 10^4, 10^5 and 10^6 rows; skvae with its default
   architecture, ``n_components=4``, ``batch_size="auto"``, 3 epochs and
   ``early_stopping=False``. Each size runs in a fresh subprocess that builds
   the data in chunks (no large temporaries), records its resident set size
   (RSS), resets the kernel's peak-RSS mark (``/proc/self/clear_refs``) and
   fits; "peak extra" is the peak RSS during ``fit`` minus the RSS with the
   data already in memory, i.e. the memory ``fit`` needs beyond the data
   itself. (Where the peak mark cannot be reset, ``resource.getrusage``'s
   ``ru_maxrss`` is used instead; a line says so.) Reported: fit seconds,
   microseconds per row and epoch, and the peak extra memory in MB, per row
   and as a multiple of the data. Target: fit time at 10^6 rows within 1.3x of
   100 times the time at 10^4 rows (ratio <= 130).

Every model fit runs in its own subprocess of this script (flag ``--worker``),
with ``torch.set_num_threads(--threads)``, BLAS/OpenMP pools limited to the same
count, and the random seed 0. The load average is printed at the start and the
end: other processes on the machine inflate every time here.

Run from the repository root (the data default is ``../shared/data/adult.csv``
relative to the repository)::

    OMP_NUM_THREADS=1 python benchmarks/speed.py               # full run
    OMP_NUM_THREADS=1 python benchmarks/speed.py --quick       # 30 epochs, <= 10^5
    OMP_NUM_THREADS=1 python benchmarks/speed.py --skip-tvae   # skvae alone

The full run takes about 8 minutes on one core of an AMD EPYC (AVX-512), most
of it TVAE. ``--quick`` (about 1 minute) runs 30 epochs, enough for the 6-15
against last-10 comparison though drift shows up mainly late, and sizes up to
10^5 rows. The script exits with status 1 if any target is missed.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "adult.csv"
SEED = 0
WIDTH = 128  # hidden widths, latent size of the equal-architecture comparison
BATCH = 500
EARLY = (6, 15)  # 1-based epochs of the early window
LATE = 10  # epochs in the late window
SPEEDUP_TARGET, SPEEDUP_AIM = 5.0, 10.0
DRIFT_TARGET = 0.20
SCALING_FEATURES, SCALING_RANK = 20, 4
SCALING_EPOCHS = 3
SCALING_TARGET = 130.0
RESULT_TAG = "SPEED-RESULT "


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs on Adult (default 300, 30 with --quick)",
    )
    parser.add_argument("--skip-tvae", action="store_true", help="time skvae alone")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="30 epochs on Adult and scaling sizes up to 10^5 rows",
    )
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="path to adult.csv"
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        help="row counts of the scaling test (default 10^4 10^5 10^6)",
    )
    # internal: run one fit in this process and print its result as JSON
    parser.add_argument(
        "--worker",
        choices=["skvae", "tvae", "scaling", "breakdown"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--rows", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--full-precision", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--autoregressive", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = 30 if args.quick else 300
    if args.sizes is None:
        args.sizes = [10**4, 10**5] if args.quick else [10**4, 10**5, 10**6]
    if args.epochs < EARLY[1]:
        parser.error(f"--epochs must be at least {EARLY[1]}")
    return args


# ------------------------------------------------------------------- workers


def _limit_threads(threads):
    import warnings

    import torch
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    # the fits run a fixed number of epochs on purpose
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    torch.set_num_threads(threads)
    # keep the limiter alive for the life of the worker
    return threadpool_limits(limits=threads)


def _emit(result):
    print(RESULT_TAG + json.dumps(result), flush=True)


def load_adult(path):
    import pandas as pd

    data = pd.read_csv(path)
    discrete = [c for c in data.columns if data[c].dtype == object]
    return data, discrete


class _EpochClock:
    """Stand-in for a module's ``tqdm`` that stamps the clocks at each epoch.

    Used as a context manager around ``fit``: while active, ``module.tqdm`` is
    replaced by a wrapper whose iterator records ``time.perf_counter()`` and
    ``time.process_time()`` as each epoch starts and once after the last one.
    """

    def __init__(self, module, expected):
        self.module, self.expected = module, expected
        self.stamps = []

    def __enter__(self):
        real = self._real = self.module.tqdm
        stamps = self.stamps

        class Timed:
            def __init__(self, *args, **kwargs):
                self._bar = real(*args, **kwargs)

            def __iter__(self):
                for item in self._bar:
                    stamps.append((time.perf_counter(), time.process_time()))
                    yield item
                stamps.append((time.perf_counter(), time.process_time()))

            def __getattr__(self, name):
                return getattr(self._bar, name)

        self.module.tqdm = Timed
        return self

    def __exit__(self, *exc):
        self.module.tqdm = self._real
        return False

    def epochs(self):
        """Wall and CPU seconds of each epoch, from consecutive stamps."""
        if len(self.stamps) != self.expected + 1:
            raise RuntimeError(
                f"expected {self.expected + 1} epoch stamps from "
                f"{self.module.__name__}, got {len(self.stamps)}: its epoch loop "
                "no longer iterates over tqdm(...)"
            )
        pairs = list(zip(self.stamps[:-1], self.stamps[1:], strict=True))
        return [b[0] - a[0] for a, b in pairs], [b[1] - a[1] for a, b in pairs]


def _subnormals(module):
    """Number of nonzero subnormal floats in a module's parameters, and total."""
    import torch

    count = total = 0
    for p in module.parameters():
        tiny = torch.finfo(p.dtype).tiny
        count += int(((p != 0) & (p.abs() < tiny)).sum())
        total += p.numel()
    return count, total


def equal_architecture(epochs, **params):
    """skvae at TVAE's architecture, on the CPU, for exactly ``epochs`` epochs."""
    from skvae import VAETransformer

    return VAETransformer(
        n_components=WIDTH,
        hidden_layer_sizes=(WIDTH, WIDTH),
        batch_size=BATCH,
        max_iter=epochs,
        early_stopping=False,
        n_iter_no_change=epochs + 1,  # never stop before max_iter
        device="cpu",
        random_state=SEED,
        **params,
    )


def worker_skvae(args):
    import torch

    from skvae import _training

    data, _ = load_adult(args.data)
    vae = equal_architecture(
        args.epochs,
        mixed_precision=False if args.full_precision else "auto",
        autoregressive=args.autoregressive,
    )
    with _EpochClock(_training, args.epochs) as clock:
        start = time.perf_counter()
        vae.fit(data)
        seconds = time.perf_counter() - start
    wall, cpu = clock.epochs()
    _emit(
        {
            "fit_seconds": seconds,
            "epoch_seconds": list(vae._state.epoch_seconds),
            "epoch_stamp_seconds": wall,
            "epoch_cpu_seconds": cpu,
            "n_iter": vae.n_iter_,
            "input_width": next(
                m.in_features
                for m in vae.module_.encoder.modules()
                if isinstance(m, torch.nn.Linear)
            ),
            "decoder_subnormals": _subnormals(vae.module_.decoder),
            "torch_threads": torch.get_num_threads(),
            "bfloat16": vae._compute_dtype("cpu") is not None,
        }
    )


def worker_tvae(args):
    import torch
    from ctgan import TVAE
    from ctgan.synthesizers import tvae as tvae_module

    data, discrete = load_adult(args.data)
    model = TVAE(
        embedding_dim=WIDTH,
        compress_dims=(WIDTH, WIDTH),
        decompress_dims=(WIDTH, WIDTH),
        batch_size=BATCH,
        epochs=args.epochs,
        enable_gpu=False,
    )
    model.set_random_state(SEED)
    with _EpochClock(tvae_module, args.epochs) as clock:
        start = time.perf_counter()
        model.fit(data, discrete_columns=discrete)
        seconds = time.perf_counter() - start
    wall, cpu = clock.epochs()
    _emit(
        {
            "fit_seconds": seconds,
            "epoch_seconds": wall,
            "epoch_stamp_seconds": wall,
            "epoch_cpu_seconds": cpu,
            "n_iter": len(wall),
            "input_width": int(model.transformer.output_dimensions),
            "decoder_subnormals": _subnormals(model.decoder.seq),
            "torch_threads": torch.get_num_threads(),
        }
    )


def _per_call(fn, calls=50, blocks=5):
    """Seconds per call of ``fn``: the fastest of ``blocks`` timed blocks."""
    for _ in range(10):
        fn()
    best = float("inf")
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def worker_breakdown(args):
    """Seconds per training step of skvae's parts, at the equal architecture."""
    import torch

    from skvae import _training

    data, _ = load_adult(args.data)
    vae = equal_architecture(1, autoregressive=False).fit(data)
    module, dtype = vae.module_, vae._compute_dtype("cpu")
    x, _, standardise = vae._training_tensors(data, "cpu")
    generator = torch.Generator().manual_seed(SEED)
    index = torch.randperm(x.shape[0], generator=generator)[:BATCH]
    rows = _training.gather_rows(x, index, standardise)
    eps = torch.randn((BATCH, 1, WIDTH), generator=generator)
    optimizer = _training.make_optimizer(module, 1e-3, 0.0)
    module.train()
    module.compute_dtype = dtype

    def step():
        loss = -module.elbo(rows, eps).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def networks():
        loc, scale = module.encode(rows)
        module.decode(loc + scale * eps[:, 0]).sum().backward()

    with torch.no_grad():
        params = module.decode(module.encode(rows)[0])
    params.requires_grad_()

    def likelihood():
        module.likelihood.log_prob(params[:, None], rows[:, None]).sum().backward()

    # every matrix product of the networks' forward and backward passes
    layers = [
        m
        for net in (module.encoder, module.decoder)
        for m in net
        if isinstance(m, torch.nn.Linear)
    ]
    mm_dtype = dtype or x.dtype
    shapes = [
        (
            torch.randn(BATCH, m.in_features, dtype=mm_dtype),
            m.weight.detach().to(mm_dtype),
            torch.randn(BATCH, m.out_features, dtype=mm_dtype),
        )
        for m in layers
    ]

    def products():
        for i, (a, w, g) in enumerate(shapes):
            a @ w.T  # forward
            g.T @ a  # weight gradient
            if i:  # the data need no gradient
                g @ w

    step()  # Adam's state exists from here on
    _emit(
        {
            "step": _per_call(step),
            "networks": _per_call(networks),
            "likelihood": _per_call(likelihood),
            "products": _per_call(products),
            "noise": _per_call(
                lambda: torch.randn((BATCH, 1, WIDTH), generator=generator)
            ),
            "optimizer": _per_call(optimizer.step),
            "bfloat16": dtype is not None,
            "steps_per_epoch": -(-len(data) // BATCH),
        }
    )


def _proc_status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak_rss():
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return _proc_status_kb("VmHWM") <= _proc_status_kb("VmRSS") + 1024


def make_lowrank(n_rows, seed=SEED, chunk=2**14):
    """Float32 rows of a rank-4 Gaussian plus noise, built chunk by chunk."""
    import numpy as np

    rng = np.random.default_rng(seed)
    d, q = SCALING_FEATURES, SCALING_RANK
    loadings = rng.normal(size=(q, d))
    means = rng.normal(scale=3.0, size=d)
    scales = rng.uniform(0.5, 5.0, size=d)
    X = np.empty((n_rows, d), dtype=np.float32)
    for start in range(0, n_rows, chunk):
        m = min(chunk, n_rows - start)
        z = rng.standard_normal((m, q))
        noise = 0.3 * rng.standard_normal((m, d))
        X[start : start + m] = (z @ loadings + noise) * scales + means
    return X


def worker_scaling(args):
    import gc
    import resource

    import torch

    from skvae import VAETransformer
    from skvae._transformer import _auto_batch_size

    def model():
        return VAETransformer(
            n_components=SCALING_RANK,
            batch_size="auto",
            max_iter=SCALING_EPOCHS,
            early_stopping=False,
            device="cpu",
            random_state=SEED,
        )

    # warm-up: lazy initialisation of torch kernels and thread pools
    model().set_params(max_iter=1).fit(make_lowrank(512, seed=1))
    gc.collect()
    X = make_lowrank(args.rows)
    gc.collect()
    rss_data_kb = _proc_status_kb("VmRSS")
    maxrss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reset = _reset_peak_rss()
    vae = model()
    start = time.perf_counter()
    vae.fit(X)
    seconds = time.perf_counter() - start
    hwm_kb = _proc_status_kb("VmHWM")
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _emit(
        {
            "rows": args.rows,
            "fit_seconds": seconds,
            "epoch_seconds": list(vae._state.epoch_seconds),
            "batch_size": min(_auto_batch_size(args.rows, linear=False), args.rows),
            "data_mb": X.nbytes / 2**20,
            "rss_data_mb": rss_data_kb / 1024,
            "peak_extra_mb": ((hwm_kb if reset else maxrss_kb) - rss_data_kb) / 1024,
            "peak_method": "VmHWM after reset" if reset else "ru_maxrss",
            "maxrss_extra_mb": (maxrss_kb - rss_data_kb) / 1024,
            "maxrss_before_fit_mb": maxrss_before_kb / 1024,
            "torch_threads": torch.get_num_threads(),
        }
    )


# ---------------------------------------------------------------- the driver


def run_worker(args, kind, rows=None, full_precision=False, autoregressive=False):
    """Run one worker in a fresh interpreter; return its parsed result."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        kind,
        "--threads",
        str(args.threads),
        "--epochs",
        str(args.epochs),
        "--data",
        str(args.data),
    ]
    if rows is not None:
        cmd += ["--rows", str(rows)]
    if full_precision:
        cmd += ["--full-precision"]
    if autoregressive:
        cmd += ["--autoregressive"]
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(args.threads)
    proc = subprocess.run(
        cmd, env=env, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT
    )
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            result = json.loads(line[len(RESULT_TAG) :])
        else:
            print(line)
    if proc.returncode != 0 or result is None:
        raise RuntimeError(f"worker {kind!r} failed with status {proc.returncode}")
    return result


def median(values):
    values = sorted(values)
    n = len(values)
    return (values[(n - 1) // 2] + values[n // 2]) / 2


def mean(values):
    return sum(values) / len(values)


def verdict(ok):
    return "PASS" if ok else "FAIL"


def load_line():
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} CPUs"


def summarise(result):
    wall, cpu = result["epoch_seconds"], result["epoch_cpu_seconds"]
    stamped = result["epoch_stamp_seconds"]
    early, late = slice(EARLY[0] - 1, EARLY[1]), slice(-LATE, None)
    training = sum(wall)
    return {
        "median": median(wall),
        "median_stamped": median(stamped),
        "median_cpu": median(cpu),
        "training": training,
        "other": result["fit_seconds"] - training,
        "fit": result["fit_seconds"],
        "early": mean(wall[early]),
        "late": mean(wall[late]),
        "early_cpu": mean(cpu[early]),
        "late_cpu": mean(cpu[late]),
    }


def section_adult(args, checks):
    print(
        f"\n== 1. Adult ({WIDTH}-{WIDTH} hidden, {WIDTH} latent, batch {BATCH}, "
        f"{args.epochs} epochs, {args.threads} thread(s)) =="
    )
    results = {
        "skvae": run_worker(args, "skvae"),
        "skvae fp32": run_worker(args, "skvae", full_precision=True),
        "skvae AR": run_worker(args, "skvae", autoregressive=True),
    }
    print(
        "skvae trains in bfloat16 mixed precision (its default on this CPU): "
        f"{results['skvae']['bfloat16']}; 'skvae fp32' is mixed_precision=False;\n"
        "both without the autoregressive network, which TVAE does not have. "
        "'skvae AR' adds it\n(the DataFrame default, autoregressive='auto')."
    )
    if not args.skip_tvae:
        results["TVAE"] = run_worker(args, "tvae")
    stats = {name: summarise(r) for name, r in results.items()}
    names = list(results)
    both = "TVAE" in names
    print(f"{'':34}" + "".join(f"{n:>11}" for n in names) + (" TVAE/skvae" * both))
    rows = [
        ("encoded input width", lambda n: f"{results[n]['input_width']:d}"),
        ("epochs run", lambda n: f"{results[n]['n_iter']:d}"),
        ("median epoch, wall (s) [1]", "median"),
        ("median epoch, wall, stamped (s)", "median_stamped"),
        ("median epoch, CPU, stamped (s)", "median_cpu"),
        ("training: sum of epochs (s)", "training"),
        ("rest of fit (s)", "other"),
        ("fit wall time (s)", "fit"),
        (
            "subnormal decoder weights",
            lambda n: "{}/{}".format(*results[n]["decoder_subnormals"]),
        ),
    ]
    for label, key in rows:
        line = f"{label:34}"
        if callable(key):
            line += "".join(f"{key(n):>11}" for n in names)
        else:
            digits = 3 if key.startswith("median") else 1
            line += "".join(f"{stats[n][key]:>11.{digits}f}" for n in names)
            if both:
                line += f"{stats['TVAE'][key] / stats['skvae'][key]:>10.1f}x"
        print(line)
    print(
        "[1] skvae: its own per-epoch timer (vae._state.epoch_seconds); TVAE: "
        "stamps at each\n    epoch start. 'stamped' = the same stamps for both "
        "(includes per-epoch bookkeeping)."
    )
    if both:
        speedup = stats["TVAE"]["median"] / stats["skvae"]["median"]
        cpu = stats["TVAE"]["median_cpu"] / stats["skvae"]["median_cpu"]
        total = stats["TVAE"]["fit"] / stats["skvae"]["fit"]
        aim = "met" if speedup >= SPEEDUP_AIM else "not met"
        for name in ("skvae fp32", "skvae AR"):
            ratio = stats["TVAE"]["median"] / stats[name]["median"]
            print(f"      median epoch, {name}: {ratio:.1f}x faster than TVAE")
        print(
            f"{verdict(speedup >= SPEEDUP_TARGET)}  median epoch: skvae "
            f"{speedup:.1f}x faster than TVAE (target >= {SPEEDUP_TARGET:g}x, "
            f"aim {SPEEDUP_AIM:g}x {aim}); CPU time {cpu:.1f}x; whole fit "
            f"{total:.1f}x"
        )
        checks.append(speedup >= SPEEDUP_TARGET)
    ok = results["skvae"]["n_iter"] == args.epochs
    if not ok:
        print(f"FAIL  skvae stopped after {results['skvae']['n_iter']} epochs")
        checks.append(ok)
    return results, stats


def section_drift(args, results, stats, checks):
    late = (args.epochs - LATE + 1, args.epochs)
    print(
        f"\n== 2. Flat epoch times: mean of epochs {EARLY[0]}-{EARLY[1]} (early) vs "
        f"{late[0]}-{late[1]} (late) =="
    )
    print(
        f"{'':11}{'early s':>10}{'late s':>10}{'late/early':>12}"
        f"{'early CPU s':>13}{'late CPU s':>12}{'late/early':>12}"
    )
    for name, s in stats.items():
        print(
            f"{name:11}{s['early']:>10.3f}{s['late']:>10.3f}"
            f"{s['late'] / s['early']:>12.2f}{s['early_cpu']:>13.3f}"
            f"{s['late_cpu']:>12.3f}{s['late_cpu'] / s['early_cpu']:>12.2f}"
        )
    blocks = 10
    size = args.epochs // blocks
    print(f"mean epoch (s) in {blocks} blocks of {size} epochs, wall and CPU:")
    for name, r in results.items():
        for kind, key in (("wall", "epoch_seconds"), ("CPU", "epoch_cpu_seconds")):
            epochs = r[key]
            means = [mean(epochs[i * size : (i + 1) * size]) for i in range(blocks)]
            print(f"  {name:11}{kind:5}" + " ".join(f"{m:.3f}" for m in means))
    ratio = stats["skvae"]["late"] / stats["skvae"]["early"]
    cpu = stats["skvae"]["late_cpu"] / stats["skvae"]["early_cpu"]
    ok = abs(ratio - 1.0) <= DRIFT_TARGET
    print(
        f"{verdict(ok)}  skvae late/early = {ratio:.2f} wall, {cpu:.2f} CPU "
        f"(target: wall within {DRIFT_TARGET:.0%} of 1)"
    )
    checks.append(ok)
    if "TVAE" in stats:
        tvae = stats["TVAE"]["late"] / stats["TVAE"]["early"]
        tvae_cpu = stats["TVAE"]["late_cpu"] / stats["TVAE"]["early_cpu"]
        print(
            f"      TVAE late/early = {tvae:.2f} wall, {tvae_cpu:.2f} CPU "
            "(for reference)"
        )


def section_scaling(args, checks):
    print(
        f"\n== 4. Scaling: {SCALING_FEATURES} float32 columns (rank "
        f"{SCALING_RANK} + noise), default architecture, n_components="
        f"{SCALING_RANK}, batch 'auto', {SCALING_EPOCHS} epochs =="
    )
    results = [run_worker(args, "scaling", rows=n) for n in args.sizes]
    print(
        f"{'rows':>9}{'batch':>7}{'fit s':>9}{'epoch s':>9}{'us/row/ep':>11}"
        f"{'data MB':>9}{'peak+ MB':>10}{'B/row':>8}{'x data':>8}"
    )
    for r in results:
        epoch = median(r["epoch_seconds"])
        extra = r["peak_extra_mb"]
        print(
            f"{r['rows']:>9}{r['batch_size']:>7}{r['fit_seconds']:>9.2f}"
            f"{epoch:>9.3f}{1e6 * r['fit_seconds'] / r['rows'] / SCALING_EPOCHS:>11.2f}"
            f"{r['data_mb']:>9.1f}{extra:>10.1f}"
            f"{extra * 2**20 / r['rows']:>8.0f}{extra / r['data_mb']:>8.2f}"
        )
    methods = {r["peak_method"] for r in results}
    print(
        f"peak+ = peak RSS during fit minus RSS with the data loaded "
        f"({', '.join(sorted(methods))})"
    )
    small, large = results[0], results[-1]
    factor = large["rows"] / small["rows"]
    time_ratio = large["fit_seconds"] / small["fit_seconds"]
    train_ratio = sum(large["epoch_seconds"]) / sum(small["epoch_seconds"])
    mem_ratio = large["peak_extra_mb"] / max(small["peak_extra_mb"], 1e-9)
    print(
        f"{large['rows']}/{small['rows']} rows ({factor:g}x): fit time "
        f"{time_ratio:.1f}x, training time {train_ratio:.1f}x, "
        f"peak extra memory {mem_ratio:.1f}x"
    )
    if factor == 100:
        ok = time_ratio <= SCALING_TARGET
        print(
            f"{verdict(ok)}  fit time ratio {time_ratio:.1f} "
            f"(target <= {SCALING_TARGET:g}, i.e. within 1.3x of linear)"
        )
        checks.append(ok)
    else:
        print(f"      (the <= {SCALING_TARGET:g} target needs sizes 10^4 and 10^6)")


def section_breakdown(args, stats):
    result = run_worker(args, "breakdown")
    precision = "bfloat16 mixed" if result["bfloat16"] else "full"
    print(
        "\n== 3. Where skvae's training step goes (section 1's architecture, "
        f"batch {BATCH}, {precision} precision) =="
    )
    parts = [
        ("whole step (ELBO, backward, Adam)", "step"),
        ("encoder + decoder networks, forward + backward", "networks"),
        ("  of which their matrix products alone", "products"),
        ("column likelihoods, forward + backward", "likelihood"),
        ("reparameterisation noise", "noise"),
        ("Adam step", "optimizer"),
    ]
    for label, key in parts:
        print(f"{label:50}{1e3 * result[key]:8.3f} ms")
    if "TVAE" not in stats:
        return
    tvae = stats["TVAE"]["median"] / result["steps_per_epoch"]
    floor = result["products"] + result["noise"] + result["optimizer"]
    print(f"{'TVAE step (section 1 median epoch / batches)':50}{1e3 * tvae:8.3f} ms")
    print(
        f"TVAE step / skvae step here: {tvae / result['step']:.1f}x. Upper bounds "
        f"on that ratio:\n  {tvae / result['networks']:.1f}x if everything but "
        "the two networks cost nothing;\n  "
        f"{tvae / floor:.1f}x if everything but their matrix products, the noise "
        "and Adam cost nothing."
    )


def _version(name):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "(not installed)"


def main(argv=None):
    args = parse_args(argv)
    if args.worker is not None:
        limiter = _limit_threads(args.threads)  # noqa: F841
        workers = {
            "skvae": worker_skvae,
            "tvae": worker_tvae,
            "scaling": worker_scaling,
            "breakdown": worker_breakdown,
        }
        workers[args.worker](args)
        return 0
    started = time.perf_counter()
    print(
        ", ".join(f"{name} {_version(name)}" for name in ("skvae", "torch", "ctgan"))
        + f", Python {platform.python_version()}, {platform.machine()}"
    )
    print(f"threads per fit: {args.threads}; epochs on Adult: {args.epochs}")
    print(f"load average at start: {load_line()}")
    checks = []
    results, stats = section_adult(args, checks)
    section_drift(args, results, stats, checks)
    section_breakdown(args, stats)
    section_scaling(args, checks)
    print(f"\nload average at end: {load_line()}")
    print(f"total wall time: {time.perf_counter() - started:.0f} s")
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())

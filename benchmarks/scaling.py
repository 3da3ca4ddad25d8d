"""Scaling in rows: how do fit time and peak memory beyond the data grow with n?

A 20-column float32 array drawn from a rank-4 Gaussian plus isotropic noise at
10^4, 10^5 and 10^6 rows (``--sizes``); skvae with its default architecture,
``n_components=4``, ``batch_size="auto"``, 3 epochs and
``early_stopping=False``, on the CPU. Each size runs in a fresh subprocess of
this script (flag ``--worker``) that fits once on 512 rows (untimed warm-up),
builds the data in chunks (no large temporaries), records its resident set
size (RSS), resets the kernel's peak-RSS mark (``/proc/self/clear_refs``) and
fits; "peak+" is the peak RSS during ``fit`` minus the RSS with the data
already in memory, i.e. the memory ``fit`` needs beyond the data itself.
(Where the peak mark cannot be reset, ``resource.getrusage``'s ``ru_maxrss``
is used instead; a line says so.) Reported: fit seconds, microseconds per row
and epoch, the rows per training step (``batch_size_``), and the peak extra
memory in MB, per row and as a multiple of the data.

Target: fit time at 10^6 rows within 1.3x of 100 times the time at 10^4 rows
(ratio <= 130); it is judged where the largest size is 100 times the
smallest. Also checked: every fit ran its 3 epochs.

Every worker runs with ``torch.set_num_threads(--threads)`` and the BLAS/OpenMP
pools limited to the same count. Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/scaling.py           # full run
    OMP_NUM_THREADS=1 python benchmarks/scaling.py --quick   # 10^4 and 10^5

The full run takes about a minute on one thread, most of it the 10^6 rows;
``--quick`` a few seconds, without the target. The script exits with status 1
if a check fails.
"""

import argparse
import json
import sys

from _common import (
    SEED,
    Verdicts,
    add_common_args,
    describe_machine,
    load_average,
    proc_status_kb,
    ratio,
    reset_peak_rss,
    run_child,
    set_up,
    table,
    timed,
)

FEATURES, RANK = 20, 4
EPOCHS = 3
TARGET = 130.0  # fit time at 100x the rows: within 1.3x of linear
RESULT_TAG = "SCALING-RESULT "


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(parser, data=False)
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        help="row counts (default 10^4 10^5 10^6; 10^4 10^5 with --quick)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="sizes 10^4 and 10^5 (no target)"
    )
    # internal: fit once on this many rows and print the result as JSON
    parser.add_argument("--worker", type=int, metavar="ROWS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sizes is None:
        args.sizes = [10**4, 10**5] if args.quick else [10**4, 10**5, 10**6]
    return args


# -------------------------------------------------------------------- worker


def make_lowrank(n_rows, seed=SEED, chunk=2**14):
    """Float32 rows of a rank-4 Gaussian plus noise, built chunk by chunk."""
    import numpy as np

    rng = np.random.default_rng(seed)
    loadings = rng.normal(size=(RANK, FEATURES))
    means = rng.normal(scale=3.0, size=FEATURES)
    scales = rng.uniform(0.5, 5.0, size=FEATURES)
    X = np.empty((n_rows, FEATURES), dtype=np.float32)
    for start in range(0, n_rows, chunk):
        m = min(chunk, n_rows - start)
        z = rng.standard_normal((m, RANK))
        noise = 0.3 * rng.standard_normal((m, FEATURES))
        X[start : start + m] = (z @ loadings + noise) * scales + means
    return X


def worker(rows, threads):
    import gc
    import resource

    from skvae import VAETransformer

    set_up(threads)

    def model():
        return VAETransformer(
            n_components=RANK,
            batch_size="auto",
            max_iter=EPOCHS,
            early_stopping=False,
            device="cpu",
            random_state=SEED,
        )

    # warm-up: lazy initialisation of torch kernels and thread pools
    model().set_params(max_iter=1).fit(make_lowrank(512, seed=1))
    gc.collect()
    X = make_lowrank(rows)
    gc.collect()
    rss_data_kb = proc_status_kb("VmRSS")
    reset = reset_peak_rss()
    vae, seconds = timed(model().fit, X)
    hwm_kb = proc_status_kb("VmHWM")
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "rows": rows,
        "fit_seconds": seconds,
        "n_iter": vae.n_iter_,
        "batch_size": getattr(vae, "batch_size_", None),
        "data_mb": X.nbytes / 2**20,
        "peak_extra_mb": ((hwm_kb if reset else maxrss_kb) - rss_data_kb) / 1024,
        "peak_method": "VmHWM after reset" if reset else "ru_maxrss",
    }
    print(RESULT_TAG + json.dumps(result), flush=True)


# -------------------------------------------------------------------- driver


def run_worker(rows, threads):
    """Fit on ``rows`` rows in a fresh interpreter; return its parsed result."""
    flags = ["--worker", str(rows), "--threads", str(threads)]
    what = f"the worker for {rows} rows"
    return run_child(__file__, flags, threads, RESULT_TAG, what=what)


def main(argv=None):
    args = parse_args(argv)
    if args.worker is not None:
        worker(args.worker, args.threads)
        return 0
    describe_machine(args.threads)
    print(
        f"\n{FEATURES} float32 columns (rank {RANK} + noise), default architecture, "
        f"n_components={RANK}, batch 'auto', {EPOCHS} epochs, one process per size"
    )
    verdicts = Verdicts()
    results = [run_worker(n, args.threads) for n in args.sizes]
    table(
        ["rows", "per step", "fit s", "us/row/ep", "data MB", "peak+ MB"]
        + ["B/row", "x data"],
        [
            [
                r["rows"],
                r["batch_size"],
                r["fit_seconds"],
                1e6 * r["fit_seconds"] / r["rows"] / EPOCHS,
                r["data_mb"],
                r["peak_extra_mb"],
                r["peak_extra_mb"] * 2**20 / r["rows"],
                r["peak_extra_mb"] / r["data_mb"],
            ]
            for r in results
        ],
        ["d", ".2f", ".2f", ".1f", ".1f", ".0f", ".2f"],
    )
    methods = ", ".join(sorted({r["peak_method"] for r in results}))
    print(
        f"  per step: rows per training step (batch_size_); peak+ = peak RSS "
        f"during fit minus RSS with the data loaded ({methods})"
    )
    small, large = results[0], results[-1]
    factor = large["rows"] / small["rows"]
    time_ratio = large["fit_seconds"] / small["fit_seconds"]
    mem_ratio = ratio(large["peak_extra_mb"], small["peak_extra_mb"])
    print(
        f"  {large['rows']} / {small['rows']} rows ({factor:g}x): fit time "
        f"{time_ratio:.1f}x, peak extra memory "
        + ("n/a" if mem_ratio is None else f"{mem_ratio:.1f}x")
    )
    print()
    for r in results:
        verdicts.check(
            f"{r['rows']} rows: ran {r['n_iter']} of {EPOCHS} epochs",
            r["n_iter"] == EPOCHS,
        )
    verdicts.check(
        f"fit time ratio {time_ratio:.1f} for {factor:g}x the rows (target <= "
        f"{TARGET:g} for 100x the rows, i.e. within 1.3x of linear)",
        time_ratio <= TARGET if factor == 100 else None,
    )
    print(f"\nload average at end: {load_average()}")
    return verdicts.finish()


if __name__ == "__main__":
    sys.exit(main())

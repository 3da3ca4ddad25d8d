"""Speed: the speed questions of issue 17, each answered in one run.

Everything runs at package defaults (``VAETransformer(random_state=0)``) on
the CPU (``device="cpu"``) with one torch thread and the BLAS/OpenMP pools
limited to one, except where a question says otherwise. Every model is first
fitted once on 1,000 rows, untimed, so that no timed call pays for lazy
imports and initialisation. The four questions (``--parts``, default all):

1. **fit** - whole fit on UCI Adult (``../shared/data/adult.csv``), the
   training 80 % of ``train_test_split(random_state=0)`` as ``tabular.py``
   splits it (26,048 rows): skvae against CTGAN's TVAE (300 epochs, its
   defaults, told the discrete columns, on the CPU) and against the
   sequential CART synthesizer of ``synthpop-py`` (``_peers.run_cart``; its
   fit alone). Checks: skvae's fit <= TVAE's / 10, and <= CART's.
   ``--skip-tvae`` leaves TVAE out (its fit takes 2-4 minutes).
2. **sample** - ``sample(10**6)`` of the adult model, in a fresh process
   that fits it as part 1 does, on one thread: one untimed warm-up call of
   1,000 rows, then two timed calls; the best is judged. Memory: the peak
   rise of the resident set size (RSS) during each call, read from the
   kernel's peak mark (VmHWM, reset through ``/proc/self/clear_refs`` just
   before the call, after ``malloc_trim`` has handed free memory back), so it
   counts every allocation (NumPy, pandas, torch), which ``tracemalloc`` does
   not. It is set against the returned DataFrame's
   ``memory_usage(deep=True)``; "peak rise - result" is the working memory
   beyond the result, which a batched sampler keeps bounded. Check: best of
   the two calls <= 2 s.
3. **large** - a generated mixed table of 30 columns (seed 0): 15 floats
   (normal, log-normal, exponential, two zero-inflated, uniform, bimodal,
   Student t, beta, gamma, Pareto, a linear function of two others, a
   proportion, money rounded to cents, heights rounded to 0.1), 5 integers,
   6 categorical columns with 3, 5, 8, 12, 25 and 50 levels (the first three
   text of dtype object, the others pandas categories), 2 booleans, a date
   and a nullable ``Int64`` with 5 % missing. Fitted at defaults on 2 cores
   (``torch.set_num_threads(2)``, OMP_NUM_THREADS=2, OMP_WAIT_POLICY=PASSIVE
   unless ``--omp-wait-policy`` says otherwise: with OpenMP's spinning
   default, 10 epochs on 10**4 rows took 106-170 s instead of 4.6-5.7 s
   while another process held one of the two cores) at 10**4, 10**5 and
   10**6 rows (``--max-rows`` stops earlier), each size in a fresh process
   (this script with ``--child-large N``, one JSON line back) so that its
   peak RSS is its own. Reported: fit seconds, epochs, microseconds per row
   and epoch, the DataFrame's ``memory_usage(deep=True)`` and its RSS (the
   RSS the built table added; lower where text columns share their strings),
   the peak RSS rise of the fit and its multiple of the DataFrame (deep
   size), and the cost ratio of 10**6 to 10**4 rows (linear: 100x). Checks,
   at 10**6 rows: fit <= 600 s, peak rise <= 3x the DataFrame.
4. **gpu** - when ``torch.cuda.is_available()``: the adult fit with
   ``device="cuda"`` (after an untimed warm-up fit on the GPU) and the rows per
   second of ``sample(10**6)`` there (best of two after a warm-up); check:
   fit < 3 s (the issue's aim). Otherwise it prints "no GPU on this machine".

The load average is printed before each part and at the end: other
processes on the machine inflate every time here. Run from the repository
root::

    OMP_NUM_THREADS=1 python benchmarks/speed.py                 # full run
    OMP_NUM_THREADS=1 python benchmarks/speed.py --skip-tvae --max-rows 100000

The full run took 27 minutes on a shared 2-core x86 machine (load average
2.5-3.9): TVAE 3.5 of them, the 10**6-row fit 19; the second command about
4 minutes. The script exits with status 1 if a check fails.
"""

import argparse
import json
import sys
import warnings
from pathlib import Path

from _common import (
    ADULT,
    FIT_SPEEDUP_TARGET,
    SEED,
    Verdicts,
    describe_machine,
    fit_tvae,
    fmt,
    load_adult,
    load_average,
    peak_rise,
    ratio,
    rss_bytes,
    run_child,
    set_up,
    table,
    timed,
)

PARTS = ("fit", "sample", "large", "gpu")
TVAE_EPOCHS = 300  # TVAE's default
WARM_UP_ROWS = 1000
SAMPLE_ROWS = 10**6
SAMPLE_TARGET_S = 2.0
GPU_FIT_TARGET_S = 3.0
LARGE_SIZES = (10**4, 10**5, 10**6)
LARGE_THREADS = 2
LARGE_FIT_TARGET_S = 600.0
LARGE_MEMORY_TARGET = 3.0  # peak RSS rise of the fit / the DataFrame
RESULT_TAG = "SPEED-RESULT "
MB = 2**20


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=ADULT,
        help="path to adult.csv (default ../shared/data/adult.csv beside the "
        "repository)",
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="the questions to answer (default all)",
    )
    parser.add_argument("--skip-tvae", action="store_true", help="leave TVAE out")
    parser.add_argument(
        "--omp-wait-policy",
        choices=("PASSIVE", "ACTIVE", "inherit"),
        default="PASSIVE",
        help="OMP_WAIT_POLICY of the 2-thread fits of the mixed table (default "
        "PASSIVE; inherit: as this process's environment has it)",
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=LARGE_SIZES[-1],
        help=f"largest size of the mixed table (default {LARGE_SIZES[-1]})",
    )
    # internal: one measurement in a fresh process, printed as one JSON line
    parser.add_argument("--child-sample", type=Path, help=argparse.SUPPRESS)  # data
    parser.add_argument("--child-large", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.max_rows < LARGE_SIZES[0]:
        parser.error(f"--max-rows must be at least {LARGE_SIZES[0]}")
    return args


def quiet_peers():
    """Silence pandas deprecation notices raised inside the peers and
    synthpop-py's disclosure advice (as tabular.py does)."""
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="synthpop")


def skvae(device="cpu", **params):
    from skvae import VAETransformer

    return VAETransformer(random_state=SEED, device=device, **params)


def adult_train(path):
    from _tables import split

    return split(load_adult(path))[0]


# ------------------------------------------------------------- 1. adult fit


def part_fit(train, args, verdicts):
    """Whole-fit seconds of skvae, CART and TVAE on adult."""
    from _peers import run_cart

    quiet_peers()
    warm = train.iloc[:WARM_UP_ROWS]
    skvae(max_iter=1).fit(warm)  # untimed warm-ups
    run_cart(warm)
    if not args.skip_tvae:
        fit_tvae(warm, 1, enable_gpu=False)

    model, skvae_s = timed(skvae().fit, train)
    print(f"  skvae: {skvae_s:.1f} s ({model.n_iter_} epochs)", flush=True)
    cart_s = run_cart(train).fit_seconds
    print(f"  CART: {cart_s:.1f} s", flush=True)
    tvae_s = None
    if not args.skip_tvae:
        tvae_s = fit_tvae(train, TVAE_EPOCHS, enable_gpu=False)[1]
        print(f"  TVAE: {tvae_s:.1f} s ({TVAE_EPOCHS} epochs)", flush=True)
    print()
    table(
        ["model", "fit s", "model / skvae"],
        [
            ["skvae", skvae_s, 1.0],
            ["CART (synthpop-py)", cart_s, cart_s / skvae_s],
            [f"TVAE ({TVAE_EPOCHS} epochs)", tvae_s, ratio(tvae_s, skvae_s)],
        ],
        [".1f", ".2f"],
    )
    print()
    speedup = ratio(tvae_s, skvae_s)
    verdicts.check(
        f"adult fit: skvae <= TVAE / {FIT_SPEEDUP_TARGET:g} "
        f"(TVAE / skvae = {fmt(speedup, '.1f')})",
        None if speedup is None else speedup >= FIT_SPEEDUP_TARGET,
    )
    verdicts.check(
        f"adult fit: skvae <= CART (CART / skvae = {cart_s / skvae_s:.2f})",
        skvae_s <= cart_s,
    )


# ------------------------------------------------------------ 2. sampling


def child_sample(path):
    """In a fresh process: fit the adult model as part 1 does, then time
    ``sample(10**6)`` of it."""
    set_up(1)
    model = skvae().fit(adult_train(path))
    model.sample(WARM_UP_ROWS, random_state=SEED)  # untimed warm-up
    calls = []
    for _ in range(2):
        before = rss_bytes()
        df, seconds, rise, method = peak_rise(
            model.sample, SAMPLE_ROWS, random_state=SEED
        )
        result_rss = rss_bytes() - before
        calls.append({"seconds": seconds, "peak_rise": rise, "result_rss": result_rss})
        result_bytes = int(df.memory_usage(deep=True).sum())
        rows = len(df)
        del df
    emit(
        {
            "calls": calls,
            "rows": rows,
            "result_bytes": result_bytes,
            "method": method,
        }
    )


def part_sample(data, verdicts):
    r = child(["--child-sample", str(data)], threads=1)
    result_mb = r["result_bytes"] / MB
    table(
        ["call", "seconds", "rows / s", "peak rise MB", "result MB"]
        + ["rise - result", "result RSS MB", "rise - RSS"],
        [
            [
                f"{i + 1}",
                c["seconds"],
                r["rows"] / c["seconds"],
                c["peak_rise"] / MB,
                result_mb,
                c["peak_rise"] / MB - result_mb,
                c["result_rss"] / MB,
                (c["peak_rise"] - c["result_rss"]) / MB,
            ]
            for i, c in enumerate(r["calls"])
        ],
        [".2f", ".3g", ".0f", ".0f", ".0f", ".0f", ".0f"],
    )
    print(
        f"  {r['rows']} rows; result MB = the DataFrame's memory_usage(deep=True) "
        "(it counts a string once per cell, even where cells share one object); "
        "result RSS MB = the RSS the returned DataFrame holds; peak rise = peak "
        f"RSS during the call minus RSS before it ({r['method']}); rise - "
        "result and rise - RSS = the working memory beyond the result"
    )
    print()
    best = min(c["seconds"] for c in r["calls"])
    verdicts.check(
        f"sample({SAMPLE_ROWS}) of adult on one thread: best {best:.2f} s "
        f"<= {SAMPLE_TARGET_S:g} s",
        best <= SAMPLE_TARGET_S,
    )


# ---------------------------------------------------------- 3. large table


def make_mixed(n_rows, seed=SEED):
    """The 30-column mixed table of part 3, ``n_rows`` rows, seeded."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = n_rows
    z = rng.standard_normal((n, 3))  # shared factors: columns are related
    group = rng.integers(0, 8, n)
    cols = {
        "f_normal": 50 + 10 * z[:, 0],
        "f_lognormal": np.exp(1 + 0.8 * z[:, 1]),
        "f_exponential": rng.exponential(2.0, n),
        "f_zero_inflated": np.where(rng.random(n) < 0.7, 0.0, rng.lognormal(3, 1, n)),
        "f_zero_inflated_2": np.where(z[:, 2] < 0.5, 0.0, rng.gamma(2.0, 100.0, n)),
        "f_uniform": rng.uniform(-1, 1, n),
        "f_bimodal": np.where(
            rng.random(n) < 0.4, rng.normal(-3, 0.5, n), rng.normal(2, 1, n)
        ),
        "f_student_t": rng.standard_t(3, n),
        "f_beta": rng.beta(0.5, 2.0, n),
        "f_gamma": rng.gamma(1.5, 3.0, n) + group,
        "f_pareto": (rng.pareto(2.5, n) + 1) * 1000,
    }
    cols["f_linear"] = 0.5 * cols["f_normal"] + 2 * z[:, 1] + rng.normal(0, 1, n)
    cols["f_proportion"] = rng.beta(2.0, 2.0, n)
    cols["f_money"] = np.round(rng.lognormal(4, 1.2, n), 2)
    cols["f_height"] = np.round(rng.normal(170, 10, n), 1)
    cols["i_age"] = rng.integers(18, 91, n)
    cols["i_poisson"] = rng.poisson(3 + group / 2, n)
    cols["i_geometric"] = rng.geometric(0.2, n)
    cols["i_binomial"] = rng.binomial(20, 0.3, n)
    cols["i_year"] = rng.integers(1950, 2021, n)
    for i, k in enumerate((3, 5, 8, 12, 25, 50)):
        weights = 1.0 / np.arange(1, k + 1)  # Zipf-like level frequencies
        codes = rng.choice(k, n, p=weights / weights.sum())
        if i == 0:  # one categorical column tied to the group
            codes = np.where(rng.random(n) < 0.5, group % k, codes)
        labels = np.array([f"level_{j:02d}" for j in range(k)], dtype=object)
        if i < 3:
            cols[f"c_text_{k}"] = labels[codes]
        else:
            cols[f"c_cat_{k}"] = pd.Categorical.from_codes(codes, labels)
    cols["b_flag"] = rng.random(n) < 0.3
    cols["b_positive"] = z[:, 0] > 0
    days = rng.integers(0, 3650, n)
    cols["d_date"] = pd.Timestamp("2015-01-01") + pd.to_timedelta(days, unit="D")
    counts = pd.array(rng.poisson(10, n), dtype="Int64")
    counts[rng.random(n) < 0.05] = pd.NA
    cols["n_count"] = counts
    return pd.DataFrame(cols)


def child_large(rows):
    """In a fresh process: fit at defaults on ``rows`` rows of the mixed table."""
    set_up(LARGE_THREADS)
    skvae(max_iter=1).fit(make_mixed(WARM_UP_ROWS, seed=1))  # untimed warm-up
    before = rss_bytes()
    df = make_mixed(rows)
    df_rss = rss_bytes() - before
    model, seconds, rise, method = peak_rise(skvae().fit, df)
    emit(
        {
            "rows": rows,
            "columns": df.shape[1],
            "seconds": seconds,
            "n_iter": model.n_iter_,
            "batch_size": getattr(model, "batch_size_", None),
            "df_bytes": int(df.memory_usage(deep=True).sum()),
            "df_rss": df_rss,
            "peak_rise": rise,
            "method": method,
        }
    )


def part_large(max_rows, wait_policy, verdicts):
    sizes = [n for n in LARGE_SIZES if n <= max_rows]
    results = []
    for n in sizes:
        r = child(["--child-large", str(n)], LARGE_THREADS, wait_policy)
        print(
            f"  {n} rows: {r['seconds']:.1f} s ({r['n_iter']} epochs), peak rise "
            f"{r['peak_rise'] / r['df_bytes']:.2f}x the DataFrame; load average "
            f"{load_average()}",
            flush=True,
        )
        results.append(r)
    print()
    table(
        ["rows", "fit s", "epochs", "us/row/ep", "df MB", "df RSS MB"]
        + ["peak rise MB", "x df"],
        [
            [
                r["rows"],
                r["seconds"],
                r["n_iter"],
                1e6 * r["seconds"] / r["rows"] / r["n_iter"],
                r["df_bytes"] / MB,
                r["df_rss"] / MB,
                r["peak_rise"] / MB,
                r["peak_rise"] / r["df_bytes"],
            ]
            for r in results
        ],
        [".1f", "d", ".1f", ".0f", ".0f", ".0f", ".2f"],
    )
    print(
        f"  {results[0]['columns']} columns; df MB = memory_usage(deep=True); df "
        "RSS MB = the RSS the built table added; peak rise = peak RSS during the "
        f"fit minus RSS before it ({results[0]['method']}); x df = peak rise / "
        "df MB"
    )
    by_rows = {r["rows"]: r for r in results}
    small, large = results[0], results[-1]
    cost = large["seconds"] / small["seconds"]
    print(
        f"  cost ratio {large['rows']} / {small['rows']} rows "
        f"({large['rows'] / small['rows']:g}x the rows): {cost:.1f}x the fit time"
        + (" (linear: 100x)" if large["rows"] == 100 * small["rows"] else "")
    )
    print()
    top = by_rows.get(LARGE_SIZES[-1])
    verdicts.check(
        f"mixed table, {LARGE_SIZES[-1]} rows, 2 threads: fit "
        f"{fmt(top and top['seconds'], '.0f')} s <= {LARGE_FIT_TARGET_S:g} s",
        None if top is None else top["seconds"] <= LARGE_FIT_TARGET_S,
    )
    multiple = top and top["peak_rise"] / top["df_bytes"]
    verdicts.check(
        f"mixed table, {LARGE_SIZES[-1]} rows: peak RSS rise of the fit / the "
        f"DataFrame = {fmt(multiple, '.2f')} <= {LARGE_MEMORY_TARGET:g}",
        None if top is None else multiple <= LARGE_MEMORY_TARGET,
    )


# ------------------------------------------------------------------- 4. GPU


def part_gpu(train, verdicts):
    import torch

    if not torch.cuda.is_available():
        print("  no GPU on this machine")
        return
    print(f"  {torch.cuda.get_device_name(0)}")
    skvae("cuda", max_iter=1).fit(train.iloc[:WARM_UP_ROWS])  # untimed warm-up
    model, seconds = timed(skvae("cuda").fit, train)
    print(f"  adult fit on the GPU: {seconds:.1f} s ({model.n_iter_} epochs)")
    model.sample(WARM_UP_ROWS, random_state=SEED)  # untimed warm-up
    best = min(timed(model.sample, SAMPLE_ROWS, random_state=SEED)[1] for _ in range(2))
    print(
        f"  sample({SAMPLE_ROWS}) on the GPU: best of 2 {best:.2f} s, "
        f"{SAMPLE_ROWS / best:.3g} rows / s"
    )
    print()
    verdicts.check(
        f"adult fit on the GPU {seconds:.1f} s < {GPU_FIT_TARGET_S:g} s (the aim)",
        seconds < GPU_FIT_TARGET_S,
    )


# ---------------------------------------------------------------- plumbing


def emit(result):
    print(RESULT_TAG + json.dumps(result), flush=True)


def child(flags, threads, wait_policy="inherit"):
    """This script with ``flags`` in a fresh interpreter limited to
    ``threads`` (and with OMP_WAIT_POLICY ``wait_policy`` unless "inherit"):
    the JSON result it prints."""
    env = {} if wait_policy == "inherit" else {"OMP_WAIT_POLICY": wait_policy}
    return run_child(__file__, flags, threads, RESULT_TAG, env)


def heading(text):
    print(f"\n=== {text} (load average {load_average()})\n", flush=True)


def main(argv=None):
    args = parse_args(argv)
    if args.child_sample is not None:
        return child_sample(args.child_sample)
    if args.child_large is not None:
        return child_large(args.child_large)
    set_up(1)
    describe_machine(1)
    verdicts = Verdicts()
    needs_adult = {"fit", "sample", "gpu"} & set(args.parts)
    train = adult_train(args.data) if needs_adult else None
    if "fit" in args.parts:
        heading(f"1. Whole fit on adult ({len(train)} training rows), one thread")
        part_fit(train, args, verdicts)
    if "sample" in args.parts:
        heading(f"2. sample({SAMPLE_ROWS}) of the adult model, one thread")
        part_sample(args.data, verdicts)
    if "large" in args.parts:
        heading(
            f"3. Mixed table of 30 columns, up to {min(args.max_rows, LARGE_SIZES[-1])}"
            f" rows, {LARGE_THREADS} threads, OMP_WAIT_POLICY "
            f"{args.omp_wait_policy}"
        )
        part_large(args.max_rows, args.omp_wait_policy, verdicts)
    if "gpu" in args.parts:
        heading("4. GPU")
        part_gpu(train, verdicts)
    print(f"\nload average at end: {load_average()}")
    return verdicts.finish()


if __name__ == "__main__":
    sys.exit(main())

"""Training speed: how fast does skvae train against TVAE on UCI Adult?

All 32,561 rows of Adult, on the CPU, with the same torch thread count for
both models (``--threads``, default 1). Two settings:

* **package defaults**: ``VAETransformer(random_state=0)`` (early stopping, at
  most 80 epochs, the autoregressive network that DataFrames get) against
  ``TVAE()`` (300 epochs), told which columns are discrete.
* **TVAE's architecture**: ``VAETransformer(n_components=128,
  hidden_layer_sizes=(128, 128), batch_size=500, autoregressive=False)``, which
  is TVAE's default network (embedding 128, compress and decompress dims
  (128, 128), batch 500) without anything TVAE lacks; also as "fp32" with
  ``mixed_precision=False`` (the default trains the networks in bfloat16 on a
  CPU with AVX512-BF16 or AMX) and as "+AR" with the autoregressive network
  (more than TVAE's architecture).

Reported per model, all through the public API:

* **whole fit**: the wall time of one ``fit``. skvae at package defaults stops
  when its validation score stalls (its ``n_iter_`` is shown); every other fit
  runs exactly E epochs (``--epochs``, default 300, TVAE's default), skvae with
  ``early_stopping=False``.
* **per epoch**: ``(T(E) - T(E1)) / (E - E1)``, where ``T(n)`` is the wall time
  of a fit of exactly ``n`` epochs and ``E1 = E // 10``, so that the fixed cost
  of a fit (encoding the table, building the model, fitting skvae's sampler)
  cancels; it is shown as "rest of fit" = ``T(E) - E x per epoch``. For skvae
  at package defaults these two fits keep the defaults except
  ``early_stopping=False`` (so no validation pass per epoch) and a fixed epoch
  count (``max_iter=n``, ``n_iter_no_change=n + 1``, so that no stopping rule
  or step-size cut fires).
* the ratios TVAE / skvae of both, and the fitted attributes that say how skvae
  trained (rows per step, bfloat16 or not).

Each model first fits once on 1,000 rows, untimed, so that no timed fit pays
for lazy imports and initialisation. Target: skvae with package defaults fits
at least 10x faster than TVAE with its defaults (the same target as
tabular.py's must-show check, there on an 80 % training split); it is judged
where E = 300, and with another E the table shows TVAE's 300-epoch fit
estimated as rest of fit + 300 x per epoch. The ratios at TVAE's architecture
are measurements without a target. Also checked: every fixed-epoch fit ran all
its epochs. The load average is printed at the start and the end: other
processes on the machine inflate every time here. Whether epoch times stay
flat over a long run is drift.py's question; scaling in rows is scaling.py's.

Run from the repository root (the data default is ``../shared/data/adult.csv``
relative to the repository)::

    OMP_NUM_THREADS=1 python benchmarks/speed.py               # full run
    OMP_NUM_THREADS=1 python benchmarks/speed.py --quick       # 30 epochs
    OMP_NUM_THREADS=1 python benchmarks/speed.py --skip-tvae   # skvae alone

The full run takes about 15 minutes on one thread (2-core x86 machine), a
third of it TVAE; ``--quick`` (E = 30, about 3 minutes) shows the same tables
with noisier per-epoch figures and without the target's verdict. The script
exits with status 1 if a check fails.
"""

import argparse
import sys

from _common import (
    FIT_SPEEDUP_TARGET,
    SEED,
    Verdicts,
    add_common_args,
    add_epoch_args,
    describe_machine,
    fit_tvae,
    fmt,
    load_adult,
    load_average,
    ratio,
    set_up,
    table,
    timed,
)

TVAE_ARCH = {
    "n_components": 128,
    "hidden_layer_sizes": (128, 128),
    "batch_size": 500,
    "autoregressive": False,
}
SKVAE = {  # name: parameters on top of VAETransformer's defaults
    "skvae defaults": {},
    "skvae TVAE-arch": TVAE_ARCH,
    "skvae TVAE-arch fp32": {**TVAE_ARCH, "mixed_precision": False},
    "skvae TVAE-arch +AR": {**TVAE_ARCH, "autoregressive": True},
}
WARM_UP_ROWS = 1000
TVAE_EPOCHS = 300  # TVAE's default


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(parser)
    add_epoch_args(parser, "the epochs of the fixed-epoch fits", full=TVAE_EPOCHS)
    parser.add_argument("--skip-tvae", action="store_true", help="time skvae alone")
    args = parser.parse_args(argv)
    if args.epochs < 10:
        parser.error("--epochs must be at least 10")
    return args


def skvae(name, epochs=None):
    """The skvae model ``name`` of :data:`SKVAE`; with ``epochs``, a model that
    trains exactly that many epochs."""
    from skvae import VAETransformer

    params = dict(SKVAE[name], device="cpu", random_state=SEED)
    if epochs is not None:
        params.update(
            max_iter=epochs, early_stopping=False, n_iter_no_change=epochs + 1
        )
    return VAETransformer(**params)


def measure_skvae(name, data, epoch_counts, verdicts):
    """Whole-fit and per-epoch seconds of one skvae model, with its attributes."""
    skvae(name, epochs=1).fit(data.iloc[:WARM_UP_ROWS])  # untimed warm-up
    seconds = {}
    for epochs in epoch_counts:
        vae, seconds[epochs] = timed(skvae(name, epochs).fit, data)
        verdicts.check(
            f"{name}: fit with max_iter={epochs} ran {vae.n_iter_} epochs",
            vae.n_iter_ == epochs,
        )
    result = per_epoch(seconds, epoch_counts)
    if name == "skvae defaults":  # the whole fit as a user gets it
        vae, result["fit"] = timed(skvae(name).fit, data)
        result["fit epochs"] = vae.n_iter_
    else:
        result["fit"], result["fit epochs"] = result["fit E"], epoch_counts[1]
    result["fitted"] = {
        attr: getattr(vae, attr, None)
        for attr in ("batch_size_", "mixed_precision_", "hidden_layer_sizes_")
    }
    report(name, result)
    return result


def measure_tvae(data, epoch_counts):
    """Whole-fit and per-epoch seconds of TVAE with its defaults, on the CPU."""
    fit_tvae(data.iloc[:WARM_UP_ROWS], 1, enable_gpu=False)  # untimed warm-up
    seconds = {e: fit_tvae(data, e, enable_gpu=False)[1] for e in epoch_counts}
    result = per_epoch(seconds, epoch_counts)
    result["fit"], result["fit epochs"] = result["fit E"], epoch_counts[1]
    report("TVAE", result)
    return result


def per_epoch(seconds, epoch_counts):
    """Per-epoch and fixed seconds from fits of ``epoch_counts`` = (E1, E)."""
    few, many = epoch_counts
    epoch = (seconds[many] - seconds[few]) / (many - few)
    return {
        "fit E1": seconds[few],
        "fit E": seconds[many],
        "epoch": epoch,
        "rest": seconds[many] - many * epoch,
    }


def report(name, result):
    print(
        f"  {name}: fit {result['fit']:.1f} s ({result['fit epochs']} epochs), "
        f"{result['epoch']:.3f} s per epoch",
        flush=True,
    )


def print_tables(results, epoch_counts):
    """Print the tables; return TVAE / skvae for the whole fit at package
    defaults (None without TVAE) and whether TVAE's side was measured."""
    few, many = epoch_counts
    tvae = results.get("TVAE")
    measured = many == TVAE_EPOCHS
    tvae_defaults = None
    if tvae:  # TVAE with its defaults: measured, or estimated from the fits
        estimate = tvae["rest"] + TVAE_EPOCHS * tvae["epoch"]
        tvae_defaults = tvae["fit"] if measured else estimate

    def versus_tvae(key, r):
        return ratio(tvae[key], r[key]) if tvae else None

    whole = [
        [
            name,
            r["fit epochs"],
            r["fit"],
            ratio(tvae_defaults, r["fit"])
            if name == "skvae defaults"
            else versus_tvae("fit", r),
        ]
        for name, r in results.items()
    ]
    if tvae and not measured:
        whole.append(["TVAE, estimated", TVAE_EPOCHS, tvae_defaults, None])
    print("\nWhole fit (wall seconds of one fit)")
    table(["model", "epochs", "fit s", "TVAE / model"], whole, ["d", ".1f", ".1f"])
    if tvae and not measured:
        print(
            f"  (skvae defaults against TVAE's {TVAE_EPOCHS} epochs, estimated as "
            f"rest of fit + {TVAE_EPOCHS} x per epoch; the others against TVAE's "
            f"{many})"
        )
    print(f"\nPer epoch: (T({many}) - T({few})) / {many - few}")
    table(
        [
            "model",
            f"fit {few} ep s",
            f"fit {many} ep s",
            "per epoch s",
            "rest of fit s",
            "TVAE / model",
        ],
        [
            [
                name,
                r["fit E1"],
                r["fit E"],
                r["epoch"],
                r["rest"],
                versus_tvae("epoch", r),
            ]
            for name, r in results.items()
        ],
        [".1f", ".1f", ".4f", ".1f", ".2f"],
    )
    print(
        "  (skvae defaults: these two fits have early_stopping=False; its whole "
        "fit stops early)"
    )
    print("\nHow each model trained (fitted attributes; n/a: not available)")
    table(
        ["model", "rows per step", "bfloat16", "hidden layers"],
        [
            [
                name,
                r["fitted"].get("batch_size_"),
                r["fitted"].get("mixed_precision_"),
                r["fitted"].get("hidden_layer_sizes_"),
            ]
            for name, r in results.items()
            if name != "TVAE"
        ],
        ["d", "s", "s"],
    )
    return ratio(tvae_defaults, results["skvae defaults"]["fit"]), measured


def main(argv=None):
    args = parse_args(argv)
    set_up(args.threads)
    describe_machine(args.threads)
    data = load_adult(args.data)
    epoch_counts = (args.epochs // 10, args.epochs)
    print(
        f"Adult: {len(data)} rows; fixed-epoch fits of E1 = {epoch_counts[0]} "
        f"and E = {epoch_counts[1]} epochs\n"
    )
    verdicts = Verdicts()
    results = {
        name: measure_skvae(name, data, epoch_counts, verdicts) for name in SKVAE
    }
    if not args.skip_tvae:
        results["TVAE"] = measure_tvae(data, epoch_counts)
    speedup, measured = print_tables(results, epoch_counts)

    print()
    verdicts.check(
        f"whole fit at package defaults: TVAE / skvae = {fmt(speedup, '.1f')} "
        f"(target >= {FIT_SPEEDUP_TARGET:g})"
        + ("" if measured else f"; TVAE estimated, judged at --epochs {TVAE_EPOCHS}"),
        None if speedup is None or not measured else speedup >= FIT_SPEEDUP_TARGET,
    )
    print(f"\nload average at end: {load_average()}")
    return verdicts.finish()


if __name__ == "__main__":
    sys.exit(main())

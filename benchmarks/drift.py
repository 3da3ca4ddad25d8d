"""Flat epoch times: does skvae's time per epoch stay the same over a long run?

At TVAE's architecture on UCI Adult, the setting of speed.py
(``VAETransformer(n_components=128, hidden_layer_sizes=(128, 128),
batch_size=500, autoregressive=False)``, all 32,561 rows, on the CPU), the
mean wall time per epoch over epochs 6-15 ("early") against the last ten
epochs E-9..E of an E-epoch run ("late"; 291-300 with the default
``--epochs 300``). Weights that decay into subnormal floats can make CPU
arithmetic slow as training goes on; how much depends on the CPU.

Measured through the public API: one model trains with ``warm_start=True``,
``early_stopping=False`` and ``n_iter_no_change`` above the epoch count (so
that no stopping rule or step-size cut fires: the same training as one fit of
E epochs), a block of epochs per ``fit`` call. Just before each window (after
epoch 4 and after epoch E-11) it is copied (``copy.deepcopy``), and copies
continue for 1 and for 11 more epochs; the difference of the two fit times,
over 10, is the mean epoch time of the window, with the fixed cost of a ``fit``
call (checking and encoding the table, fitting the sampler) cancelled. Each
pair is timed ``--repeats`` times (default 3) on fresh copies and the fastest
of each is used, since other processes only add time.

Target: the late mean within 20 % of the early one (wall time). Also checked:
every ``fit`` call ran the epochs asked of it.

Run from the repository root (the data default is ``../shared/data/adult.csv``
relative to the repository)::

    OMP_NUM_THREADS=1 python benchmarks/drift.py            # full run, E = 300
    OMP_NUM_THREADS=1 python benchmarks/drift.py --quick    # E = 30

The full run takes about 4 minutes on one thread, ``--quick`` about 1.5
(early 6-15 against 21-30: drift shows up mainly late, so this is a smoke
test). The script exits with status 1 if a check fails.
"""

import argparse
import copy
import sys

from _common import (
    SEED,
    Verdicts,
    add_common_args,
    add_epoch_args,
    describe_machine,
    load_adult,
    load_average,
    set_up,
    table,
    timed,
)

WINDOW = 10  # epochs per window
FIRST = 6  # first epoch of the early window
TARGET = 0.20


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(parser)
    add_epoch_args(parser, "the length of the run")
    parser.add_argument(
        "--repeats", type=int, default=3, help="timings per window (default 3)"
    )
    args = parser.parse_args(argv)
    if args.epochs < FIRST + 2 * WINDOW - 1:
        parser.error(f"--epochs must be at least {FIRST + 2 * WINDOW - 1}")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def window(vae, data, repeats, verdicts):
    """Mean seconds per epoch over the WINDOW epochs after the next one, and
    the seconds of a one-epoch ``fit`` call; ``vae`` is left as it was."""
    start = vae.n_iter_
    best = {}
    for _ in range(repeats):
        for epochs in (1, 1 + WINDOW):
            twin = copy.deepcopy(vae).set_params(max_iter=epochs)
            _, seconds = timed(twin.fit, data)
            best[epochs] = min(best.get(epochs, seconds), seconds)
            ran = twin.n_iter_ - start
            if ran != epochs:
                verdicts.check(f"a copy at epoch {start} ran {ran} of {epochs}", False)
    return (best[1 + WINDOW] - best[1]) / WINDOW, best[1]


def main(argv=None):
    args = parse_args(argv)
    set_up(args.threads)
    describe_machine(args.threads)
    from skvae import VAETransformer

    data = load_adult(args.data)
    E = args.epochs
    verdicts = Verdicts()
    vae = VAETransformer(
        n_components=128,
        hidden_layer_sizes=(128, 128),
        batch_size=500,
        autoregressive=False,
        early_stopping=False,
        n_iter_no_change=E + 1,
        warm_start=True,
        device="cpu",
        random_state=SEED,
    )
    rows, done = [], 0
    for first in (FIRST, E - WINDOW + 1):
        before = first - 2  # the copies train epoch first-1, then the window
        vae.set_params(max_iter=before - done).fit(data)
        done = before
        verdicts.check(
            f"the run reached epoch {vae.n_iter_} (asked: {before})",
            vae.n_iter_ == before,
        )
        epoch, call = window(vae, data, args.repeats, verdicts)
        rows.append([f"{first}-{first + WINDOW - 1}", epoch, call - epoch])
        print(f"  epochs {rows[-1][0]}: {epoch:.4f} s per epoch", flush=True)

    print(
        f"\nAdult ({len(data)} rows), TVAE's architecture, one run of {E} epochs; "
        f"fastest of {args.repeats}"
    )
    table(["epochs", "s per epoch", "fixed s per fit"], rows, ".4f")
    late_early = rows[1][1] / rows[0][1]
    print()
    verdicts.check(
        f"late/early = {late_early:.3f} (target within {TARGET:.0%} of 1)",
        abs(late_early - 1.0) <= TARGET,
    )
    print(f"\nload average at end: {load_average()}")
    return verdicts.finish()


if __name__ == "__main__":
    sys.exit(main())

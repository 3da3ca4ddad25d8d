"""Weight averaging (``ema_momentum``) on and off: held-out ELBO and fidelity.

For each table of ``benchmarks/tabular.py`` (its split, seed 0) and each model
seed, fits ``VAETransformer(random_state=seed, ema_momentum=m)`` for two values
of m (``--momenta``; by default 0, the last weights, and the default 0.99,
their moving average), and prints the
held-out ELBO (nats per row), sdmetrics quality and detection AUC of
``len(train)`` sampled rows against the training rows, and the ratio of fit
times. One torch thread.

    OMP_NUM_THREADS=1 python benchmarks/averaging.py
    OMP_NUM_THREADS=1 python benchmarks/averaging.py --tables adult --seeds 0,1,2
    OMP_NUM_THREADS=1 python benchmarks/averaging.py --momenta 0.98,0.99
"""

import argparse
import sys
import time
import warnings

from _common import add_common_args, describe_machine, set_up
from _tables import LOADERS, load_table, split
from tabular import detection_auc, levels_of, quality


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(parser)
    parser.add_argument(
        "--tables", default=",".join(LOADERS), help="comma-separated table names"
    )
    parser.add_argument("--seeds", default="0,1", help="comma-separated model seeds")
    parser.add_argument(
        "--momenta", default="0,0.99", help="the two ema_momentum values compared"
    )
    args = parser.parse_args(argv)
    args.tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    unknown = sorted(set(args.tables) - set(LOADERS))
    if unknown:
        parser.error(f"unknown tables {unknown}; choose from {list(LOADERS)}")
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.momenta = [float(m) for m in args.momenta.split(",")]
    if len(args.momenta) != 2 or not all(0 <= m < 1 for m in args.momenta):
        parser.error(f"--momenta takes two values in [0, 1), got {args.momenta}")
    return args


def one_fit(train, test, levels, seed, momentum):
    from skvae import VAETransformer

    start = time.perf_counter()
    model = VAETransformer(random_state=seed, ema_momentum=momentum).fit(train)
    seconds = time.perf_counter() - start
    synthetic = model.sample(len(train), random_state=0)
    try:
        elbo = model.score(test)
    except ValueError:  # test rows with categories unseen in training
        elbo = float("nan")
    return {
        "elbo": elbo,
        "quality": quality(train, synthetic)["quality"],
        "detection": detection_auc(train, synthetic, levels),
        "seconds": seconds,
    }


def main(argv=None):
    args = parse_args(argv)
    set_up(args.threads)
    warnings.simplefilter("ignore")
    describe_machine(args.threads)
    a, b = args.momenta
    print(f"  m = {a:g} against m = {b:g}; time ratio = second / first\n")
    print(
        "  table            seed  ELBO first  ELBO second   quality first/second"
        "   detection first/second   time ratio"
    )
    for name in args.tables:
        table_ = load_table(name, args.data)
        if table_ is None:
            continue
        train, test = split(table_.frame)
        levels = levels_of(table_.frame)
        for seed in args.seeds:
            off, on = (one_fit(train, test, levels, seed, m) for m in args.momenta)
            print(
                f"  {name:<16} {seed:>4} {off['elbo']:>11.3f} {on['elbo']:>12.3f}"
                f"          {off['quality']:.4f}/{on['quality']:.4f}"
                f"            {off['detection']:.4f}/{on['detection']:.4f}"
                f"         {on['seconds'] / off['seconds']:.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Real-table shapes at scale: a wide mixed table fits in bounded time and memory,
and ``sample`` stays within the result's size.

1. **Fit.** A generated 100,000-row table with a float, a rounded price, a
   datetime (to the second), a timedelta, an identifier (``ORD-0012345``), a
   nullable ``Int64`` count, a 20,000-level product code and a 3-level segment
   is fitted at package defaults. Targets: under 3 minutes and a peak resident
   memory under 2 GB on the 2-core machine; the samples keep every dtype, no
   identifier of the table, only known product codes, new timestamps.
2. **Sample memory.** A 20-column mixed table (10 floats, 4 integers, 3
   categories, 2 booleans, a datetime) is fitted briefly, then ``sample(n)``
   runs in a fresh process for n = 10**6 and 10**7. Target: the rise of the
   peak resident memory over the fitted model's is at most the result's size
   plus 500 MB. The result's size counts a text cell as its pointer (8 bytes):
   the cells of a category share their level's string.

Run from the repository root::

    python benchmarks/real_tables.py             # both parts, about 4 minutes
    python benchmarks/real_tables.py --quick     # 10**6 rows only in part 2

The fit uses ``--threads`` torch threads (default 2, the machine's cores).
The script exits with status 1 if a check fails.
"""

import argparse
import pickle
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from _common import Verdicts, add_common_args, describe_machine, set_up

FIT_SECONDS, FIT_MB, SAMPLE_SLACK_MB = 180.0, 2048.0, 500.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(parser, data=False)
    parser.set_defaults(threads=2)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10**6 rows in part 2")
    return parser.parse_args(argv)


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wide_table(n, seed=0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "price": np.round(np.exp(1 + 0.5 * x + rng.normal(scale=0.5, size=n)), 2),
            "when": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 3 * 10**7, n), unit="s"),
            "took": pd.to_timedelta(rng.gamma(2.0, 600, n).astype(int), unit="s"),
            "order_ref": [f"ORD-{i:07d}" for i in rng.permutation(n)],
            "items": pd.array(rng.poisson(3, n), dtype="Int64"),
            "product": [f"P{v:05d}" for v in rng.integers(0, 20_000, n)],
            "segment": rng.choice(["retail", "online", "wholesale"], n),
        }
    )


def part_fit(args, verdicts):
    from skvae import VAETransformer

    frame = wide_table(args.rows)
    print(
        f"\n1. Fit at defaults: {len(frame):,} rows, columns {list(frame.columns)}, "
        f"{frame['product'].nunique():,} product codes"
    )
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vae = VAETransformer(random_state=0).fit(frame)
    seconds = time.perf_counter() - start
    peak = peak_mb()
    print(f"  fit {seconds:.1f} s ({vae.n_iter_} epochs), peak RSS {peak:.0f} MB")
    for w in caught:
        print(f"  warning: {str(w.message)[:100]}")
    models = dict(zip(frame.columns, vae.column_models_, strict=True))
    print(f"  column models: {models}")
    synthetic = vae.sample(20_000, random_state=0)
    new_times = (~synthetic["when"].isin(frame["when"])).mean()
    copied = int(synthetic["order_ref"].isin(frame["order_ref"]).sum())
    known = bool(synthetic["product"].isin(frame["product"]).all())
    print(
        f"  samples: new timestamps {new_times:.3f}, identifiers copied {copied}, "
        f"product codes sampled {synthetic['product'].nunique():,}, all known {known}"
    )
    verdicts.check(f"fit under {FIT_SECONDS:.0f} s", seconds < FIT_SECONDS)
    verdicts.check(f"peak memory under {FIT_MB:.0f} MB", peak < FIT_MB)
    verdicts.check("samples keep every dtype", synthetic.dtypes.equals(frame.dtypes))
    verdicts.check(
        "no identifier copied, known codes, new timestamps",
        copied == 0 and known and new_times > 0.9,
    )


def twenty_columns(n, seed=0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns = {f"f{i}": rng.normal(size=n) * (i + 1) for i in range(10)}
    columns.update({f"i{i}": rng.poisson(2 + i, n) for i in range(4)})
    columns.update(
        {f"c{i}": rng.choice([f"level{j}" for j in range(5 + i)], n) for i in range(3)}
    )
    columns.update({f"b{i}": rng.random(n) < 0.3 + 0.2 * i for i in range(2)})
    columns["t"] = pd.Timestamp("2021-01-01") + pd.to_timedelta(
        rng.integers(0, 10**6, n), unit="min"
    )
    return pd.DataFrame(columns)


_SAMPLE = r"""
import pickle, resource, sys
with open(sys.argv[1], "rb") as f:
    vae = pickle.load(f)
vae.sample(10, random_state=0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
s = vae.sample(int(sys.argv[2]), random_state=0)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(after - before, s.memory_usage().sum() / 2**20, s.shape[1])
"""


def part_sample(args, verdicts):
    from skvae import VAETransformer

    frame = twenty_columns(2000)
    vae = VAETransformer(max_iter=2, random_state=0).fit(frame)
    print(f"\n2. sample(n) of a {frame.shape[1]}-column table, each in a fresh process")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.pkl"
        path.write_bytes(pickle.dumps(vae))
        for n in [10**6] if args.quick else [10**6, 10**7]:
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", _SAMPLE, str(path), str(n)],
                capture_output=True,
                text=True,
                check=True,
            )
            seconds = time.perf_counter() - start
            rise, result, width = (float(v) for v in out.stdout.split())
            print(
                f"  n = {n:>10,}: {seconds:6.1f} s, peak RSS +{rise:.0f} MB for a "
                f"{result:.0f} MB result ({width:.0f} columns)"
            )
            verdicts.check(
                f"sample({n:.0e}) within the result + {SAMPLE_SLACK_MB:.0f} MB",
                rise <= result + SAMPLE_SLACK_MB,
            )


def main(argv=None):
    args = parse_args(argv)
    set_up(args.threads)
    describe_machine(args.threads)
    verdicts = Verdicts()
    part_fit(args, verdicts)
    part_sample(args, verdicts)
    return verdicts.finish()


if __name__ == "__main__":
    sys.exit(main())

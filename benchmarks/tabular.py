"""Synthetic tabular data: skvae against CTGAN's TVAE on UCI Adult.

Both models are fitted on the same seeded 80/20 split of Adult
(``train_test_split(random_state=0)``) with the same torch thread count, and
each draws ``len(train)`` synthetic rows. skvae runs with the package defaults
(``VAETransformer(random_state=0)``); TVAE with its defaults and
``epochs=300``, told which columns are discrete. The script prints, for both
models and as a ratio skvae/TVAE:

* **fit seconds** - wall time of ``fit`` alone (``time.perf_counter``).
* **fidelity** - sdmetrics ``QualityReport`` on the training rows against the
  synthetic rows: the overall score, Column Shapes (per-column marginals) and
  Column Pair Trends (correlations and contingency tables).
* **utility** - train-synthetic-test-real: a ``HistGradientBoostingClassifier``
  fitted on the synthetic rows predicts ``income`` on the real 20 % test rows
  (accuracy, macro-F1, ROC AUC), next to the same model fitted on the real
  training rows.
* **detection** - a ``HistGradientBoostingClassifier`` told to separate real
  training rows from synthetic rows (equal numbers of each, at most 10,000):
  5-fold stratified cross-validated ROC AUC. 0.5 means indistinguishable.
* **memorisation** - the share of synthetic rows that are exact copies of a
  training row (all columns equal), next to the same share for the real
  held-out rows; and the distance to the closest training record (DCR) in a
  one-hot + standardised space, as the median over synthetic rows divided by
  the median over real held-out rows. A ratio near 1 means the model is no
  closer to its training rows than fresh data is; well below 1 means copying.
* **held-out ELBO** of skvae on the test rows (nats per row, skvae only).

It then prints the must-show checks with PASS/FAIL verdicts, and a short
generalisation check of skvae alone on two small mixed-type tables built from
scikit-learn's bundled data (wine with a categorical and a boolean column,
diabetes with ``sex`` as a category): QualityReport overall and Column Shapes
and the detection AUC.

Run from the repository root (the data default is ``../shared/data/adult.csv``
relative to the repository)::

    OMP_NUM_THREADS=1 python benchmarks/tabular.py                # full run
    OMP_NUM_THREADS=1 python benchmarks/tabular.py --skip-tvae --rows 5000
    OMP_NUM_THREADS=1 python benchmarks/tabular.py --skip-tvae --spread 3

``--spread K`` adds skvae's train-synthetic-test-real macro-F1 for ``K`` fits
(``random_state`` 0 to K-1) times ``K`` samples each: the seed-to-seed spread
of the one number the single run reports.

The full run takes about 10 minutes on one thread, almost all of it TVAE. The
script exits with status 1 if any must-show check fails.
"""

import argparse
import sys
import warnings

import numpy as np
import pandas as pd
import torch
from _common import (
    FIT_SPEEDUP_TARGET,
    SEED,
    Verdicts,
    add_common_args,
    describe_machine,
    fit_tvae,
    fmt,
    load_adult,
    ratio,
    set_up,
    split_columns,
    table,
    timed,
)

TARGET = "income"
POSITIVE = " >50K"
MAX_DETECTION_ROWS = 10_000
DCR_QUERY_ROWS = 3_000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(parser)
    parser.add_argument("--epochs", type=int, default=300, help="TVAE epochs")
    parser.add_argument(
        "--skip-tvae", action="store_true", help="run skvae alone (quick)"
    )
    parser.add_argument(
        "--rows", type=int, default=None, help="subsample this many training rows"
    )
    parser.add_argument(
        "--spread",
        type=int,
        default=0,
        metavar="K",
        help="also fit skvae with K seeds and draw K samples from each: "
        "TSTR macro-F1 mean, min and max",
    )
    args = parser.parse_args(argv)
    if args.spread < 0:
        parser.error(f"--spread must be >= 0, got {args.spread}")
    return args


# ---------------------------------------------------------------- column types


def sdv_metadata(df):
    numeric, _ = split_columns(df)
    return {
        "columns": {
            c: {"sdtype": "numerical" if c in numeric else "categorical"}
            for c in df.columns
        }
    }


def levels_of(real):
    """Category levels of each categorical column of the real data, as strings."""
    _, categorical = split_columns(real)
    return {c: sorted(real[c].astype(str).unique()) for c in categorical}


def as_model_frame(df, levels):
    """Numerics as float, categoricals as pandas categories with the real levels.

    Values are matched as strings, so booleans and category dtypes round-trip
    however a model returns them; a level not in the real data becomes missing.
    """
    out = {}
    for c in df.columns:
        if c in levels:
            values = df[c].astype(str).where(df[c].notna())
            out[c] = pd.Categorical(values, categories=levels[c])
        else:
            out[c] = pd.to_numeric(df[c], errors="coerce").astype(np.float64)
    return pd.DataFrame(out, index=df.index)


def hgb():
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        random_state=SEED, categorical_features="from_dtype"
    )


# --------------------------------------------------------------------- metrics


def quality(real, synthetic):
    """sdmetrics QualityReport: overall, Column Shapes, Column Pair Trends."""
    with warnings.catch_warnings():  # the single-table report is deprecated
        warnings.simplefilter("ignore", FutureWarning)
        from sdmetrics.reports.single_table import QualityReport

    report = QualityReport()
    report.generate(real, synthetic[real.columns], sdv_metadata(real), verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    return {
        "quality overall": float(report.get_score()),
        "column shapes": float(props["Column Shapes"]),
        "column pair trends": float(props["Column Pair Trends"]),
    }


def tstr(fit_rows, test, levels):
    """Train on ``fit_rows``, predict ``income`` on the real ``test`` rows."""
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    X_fit = as_model_frame(fit_rows.drop(columns=TARGET), levels)
    y_fit = fit_rows[TARGET].astype(str).to_numpy() == POSITIVE
    X_test = as_model_frame(test.drop(columns=TARGET), levels)
    y_test = test[TARGET].astype(str).to_numpy() == POSITIVE
    if np.unique(y_fit).size < 2:
        nan = float("nan")
        return {"TSTR accuracy": nan, "TSTR macro-F1": nan, "TSTR ROC AUC": nan}
    model = hgb().fit(X_fit, y_fit)
    proba = model.predict_proba(X_test)[:, list(model.classes_).index(True)]
    pred = proba >= 0.5
    return {
        "TSTR accuracy": accuracy_score(y_test, pred),
        "TSTR macro-F1": f1_score(y_test, pred, average="macro"),
        "TSTR ROC AUC": roc_auc_score(y_test, proba),
    }


def detection_auc(real, synthetic, levels, max_rows=MAX_DETECTION_ROWS):
    """5-fold stratified CV ROC AUC of a classifier telling real from synthetic."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    n = min(len(real), len(synthetic), max_rows)
    rng = np.random.RandomState(SEED)
    real = real.iloc[rng.choice(len(real), n, replace=False)]
    synthetic = synthetic.iloc[rng.choice(len(synthetic), n, replace=False)]
    X = pd.concat(
        [as_model_frame(real, levels), as_model_frame(synthetic[real.columns], levels)],
        ignore_index=True,
    )
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    cv = StratifiedKFold(5, shuffle=True, random_state=SEED)
    return float(cross_val_score(hgb(), X, y, cv=cv, scoring="roc_auc").mean())


def row_hashes(df, numeric):
    """One hash per row over all columns (numbers as float64, the rest as str)."""
    canon = pd.DataFrame(
        {
            c: (
                pd.to_numeric(df[c], errors="coerce").astype(np.float64)
                if c in numeric
                else df[c].astype(str)
            )
            for c in df.columns
        }
    )
    return pd.util.hash_pandas_object(canon, index=False).to_numpy()


def copy_share(rows, train, numeric):
    """Share of ``rows`` equal, in every column, to some row of ``train``."""
    seen = row_hashes(train, numeric)
    return float(np.isin(row_hashes(rows[train.columns], numeric), seen).mean())


class DCR:
    """Distance to the closest training row, one-hot + standardised space."""

    def __init__(self, train, numeric, categorical):
        from sklearn.compose import ColumnTransformer
        from sklearn.neighbors import NearestNeighbors
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        self.columns = list(train.columns)
        self.numeric, self.categorical = numeric, categorical
        self.encoder = ColumnTransformer(
            [
                ("num", StandardScaler(), numeric),
                (
                    "cat",
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                    categorical,
                ),
            ]
        ).fit(self._canon(train))
        self.nn = NearestNeighbors(n_neighbors=1).fit(
            self.encoder.transform(self._canon(train))
        )

    def _canon(self, df):
        out = df[self.columns].copy()
        for c in self.numeric:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype(np.float64)
        for c in self.categorical:
            out[c] = out[c].astype(str)
        return out

    def median(self, rows, n_query=DCR_QUERY_ROWS):
        rng = np.random.RandomState(SEED)
        if len(rows) > n_query:
            rows = rows.iloc[rng.choice(len(rows), n_query, replace=False)]
        dist, _ = self.nn.kneighbors(self.encoder.transform(self._canon(rows)))
        return float(np.median(dist[:, 0]))


# ---------------------------------------------------------------------- models


def fit_skvae(train):
    from skvae import VAETransformer

    model, seconds = timed(VAETransformer(random_state=SEED).fit, train)
    synthetic, sample_seconds = timed(model.sample, len(train), random_state=SEED)
    return model, synthetic, seconds, sample_seconds


def tstr_spread(train, test, levels, k):
    """TSTR macro-F1 of skvae fitted with seeds ``0..k-1``, ``k`` samples each."""
    from skvae import VAETransformer

    scores = np.empty((k, k))
    for seed in range(k):
        model = VAETransformer(random_state=seed).fit(train)
        for s in range(k):
            synthetic = model.sample(len(train), random_state=s)
            scores[seed, s] = tstr(synthetic, test, levels)["TSTR macro-F1"]
    for seed, row in enumerate(scores):
        print(f"  random_state={seed}: " + "  ".join(f"{v:.4f}" for v in row))
    print(
        f"  TSTR macro-F1 over {k} fits x {k} samples: mean {scores.mean():.4f}, "
        f"min {scores.min():.4f}, max {scores.max():.4f}"
    )


def fit_sample_tvae(train, epochs):
    model, seconds = fit_tvae(train, epochs)
    synthetic, sample_seconds = timed(model.sample, len(train))
    return model, synthetic, seconds, sample_seconds


def dtype_mismatches(real, synthetic):
    bad = []
    if list(synthetic.columns) != list(real.columns):
        bad.append(f"columns {list(synthetic.columns)} != {list(real.columns)}")
    for c in real.columns:
        if c in synthetic.columns and synthetic[c].dtype != real[c].dtype:
            bad.append(f"{c}: {synthetic[c].dtype} != {real[c].dtype}")
    return bad


def evaluate(name, synthetic, train, test, levels, numeric, dcr):
    """Every metric of one synthetic table, with the seconds each group took."""
    row, seconds = {}, {}
    bad = dtype_mismatches(train, synthetic)
    if bad:
        print(f"  [{name}] sample dtypes differ from the data: {'; '.join(bad)}")
    for group, fn in [
        ("quality", lambda: quality(train, synthetic)),
        ("tstr", lambda: tstr(synthetic[train.columns], test, levels)),
        (
            "detection",
            lambda: {"detection AUC": detection_auc(train, synthetic, levels)},
        ),
        (
            "memorisation",
            lambda: {
                "exact-copy share": copy_share(synthetic, train, numeric),
                "DCR median": dcr.median(synthetic),
            },
        ),
    ]:
        values, seconds[group] = timed(fn)
        row.update(values)
    print(
        f"  [{name}] metrics took "
        + ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items())
    )
    return row


# ---------------------------------------------------------------------- report


def print_table(rows, metrics):
    names = list(rows)
    show_ratio = "skvae" in rows and "TVAE" in rows
    header = ["metric", *names] + ["skvae/TVAE"] * show_ratio
    lines = []
    for metric in metrics:
        values = [rows[n].get(metric) for n in names]
        if show_ratio:
            values.append(ratio(rows["skvae"].get(metric), rows["TVAE"].get(metric)))
        lines.append([metric, *values])
    table(header, lines, [".4f"] * len(names) + [".3f"] * show_ratio)


def must_show(sk, tvae, real, verdicts):
    """The headline checks on skvae's row, as verdicts."""
    tvae_limit = None if tvae is None else tvae["fit seconds"] / FIT_SPEEDUP_TARGET
    checks = [
        ("quality overall >= 0.90", sk["quality overall"], 0.90, "ge"),
        ("column shapes >= 0.95", sk["column shapes"], 0.95, "ge"),
        ("TSTR macro-F1 >= 0.79", sk["TSTR macro-F1"], 0.79, "ge"),
        ("detection AUC <= 0.85", sk["detection AUC"], 0.85, "le"),
        (
            f"fit seconds <= TVAE fit / {FIT_SPEEDUP_TARGET:g}",
            sk["fit seconds"],
            tvae_limit,
            "le",
        ),
        (
            "exact-copy share <= held-out's",
            sk["exact-copy share"],
            real["exact-copy share"],
            "le",
        ),
        ("DCR ratio >= 0.85", sk["DCR ratio"], 0.85, "ge"),
    ]
    for label, value, limit, sense in checks:
        if limit is None or np.isnan(value):
            ok = None
        else:
            ok = bool(value >= limit if sense == "ge" else value <= limit)
        verdicts.check(f"{label}: skvae {fmt(value)}, limit {fmt(limit)}", ok)


# -------------------------------------------------------------- generalisation


def small_tables():
    from sklearn.datasets import load_diabetes, load_wine

    wine = load_wine(as_frame=True)
    w = wine.frame.drop(columns="target")
    w["cultivar"] = pd.Categorical(
        np.asarray(wine.target_names)[wine.target.to_numpy()]
    )
    w["strong"] = w["alcohol"] > w["alcohol"].median()
    diabetes = load_diabetes(as_frame=True, scaled=False).frame
    diabetes["sex"] = diabetes["sex"].astype("category")
    return {"wine+cat+bool": w, "diabetes+sex": diabetes}


def generalisation():
    from skvae import VAETransformer

    lines = []
    for name, df in small_tables().items():
        model, seconds = timed(VAETransformer(random_state=SEED).fit, df)
        synthetic = model.sample(len(df), random_state=SEED)
        q = quality(df, synthetic)
        det = detection_auc(df, synthetic, levels_of(df))
        bad = dtype_mismatches(df, synthetic)
        lines.append(
            [
                name,
                len(df),
                df.shape[1],
                seconds,
                q["quality overall"],
                q["column shapes"],
                det,
                "same" if not bad else "; ".join(bad),
            ]
        )
    table(
        ["table", "rows", "cols", "fit s", "overall", "shapes", "detect", "dtypes"],
        lines,
        ["d", "d", ".1f", ".4f", ".4f", ".4f", "s"],
    )


# ------------------------------------------------------------------------ main


def main(argv=None):
    args = parse_args(argv)
    set_up(args.threads)
    describe_machine(args.threads)
    from sklearn.model_selection import train_test_split

    # pandas deprecation notices raised inside sdmetrics
    warnings.filterwarnings("ignore", category=FutureWarning, module="sdmetrics")
    verdicts = Verdicts()

    data = load_adult(args.data)
    train, test = train_test_split(data, test_size=0.2, random_state=SEED)
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    if args.rows is not None and args.rows < len(train):
        train = train.sample(args.rows, random_state=SEED).reset_index(drop=True)
    numeric, categorical = split_columns(data)
    levels = levels_of(data)
    print(
        f"Adult: {len(train)} training rows, {len(test)} test rows, "
        f"{len(numeric)} numeric + {len(categorical)} categorical columns; "
        f"torch threads {torch.get_num_threads()}"
    )

    dcr = DCR(train, numeric, categorical)
    rows, metrics = {}, ["fit seconds", "sample seconds"]

    print("\nfitting skvae (VAETransformer(random_state=0)) ...")
    sk_model, sk_syn, sk_fit, sk_sample = fit_skvae(train)
    print(f"  fit {sk_fit:.1f}s, {sk_model.n_iter_} epochs; sample {sk_sample:.1f}s")
    rows["skvae"] = {"fit seconds": sk_fit, "sample seconds": sk_sample}
    rows["skvae"].update(evaluate("skvae", sk_syn, train, test, levels, numeric, dcr))
    seen = np.ones(len(test), dtype=bool)
    for c in categorical:
        seen &= test[c].isin(train[c].unique()).to_numpy()
    rows["skvae"]["held-out ELBO"] = sk_model.score(test[seen])
    if not seen.all():
        print(
            f"  held-out ELBO on the {seen.sum()} of {len(test)} test rows whose "
            "categories all occur in the training rows"
        )

    if not args.skip_tvae:
        print(f"\nfitting TVAE(epochs={args.epochs}) ...")
        _, tv_syn, tv_fit, tv_sample = fit_sample_tvae(train, args.epochs)
        print(f"  fit {tv_fit:.1f}s; sample {tv_sample:.1f}s")
        rows["TVAE"] = {"fit seconds": tv_fit, "sample seconds": tv_sample}
        rows["TVAE"].update(evaluate("TVAE", tv_syn, train, test, levels, numeric, dcr))

    real = tstr(train, test, levels)
    real["exact-copy share"] = copy_share(test, train, numeric)
    real["DCR median"] = dcr.median(test)
    rows["real"] = real
    for name in rows:
        rows[name]["DCR ratio"] = rows[name]["DCR median"] / real["DCR median"]

    metrics += [
        "quality overall",
        "column shapes",
        "column pair trends",
        "TSTR accuracy",
        "TSTR macro-F1",
        "TSTR ROC AUC",
        "detection AUC",
        "exact-copy share",
        "DCR median",
        "DCR ratio",
        "held-out ELBO",
    ]
    print("\nAdult, synthetic vs real ('real': model trained on the real rows; the")
    print("real held-out rows for exact-copy share and DCR)\n")
    print_table(rows, metrics)

    print("\nmust-show checks (skvae)\n")
    must_show(rows["skvae"], rows.get("TVAE"), real, verdicts)

    if args.spread:
        print(f"\nspread: skvae's TSTR macro-F1 over seeds (--spread {args.spread})\n")
        tstr_spread(train, test, levels, args.spread)

    print("\ngeneralisation: skvae defaults on scikit-learn's bundled tables\n")
    generalisation()
    return verdicts.finish()


if __name__ == "__main__":
    sys.exit(main())

"""The ``skvae`` command line."""

import argparse
import sys
import time

import numpy as np


def _demo(args):
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._transformer import VAETransformer

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=args.random_state
    )
    print(
        f"skvae demo: scikit-learn's digits, {X_train.shape[0]} training and "
        f"{X_test.shape[0]} held-out rows of {X.shape[1]} pixels"
    )
    rows = []
    vae = None
    for n in args.n_components:
        start = time.perf_counter()
        vae = VAETransformer(n, random_state=args.random_state, verbose=1)
        vae.fit(X_train)
        seconds = time.perf_counter() - start
        pca = PCA(n).fit(X_train)
        accuracy = {}
        for name, reducer in (("vae", vae), ("pca", pca)):
            clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
            clf.fit(reducer.transform(X_train), y_train)
            accuracy[name] = clf.score(reducer.transform(X_test), y_test)
        rows.append(
            (n, vae.score(X_test), pca.score(X_test), accuracy, vae.n_iter_, seconds)
        )
    print()
    print(
        f"{'n':>3}  {'held-out ELBO':>13}  {'PCA.score':>10}  "
        f"{'acc VAE':>8}  {'acc PCA':>8}  {'epochs':>6}  {'fit s':>6}"
    )
    for n, elbo, pca_score, acc, epochs, seconds in rows:
        print(
            f"{n:>3}  {elbo:>13.2f}  {pca_score:>10.2f}  {acc['vae']:>8.3f}  "
            f"{acc['pca']:>8.3f}  {epochs:>6d}  {seconds:>6.1f}"
        )
    samples = np.clip(np.rint(vae.sample(args.n_samples, random_state=0)), 0, 16)
    header = ",".join(f"pixel{i}" for i in range(X.shape[1]))
    np.savetxt(
        args.output, samples, fmt="%d", delimiter=",", header=header, comments=""
    )
    print(
        f"\nwrote {args.n_samples} sampled digits (n_components={rows[-1][0]}) "
        f"to {args.output}"
    )
    return 0


def _read_table(path, categorical):
    import pandas as pd

    if str(path).endswith((".parquet", ".pq")):
        frame = pd.read_parquet(path)  # needs pyarrow or fastparquet
    else:
        frame = pd.read_csv(path)
    for name in categorical:
        if name not in frame.columns:
            raise SystemExit(f"skvae: --categorical names {name!r}, not a column")
        frame[name] = frame[name].astype("category")
    return frame


def _write_table(frame, path):
    if str(path).endswith((".parquet", ".pq")):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def _fit_model(args):
    from ._transformer import VAETransformer

    frame = _read_table(args.data, args.categorical)
    given = {
        "n_components": args.n_components,
        "max_iter": args.max_iter,
        "likelihood": args.likelihood,
    }
    vae = VAETransformer(
        **{name: value for name, value in given.items() if value is not None},
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    return vae.fit(frame), frame


def _fit(args):
    import joblib

    vae, frame = _fit_model(args)
    joblib.dump(vae, args.output)
    print(
        f"fitted on {len(frame)} rows x {frame.shape[1]} columns in {vae.n_iter_} "
        f"epochs; wrote {args.output}"
    )
    return 0


def _sample(args):
    import joblib

    vae = joblib.load(args.model)
    _write_table(
        vae.sample(args.n_samples, random_state=args.random_state), args.output
    )
    print(f"wrote {args.n_samples} rows to {args.output}")
    return 0


def _synth(args):
    vae, frame = _fit_model(args)
    n = args.n_samples or len(frame)
    _write_table(vae.sample(n, random_state=args.random_state), args.output)
    print(f"fitted on {len(frame)} rows; wrote {n} synthetic rows to {args.output}")
    return 0


def _add_fit_options(parser):
    parser.add_argument("data", help="CSV file (or Parquet, with pyarrow installed)")
    parser.add_argument(
        "--categorical",
        type=lambda s: [c for c in s.split(",") if c],
        default=[],
        metavar="COL,COL",
        help="treat these columns as categorical (text columns always are)",
    )
    parser.add_argument("--n-components", type=int, help="default: the estimator's")
    parser.add_argument("--max-iter", type=int, help="default: the estimator's")
    parser.add_argument(
        "--likelihood",
        choices=["auto", "gaussian", "bernoulli", "per_column"],
        help="default: the estimator's ('auto': per-column models unless every "
        "column is float)",
    )
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="skvae", description="Variational autoencoders, scikit-learn style."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit on scikit-learn's digits and compare with PCA"
    )
    demo.add_argument(
        "--n-components", type=int, nargs="+", default=[2, 16], metavar="N"
    )
    demo.add_argument("--n-samples", type=int, default=20)
    demo.add_argument("--output", default="skvae_demo_samples.csv")
    demo.add_argument("--random-state", type=int, default=0)
    demo.set_defaults(func=_demo)

    fit = commands.add_parser("fit", help="fit a model to a table and save it")
    _add_fit_options(fit)
    fit.add_argument("-o", "--output", default="model.pkl")
    fit.set_defaults(func=_fit)

    sample = commands.add_parser("sample", help="draw rows from a saved model")
    sample.add_argument("model")
    sample.add_argument("-n", "--n-samples", type=int, default=1000)
    sample.add_argument("-o", "--output", default="synthetic.csv")
    sample.add_argument("--random-state", type=int, default=None)
    sample.set_defaults(func=_sample)

    synth = commands.add_parser("synth", help="fit and sample in one go")
    _add_fit_options(synth)
    synth.add_argument("-n", "--n-samples", type=int, default=None)
    synth.add_argument("-o", "--output", default="synthetic.csv")
    synth.set_defaults(func=_synth)
    return parser


def main(argv=None):
    """Run the ``skvae`` command; a bad input ends in one line on stderr."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError, KeyError) as error:
        message = str(error).strip().splitlines()
        print(
            f"skvae {args.command}: error: {message[0] if message else error!r}",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""The ``skvae`` command line.

Only argparse is imported up front: ``skvae --help`` answers without loading
torch, scikit-learn or pandas, which the commands import when they run.
"""

import argparse
import sys
import time

# What a user's file or options can cause. pandas' parser errors and
# UnicodeDecodeError are ValueErrors; a missing or unreadable file is an OSError.
_USER_ERRORS = (ValueError, TypeError, OSError, KeyError, MemoryError)


class _UsageError(Exception):
    """A bad input, already worded for the command line."""


def _demo(args):
    import numpy as np
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


def _is_parquet(path):
    return str(path).endswith((".parquet", ".pq"))


def _read_table(path, categorical):
    import pandas as pd

    kind = "Parquet" if _is_parquet(path) else "CSV"
    try:
        if _is_parquet(path):
            frame = pd.read_parquet(path)  # needs pyarrow or fastparquet
        else:
            frame = pd.read_csv(path)
    except OSError:
        raise  # its message names the file
    except ImportError as error:  # no Parquet engine
        raise _UsageError(f"cannot read {path}: {error}") from error
    except ValueError as error:  # parser errors, not UTF-8 text, no columns
        raise _UsageError(f"cannot read {path} as {kind}: {error}") from error
    for name in categorical:
        if name not in frame.columns:
            raise _UsageError(f"--categorical names {name!r}, not a column of {path}")
        frame[name] = frame[name].astype("category")
    return frame


def _write_table(frame, path):
    try:
        if _is_parquet(path):
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    except ImportError as error:  # no Parquet engine
        raise _UsageError(f"cannot write {path}: {error}") from error


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
    try:
        return vae.fit(frame), frame
    except ValueError as error:
        # The library's advice (an imputer in a pipeline) is not open to a
        # command-line user; say what they can do instead.
        message = str(error)
        if "contains NaN" not in message:
            raise
        column = message.split(" contains NaN")[0]
        raise _UsageError(
            f"{column} has blank, NA or infinite cells; the skvae command needs "
            "complete rows for now: drop those rows (or the column) or fill "
            "them in first"
        ) from error


def _fit(args):
    import joblib

    vae, frame = _fit_model(args)
    joblib.dump(vae, args.output)
    print(
        f"fitted on {len(frame)} rows x {frame.shape[1]} columns in {vae.n_iter_} "
        f"epochs; wrote {args.output}"
    )
    return 0


def _load_model(path):
    import joblib

    from ._transformer import VAETransformer

    try:
        vae = joblib.load(path)
    except OSError:
        raise  # its message names the file
    except Exception as error:  # whatever unpickling a foreign file raises
        detail = " ".join(str(error).split()) or type(error).__name__
        raise _UsageError(
            f"{path} is not a model saved by skvae fit, or one saved by another "
            f"version of skvae ({detail})"
        ) from error
    if not isinstance(vae, VAETransformer):
        raise _UsageError(
            f"{path} holds a {type(vae).__name__}, not a model saved by skvae fit"
        )
    return vae


def _sample(args):
    vae = _load_model(args.model)
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


def _one_line(error):
    if isinstance(error, KeyError) and len(error.args) == 1:
        text = str(error.args[0])  # str(KeyError) is the repr of its key
    else:
        text = str(error)
    return " ".join(text.split()) or type(error).__name__


def main(argv=None):
    """Run the ``skvae`` command.

    A bad input ends in one line on stderr and exit status 2, like argparse's
    own usage errors; an interruption in exit status 130.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (_UsageError, *_USER_ERRORS) as error:
        print(f"skvae {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"skvae {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

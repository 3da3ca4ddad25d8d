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
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

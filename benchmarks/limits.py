"""Known limits: does VAETransformer reach the answers we can compute exactly?

Three checks, each printed as a table with PASS/FAIL verdicts:

1. **Exact limit.** On data drawn from a probabilistic-PCA model (d=20, q=4)
   a linear VAE (``hidden_layer_sizes=()``) can represent the true density, so
   its held-out ELBO should match the best linear-Gaussian fit (``PCA.score``,
   ``FactorAnalysis.score``) and sit just below the exact mean log-likelihood
   under the generating parameters; the IWAE bound with 1000 draws should lie
   between the ELBO (estimated with 256 draws per row) and the exact value.
2. **Model selection.** ``GridSearchCV`` over ``n_components`` with the default
   scoring (the held-out ELBO) should pick at least the true dimension 4, with
   a curve that rises steeply up to 4 and is flat after. PCA's cross-validated
   log-likelihood is printed alongside: its isotropic noise model misfits the
   unequally scaled features, so it keeps rising past 4.
3. **Digits.** 3-fold accuracy of a logistic regression on VAE codes against
   PCA codes (n=2 and n=16), and the held-out ELBO against ``PCA.score``.

Run from the repository root (single-threaded keeps timings comparable)::

    OMP_NUM_THREADS=1 python benchmarks/limits.py          # full run
    OMP_NUM_THREADS=1 python benchmarks/limits.py --quick  # seed 0, k <= 6

The full run takes about 2.5 minutes on one CPU thread. ``--quick`` keeps the
row counts (the thresholds are set for them: with 2000 rows the ELBO-FA gap is
about -0.08) and drops seeds 1 and 2 and ``n_components`` 7 and 8.
``--threads N`` sets the torch and BLAS thread count (default 1). The script
exits with status 1 if any check fails.
"""

import argparse
import sys
import time

import numpy as np
from _common import Verdicts, add_common_args, describe_machine, set_up, table
from scipy.stats import multivariate_normal
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA, FactorAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from skvae import VAETransformer
from skvae._testing import make_ppca

D, Q = 20, 4  # observed and latent dimension of the PPCA data
CV = 3


def exact_limit(seeds, n_rows, verdicts):
    print(
        f"\n1. Exact limit: linear VAE on PPCA data (d={D}, q={Q}, "
        f"{n_rows} train + {n_rows} test rows), mean nats per test row"
    )
    rows = []
    for seed in seeds:
        X_train, X_test, mean, cov = make_ppca(n_rows, n_rows, seed=seed)
        vae = VAETransformer(n_components=Q, hidden_layer_sizes=(), random_state=0)
        vae.fit(X_train)
        # 256 draws a row: the mean ELBO from the default 16 varies by about
        # 0.01 nats with the draws, more than the margin checked against IWAE
        elbo = vae.set_params(n_eval_samples=256).score(X_test)
        iwae = vae.score_samples(X_test, n_importance=1000).mean()
        pca = PCA(Q).fit(X_train).score(X_test)
        fa = FactorAnalysis(Q, random_state=0).fit(X_train).score(X_test)
        exact = multivariate_normal(mean, cov).logpdf(X_test).mean()
        rows.append([seed, elbo, pca, fa, elbo - max(pca, fa), exact, iwae])
    table(["seed", "ELBO", "PCA", "FA", "gap", "exact", "IWAE(1000)"], rows, ".4f")
    for seed, elbo, _, _, gap, exact, iwae in rows:
        verdicts.check(f"seed {seed}: gap = {gap:+.4f} > -0.05", gap > -0.05)
        verdicts.check(
            f"seed {seed}: ELBO <= exact + 0.02 ({elbo:.4f} <= {exact + 0.02:.4f})",
            elbo <= exact + 0.02,
        )
        verdicts.check(
            f"seed {seed}: ELBO - 0.005 <= IWAE <= exact + 0.02 "
            f"({elbo - 0.005:.4f} <= {iwae:.4f} <= {exact + 0.02:.4f})",
            elbo - 0.005 <= iwae <= exact + 0.02,
        )


def model_selection(n_rows, ks, verdicts):
    print(
        f"\n2. Model selection: GridSearchCV over n_components, cv={CV}, "
        f"PPCA seed 0 (d={D}, q={Q}, {n_rows} rows), mean nats per held-out row"
    )
    X, _, _, _ = make_ppca(n_rows, 0, seed=0)
    search = GridSearchCV(
        VAETransformer(hidden_layer_sizes=(), random_state=0),
        {"n_components": ks},
        cv=CV,
    ).fit(X)
    vae = dict(zip(ks, search.cv_results_["mean_test_score"], strict=True))
    pca = {k: cross_val_score(PCA(k), X, cv=CV).mean() for k in ks}
    table(
        ["k", "VAE ELBO", "PCA", "VAE gain", "PCA gain"],
        [
            [
                k,
                vae[k],
                pca[k],
                vae[k] - vae.get(k - 1, np.nan),
                pca[k] - pca.get(k - 1, np.nan),
            ]
            for k in ks
        ],
        ".4f",
    )
    chosen = search.best_params_["n_components"]
    print(f"  chosen n_components = {chosen} (PCA's best: {max(pca, key=pca.get)})")
    verdicts.check(f"chosen n_components = {chosen} >= {Q}", chosen >= Q)
    steep = min(vae[k] - vae[k - 1] for k in ks if 1 < k <= Q)
    verdicts.check(
        f"gains up to {Q} are steep (smallest {steep:.3f} > 0.5)", steep > 0.5
    )
    flat = max(abs(vae[k] - vae[Q]) for k in ks if k > Q)
    verdicts.check(
        f"flat after {Q} (max |score[k] - score[{Q}]| = {flat:.4f} < 0.1)", flat < 0.1
    )


def digits(ns, verdicts):
    print(f"\n3. Digits (1797 x 64), {CV}-fold cross-validation")
    X, y = load_digits(return_X_y=True)
    rows = []
    for n in ns:
        acc_vae = cross_val_score(
            make_pipeline(VAETransformer(n, random_state=0), LogisticRegression()),
            X,
            y,
            cv=CV,
        ).mean()
        acc_pca = cross_val_score(
            make_pipeline(PCA(n), LogisticRegression()), X, y, cv=CV
        ).mean()
        elbo = cross_val_score(VAETransformer(n, random_state=0), X, cv=CV).mean()
        pca = cross_val_score(PCA(n), X, cv=CV).mean()
        rows.append([n, acc_vae, acc_pca, elbo, pca])
    table(["n", "VAE acc", "PCA acc", "VAE ELBO", "PCA score"], rows, ".4f")
    margins = {2: 0.05, 16: -0.01}
    for n, acc_vae, acc_pca, elbo, pca in rows:
        margin = margins.get(n, 0.0)
        verdicts.check(
            f"n={n}: VAE acc {acc_vae:.4f} >= PCA acc {margin:+.2f} "
            f"({acc_pca + margin:.4f})",
            acc_vae >= acc_pca + margin,
        )
        verdicts.check(f"n={n}: VAE ELBO {elbo:.2f} > PCA score {pca:.2f}", elbo > pca)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="seed 0 only and n_components <= 6"
    )
    add_common_args(parser, data=False)
    args = parser.parse_args(argv)
    set_up(args.threads)
    describe_machine(args.threads)
    seeds, max_k = ([0], 6) if args.quick else ([0, 1, 2], 8)

    verdicts = Verdicts()
    for name, run in [
        ("exact limit", lambda: exact_limit(seeds, 5000, verdicts)),
        (
            "model selection",
            lambda: model_selection(3000, list(range(1, max_k + 1)), verdicts),
        ),
        ("digits", lambda: digits([2, 16], verdicts)),
    ]:
        t0 = time.perf_counter()
        run()
        print(f"  ({name}: {time.perf_counter() - t0:.0f} s)")
    return verdicts.finish()


if __name__ == "__main__":
    sys.exit(main())

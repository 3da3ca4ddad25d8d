"""
=========================================================
Choosing the number of latent dimensions by held-out ELBO
=========================================================

:meth:`~skvae.VAETransformer.score` is the mean evidence lower bound (ELBO)
per row, a lower bound on the log-likelihood in the units of ``X``. It is
what :class:`~sklearn.model_selection.GridSearchCV` maximises when no
``scoring`` is given, so the latent dimension can be tuned like the
``n_components`` of :class:`~sklearn.decomposition.PCA`, whose ``score`` is
an exact log-likelihood on the same scale.

The data here come from a model whose answer we know: rows
``x = W z + noise`` with a three-dimensional ``z``. The VAE is linear
(``hidden_layer_sizes=()``), which with the default per-feature decoder
variance is factor analysis fitted by variational inference, so PCA and
:class:`~sklearn.decomposition.FactorAnalysis` are fair references.
"""

# %%
# Data with a known latent dimension
# ----------------------------------

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA, FactorAnalysis
from sklearn.model_selection import GridSearchCV, KFold

from skvae import VAETransformer

rng = np.random.RandomState(0)
n_samples, n_features, true_rank = 1000, 12, 3
W = rng.normal(size=(n_features, true_rank))
X = rng.normal(size=(n_samples, true_rank)) @ W.T
X += 0.5 * rng.normal(size=(n_samples, n_features))

# %%
# Cross-validate the three models on the same folds
# -------------------------------------------------
# ``refit`` is given a rule instead of ``True``: past the true rank the extra
# latent dimensions are switched off by the KL term and the held-out ELBO
# stays flat, so the largest mean score is picked among near-ties. The rule
# takes the smallest ``n_components`` whose mean score is within one standard
# error of the best one.

param_grid = {"n_components": range(1, 7)}
cv = KFold(n_splits=3, shuffle=True, random_state=0)


def one_standard_error(cv_results):
    """Index of the smallest model within one standard error of the best."""
    mean = cv_results["mean_test_score"]
    stderr = cv_results["std_test_score"] / np.sqrt(cv.get_n_splits())
    best = np.argmax(mean)
    return int(np.flatnonzero(mean >= mean[best] - stderr[best])[0])


searches = {
    "VAETransformer (linear)": GridSearchCV(
        VAETransformer(hidden_layer_sizes=(), random_state=0),
        param_grid,
        cv=cv,
        refit=one_standard_error,
    ),
    "PCA": GridSearchCV(PCA(), param_grid, cv=cv, refit=one_standard_error),
    "FactorAnalysis": GridSearchCV(
        FactorAnalysis(random_state=0), param_grid, cv=cv, refit=one_standard_error
    ),
}
for name, search in searches.items():
    search.fit(X)
    print(f"{name:>24}: n_components = {search.best_params_['n_components']}")

# %%
# Plot the held-out scores
# ------------------------
# Bands show one standard error over the three folds. The right panel zooms in
# on the plateau from the true rank on.

fig, (full, zoom) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
for (name, search), marker in zip(searches.items(), "osD", strict=True):
    results = search.cv_results_
    n_components = np.asarray(results["param_n_components"], dtype=int)
    mean = results["mean_test_score"]
    stderr = results["std_test_score"] / np.sqrt(cv.get_n_splits())
    chosen = search.best_index_
    for ax in (full, zoom):
        (line,) = ax.plot(n_components, mean, marker=marker, label=name)
        ax.fill_between(
            n_components,
            mean - stderr,
            mean + stderr,
            color=line.get_color(),
            alpha=0.2,
        )
        ax.plot(
            n_components[chosen],
            mean[chosen],
            marker=marker,
            markersize=14,
            markerfacecolor="none",
            markeredgecolor=line.get_color(),
            linestyle="none",
        )

plateau = np.concatenate(
    [
        search.cv_results_["mean_test_score"][true_rank - 1 :]
        for search in searches.values()
    ]
)
for ax, title in [(full, "all candidates"), (zoom, "zoom on the plateau")]:
    ax.axvline(
        true_rank, color="grey", linestyle="--", label=f"true rank ({true_rank})"
    )
    ax.set_xticks(param_grid["n_components"])
    ax.set_xlabel("n_components")
    ax.set_ylabel("held-out log-likelihood per row (nats)")
    ax.set_title(title)
full.legend(loc="lower right")
zoom.set_xlim(true_rank - 0.5, max(param_grid["n_components"]) + 0.5)
zoom.set_ylim(plateau.min() - 0.25, plateau.max() + 0.25)
fig.suptitle("3-fold cross-validated score (large open markers: the model chosen)")
plt.show()

# %%
# All three curves rise steeply up to the true rank and are flat after it. The
# VAE's ELBO sits a little below the factor-analysis log-likelihood at and
# beyond the true rank: the ELBO is a lower bound, estimated by Monte Carlo,
# and the model is fitted by stochastic gradients rather than by an exact
# maximum-likelihood algorithm. Below the
# true rank it is above PCA, because its per-feature noise model is more
# flexible than PCA's single noise variance.
#
# The same search works unchanged for the default nonlinear model, or over
# other parameters such as ``kl_weight`` or ``hidden_layer_sizes``; the
# grid's ``scoring`` can also be a callable that returns
# ``estimator.score_samples(X, n_importance=K).mean()``, the tighter
# importance-weighted bound.

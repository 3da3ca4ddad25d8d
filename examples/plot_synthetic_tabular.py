"""
===========================================
Synthetic rows for a table with mixed types
===========================================

Given a pandas :class:`~pandas.DataFrame`, :class:`~skvae.VAETransformer`
models every column with a likelihood that suits its dtype, and
:meth:`~skvae.VAETransformer.sample` returns a DataFrame with the same
columns, dtypes and categories. Numbers go through a quantile map, so integer
columns stay integers, samples stay inside the training range, and a value
that repeats, such as the zeros of a zero-inflated column, keeps its share of
the rows. Booleans get a Bernoulli likelihood and categories a softmax. See
:ref:`synthetic-tables` in the user guide for the model.

The table is built from scikit-learn's wine data (178 wines from three
cultivars) with a few added columns, so that it has one column of each kind.
The synthetic rows are then compared with the real ones column by column, pair
by pair, and with a classifier trained to tell the two apart.
"""

# %%
# A table with one column of each kind
# ------------------------------------
# Five float columns, two integer columns, a zero-inflated column (the malic
# acid above 2, zero for about half of the wines), the cultivar as a
# pandas ``category``, a hue band as an object (string) column, and a boolean.

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_wine

from skvae import VAETransformer

wine = load_wine(as_frame=True)
w = wine.frame
real = pd.DataFrame(
    {
        "alcohol": w["alcohol"],
        "malic_acid": w["malic_acid"],
        "flavanoids": w["flavanoids"],
        "color_intensity": w["color_intensity"],
        "hue": w["hue"],
        "magnesium": w["magnesium"].astype("int64"),
        "proline": w["proline"].astype("int64"),
        "malic_excess": (w["malic_acid"] - 2).clip(lower=0).round(2),
        "cultivar": pd.Categorical.from_codes(
            wine.target, ["barolo", "grignolino", "barbera"]
        ),
        "hue_band": pd.cut(
            w["hue"], [0, 0.8, 1.1, np.inf], labels=["brown", "medium", "bright"]
        ).astype(object),
        "strong": w["alcohol"] > 13,
    }
)
print(
    f"{real.shape[0]} rows; share of zeros in malic_excess: "
    f"{(real['malic_excess'] == 0).mean():.2f}"
)
real.head()

# %%
# Fit and sample
# --------------
# ``categorical_features="from_dtype"`` (the default) treats the ``category``
# and object columns as categorical; everything else is modelled by its dtype.
# The fit takes about a second on one CPU core.

vae = VAETransformer(random_state=0).fit(real)
synthetic = vae.sample(1000, random_state=0)
print(f"epochs: {vae.n_iter_}")
synthetic.head()

# %%
# Some synthetic numbers repeat values of the training data exactly (1.5 in
# ``malic_acid``, for example). A value that occurs in at least two rows and
# in at least 0.1 % of them is an atom of the column's distribution, and in a
# table of 178 rows rounded to two decimals many values qualify. Samples that
# fall on an atom return its value.

# %%
# The schema is kept: the same columns in the same order, the same dtypes, and
# the same categories for the ``category`` column.

print(synthetic.dtypes)
print("dtypes equal:", synthetic.dtypes.equals(real.dtypes))
print("categories:", list(synthetic["cultivar"].cat.categories))

# %%
# Integer columns hold whole numbers, every numeric column stays within the
# training range, and the zero-inflated column keeps an atom at zero.

numeric = real.select_dtypes("number").columns
summary = pd.DataFrame(
    {
        "real min": real[numeric].min(),
        "synthetic min": synthetic[numeric].min(),
        "real max": real[numeric].max(),
        "synthetic max": synthetic[numeric].max(),
    }
)
print(summary)
print(
    "share of zeros in malic_excess: real "
    f"{(real['malic_excess'] == 0).mean():.2f}, synthetic "
    f"{(synthetic['malic_excess'] == 0).mean():.2f}"
)

# %%
# Marginal distributions
# ----------------------
# Histograms of four numeric columns (densities, so that 178 real rows and
# 1000 synthetic rows are on the same scale) and the share of each level of
# the categorical and boolean columns.

hist_columns = ["alcohol", "flavanoids", "proline", "malic_excess"]
units = {
    "alcohol": "alcohol (% vol)",
    "flavanoids": "flavanoids",
    "proline": "proline (integer)",
    "malic_excess": "malic acid above 2 (zero-inflated)",
}
levels = {
    "cultivar": ["barolo", "grignolino", "barbera"],
    "hue_band": ["brown", "medium", "bright"],
    "strong": [False, True],
}
real_style = {"color": "tab:blue", "alpha": 0.5}
synthetic_style = {"fill": False, "edgecolor": "tab:orange", "linewidth": 2}

fig, axes = plt.subplot_mosaic(
    [hist_columns, [*levels, "legend"]],
    figsize=(13, 7),
    layout="constrained",
)
fig.suptitle("Wine: marginals of the real and the synthetic rows", fontsize="large")
for column in hist_columns:
    ax = axes[column]
    bins = np.histogram_bin_edges(real[column], bins=20)
    ax.hist(real[column], bins=bins, density=True, **real_style)
    ax.hist(
        synthetic[column], bins=bins, density=True, histtype="step", **synthetic_style
    )
    ax.set_xlabel(units[column])
    ax.set_ylabel("density")
    ax.set_title(column)

width = 0.4
for column, column_levels in levels.items():
    ax = axes[column]
    positions = np.arange(len(column_levels))
    for offset, frame, style in (
        (-0.5, real, real_style),
        (0.5, synthetic, synthetic_style),
    ):
        share = frame[column].value_counts(normalize=True)
        share = share.reindex(column_levels, fill_value=0)
        ax.bar(positions + offset * width, share, width, **style)
    ax.set_xticks(positions, [str(level) for level in column_levels])
    ax.set_xlabel(f"{column} ({real[column].dtype} column)")
    ax.set_ylabel("share of rows")
    ax.set_title(column)

axes["legend"].axis("off")
axes["legend"].legend(
    [
        plt.Rectangle((0, 0), 1, 1, **real_style),
        plt.Rectangle((0, 0), 1, 1, **synthetic_style),
    ],
    [f"real rows ({len(real)})", f"synthetic rows ({len(synthetic)})"],
    loc="center",
    fontsize="large",
)
plt.show()

# %%
# Correlations between the numeric columns
# ----------------------------------------
# The columns are independent given the latent variables, so every
# dependence between them has to pass through the two latent dimensions of
# the default model.

real_corr = real[numeric].corr()
synthetic_corr = synthetic[numeric].corr()

fig, axes = plt.subplots(1, 2, figsize=(13, 6), layout="constrained")
for ax, corr, title in zip(
    axes, (real_corr, synthetic_corr), ("real", "synthetic"), strict=True
):
    image = ax.imshow(corr.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(numeric)), numeric, rotation=45, ha="right")
    ax.set_yticks(range(len(numeric)), numeric)
    for i in range(len(numeric)):
        for j in range(len(numeric)):
            value = corr.iloc[i, j]
            ax.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if abs(value) > 0.6 else "black",
            )
    ax.set_title(f"{title} rows: Pearson correlation")
fig.colorbar(image, ax=axes, shrink=0.8, label="Pearson correlation")
plt.show()

# %%
# The clear correlations of the real table keep their sign in the synthetic
# rows, and most of them are weaker. The largest gap is between
# ``malic_excess`` and ``malic_acid``: in the real table one is a function of
# the other, but the model learns their link only through the latent
# variables, so the synthetic rows follow the rule only approximately.

print(
    "mean absolute difference of the correlations: "
    f"{np.abs(real_corr - synthetic_corr).to_numpy().mean():.3f}"
)

# %%
# Can a classifier tell them apart?
# ---------------------------------
# A detection test: draw as many synthetic rows as there are real ones, label
# them, and cross-validate a classifier that separates the two. A ROC AUC of
# 0.5 means that the classifier cannot tell real from synthetic rows; 1 means
# that it always can. With 178 rows of each the estimate is noisy, and the
# standard deviation over the folds is printed with it.

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score


def for_classifier(frame):
    """Object columns as categories and booleans as 0/1, for the classifier."""
    frame = frame.copy()
    frame["hue_band"] = pd.Categorical(
        frame["hue_band"], categories=sorted(real["hue_band"].unique())
    )
    frame["strong"] = frame["strong"].astype(int)
    return frame


fresh = vae.sample(len(real), random_state=1)
both = pd.concat([for_classifier(real), for_classifier(fresh)], ignore_index=True)
is_synthetic = np.r_[np.zeros(len(real)), np.ones(len(fresh))]
detector = HistGradientBoostingClassifier(
    categorical_features="from_dtype", random_state=0
)
auc = cross_val_score(
    detector,
    both,
    is_synthetic,
    cv=StratifiedKFold(5, shuffle=True, random_state=0),
    scoring="roc_auc",
)
print(f"detection ROC AUC: {auc.mean():.2f} +- {auc.std():.2f} (0.5 is ideal)")

# %%
# An AUC clearly above 0.5 says that the synthetic rows differ from the real
# ones in a way that the classifier can find, such as the broken rule
# between ``malic_excess`` and ``malic_acid``; it does not say how much the
# difference matters for a given use of the data.
#
# Other checks are worth running on a real data set, as
# ``benchmarks/tabular.py`` does: fidelity scores such as the ``QualityReport``
# of `sdmetrics <https://docs.sdv.dev/sdmetrics>`_, a model trained on the
# synthetic rows and tested on held-out real rows (train synthetic, test
# real), and the distance from each synthetic row to the closest training
# row, which shows whether the model copies its training data.

"""
=====================================
Digits in two dimensions: VAE vs. PCA
=====================================

A variational autoencoder with ``n_components=2`` maps each 8x8 digit image to
the mean of its posterior ``q(z|x)``, a point in the plane. This example puts
that map next to the two linear-Gaussian latent variable models of
scikit-learn, :class:`~sklearn.decomposition.PCA` (probabilistic PCA) and
:class:`~sklearn.decomposition.FactorAnalysis`, which are the special cases of
the VAE with an affine encoder and decoder.

All three are generative models of ``X``, so besides the picture they give a
number: ``score`` is the mean log-likelihood per image (a lower bound on it,
the ELBO, for the VAE), in nats, in the units of the pixels.
"""

# %%
# Fit the three models
# --------------------
# The VAE uses its defaults (two hidden layers of 256 and 128 units, early
# stopping on a 10 % validation split); ``random_state=0`` makes the run
# reproducible bit for bit on the CPU.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA, FactorAnalysis

from skvae import VAETransformer

X, y = load_digits(return_X_y=True)
# Three pixels are 0 in every image. Factor analysis would give them a noise
# variance of 1e-12 and a log-density of about +13 nats each, which would dominate
# its score; drop them so that the three scores compare the models.
X = X[:, X.std(axis=0) > 0]

models = {
    "VAETransformer(2)": VAETransformer(n_components=2, random_state=0),
    "PCA(2)": PCA(n_components=2),
    "FactorAnalysis(2)": FactorAnalysis(n_components=2, random_state=0),
}
embeddings = {name: model.fit_transform(X) for name, model in models.items()}

for name, model in models.items():
    print(f"{name:>18}: mean log-likelihood (bound) {model.score(X):8.1f} nats")

# %%
# Plot the embeddings
# -------------------
# Each point is one image, coloured by the digit it shows. The labels were not
# used for fitting. A few images lie far out in the VAE's latent space, so each
# panel is zoomed on the central 99 % of its points.


def central_limits(values, share=0.99, margin=0.1):
    """Axis limits around the central ``share`` of ``values``, plus a margin."""
    low, high = np.quantile(values, [(1 - share) / 2, (1 + share) / 2])
    return low - margin * (high - low), high + margin * (high - low)


fig, axes = plt.subplots(1, 3, figsize=(13, 4.4), layout="constrained")
for ax, (name, Z) in zip(axes, embeddings.items(), strict=True):
    points = ax.scatter(
        Z[:, 0], Z[:, 1], c=y, cmap="tab10", vmin=-0.5, vmax=9.5, s=6, alpha=0.8
    )
    ax.set_xlim(central_limits(Z[:, 0]))
    ax.set_ylim(central_limits(Z[:, 1]))
    ax.set_title(f"{name}\nscore = {models[name].score(X):.1f} nats")
    ax.set_xlabel("latent dimension 1")
    ax.set_ylabel("latent dimension 2")
colorbar = fig.colorbar(points, ax=axes, ticks=range(10), aspect=30, pad=0.01)
colorbar.set_label("digit")
fig.suptitle("Digits (1797 images, 61 non-constant pixels) in two dimensions")
plt.show()

# %%
# The VAE separates most digit classes into their own regions of the plane,
# where the two linear maps overlap them heavily. Its ELBO is also higher than
# the exact log-likelihoods of PCA and factor analysis: the nonlinear decoder
# explains the images better with the same two latent variables. The VAE's
# latent space is roughly standard normal (its prior), so
# :meth:`~skvae.VAETransformer.inverse_transform` of a grid of points, or
# :meth:`~skvae.VAETransformer.sample`, produce new images.

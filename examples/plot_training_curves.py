"""
============================================
Training curves, early stopping and overfit
============================================

A fitted :class:`~skvae.VAETransformer` keeps its history, as
:class:`~sklearn.neural_network.MLPRegressor` does: ``loss_curve_`` holds the
training loss of each epoch (the negative ELBO per row, from one latent draw
per row) and, with ``early_stopping=True`` (the default),
``validation_scores_`` holds the ELBO per row of the held-out
``validation_fraction`` of the data after each epoch.

The left panel shows both for a fit with the defaults. The right panel shows
what early stopping prevents: the same model trained epoch by epoch with
:meth:`~skvae.VAETransformer.partial_fit` on 70 % of the digits, scored on
the training rows and on the other 30 % after every fifth epoch.
"""

# %%
# A fit with early stopping
# -------------------------
# During the first 50 epochs (the KL warm-up, ``kl_warmup_iter="auto"``) the
# weight of the KL term rises from 0 to 1, so the training loss is not yet the
# negative ELBO and training does not stop. Afterwards the step size is
# divided by 10 each time the validation ELBO stops improving by ``tol``
# for ``n_iter_no_change`` epochs, twice, and then training stops; the
# weights of the best validation epoch are kept.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skvae import VAETransformer

X, _ = load_digits(return_X_y=True)

vae = VAETransformer(n_components=8, random_state=0).fit(X)
epochs = np.arange(1, vae.n_iter_ + 1)
best_epoch = int(np.argmax(vae.validation_scores_)) + 1
print(f"epochs run: {vae.n_iter_}, best validation epoch: {best_epoch}")
print(f"best validation ELBO: {vae.best_validation_score_:.1f} nats per image")

# %%
# The same model without early stopping
# -------------------------------------
# Each call of ``partial_fit`` runs one epoch over all the rows it is given.

X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
free = VAETransformer(n_components=8, early_stopping=False, random_state=0)
checkpoints, train_scores, test_scores = [], [], []
for epoch in range(1, 151):
    free.partial_fit(X_train)
    if epoch % 5 == 0:
        checkpoints.append(epoch)
        train_scores.append(free.score(X_train))
        test_scores.append(free.score(X_test))

# %%
# Plot both
# ---------

fig, (left, right) = plt.subplots(
    1, 2, figsize=(12, 4.5), sharey=True, layout="constrained"
)
left.axvspan(0, 50, color="0.9", label="KL warm-up")
left.plot(epochs, -np.asarray(vae.loss_curve_), label="training: -loss_curve_")
left.plot(epochs, vae.validation_scores_, label="validation_scores_")
left.axvline(best_epoch, color="black", linestyle=":", label="best epoch (kept)")
left.set_title("fit() with early_stopping=True")
left.set_xlabel("epoch")
left.set_ylabel("ELBO per image (nats)")
left.legend(loc="lower right")

right.axvspan(0, 50, color="0.9", label="KL warm-up")
right.plot(checkpoints, train_scores, marker=".", label="score on training rows")
right.plot(checkpoints, test_scores, marker=".", label="score on held-out rows")
right.set_title("partial_fit() epoch by epoch, no early stopping")
right.set_xlabel("epoch")
right.legend(loc="lower right")
right.yaxis.set_tick_params(labelleft=True)
bottom = min(np.min(vae.validation_scores_[:5]), min(test_scores)) - 5
left.set_ylim(bottom, max(train_scores) + 5)
plt.show()

# %%
# With early stopping the fit ends a few tens of epochs after the validation
# ELBO levels off, and the model it returns is the one from the best epoch. On
# the right, the score on the training rows keeps rising, while the held-out
# score levels off after the warm-up and then drifts down as the gap between
# them widens. With 1257 images and about 100 000 weights, the network starts
# to memorise the training set, and early stopping detects this on its
# validation split.

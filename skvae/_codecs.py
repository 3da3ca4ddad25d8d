"""The protocol between the user's data and the encoded float matrix the model reads.

A codec is fitted to the training data once. It tells which likelihood heads the
model needs, encodes rows for the model and decodes the model's output back to
the user's units. Codecs are numpy / pandas only and never import torch.
Two codecs implement it:

* :class:`~skvae._array_codec.ArrayCodec`: one likelihood family over every
  column of a float array (``likelihood="gaussian"`` or ``"bernoulli"``);
* :class:`~skvae._table_codec.TableCodec`: one column model per column of a
  DataFrame (``likelihood="per_column"``).
"""

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass
class Encoded:
    """Rows as the model reads them, before they become tensors.

    Attributes
    ----------
    values : ndarray of shape (n, d)
        The encoded rows; or, when ``shift`` and ``scale`` are set, the raw
        numbers, which the model reads as ``(values - shift) / scale``
        standardised batch by batch (no standardised copy of the data exists).
    log_jacobian : ndarray of shape (n,) or float
        The log-Jacobian of the encoding per row (one float: the same for every
        row). Added to log-densities of the encoded rows, it gives log-densities
        in the user's units.
    shift, scale : ndarray of shape (d,) or None
        The standardisation applied batch by batch.
    """

    values: np.ndarray
    log_jacobian: Any
    shift: np.ndarray | None = None
    scale: np.ndarray | None = None


class Codec(Protocol):
    """What the estimator asks of a codec."""

    def fit(self, X) -> "Codec":
        """Learn the encoding from the training data ``X``; return self."""

    def heads(self) -> list:
        """The likelihood heads, ``(kind, argument)`` pairs in encoded order.

        ``kind`` is a key of :data:`skvae._likelihoods.LIKELIHOODS` and
        ``argument`` its first argument (a column count, or level counts).
        """

    def column_models(self) -> list:
        """The model each input column got, a short name per column."""

    def encode(self, X, dtype) -> Encoded:
        """``X`` in the model's encoding, values in the float ``dtype``.

        Raises ValueError, naming the column, for values it cannot encode.
        """

    def decode(self, encoded):
        """Encoded rows ``(n, d)`` (decoder means, modes or samples) back in the
        user's units: an array in the training dtype, or a DataFrame with the
        training schema. ``TableCodec.decode`` also takes a numpy ``rng`` for
        what the decoder leaves open (a pooled level, a new identifier)."""


def value_text(value):
    """A value for a message: numbers and text as Python writes them, other
    values (dates, durations) as text."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, (str, int, float, bool)) else str(value)

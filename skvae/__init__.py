"""skvae: a variational autoencoder with the scikit-learn transformer API."""

from ._transformer import VAETransformer

__version__ = "0.1.0"
__all__ = ["VAETransformer", "__version__"]

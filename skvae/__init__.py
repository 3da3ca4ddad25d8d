"""skvae: a variational autoencoder with the scikit-learn transformer API."""

from ._transformer import VAETransformer

__version__ = "0.2.0.dev0"  # the one version string; pyproject.toml reads it
__all__ = ["VAETransformer", "__version__"]

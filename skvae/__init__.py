"""skvae: a variational autoencoder with the scikit-learn transformer API."""

import typing as _typing

__version__ = "0.2.0.dev0"  # the one version string; pyproject.toml reads it
__all__ = ["VAETransformer", "__version__"]

if _typing.TYPE_CHECKING:  # for type checkers and IDEs
    from ._transformer import VAETransformer


def __getattr__(name):
    # VAETransformer (and torch with it) is imported on first use, so that
    # ``import skvae`` and ``skvae --help`` stay quick (PEP 562).
    if name == "VAETransformer":
        from ._transformer import VAETransformer

        globals()[name] = VAETransformer
        return VAETransformer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})

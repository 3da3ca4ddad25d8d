"""skvae: a variational autoencoder with the scikit-learn transformer API."""

import typing as _typing

__version__ = "0.2.0.dev0"  # the one version string; pyproject.toml reads it
__all__ = ["VAEImputer", "VAETransformer", "__version__"]

if _typing.TYPE_CHECKING:  # for type checkers and IDEs
    from ._imputer import VAEImputer
    from ._transformer import VAETransformer

_LAZY = {"VAETransformer": "._transformer", "VAEImputer": "._imputer"}


def __getattr__(name):
    # the estimators (and torch with them) are imported on first use, so that
    # ``import skvae`` and ``skvae --help`` stay quick (PEP 562).
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})

"""Warnings that point at the user's line, not into the library."""

import sys
import warnings

# scikit-learn's code that stands between a user's call and our method:
# ``_fit_context`` (``fit``, ``partial_fit``), ``set_output`` (``transform``)
# and ``TransformerMixin.fit_transform``
_WRAPPERS = {
    ("sklearn.base", "wrapper"),
    ("sklearn.base", "fit_transform"),
    ("sklearn.utils._set_output", "wrapped"),
}


def _user_stacklevel():
    """The ``stacklevel`` of the innermost frame that is neither skvae's nor a
    scikit-learn wrapper around one of skvae's methods."""
    frame, level = sys._getframe(2), 2  # the caller of warn()
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        inside = module == "skvae" or module.startswith("skvae.")
        if not (inside or (module, frame.f_code.co_name) in _WRAPPERS):
            return level
        frame, level = frame.f_back, level + 1
    return level


def warn(message, category):
    """``warnings.warn(message, category)`` attributed to the user's line."""
    warnings.warn(message, category, stacklevel=_user_stacklevel())

"""Sphinx configuration for the skvae documentation.

Build (warnings are errors, the example gallery is executed)::

    OMP_NUM_THREADS=1 python -m sphinx -W -b html docs docs/_build/html

The build works offline. Cross-links to the Python, NumPy, pandas,
scikit-learn and PyTorch documentation (intersphinx) need the network, so they
are switched on only when ``SKVAE_DOCS_INTERSPHINX=1`` is set.
"""

import os
import warnings

import skvae

project = "skvae"
author = "the skvae developers"
copyright = "the skvae developers"
version = release = skvae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
root_doc = "index"
# single backticks, as in scikit-learn's docstrings, render as code
default_role = "literal"

# -- autodoc / autosummary / numpydoc ----------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Types in Parameters/Returns become cross-references; this also keeps names
# such as ``n_features_in_`` from being read as reST hyperlink references.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = {
    "of",
    "or",
    "shape",
    "default",
    "optional",
    "instance",
    "n_samples",
    "n_features",
    "n_components",
}
numpydoc_xref_aliases = {
    # scikit-learn's glossary entry (see _link_sklearn_term below)
    "array-like": ":term:`array-like`",
    "array_like": ":term:`array-like`",
    "ndarray": "numpy.ndarray",
    "RandomState": "numpy.random.RandomState",
    "torch.nn.Module": "torch.nn.Module",
}

# -- intersphinx (online only) -----------------------------------------------

if os.environ.get("SKVAE_DOCS_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "pandas": ("https://pandas.pydata.org/docs", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
    }
else:
    intersphinx_mapping = {}
    # numpydoc's default aliases point into other projects' inventories
    # (``:class:`python:int```, ``:term:`numpy:array_like```); offline they
    # would render with the prefix or warn, so keep those names as plain text.
    numpydoc_xref_aliases.update(
        {
            name: name
            for name in ("None", "True", "False", "list", "tuple", "str", "dict")
            + ("float", "int", "callable", "iterable", "sequence", "generator")
            + ("bool", "boolean", "string", "scalar", "numpy")
        }
    )

# -- sphinx-gallery ----------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "ignore_pattern": r"__init__\.py",
    "doc_module": ("skvae",),
    "backreferences_dir": os.path.join("generated", "backreferences"),
    "reference_url": {"skvae": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "min_reported_time": 1,
    # the examples run in worker processes, one per core (joblib gives each
    # worker its share of the threads)
    "parallel": max(1, min(os.cpu_count() or 1, 5)),
}

# examples run headless
os.environ.setdefault("MPLBACKEND", "agg")
warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message="Matplotlib is currently using agg, which is a non-GUI backend",
)

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skvae {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


# -- scikit-learn glossary terms ---------------------------------------------
# Docstrings follow scikit-learn and use its glossary (:term:`fit`). Offline
# there is no glossary to resolve them against, so unresolved terms link to
# scikit-learn's glossary page instead of raising a warning.

SKLEARN_GLOSSARY = "https://scikit-learn.org/stable/glossary.html#term-"


def _link_sklearn_term(app, env, node, contnode):
    from docutils import nodes

    if node.get("refdomain") != "std" or node.get("reftype") != "term":
        return None
    if ":" in node["reftarget"]:  # a term of another project's glossary
        return None
    anchor = node["reftarget"].lower().replace(" ", "-")
    reference = nodes.reference("", "", internal=False)
    reference["refuri"] = SKLEARN_GLOSSARY + anchor
    reference["reftitle"] = "scikit-learn glossary"
    reference.append(contnode)
    return reference


def setup(app):
    # run after intersphinx (priority 500) so that it resolves terms first
    app.connect("missing-reference", _link_sklearn_term, priority=900)

"""Sphinx configuration of the graphfit documentation.

Build (from the repository root, on Python 3.12+: the tutorials use ArviZ 1)::

    pip install ".[docs]"
    python -m sphinx -W --keep-going -n -b html docs docs/_build/html

Tutorials are MyST markdown notebooks executed by myst-nb at every build.  While editing,
``GRAPHFIT_DOCS_EXECUTE=cache`` re-runs only notebooks that changed (cache under
``docs/_build/``) and ``GRAPHFIT_DOCS_EXECUTE=off`` skips execution; the default is ``force``.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import graphfit as gf
from graphfit.backend import stack

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))  # for _ext

project = "graphfit"
author = "the graphfit developers"
copyright = "the graphfit developers"
release = gf.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_nb",
    "_ext.public_names",
    "_ext.calibration",
    "_ext.benchmarks",
]

exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints", "README.md"]
templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
root_doc = "index"

# -- API reference -----------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "signature"
autodoc_member_order = "groupwise"
autodoc_class_signature = "mixed"
autodoc_preserve_defaults = True
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True

# Cross-references to third-party objects cannot be resolved: the build runs offline, so there is
# no intersphinx.  Only these libraries' targets are ignored; every graphfit name must resolve.
_THIRD_PARTY = (
    "pm",
    "pymc",
    "pytensor",
    "az",
    "arviz",
    "xr",
    "xarray",
    "np",
    "numpy",
    "pd",
    "pandas",
    "matplotlib",
    "plt",
    "scipy",
    "graphviz",
    "os",
    "pathlib",
    "collections",
    "concurrent",
    "typing",
)
nitpick_ignore_regex = [
    (r"py:.*", rf"({'|'.join(_THIRD_PARTY)})\..*"),
]
nitpick_ignore = [
    ("py:class", "optional"),
    # concurrent.futures.Executor in gf.fit_each's signature, shown by its short name
    ("py:class", "Executor"),
    # a model path (tuple of attribute names), the type alias in graphfit.spec.model's hints
    ("py:class", "Path"),
    # each dimension's values for each dataset, the type alias in graphfit.backend.data_groups
    ("py:class", "Coords"),
]

# -- Notebooks (myst-nb) -----------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3
# "force": every build runs every notebook, so the site shows what the code does today.
nb_execution_mode = os.environ.get("GRAPHFIT_DOCS_EXECUTE", "force")
# The executed pages record the fits' stage lines: one line per finished stage, not a line
# redrawn in place (which a recorded page would show once per redraw). The kernels inherit it.
os.environ["GRAPHFIT_PROGRESS"] = "lines"
if nb_execution_mode != "off" and not stack.ARVIZ_1:
    raise RuntimeError(
        "The tutorials call ArviZ 1's plots: build the docs on Python 3.12+ (PyMC 6 / ArviZ 1), "
        "or set GRAPHFIT_DOCS_EXECUTE=off to build them without running the tutorials."
    )
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
# PyTensor warns, once per process, that it found no BLAS to link to (a pip install): a note
# about the docs machine, not about the tutorial, so the executed pages leave it out.  Only that
# message is filtered, in the notebooks' kernels (which, with the processes they start, inherit
# this environment) and in this process; graphfit's own warnings still show on the pages.
BLAS_WARNING = "PyTensor could not link to a BLAS installation"
_options = [o for o in os.environ.get("PYTHONWARNINGS", "").split(",") if o]
if f"ignore:{BLAS_WARNING}:UserWarning" not in _options:
    _options.append(f"ignore:{BLAS_WARNING}:UserWarning")  # the last option takes precedence
os.environ["PYTHONWARNINGS"] = ",".join(_options)
warnings.filterwarnings("ignore", message=BLAS_WARNING, category=UserWarning)

# -- HTML --------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"graphfit {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_context = {"default_mode": "light"}

"""Sphinx configuration: ``make docs`` (``sphinx-build -W``: warnings are errors)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import sphinx_autosummary_accessors

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import behavior_soup  # noqa: E402  (registers the pandas accessors autosummary documents)

project = "behavior_soup"
author = "behavior_soup developers"
release = version = behavior_soup.__version__

extensions = [
    "myst_nb",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx_autosummary_accessors",
]
templates_path = ["_templates", sphinx_autosummary_accessors.templates_path]
exclude_patterns = ["_build", "generated/*.md"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"

autosummary_generate = True
autodoc_typehints = "none"  # numpydoc writes the types from the docstrings
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
intersphinx_mapping = {}  # no network at build time

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
# the notebooks are run when the docs are built, so the pages show their real outputs
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True

html_theme = "pydata_sphinx_theme"
html_title = f"behavior_soup {version}"
html_theme_options = {"navigation_with_keys": False}

# the demo notebooks live in demo_notebooks/ (the tests run them there); the docs render copies
_nb = HERE / "demo_notebooks"  # the README's links to demo_notebooks/ then resolve in the docs too
_nb.mkdir(exist_ok=True)
for src in sorted((HERE.parent / "demo_notebooks").glob("*.ipynb")):
    shutil.copyfile(src, _nb / src.name)

"""Sphinx configuration for the joblib documentation site.

The build is fully offline (no intersphinx inventories, no remote assets) and
is run by the test suite with warnings treated as errors.
"""

from __future__ import annotations

import os
import sys

# Document the checkout this file belongs to, not whatever joblib happens to
# be installed: the API reference must match the source next to it.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

import joblib  # noqa: E402  (needs the path set up above)

project = "joblib"
author = "the joblib reimplementation contributors"
copyright = "2026, " + author
release = joblib.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "numpydoc",
]

exclude_patterns = ["_build", "_generated_tmp", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"] if os.path.isdir(
    os.path.join(os.path.dirname(__file__), "_templates")
) else []
root_doc = "index"

# -- API reference -----------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc renders the types from the docstrings
autodoc_member_order = "bysource"

# numpydoc lists class members through autosummary tables of its own; those
# would duplicate the explicit member documentation and reference private
# helpers, so they are turned off.
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False

# -- doctest builder ---------------------------------------------------------
doctest_global_setup = """
import os, shutil, tempfile
"""

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "joblib %s" % release
html_static_path = ["_static"]
html_theme_options = {
    # Everything the page needs ships with the theme: no remote icons,
    # fonts, analytics or version switcher JSON fetched at build time.
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
}
html_show_sourcelink = False

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

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# -- API reference -----------------------------------------------------------
# The summary table links to the objects documented on the same page: no
# stub pages are generated, so the build never writes into the source tree.
autosummary_generate = False
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
# ``python -m sphinx -b doctest docs <out>`` runs the ``>>>`` examples of the
# pages and of the docstrings shown in the API reference (the test suite
# does, see tests/test_docs.py).
doctest_test_doctest_blocks = "default"

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
    "header_links_before_dropdown": 5,
    "secondary_sidebar_items": ["page-toc"],
}
# Every page is a top-level entry of the navigation bar, so the left
# "section navigation" sidebar would always be empty: drop it.
html_sidebars = {"**": []}
html_show_sourcelink = False

"""docs/architecture.rst names only modules (and objects) that exist."""

import importlib
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "docs", "architecture.rst")
TEXT = open(PAGE, encoding="utf-8").read()

# Dotted joblib names, in or out of backquotes (the layer diagram has none).
NAMES = sorted(set(re.findall(r"\bjoblib(?:\.[A-Za-z_][A-Za-z0-9_]*)+", TEXT)))
FILES = sorted(set(re.findall(r"\b(?:tests|docs|joblib)/[\w/]+\.(?:py|rst)\b", TEXT)))


def _resolve(name):
    """Import the longest module prefix of ``name``; get the rest as attributes."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(name)


def test_page_names_modules():
    assert len(NAMES) > 40 and FILES


@pytest.mark.parametrize("name", NAMES)
def test_named_module_or_object_exists(name):
    assert _resolve(name) is not None


@pytest.mark.parametrize("path", FILES)
def test_named_file_exists(path):
    assert os.path.exists(os.path.join(ROOT, path)), path

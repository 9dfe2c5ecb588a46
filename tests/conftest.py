"""Shared pytest configuration for the joblib test suite."""

from __future__ import annotations

import os
import sys

# Make the repository's ``joblib`` importable when the tests run from a
# checkout (``python -m pytest`` already puts the cwd first on sys.path).
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

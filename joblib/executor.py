"""Compatibility path ``joblib.executor`` (joblib 1.6).

Re-exports the memmapping loky executor from ``joblib._parallel.memmapping``.
"""

from __future__ import annotations

from ._parallel.memmapping.executor import (
    MemmappingExecutor,
    _TestingMemmappingExecutor,
    get_memmapping_executor,
)
from ._parallel.memmapping.forward import get_memmapping_reducers
from ._parallel.memmapping.temp_folders import TemporaryResourcesManager

__all__ = [
    "MemmappingExecutor",
    "TemporaryResourcesManager",
    "get_memmapping_executor",
    "get_memmapping_reducers",
]

# Kept for code that imports it from here (a private helper in 1.6).
_TestingMemmappingExecutor = _TestingMemmappingExecutor

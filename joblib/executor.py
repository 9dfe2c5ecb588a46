"""Compatibility path ``joblib.executor`` (joblib 1.6).

Re-exports the memmapping loky executor from ``joblib._parallel.memmapping``.
"""

from __future__ import annotations

from ._parallel.memmapping.executor import (  # noqa: F401  (private test helper of 1.6)
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

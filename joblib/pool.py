"""Compatibility path ``joblib.pool`` (joblib 1.6).

Re-exports the ``multiprocessing`` pools with custom pickling (``PicklingPool``,
subclassed by Ray's joblib backend) and automatic memmapping
(``MemmappingPool``) from ``joblib._parallel.memmapping``.
"""

from __future__ import annotations

from ._multiprocessing_helpers import assert_spawning, mp
from ._parallel.memmapping.forward import get_memmapping_reducers
from ._parallel.memmapping.pool import (
    CustomizablePickler,
    CustomizablePicklingQueue,
    MemmappingPool,
    PicklingPool,
)
from ._parallel.memmapping.temp_folders import TemporaryResourcesManager

__all__ = [
    "CustomizablePickler",
    "CustomizablePicklingQueue",
    "MemmappingPool",
    "PicklingPool",
    "TemporaryResourcesManager",
    "assert_spawning",
    "get_memmapping_reducers",
    "mp",
]

WindowsError = OSError  # 1.6 name (its portable spelling of WindowsError)

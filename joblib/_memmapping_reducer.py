"""Compatibility path ``joblib._memmapping_reducer`` (joblib 1.6).

Re-exports the memmapping reducers and temporary-folder management from
``joblib._parallel.memmapping``.
"""

from __future__ import annotations

from ._parallel.memmapping.array_files import JOBLIB_MMAPS
from ._parallel.memmapping.forward import ArrayMemmapForwardReducer, get_memmapping_reducers
from ._parallel.memmapping.reducers import (
    _get_backing_memmap,
    _reduce_memmap_backed,
    has_shareable_memory,
    reduce_array_memmap_backward,
)
from ._parallel.memmapping.temp_folders import (
    FILE_PERMISSIONS,
    FOLDER_PERMISSIONS,
    SYSTEM_SHARED_MEM_FS,
    SYSTEM_SHARED_MEM_FS_MIN_SIZE,
    TemporaryResourcesManager,
    _get_temp_dir,
    _WeakArrayKeyMap,
)

__all__ = [
    "ArrayMemmapForwardReducer",
    "FILE_PERMISSIONS",
    "FOLDER_PERMISSIONS",
    "JOBLIB_MMAPS",
    "SYSTEM_SHARED_MEM_FS",
    "SYSTEM_SHARED_MEM_FS_MIN_SIZE",
    "TemporaryResourcesManager",
    "get_memmapping_reducers",
    "has_shareable_memory",
    "reduce_array_memmap_backward",
]

# Private helpers of 1.6 that its test-suite style code imports from here.
_get_backing_memmap = _get_backing_memmap
_reduce_memmap_backed = _reduce_memmap_backed
_WeakArrayKeyMap = _WeakArrayKeyMap
_get_temp_dir = _get_temp_dir

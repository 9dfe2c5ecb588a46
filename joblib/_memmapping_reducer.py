"""Compatibility path ``joblib._memmapping_reducer`` (joblib 1.6).

Re-exports the memmapping reducers and temporary-folder management from
``joblib._parallel.memmapping``.
"""

from __future__ import annotations

# Read at use time by joblib._parallel.memmapping.temp_folders: patching
# SYSTEM_SHARED_MEM_FS(_MIN_SIZE) or this module's ``os`` works as in 1.6.
import os  # noqa: F401

from ._parallel.memmapping.array_files import JOBLIB_MMAPS, unlink_file
from ._parallel.memmapping.forward import ArrayMemmapForwardReducer, get_memmapping_reducers
from ._parallel.memmapping.reducers import (  # noqa: F401  (private helpers of 1.6)
    _get_backing_memmap,
    _reduce_memmap_backed,
    has_shareable_memory,
    reduce_array_memmap_backward,
)
from ._parallel.memmapping.temp_folders import (  # noqa: F401  (private helpers of 1.6)
    FILE_PERMISSIONS,
    FOLDER_PERMISSIONS,
    SYSTEM_SHARED_MEM_FS,
    SYSTEM_SHARED_MEM_FS_MIN_SIZE,
    TemporaryResourcesManager,
    _get_temp_dir,
    _WeakArrayKeyMap,
)



def add_maybe_unlink_finalizer(memmap) -> None:
    """joblib 1.6 hook, kept for callers: does nothing here.

    joblib 1.6 counted references to each temporary file in the resource
    tracker and unlinked it when the last memmap was collected.  Here a
    temporary file lives exactly as long as its context's folder, so there
    is no per-file count to decrement.
    """


__all__ = [
    "ArrayMemmapForwardReducer",
    "FILE_PERMISSIONS",
    "FOLDER_PERMISSIONS",
    "JOBLIB_MMAPS",
    "SYSTEM_SHARED_MEM_FS",
    "SYSTEM_SHARED_MEM_FS_MIN_SIZE",
    "TemporaryResourcesManager",
    "add_maybe_unlink_finalizer",
    "get_memmapping_reducers",
    "has_shareable_memory",
    "reduce_array_memmap_backward",
    "unlink_file",
]

# Other names joblib 1.6 had in this module (imported from joblib itself).
from loky.backend import resource_tracker  # noqa: E402,F401
from ._persist.array_io import make_memmap  # noqa: E402,F401
from .disk import delete_folder  # noqa: E402,F401
from .numpy_pickle import dump, load, load_temporary_memmap  # noqa: E402,F401

WindowsError = OSError  # 1.6 name (its portable spelling of WindowsError)

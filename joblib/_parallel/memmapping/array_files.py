"""Raw array files: written once by the parent, memory-mapped by workers.

A temporary array file holds nothing but the array's bytes, in C order (or
Fortran order for Fortran-contiguous arrays).  Dtype, shape and order travel
in the tiny pickled reducer instead, so writing is one ``tofile`` call at the
speed of the page cache, and opening is one ``np.memmap``.
"""

from __future__ import annotations

import os
from typing import Any

from ...disk import _unlink_quietly
from .temp_folders import FILE_PERMISSIONS, TEMP_FOLDER_PREFIX

__all__ = [
    "JOBLIB_MMAPS",
    "is_temporary_memmap",
    "open_temporary_memmap",
    "unlink_file",
    "write_array",
]

# File names of the temporary memmaps this process has opened (1.6 exposes
# this set; results that are such memmaps are sent back by value).
JOBLIB_MMAPS: set = set()

# Non-contiguous arrays are copied to contiguous chunks of about this size
# before writing, which bounds the parent's extra memory.
_CHUNK_BYTES = 16 * 1024**2

_MAX_REMEMBERED = 4096

# O_BINARY (Windows only) keeps os.write from translating newlines.
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def write_array(a: Any, filename: str) -> str:
    """Write the raw bytes of ``a`` to a new file; return the memmap order.

    The file is created exclusively with owner-only permissions.  On any
    error the partial file is removed before the error propagates.
    """
    order = "F" if (a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous) else "C"
    fd = os.open(filename, _CREATE_FLAGS, FILE_PERMISSIONS)
    try:
        _write_raw(a, fd, order)
    except BaseException:
        # Also on KeyboardInterrupt: never leave half a file behind.
        os.close(fd)
        _unlink_quietly(filename)  # it may not have been created
        raise
    os.close(fd)
    return order


def _write_raw(a: Any, fd: int, order: str) -> None:
    """Write ``a``'s elements to ``fd`` in ``order`` without a full copy."""
    import numpy as np  # numpy is optional at import

    if order == "F":
        a = a.T  # C-contiguous view with the same bytes
    if a.flags.c_contiguous:
        _write_all(fd, a)
        return
    rows = max(1, _CHUNK_BYTES // max(1, a.nbytes // max(1, a.shape[0])))
    for start in range(0, a.shape[0], rows):
        _write_all(fd, np.ascontiguousarray(a[start : start + rows]))


def _write_all(fd: int, a: Any) -> None:
    """Write a C-contiguous array with as few system calls as possible."""
    import numpy as np  # numpy is optional at import

    # A byte view works for every dtype (datetime, structured, ...), unlike
    # the buffer protocol; one write() per call moves the whole buffer.
    view = memoryview(a.reshape(-1).view(np.uint8))
    while view:
        view = view[os.write(fd, view) :]


def open_temporary_memmap(filename: str, dtype: Any, shape: tuple, order: str, mode: str):
    """Worker side: map a temporary array file as an ``np.memmap``.

    Read-only and read-write maps are shared with the next tasks of this
    process for a moment (see :mod:`.mapping_cache`); each task gets its own
    view.  Copy-on-write maps are private to each task, so never shared.
    """
    import numpy as np  # numpy is optional at import

    mode = _worker_mode(mode)

    def open_mapping():
        return np.memmap(filename, dtype=dtype, mode=mode, shape=shape, order=order)

    if mode == "c":
        mm = open_mapping()
    else:
        # deferred: worker side only, and it loads multiprocessing
        from .mapping_cache import recent_mappings

        mm = recent_mappings.get((filename, mode, dtype, shape, order), open_mapping).view()
    if len(JOBLIB_MMAPS) >= _MAX_REMEMBERED:
        # Long-lived workers see endless new files; the folder-name test
        # in is_temporary_memmap still recognises the forgotten ones.
        JOBLIB_MMAPS.clear()
    JOBLIB_MMAPS.add(mm.filename)
    return mm


def _worker_mode(mode: str) -> str:
    # 'w+' would truncate the shared data when a worker opens it.
    return "r+" if mode == "w+" else mode


def is_temporary_memmap(filename: str | None) -> bool:
    """True when ``filename`` is an array file of a joblib temporary folder."""
    if filename is None:
        return False
    if filename in JOBLIB_MMAPS:
        return True
    return os.path.basename(os.path.dirname(filename)).startswith(TEMP_FOLDER_PREFIX)


def unlink_file(filename: str) -> None:
    """Remove ``filename``; a file that is already gone is not an error."""
    _unlink_quietly(filename, FileNotFoundError)

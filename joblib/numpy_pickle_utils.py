"""Compatibility shim: the ``joblib.numpy_pickle_utils`` path of joblib 1.6.
The implementation lives in ``joblib._persist``."""

from __future__ import annotations

import pickle

from ._persist.array_io import ensure_native_byte_order as _ensure_native_byte_order
from ._persist.array_io import _is_foreign_order as _is_foreign_order
from ._persist.file_io import BUFFER_SIZE  # noqa: F401
from ._persist.file_io import IO_BUFFER_SIZE as _IO_BUFFER_SIZE
from ._persist.file_io import detect_compressor as _detect_compressor
from ._persist.file_io import is_raw_file as _is_raw_file
from ._persist.file_io import open_for_read as _validate_fileobject_and_memmap
from ._persist.file_io import open_for_write as _open_for_write
from .compressor import _COMPRESSORS, _ZFILE_PREFIX  # noqa: F401
from .numpy_pickle_compat import _reconstruct  # noqa: F401

__all__ = ["Pickler", "Unpickler", "BUFFER_SIZE"]

Pickler = pickle._Pickler
Unpickler = pickle._Unpickler


def _is_numpy_array_byte_order_mismatch(array) -> bool:
    """True when ``array`` does not use the host byte order."""
    return _is_foreign_order(array.dtype)


def _write_fileobject(filename, compress=("zlib", 3)):
    """Return a buffered compressing file object over ``filename``."""
    method, level = compress
    return _open_for_write(filename, method if method in _COMPRESSORS else "zlib", level)


def _read_bytes(fp, size, error_template="ran out of data"):
    """Read exactly ``size`` bytes from ``fp`` or raise ValueError."""
    data = b""
    while len(data) < size:
        chunk = fp.read(size - len(data))
        if not chunk:
            break
        data += chunk
    if len(data) != size:
        raise ValueError(
            "EOF: reading %s, expected %d bytes got %d"
            % (error_template, size, len(data))
        )
    return data

xrange = range  # 1.6 name, kept for importers

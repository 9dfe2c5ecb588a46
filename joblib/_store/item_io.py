"""Reading and writing the files of one cache entry on a local file system.

``output.pkl`` holds what ``joblib.dump`` writes. Most cached results are
small and hold no numpy array; for them joblib's file is exactly a standard
pickle stream, so it is written and read with the C pickle module, which is
many times faster than joblib's pure-Python pickler. Results that hold
arrays, and compressed stores, go through ``numpy_pickle`` as in joblib 1.6,
so the files are identical in format either way.

Every file is written to a temporary sibling and renamed into place, so a
reader never sees a partially written file, even when the writer is killed.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import sys
import time
from typing import Any, Callable

from .atomic import concurrency_safe_rename, temporary_name

__all__ = [
    "NeedsNumpyPickle",
    "concurrency_safe_write",
    "dumps_plain",
    "read_output",
    "write_bytes_atomic",
    "write_output",
    "read_json",
    "json_bytes",
]

# Results read entirely into memory before unpickling; larger files are
# streamed so that big arrays are not held twice.
_SMALL_FILE = 1 << 20
# joblib's marker classes (NumpyArrayWrapper, and the NDArrayWrapper family
# of old files) all end with this name; a stream without it is plain pickle.
_WRAPPER_MARK = b"ArrayWrapper"
_PICKLE_PROTO_PREFIX = b"\x80"


class NeedsNumpyPickle(Exception):
    """Raised while pickling when the object holds a numpy array."""


class _PlainPickler(pickle.Pickler):
    """C pickler that refuses the arrays that joblib writes out of band."""

    def reducer_override(self, obj):
        np = sys.modules.get("numpy")
        if np is not None and type(obj) in (np.ndarray, np.matrix, np.memmap):
            raise NeedsNumpyPickle()
        return NotImplemented


def dumps_plain(value: Any) -> bytes | None:
    """Pickle ``value`` as joblib would, or return None if it holds arrays."""
    buffer = io.BytesIO()
    try:
        _PlainPickler(buffer, protocol=pickle.DEFAULT_PROTOCOL).dump(value)
    except NeedsNumpyPickle:
        return None
    return buffer.getvalue()


def concurrency_safe_write(object_to_write, filename: str, write_func: Callable) -> str:
    """Write ``object_to_write`` with ``write_func`` to a unique temporary name.

    The temporary name is unique per host, process and thread; it is
    returned so that the caller renames it onto ``filename``.
    """
    temporary_filename = temporary_name(filename)
    write_func(object_to_write, temporary_filename)
    return temporary_filename


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass  # already gone; nothing else to clean


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    tmp = temporary_name(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        concurrency_safe_rename(tmp, path)
    except BaseException:
        # Re-raised: only make sure no temporary file is left behind.
        _remove_quietly(tmp)
        raise


def _dump_numpy_pickle(path: str, value: Any, compress) -> None:
    from .. import numpy_pickle

    tmp = temporary_name(path)
    try:
        with open(tmp, "wb") as f:
            numpy_pickle.dump(value, f, compress=compress)
        concurrency_safe_rename(tmp, path)
    except BaseException:
        # Re-raised: only make sure no temporary file is left behind.
        _remove_quietly(tmp)
        raise


def write_output(path: str, value: Any, compress) -> None:
    """Atomically write ``value`` to ``path`` in joblib's format."""
    data = None if compress else dumps_plain(value)
    if data is None:
        _dump_numpy_pickle(path, value, compress)
    else:
        write_bytes_atomic(path, data)


def _touch_access_time(fd: int, stat: os.stat_result) -> None:
    """Record the access: ``reduce_size`` evicts the least recently used first.

    Relying on the kernel is not enough: with the default ``relatime``
    mount option, reads update the access time at most once a day.
    """
    try:
        os.utime(fd, ns=(time.time_ns(), stat.st_mtime_ns))
    except OSError:
        pass  # read-only cache: eviction order is then only approximate


def _is_plain_pickle(data: bytes) -> bool:
    """True if ``data`` is a standard pickle stream (no joblib array marker)."""
    return data[:1] == _PICKLE_PROTO_PREFIX and _WRAPPER_MARK not in data


def read_output(path: str, mmap_mode=None) -> Any:
    """Load the result stored at ``path``.

    Raises
    ------
    FileNotFoundError
        If there is no such file (the entry does not exist or was evicted).
    """
    from .. import numpy_pickle

    with open(path, "rb", buffering=0) as f:
        stat = os.fstat(f.fileno())
        _touch_access_time(f.fileno(), stat)
        if stat.st_size <= _SMALL_FILE:
            data = f.readall()
            if _is_plain_pickle(data):
                return pickle.loads(data)
            if mmap_mode is None:
                return numpy_pickle.load(io.BytesIO(data))
        elif mmap_mode is None:
            return numpy_pickle.load(io.BufferedReader(f))
    # Arrays are mapped from the file, which numpy_pickle opens by name.
    return numpy_pickle.load(path, mmap_mode=mmap_mode)


def json_bytes(obj: Any) -> bytes:
    """The bytes of ``metadata.json``, formatted as joblib 1.6 writes them."""
    return json.dumps(obj).encode("utf-8")


def read_json(path: str) -> dict:
    """Read a JSON file; ``{}`` when it is missing or unreadable."""
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError):
        return {}

"""Reading and writing the files of one cache entry on a local file system.

``output.pkl`` holds what ``joblib.dump`` writes. Most cached results are
small and hold no numpy array; for them joblib's file is exactly a standard
pickle stream, so it is written and read with the C pickle module, which is
many times faster than joblib's pure-Python pickler. Results that hold
arrays, and compressed stores, go through ``numpy_pickle`` as in joblib 1.6,
so the files are identical in format either way.

Every file is written to a temporary sibling and renamed into place, and a
new entry is written as a temporary folder renamed into place, so a reader
never sees a partially written file or entry, even when the writer is killed.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import pickle
import shutil
import threading
import time
from typing import Any, Callable

from json.encoder import encode_basestring_ascii as _json_str

from .. import numpy_pickle
from .._persist import fast_pickle
from .atomic import concurrency_safe_rename, replace_on_success, temporary_name

__all__ = [
    "concurrency_safe_write",
    "dumps_plain",
    "read_output",
    "write_bytes_atomic",
    "write_output",
    "write_entry",
    "read_json",
    "json_bytes",
    "metadata_bytes",
]

# Results read entirely into memory before unpickling; larger files are
# streamed so that big arrays are not held twice.
_SMALL_FILE = 1 << 20
# joblib's marker classes (NumpyArrayWrapper, and the NDArrayWrapper family
# of old files) all end with this name; a stream without it is plain pickle.
_WRAPPER_MARK = b"ArrayWrapper"
_PICKLE_PROTO_PREFIX = b"\x80"
_ATIME_RESOLUTION_NS = 10**9
_FIRST_READ = 1 << 14
# path -> time of this process' last access-time update (bounded).
_recent_touches: dict = {}
_RECENT_TOUCHES_MAX = 4096
_WRITE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def dumps_plain(value: Any) -> bytes | None:
    """Pickle ``value`` as joblib would, or return None if it holds arrays
    (or the C-pickler path is switched off: ``JOBLIB_NO_FAST_PICKLE``)."""
    if not fast_pickle.ENABLED:
        return None
    buffer = io.BytesIO()
    try:
        fast_pickle.fast_dump(value, buffer, pickle.DEFAULT_PROTOCOL)
    except fast_pickle.ArrayFound:
        return None
    return buffer.getvalue()


_process_tag = None
_counter = itertools.count()


def _reset_process_tag() -> None:
    global _process_tag
    _process_tag = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_process_tag)


def fast_temporary_name(path: str) -> str:
    """Like ``atomic.temporary_name``, without two system calls per name.

    ``temporary_name`` asks for the host name and for random bytes each
    time; on the write path of small results those calls cost more than
    the write. Here the host, pid and a random token are fixed once per
    process (again after a fork); the thread id and a counter make each
    name unique within the process.
    """
    global _process_tag
    tag = _process_tag
    if tag is None:
        # One real name per process: its host/pid/random part is reused.
        tag = _process_tag = os.path.basename(temporary_name("x"))[2:-4]
    return "%s.%s-%d-%d.tmp" % (path, tag, threading.get_ident(), next(_counter))


def concurrency_safe_write(object_to_write, filename: str, write_func: Callable) -> str:
    """Write ``object_to_write`` with ``write_func`` to a unique temporary name.

    The temporary name is unique per host, process and thread; it is
    returned so that the caller renames it onto ``filename``.
    """
    temporary_filename = temporary_name(filename)
    write_func(object_to_write, temporary_filename)
    return temporary_filename


def _write_new_file(path: str, data: bytes) -> None:
    """Create ``path`` (which must not exist) holding ``data``."""
    fd = os.open(path, _WRITE_FLAGS, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    with replace_on_success(path, fast_temporary_name(path)) as tmp:
        _write_new_file(tmp, data)


def _dump_numpy_pickle(path: str, value: Any, compress) -> None:
    with replace_on_success(path, fast_temporary_name(path)) as tmp:
        with open(tmp, "wb") as f:
            numpy_pickle.dump(value, f, compress=compress)


def write_output(path: str, value: Any, compress) -> None:
    """Atomically write ``value`` to ``path`` in joblib's format."""
    data = None if compress else dumps_plain(value)
    if data is None:
        _dump_numpy_pickle(path, value, compress)
    else:
        write_bytes_atomic(path, data)


def write_entry(item_path: str, value: Any, compress, metadata: bytes) -> None:
    """Create the entry folder ``item_path`` holding ``metadata.json`` and
    ``output.pkl``, both complete when it appears.

    The files are written into a private temporary folder (no temporary
    file each, no rename each), which one rename puts into place: a reader
    sees no entry or a whole one. If the entry exists already (computed
    again, or by another process meanwhile), its files are replaced one by
    one instead, metadata first, each by a rename as before.

    Raises
    ------
    FileNotFoundError
        If the function's folder does not exist (the caller creates it and
        calls again).
    """
    data = None if compress else dumps_plain(value)
    tmp = fast_temporary_name(item_path)
    os.mkdir(tmp)
    try:
        _write_new_file(tmp + os.sep + "metadata.json", metadata)
        output = tmp + os.sep + "output.pkl"
        if data is None:
            with open(output, "xb") as f:
                numpy_pickle.dump(value, f, compress=compress)
        else:
            _write_new_file(output, data)
        _move_entry(tmp, item_path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _move_entry(tmp: str, item_path: str) -> None:
    """Rename the folder ``tmp`` to ``item_path``, or move its files into it."""
    try:
        # Also replaces an empty folder (POSIX), e.g. one joblib 1.6 just made.
        os.rename(tmp, item_path)
        return
    except OSError:
        if not os.path.isdir(item_path):
            raise
    for name in ("metadata.json", "output.pkl"):
        concurrency_safe_rename(tmp + os.sep + name, item_path + os.sep + name)
    try:
        os.rmdir(tmp)
    except OSError:
        pass  # removed with the entry by a concurrent clear: nothing is lost


def _touch_access_time(fd: int, path: str) -> None:
    """Record the access: ``reduce_size`` evicts the least recently used first.

    Relying on the kernel is not enough: with the default ``relatime``
    mount option, reads update the access time at most once a day. System
    calls are a large part of a hit's cost, so an entry is touched at most
    once a second by each process.
    """
    now = time.time_ns()
    last = _recent_touches.get(path)
    if last is not None and now - last < _ATIME_RESOLUTION_NS:
        return
    if len(_recent_touches) >= _RECENT_TOUCHES_MAX:
        _recent_touches.clear()
    _recent_touches[path] = now
    stat = os.fstat(fd)
    if now - stat.st_atime_ns < _ATIME_RESOLUTION_NS:
        return
    try:
        os.utime(fd, ns=(now, stat.st_mtime_ns))
    except OSError:
        pass  # read-only cache: eviction order is then only approximate


def _is_plain_pickle(data: bytes) -> bool:
    """True if ``data`` is a standard pickle stream (no joblib array marker)."""
    return data[:1] == _PICKLE_PROTO_PREFIX and _WRAPPER_MARK not in data


def _read_small(fd: int) -> bytes | None:
    """The whole file if it is small, else None (the offset is then undefined)."""
    data = os.read(fd, _FIRST_READ)
    if len(data) < _FIRST_READ:
        return data  # a short read of a regular file means end of file
    size = os.fstat(fd).st_size
    if size > _SMALL_FILE:
        return None
    # Entries are replaced by rename, never rewritten in place: the size
    # read by fstat is the size of this file for good.
    return data + _read_exactly(fd, size - len(data))


def read_output(path: str, mmap_mode=None) -> Any:
    """Load the result stored at ``path``.

    Raises
    ------
    FileNotFoundError
        If there is no such file (the entry does not exist or was evicted).
    """
    fd = os.open(path, _READ_FLAGS)
    try:
        _touch_access_time(fd, path)
        data = _read_small(fd)
        if data is not None:
            if fast_pickle.ENABLED and _is_plain_pickle(data):
                return pickle.loads(data)
            if mmap_mode is None:
                return _numpy_load(io.BytesIO(data))
        elif mmap_mode is None:
            os.lseek(fd, 0, os.SEEK_SET)
            with open(fd, "rb", closefd=False) as f:
                return _numpy_load(f)
    finally:
        os.close(fd)
    # Arrays are mapped from the file, which numpy_pickle opens by name.
    return _numpy_load(path, mmap_mode=mmap_mode)


def _read_exactly(fd: int, size: int) -> bytes:
    data = os.read(fd, size)
    while len(data) < size:  # short reads are rare but allowed
        chunk = os.read(fd, size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _numpy_load(*args, **kwargs):
    return numpy_pickle.load(*args, **kwargs)


def json_bytes(obj: Any) -> bytes:
    """The bytes of ``metadata.json``, formatted as joblib 1.6 writes them."""
    return json.dumps(obj).encode("utf-8")


_METADATA_KEYS = ("duration", "input_args", "time")


def metadata_bytes(metadata: dict) -> bytes:
    """``json_bytes(metadata)``, formatted directly for Memory's usual
    ``{"duration": float, "input_args": {str: str}, "time": float}``
    (a quarter of the cost of writing a small entry); anything else goes
    through ``json``."""
    if tuple(metadata) != _METADATA_KEYS:  # json keeps the dict's order
        return json_bytes(metadata)
    duration, args, start = metadata["duration"], metadata["input_args"], metadata["time"]
    if (type(duration) is not float or type(start) is not float
            or duration - duration != 0.0 or start - start != 0.0  # not inf/nan
            or type(args) is not dict):
        return json_bytes(metadata)
    parts = []
    for name, value in args.items():
        if type(name) is not str or not isinstance(value, str):
            return json_bytes(metadata)
        parts.append(_json_str(name) + ": " + _json_str(value))
    return ('{"duration": ' + repr(duration) + ', "input_args": {' + ", ".join(parts)
            + '}, "time": ' + repr(start) + "}").encode("ascii")


def read_json(path: str) -> dict:
    """Read a JSON file; ``{}`` when it is missing or unreadable."""
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError):
        return {}

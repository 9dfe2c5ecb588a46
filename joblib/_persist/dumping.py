"""Orchestration of ``dump``: targets, temporary files, fast path, fallback.

A path target is written to a temporary sibling and renamed over the
destination only once complete (``_store.atomic``), so a failed or
interrupted dump never leaves a partial file where a complete one stood.
"""

from __future__ import annotations

import io
import os

from .._store.atomic import atomic_write
from .fast_pickle import ArrayFound, fast_dump
from .file_io import open_for_write
from .options import resolve_compress

__all__ = ["dump_value", "check_dump_target"]

# In-memory budget of the fast attempt when the target cannot be rewound.
_SPILL_LIMIT = 64 * 1024**2


class _BufferFull(Exception):
    """Internal signal: the fast attempt outgrew its memory budget."""


class _BoundedBuffer(io.RawIOBase):
    """A write-only buffer that refuses to grow past ``limit`` bytes."""

    def __init__(self, limit: int):
        self._parts: list = []
        self._size = 0
        self._limit = limit

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        n = memoryview(data).nbytes
        self._size += n
        if self._size > self._limit:
            raise _BufferFull()
        self._parts.append(bytes(data))
        return n

    def parts(self):
        return self._parts


def check_dump_target(filename):
    """Return ``(target, is_path)``; raise ValueError for anything else."""
    if isinstance(filename, os.PathLike):
        filename = os.fspath(filename)
    if isinstance(filename, str):
        return filename, True
    if hasattr(filename, "write"):
        return filename, False
    # People keep swapping the arguments: say what we got.
    raise ValueError(
        "Second argument should be a filename or a file-like object, %s "
        "(type %s) was given. A filename is a str or os.PathLike; a file "
        "object needs a write method." % (filename, type(filename))
    )


def dump_value(value, filename, compress, protocol, pickler_cls, fast: bool):
    """Write ``value`` to a path or file object; return ``[path]`` or None."""
    target, is_path = check_dump_target(filename)
    # The extension picks the compressor only for paths.
    method, level = resolve_compress(compress, target if is_path else None)
    if is_path:
        _dump_to_path(value, target, method, level, protocol, pickler_cls, fast)
        return [target]
    _dump_to_fileobj(value, target, method, level, protocol, pickler_cls, fast)
    return None


def _check_directory(path: str) -> None:
    if os.path.isdir(path):
        raise IsADirectoryError(
            "Cannot dump to %r: it is a directory, expected a file path." % (path,)
        )


def _dump_to_path(value, path, method, level, protocol, pickler_cls, fast):
    _check_directory(path)
    try:
        _atomic_dump(value, path, method, level, protocol, pickler_cls, fast)
    except OSError as exc:
        if not str(exc.filename or "").startswith(path):
            raise
        # The failing name is our temporary file: report the user's path.
        raise type(exc)(
            exc.errno, "Cannot write %r: %s" % (path, exc.strerror), path
        ) from exc


def _atomic_dump(value, path, method, level, protocol, pickler_cls, fast):
    with atomic_write(path, "wb") as raw:
        if fast and _fast_into(value, raw, method, level, protocol):
            return
        # Overwrite what the fast attempt wrote, then cut off any excess.
        # Never truncate to zero: on ext4 (auto_da_alloc) a file truncated
        # to zero is flushed to disk synchronously when it is closed, which
        # halved the speed of dumping large arrays.
        written = raw.tell()
        raw.seek(0)
        _slow_into(value, raw, method, level, protocol, pickler_cls)
        if raw.tell() < written:
            raw.truncate()


def _fast_into(value, raw, method, level, protocol) -> bool:
    """Try the C pickler straight into ``raw``; False if an array was met."""
    sink = raw if method is None else open_for_write(raw, method, level)
    try:
        fast_dump(value, sink, protocol)
    except ArrayFound:
        return False
    finally:
        if sink is not raw:
            sink.close()
    return True


def _slow_into(value, raw, method, level, protocol, pickler_cls):
    """Write with the array-inlining pickler into ``raw`` (compressed or not)."""
    sink = raw if method is None else open_for_write(raw, method, level)
    try:
        pickler_cls(sink, protocol=protocol).dump(value)
    finally:
        if sink is not raw:
            sink.close()


def _dump_to_fileobj(value, fileobj, method, level, protocol, pickler_cls, fast):
    """Dump into a caller's file: nothing is written until we know the path.

    The fast attempt goes to a bounded memory buffer, because a caller's
    file (a socket, a GzipFile...) usually cannot be rewound.
    """
    if fast:
        buffer = _BoundedBuffer(_SPILL_LIMIT)
        try:
            fast_dump(value, buffer, protocol)
        except (ArrayFound, _BufferFull):
            pass
        else:
            _copy_parts(buffer.parts(), fileobj, method, level)
            return
        del buffer
    if method is None:
        pickler_cls(fileobj, protocol=protocol).dump(value)
        return
    _slow_into(value, fileobj, method, level, protocol, pickler_cls)


def _copy_parts(parts, fileobj, method, level) -> None:
    sink = fileobj if method is None else open_for_write(fileobj, method, level)
    try:
        for part in parts:
            sink.write(part)
    finally:
        if sink is not fileobj:
            sink.close()

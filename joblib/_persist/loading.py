"""Orchestration of ``load``: argument checks, opening, fast path, fallback."""

from __future__ import annotations

import io
import os
import pickle
import warnings

from .fast_pickle import ArrayFound, fast_load, worth_trying
from .file_io import check_mmap_mode, open_for_read

__all__ = ["check_load_options", "load_value"]


def check_load_options(mmap_mode, ensure_native_byte_order) -> bool:
    """Validate the options of ``load``; return the effective byte-order flag."""
    check_mmap_mode(mmap_mode)
    if ensure_native_byte_order == "auto":
        return mmap_mode is None
    if not isinstance(ensure_native_byte_order, bool):
        raise TypeError(
            "ensure_native_byte_order should be True, False or 'auto', got %r "
            "(type %s)"
            % (ensure_native_byte_order, type(ensure_native_byte_order).__name__)
        )
    if ensure_native_byte_order and mmap_mode is not None:
        raise ValueError(
            "Native byte ordering can only be enforced if 'mmap_mode' parameter "
            "is set to None, but got 'mmap_mode=%s' instead." % (mmap_mode,)
        )
    return ensure_native_byte_order


def load_value(filename, mmap_mode, native, unpickler_cls, compat_loader, fast):
    """Load from a path or a readable file object."""
    if isinstance(filename, os.PathLike):
        filename = os.fspath(filename)
    if hasattr(filename, "read"):
        return _load_fileobj(filename, mmap_mode, native, unpickler_cls, fast)
    if not isinstance(filename, (str, bytes)):
        raise TypeError(
            "filename should be a str, os.PathLike or a file object opened "
            "for binary reading, %r (type %s) was given."
            % (filename, type(filename).__name__)
        )
    if isinstance(filename, bytes):
        filename = os.fsdecode(filename)
    with open(filename, "rb") as raw:
        with open_for_read(raw, filename, mmap_mode) as (fobj, usable_mmap):
            if isinstance(fobj, str):
                return compat_loader(fobj)
            fast = fast and _rewindable(fobj, raw)
            return _unpickle(fobj, native, filename, usable_mmap, unpickler_cls, fast)


def _load_fileobj(fileobj, mmap_mode, native, unpickler_cls, fast):
    name = getattr(fileobj, "name", "")
    # joblib 1.6 never memory-maps through a caller's file object; it warns
    # for in-memory, compressed and non-raw ones, as open_for_read does.
    start = _tell(fileobj)
    with open_for_read(fileobj, name, mmap_mode) as (fobj, _):
        if start and fobj is not fileobj and _tell(fileobj) == 0:
            start = 0  # a finished buffer, read again from its start (1.6)
        rewindable = _rewindable(fobj, fileobj) and (fobj is fileobj or start == 0)
        return _unpickle(fobj, native, "", None, unpickler_cls, fast and rewindable)


def _tell(fileobj):
    try:
        return fileobj.tell()
    except (OSError, AttributeError, io.UnsupportedOperation):
        return None


def _rewindable(fobj, raw) -> bool:
    """Whether the fast attempt can be undone by seeking ``fobj`` back."""
    try:
        return bool(fobj.seekable()) and _tell(fobj) is not None
    except (OSError, AttributeError, ValueError):
        return False


def _unpickle(fobj, native, filename, mmap_mode, unpickler_cls, fast):
    """Load one object, first at C speed when no array wrapper shows up."""
    try:
        if fast and worth_trying(fobj):
            start = fobj.tell()
            try:
                return fast_load(fobj)
            except ArrayFound:
                fobj.seek(start)
        return _slow_unpickle(fobj, native, filename, mmap_mode, unpickler_cls)
    except UnicodeDecodeError as exc:
        raise ValueError(
            "You may be trying to read with python 3 a joblib pickle generated "
            "with python 2. This feature is not supported by joblib."
        ) from exc
    except (pickle.UnpicklingError, EOFError) as exc:
        raise type(exc)(
            "Could not load %s: the file is truncated, corrupted or not a "
            "joblib/pickle file (%s)" % (_describe(filename, fobj), exc)
        ) from exc


def _describe(filename, fobj) -> str:
    return repr(filename) if filename else "%r" % (fobj,)


def _slow_unpickle(fobj, native, filename, mmap_mode, unpickler_cls):
    unpickler = unpickler_cls(filename, fobj, native, mmap_mode=mmap_mode)
    obj = unpickler.load()
    if unpickler.compat_mode:
        warnings.warn(
            "The file '%s' has been generated with a joblib version less than "
            "0.10. Please regenerate this pickle file." % (filename,),
            DeprecationWarning,
            stacklevel=4,
        )
    return obj

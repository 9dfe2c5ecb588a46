"""The parent-side reducer that turns large arrays into memmap references."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable
from uuid import uuid4

from ...disk import _parse_size
from ..._persist.file_io import check_mmap_mode
from .array_files import open_temporary_memmap, write_array
from .reducers import (
    _get_backing_memmap,
    _reduce_by_value,
    _reduce_memmap_backed,
    reduce_array_memmap_backward,
)
from .temp_folders import (
    TemporaryResourcesManager,
    _ResolverContexts,
    _same_kind_of_error,
    shared_mem_settings,
)

__all__ = [
    "ArrayMemmapForwardReducer",
    "get_memmapping_reducers",
    "memmapping_settings",
    "parse_max_nbytes",
]

_LOGGER = logging.getLogger("joblib.memmapping")


def parse_max_nbytes(max_nbytes: Any) -> int | None:
    """Return ``max_nbytes`` as an int number of bytes (None stays None).

    Accepts an int, a float, or a string such as ``'1M'``, ``'500K'`` or
    ``'2G'`` (powers of 1024, as in joblib 1.6).
    """
    if max_nbytes is None:
        return None
    if isinstance(max_nbytes, str):
        return _parse_size(max_nbytes, "max_nbytes", any_case=True)
    if isinstance(max_nbytes, bool) or not isinstance(max_nbytes, (int, float)):
        raise TypeError(
            "max_nbytes must be an int, a string such as '1M', or None; got %r (type %s)"
            % (max_nbytes, type(max_nbytes).__name__)
        )
    if max_nbytes < 0:
        raise ValueError("max_nbytes must be >= 0 or None; got %r" % (max_nbytes,))
    return int(max_nbytes)


class ArrayMemmapForwardReducer:
    """Reduce numpy arrays sent to workers, memmapping the large ones.

    Parameters
    ----------
    max_nbytes : int, str or None
        Arrays with more bytes than this are written to a temporary file and
        sent as a memmap; None disables that (memmaps of files are still
        sent by reference).
    temp_folder_resolver : callable or TemporaryResourcesManager
        Gives the folder of the current context.
    mmap_mode : {'r', 'r+', 'w+', 'c'} or None
        Mode of the memmaps opened by workers ('w+' opens as 'r+'); None
        disables the memmapping of large arrays.
    unlink_on_gc_collect : bool
        Accepted for joblib 1.6 compatibility; files live as long as their
        context's folder here.
    verbose : int
        Above 0, each array written is logged on the ``joblib.memmapping``
        logger (DEBUG level).
    prewarm : bool or 'auto'
        Ask the OS to keep each new file in memory ('auto': unless it is on
        /dev/shm, which always is).
    """

    def __init__(
        self,
        max_nbytes,
        temp_folder_resolver,
        mmap_mode,
        unlink_on_gc_collect=False,
        verbose=0,
        prewarm=False,
    ):
        self._max_nbytes = parse_max_nbytes(max_nbytes)
        # Short form: workers map 'w+' as 'r+', which 'write' would bypass.
        self._mmap_mode = check_mmap_mode(mmap_mode)
        self._unlink_on_gc_collect = unlink_on_gc_collect
        self.verbose = int(verbose)
        self._prewarm = prewarm
        self._temp_folder_resolver = temp_folder_resolver
        if isinstance(temp_folder_resolver, TemporaryResourcesManager):
            self._contexts = temp_folder_resolver
        elif temp_folder_resolver is not None:
            self._contexts = _ResolverContexts(temp_folder_resolver)
        else:
            self._contexts = None  # a copy unpickled in a worker: never used
        self._write_lock = threading.Lock()

    @property
    def _temp_folder(self) -> str:
        return self._contexts.current_context().folder

    def __reduce__(self):
        # loky pickles its reducers into the workers, which never use them to
        # send arrays: the resolver and the map of written arrays stay here.
        args = (self._max_nbytes, None, self._mmap_mode, self._unlink_on_gc_collect)
        return ArrayMemmapForwardReducer, args, {"verbose": self.verbose, "prewarm": self._prewarm}

    def __setstate__(self, state: dict) -> None:
        self.verbose = state["verbose"]
        self._prewarm = state["prewarm"]

    def __call__(self, a: Any) -> tuple:
        import numpy as np  # numpy is optional at import

        m = _get_backing_memmap(a)
        if isinstance(m, np.memmap) and m.filename is not None:
            return _reduce_memmap_backed(a, m)
        context = self._contexts.current_context()
        max_nbytes, mmap_mode, verbose, prewarm = self._settings(context)
        if not _should_memmap(a, max_nbytes, mmap_mode):
            return _reduce_by_value(a)
        filename, order = self._file_for(a, context, verbose, prewarm)
        return open_temporary_memmap, (filename, a.dtype, a.shape, order, mmap_mode)

    def _settings(self, context) -> tuple:
        settings = context.settings
        if settings is None:
            return self._max_nbytes, self._mmap_mode, self.verbose, self._prewarm
        return (
            settings["max_nbytes"], settings["mmap_mode"], settings["verbose"], settings["prewarm"]
        )

    def _file_for(self, a: Any, context, verbose: int, prewarm) -> tuple[str, str]:
        """Return ``(filename, order)`` of ``a``'s file, writing it if new."""
        with self._write_lock:
            try:
                return context.written.get(a)
            except KeyError:
                pass
            folder = self._contexts.ensure_folder(context)
            entry = _write(a, folder, verbose, prewarm)
            context.written.set(a, entry)
            return entry


def _should_memmap(a: Any, max_nbytes: int | None, mmap_mode: str | None) -> bool:
    return (
        max_nbytes is not None
        and mmap_mode is not None
        and a.nbytes > max_nbytes
        and not a.dtype.hasobject
    )


def _write(a: Any, folder: str, verbose: int, prewarm) -> tuple[str, str]:
    """Write ``a`` to a new file of ``folder``; return ``(filename, order)``."""
    # pid and thread id only help to tell orphaned files apart.
    name = "%d-%d-%s.mmap" % (os.getpid(), threading.get_ident(), uuid4().hex)
    filename = os.path.join(folder, name)
    try:
        order = write_array(a, filename)
    except OSError as exc:
        raise _write_error(a, folder, exc) from exc
    if verbose > 0:
        _LOGGER.debug("memmapping array %s %s to %s", a.shape, a.dtype, filename)
    if _wants_prewarm(prewarm, folder):
        _prewarm(filename)
    return filename, order


def _wants_prewarm(prewarm, folder: str) -> bool:
    if prewarm == "auto":
        # /dev/shm is memory already: nothing to warm up.
        return not folder.startswith(shared_mem_settings()[0])
    return bool(prewarm)


def _prewarm(filename: str) -> None:
    """Hint the OS to keep the file's pages cached for the workers."""
    if hasattr(os, "posix_fadvise"):
        fd = os.open(filename, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)


def _write_error(a: Any, folder: str, exc: OSError) -> OSError:
    """An OSError naming the folder, the array size and the settings to change."""
    return _same_kind_of_error(
        exc,
        "joblib could not write a %.1f MB array to its temporary folder %r "
        "for memmapping: %s. Pass temp_folder=... (to Parallel or "
        "parallel_config) or set the JOBLIB_TEMP_FOLDER environment variable "
        "to a folder with enough free space, or raise max_nbytes (None "
        "disables memmapping)." % (a.nbytes / 1e6, folder, exc.strerror or exc),
    )


def memmapping_settings(
    max_nbytes=1e6, mmap_mode: str | None = "r", verbose: int = 0, prewarm=False, **ignored
) -> dict:
    """Validate and normalise the memmapping settings of one context."""
    return {
        "max_nbytes": parse_max_nbytes(max_nbytes),
        "mmap_mode": check_mmap_mode(mmap_mode),
        "verbose": int(verbose or 0),
        "prewarm": prewarm,
    }


def get_memmapping_reducers(
    forward_reducers: dict | None = None,
    backward_reducers: dict | None = None,
    temp_folder_resolver: Callable | TemporaryResourcesManager | None = None,
    max_nbytes=1e6,
    mmap_mode: str | None = "r",
    verbose: int = 0,
    prewarm=False,
    unlink_on_gc_collect: bool = True,
    **kwargs,
) -> tuple[dict, dict]:
    """Return ``(forward_reducers, backward_reducers)`` with numpy's added.

    Without numpy the given dicts come back unchanged.  Extra keyword
    arguments (other backend settings) are ignored, as in joblib 1.6.
    """
    forward_reducers = dict(forward_reducers or {})
    backward_reducers = dict(backward_reducers or {})
    try:
        import numpy as np  # numpy is optional at import
    except ImportError:
        return forward_reducers, backward_reducers
    forward = ArrayMemmapForwardReducer(
        max_nbytes, temp_folder_resolver, mmap_mode, unlink_on_gc_collect, verbose, prewarm=prewarm
    )
    for array_type in (np.ndarray, np.memmap):
        forward_reducers[array_type] = forward
        backward_reducers[array_type] = reduce_array_memmap_backward
    return forward_reducers, backward_reducers

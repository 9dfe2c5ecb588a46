"""``joblib.broadcast(obj)``: an object that many tasks of a call share is
sent to each process worker once, not once per batch.

Parent side: the handle is pickled inside the batches.  When a batch is
pickled for a backend that opts in (``broadcast_via_files``: loky and
multiprocessing), the handle writes its object once to a file of its own
temporary folder (large numpy arrays in it become memory-mapped files, as
for direct arguments) and pickles as a short reference to that file.
Elsewhere (threading, sequential, or pickled outside ``Parallel``) it stands
for the object itself.

Worker side: the reference loads the file on first use and keeps the object
in a per-process cache for the rest of the call; the cache is emptied when a
batch of another call arrives, so a worker holds one copy per handle of the
current call.  The folder is deleted when the handle is garbage collected,
at exit, or by loky's resource tracker if the parent dies.
"""

from __future__ import annotations

import os
import threading
import weakref

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["broadcast", "Broadcast", "resolve_handles", "set_pickling_context",
           "LIVE_HANDLES"]

# [number of handles alive in this process]: while it is 0, the thread and
# sequential paths skip looking for handles in the arguments (one list item
# read per batch: a WeakSet's len() cost a third of a tiny batch).
LIVE_HANDLES: list = [0]
_live_lock = threading.Lock()


def _count(delta: int) -> None:
    with _live_lock:
        LIVE_HANDLES[0] += delta
# The settings of the call whose batch this thread is pickling (set by
# ``BatchedCalls.__reduce__`` just before its tasks are pickled).
_pickling = threading.local()
# Worker side: handle id -> object, for the call of ``_cache_call[0]``.
_cache: dict = {}
_cache_call: list = [None]
_cache_lock = threading.Lock()


class Broadcast:
    """Handle returned by :func:`broadcast`; tasks receive ``value``.

    Attributes
    ----------
    value : object
        The shared object.
    """

    def __init__(self, value: Any):
        self.value = value
        self.id = os.urandom(16).hex()
        self._files: dict = {}      # (max_nbytes, mmap_mode) -> path
        self._folder: str | None = None
        self._lock = threading.Lock()
        self._finalizer = None
        _count(1)
        weakref.finalize(self, _count, -1)

    def __repr__(self) -> str:
        return f"joblib.broadcast(<{type(self.value).__name__} object>)"

    def __reduce__(self):
        context = getattr(_pickling, "context", None)
        if context is None:
            return _identity, (self.value,)
        call_id, temp_folder, max_nbytes, mmap_mode = context
        path = self._file_for(temp_folder, max_nbytes, mmap_mode)
        return _load_shared, (self.id, path, call_id)

    def _file_for(self, temp_folder, max_nbytes, mmap_mode) -> str:
        key = (max_nbytes, mmap_mode)
        with self._lock:
            path = self._files.get(key)
            if path is None:
                path = self._files[key] = self._write(temp_folder, max_nbytes,
                                                      mmap_mode, len(self._files))
            return path

    def _write(self, temp_folder, max_nbytes, mmap_mode, n: int) -> str:
        # lazy: large broadcast values only (see DEFERRED)
        from .broadcast_files import create_folder, dump_shared

        if self._folder is None:
            self._folder = create_folder(temp_folder, self.id)
            self._finalizer = weakref.finalize(self, _remove, self._folder)
        path = os.path.join(self._folder, f"object-{n}.pkl")
        dump_shared(self.value, path, max_nbytes, mmap_mode)
        return path


def broadcast(obj: Any) -> Broadcast:
    """Share ``obj`` with the tasks of ``Parallel`` calls, sent once per worker.

    Pass the returned handle to ``delayed`` calls in place of ``obj`` (at
    any depth of the arguments): each task receives ``obj`` itself.  With
    loky and multiprocessing, ``obj`` is pickled once, to a temporary file,
    and each worker loads it once per call instead of once per batch;
    numpy arrays in it larger than ``max_nbytes`` are memory-mapped as usual.
    With threading and sequential it is handed over as is.

    Parameters
    ----------
    obj : object
        Any picklable object (with cloudpickle, as the tasks are).

    Returns
    -------
    Broadcast
        A handle; ``handle.value`` is ``obj``.  Its temporary file is removed
        when the handle is garbage collected (or at exit).

    Examples
    --------
    >>> from joblib import Parallel, delayed, broadcast
    >>> table = broadcast({i: str(i) for i in range(1000)})
    >>> def lookup(table, i):
    ...     return table[i]
    >>> Parallel(n_jobs=2, backend="threading")(delayed(lookup)(table, i) for i in range(3))
    ['0', '1', '2']
    """
    return Broadcast(obj)


def _identity(obj: Any) -> Any:
    return obj


def _remove(folder: str) -> None:
    from .broadcast_files import remove_folder  # lazy: large broadcast values only

    remove_folder(folder)


def set_pickling_context(context: tuple | None) -> None:
    """Record the call settings used by handles pickled by this thread."""
    _pickling.context = context


def _load_shared(handle_id: str, path: str, call_id: str) -> Any:
    """Worker side: the shared object, loaded once per call.

    Cached by file (one per handle and memmapping settings); a batch of
    another call empties the cache but for the file it needs itself.
    """
    with _cache_lock:
        if _cache_call[0] != call_id:
            kept = _cache.get(path)
            _cache.clear()
            if kept is not None:
                _cache[path] = kept
            _cache_call[0] = call_id
        try:
            return _cache[path]
        except KeyError:
            pass
        from .broadcast_files import load_shared  # lazy: large broadcast values only

        obj = _cache[path] = load_shared(path)
        return obj


# -- thread and sequential backends: the handles are replaced in place ----

_CONTAINERS = (list, tuple, dict, set, frozenset)


def resolve_handles(obj: Any) -> Any:
    """``obj`` with the handles in it (in builtin containers, at any depth)
    replaced by their objects; ``obj`` itself when it holds none."""
    cls = type(obj)
    if cls is Broadcast:
        return obj.value
    if cls not in _CONTAINERS or not obj:
        return obj
    if cls is dict:
        items = [(k, resolve_handles(v)) for k, v in obj.items()]
        if all(v is obj[k] for k, v in items):
            return obj
        return dict(items)
    values = [resolve_handles(v) for v in obj]
    if all(a is b for a, b in zip(values, obj)):
        return obj
    return values if cls is list else cls(values)

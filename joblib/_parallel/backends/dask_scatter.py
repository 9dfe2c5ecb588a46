"""Send large task arguments to the dask cluster once and pass futures.

Two caches map an argument *object* (by identity, as arrays and data frames
are unhashable) to the future of its copy on the cluster:

- the explicit ``scatter=[...]`` list given to the backend, broadcast to every
  worker once and kept for the backend's lifetime;
- the per-call cache: any weak-referenceable argument bigger than
  ``AUTO_SCATTER_MIN_BYTES`` is scattered the first time a task of the call
  uses it, and every later task of the call reuses that future.  The cache
  is dropped at the end of the call, which releases the data on the cluster.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Iterable, Sequence

__all__ = ["IdentityMap", "ArgumentScatterer", "AUTO_SCATTER_MIN_BYTES"]

# Below this size, shipping the argument inside the task message is cheaper
# than the extra scheduler round trip that a scatter costs.
AUTO_SCATTER_MIN_BYTES = 1000


class IdentityMap:
    """Map objects, compared by identity, to values; entries die with keys.

    A plain ``{id(obj): value}`` dict is unsafe: CPython reuses the id of a
    collected object, so a new array could pick up the future of a dead one.
    Each entry therefore holds a weak reference checked on lookup, and is
    removed when its key is garbage collected.
    """

    def __init__(self):
        self._data: dict[int, tuple[weakref.ref, Any]] = {}

    def get(self, obj: Any, default: Any = None) -> Any:
        entry = self._data.get(id(obj))
        if entry is None or entry[0]() is not obj:
            return default
        return entry[1]

    def __getitem__(self, obj: Any) -> Any:
        entry = self._data.get(id(obj))
        if entry is None or entry[0]() is not obj:
            raise KeyError(obj)
        return entry[1]

    def __setitem__(self, obj: Any, value: Any) -> None:
        key = id(obj)
        data = self._data

        def forget(ref: weakref.ref, key: int = key) -> None:
            # Only drop the entry if it still belongs to the dead object.
            entry = data.get(key)
            if entry is not None and entry[0] is ref:
                del data[key]

        data[key] = (weakref.ref(obj, forget), value)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()


def _is_weakrefable(obj: Any) -> bool:
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True


class ArgumentScatterer:
    """Replace large task arguments by futures of their copy on the cluster.

    Parameters
    ----------
    client : distributed.Client
        Client used to scatter.
    broadcast : sequence
        Objects to broadcast to every worker now (the ``scatter=`` option).
    """

    def __init__(self, client: Any, broadcast: Sequence[Any] = ()):
        self._client = client
        self._lock = threading.Lock()
        # Strong references: the ids of broadcast objects must stay valid.
        self._broadcast_objects = list(broadcast)
        self._broadcast: dict[int, Any] = {}
        if self._broadcast_objects:
            futures = client.scatter(self._broadcast_objects, broadcast=True)
            self._broadcast = {id(obj): fut for obj, fut
                               in zip(self._broadcast_objects, futures)}
        self._call_cache = IdentityMap()

    @property
    def broadcast_futures(self) -> dict[int, Any]:
        """``{id(obj): future}`` of the objects given as ``scatter=``."""
        return self._broadcast

    def end_call(self) -> None:
        """Forget the arguments scattered during the call (frees them)."""
        with self._lock:
            self._call_cache.clear()

    def convert_tasks(self, items: Iterable[Sequence[Any]]) -> list[list]:
        """Return ``[[func, args, kwargs], ...]`` with large args as futures."""
        with self._lock:
            return [[func, [self._convert(a) for a in args],
                     {k: self._convert(v) for k, v in kwargs.items()}]
                    for func, args, kwargs in items]

    def _convert(self, arg: Any) -> Any:
        future = self._broadcast.get(id(arg))
        if future is not None:
            return future
        if not _is_weakrefable(arg):
            # Ints, strings, tuples and lists: small or not trackable.
            return arg
        future = self._call_cache.get(arg)
        if future is None and self._is_large(arg):
            # hash=False: content hashing costs as much as the transfer, and
            # identical keys from nested scatters can be cancelled by dask.
            future = self._client.scatter(arg, hash=False)
            self._call_cache[arg] = future
        return arg if future is None else future

    @staticmethod
    def _is_large(arg: Any) -> bool:
        from dask.sizeof import sizeof  # optional dependency

        return sizeof(arg) > AUTO_SCATTER_MIN_BYTES

"""Cache statistics: the counters of this process, and what the disk holds.

A hit only increments an integer and appends to a list (no disk access, no
lock): ``time_saved`` (the sum of the recorded durations of the results
that were hits) is worked out when statistics are asked for, from the
``metadata.json`` of the entries that were hit. Entries and bytes come from
a listing of the store at that time.

Counters are per process. With ``Memory(..., record_stats=True)``, a
process adds its counters of caches on a local file system to
``<location>/.joblib_stats.json`` at exit (under a file lock), which
``python -m joblib cache`` shows; a process killed with SIGKILL loses its
counts. (Off by default: the cache's files stay joblib 1.6's.)
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import threading

from .._store.file_lock import FileLock
from .._store.item_io import json_bytes, write_bytes_atomic

__all__ = ["Counters", "counters_for", "function_stats", "memory_stats", "KEYS"]

KEYS = ("hits", "misses", "stores", "failed_loads", "time_saved", "entries", "bytes")
# Keys of the hits awaiting their duration; folded into time_saved beyond.
MAX_PENDING = 4096
STATS_FILE = ".joblib_stats.json"
_COUNTED = ("hits", "misses", "stores", "failed_loads", "time_saved")


class Counters:
    """Counts of one function in one cache, in this process."""

    __slots__ = ("hits", "misses", "stores", "failed_loads", "time_saved", "pending",
                 "flushed", "store", "record")

    def __init__(self, store=None) -> None:
        self.store = store  # to read the durations of pending hits
        self.record = False  # add the counts to the cache's stats file at exit
        self.hits = self.misses = self.stores = self.failed_loads = 0
        self.time_saved = 0.0
        self.pending: list = []  # args_id of the hits whose duration is not read yet
        self.flushed = dict.fromkeys(_COUNTED, 0)  # already added to the disk

    def as_dict(self) -> dict:
        return {key: getattr(self, key) for key in _COUNTED}


_REGISTRY: dict = {}  # (location, func_id) -> Counters
_LOCK = threading.Lock()


def counters_for(store, func_id: str) -> Counters:
    """The counters of ``func_id`` in ``store`` (shared by its MemorizedFuncs)."""
    key = (getattr(store, "location", None), func_id)
    counters = _REGISTRY.get(key)
    if counters is None:
        with _LOCK:
            counters = _REGISTRY.setdefault(key, Counters(store))
    return counters


def settle(store, func_id: str, counters: Counters) -> None:
    """Add the durations of the pending hits to ``time_saved``."""
    pending, counters.pending = counters.pending, []
    for args_id, count in collections.Counter(pending).items():
        duration = store.get_metadata([func_id, args_id]).get("duration")
        if isinstance(duration, (int, float)):
            counters.time_saved += count * duration


def _disk_usage(items, location: str) -> dict:
    """func_id -> [entries, bytes, last access] from a store listing."""
    usage: dict = {}
    prefix = len(location) + 1
    for item in items:
        func_id = os.path.dirname(item.path[prefix:])
        entry = usage.setdefault(func_id, [0, 0, None])
        entry[0] += 1
        entry[1] += item.size
        if item.last_access is not None and (
            entry[2] is None or item.last_access > entry[2]
        ):
            entry[2] = item.last_access
    return usage


def _row(counters: Counters | None, usage) -> dict:
    row = counters.as_dict() if counters is not None else dict.fromkeys(_COUNTED, 0)
    row["entries"], row["bytes"], row["last_access"] = usage or (0, 0, None)
    return row


def function_stats(state) -> dict:
    """``cached_func.stats()``: this process' counters and the function's entries."""
    settle(state.store, state.func_id, state.counters)
    usage = _disk_usage(state.store.get_items(), state.store.location)
    return _row(state.counters, usage.get(state.func_id))


def memory_stats(store) -> dict:
    """``memory.stats()``: totals, and one row per function under ``functions``."""
    location = store.location
    usage = _disk_usage(store.get_items(), location)
    rows = {}
    for (where, func_id), counters in list(_REGISTRY.items()):
        if where == location:
            settle(store, func_id, counters)
            rows[func_id] = _row(counters, usage.get(func_id))
    for func_id, entry in usage.items():
        if func_id not in rows:
            rows[func_id] = _row(None, entry)
    total = {key: sum(row[key] for row in rows.values()) for key in KEYS}
    total["functions"] = rows
    return total


# -- counters of past processes, for `python -m joblib cache` -------------------


def read_recorded(location: str) -> dict:
    """func_id -> counters added by processes that exited ({} if none)."""
    try:
        with open(os.path.join(location, STATS_FILE), "rb") as f:
            data = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _merge(location: str, deltas: dict) -> None:
    with FileLock(os.path.join(location, STATS_FILE + ".lock"), timeout=5) as locked:
        if not locked:
            return  # counts are best effort; never hold up the exit
        recorded = read_recorded(location)
        for func_id, delta in deltas.items():
            row = recorded.setdefault(func_id, dict.fromkeys(_COUNTED, 0))
            for key, value in delta.items():
                row[key] = row.get(key, 0) + value
        write_bytes_atomic(os.path.join(location, STATS_FILE), json_bytes(recorded))


def _deltas() -> dict:
    """location -> func_id -> counts not yet added to the disk."""
    by_location: dict = {}
    for (location, func_id), counters in list(_REGISTRY.items()):
        if not (isinstance(location, str) and os.path.isdir(location)):
            # Only local caches keep a stats file. Settling the hits of an
            # object store would send requests at exit, when fsspec's event
            # loop is going away (the process then hung for ~25 s).
            continue
        if counters.pending and counters.store is not None:
            try:
                settle(counters.store, func_id, counters)
            except Exception:  # noqa: BLE001 - at exit, counts are best effort
                counters.pending = []
        delta = {k: getattr(counters, k) - counters.flushed[k] for k in _COUNTED}
        if counters.record and any(delta.values()) and isinstance(location, str):
            by_location.setdefault(location, {})[func_id] = delta
            counters.flushed = counters.as_dict()
    return by_location


def flush() -> None:
    """Add this process' new counts to the stats file of each local cache."""
    for location, deltas in _deltas().items():
        if os.path.isdir(location):
            try:
                _merge(location, deltas)
            except OSError:
                pass  # read-only or vanished cache: the counts are dropped


def _forget_parent_counts() -> None:
    """In a forked child, the parent's counts are the parent's to record."""
    for counters in _REGISTRY.values():
        counters.pending = []
        counters.flushed = counters.as_dict()


atexit.register(flush)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parent_counts)

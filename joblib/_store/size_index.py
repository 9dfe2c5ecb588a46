"""Limits kept on write: a size index shared by the writers of a local cache.

``<location>/.joblib_size_index.json`` holds the cache's total bytes, item
count and oldest access time. Each write that enforces limits adds its
entry to the totals under a file lock; only when a limit is exceeded, or
the index is missing, unreadable or older than ``STALE_AFTER`` (other
processes, such as joblib 1.6, write without updating it; ``clear`` and
``reduce_size`` delete without updating it), is the cache listed again.
Eviction then goes a little below the limits (``_HEADROOM``), so that the
next writes do not list the cache again at once.

Readers never see half an entry: results are renamed into place, and a
deleted ``output.pkl`` is either opened whole or not found (a miss).
"""

from __future__ import annotations

import json
import os
import time

from .eviction import items_to_delete
from .file_lock import FileLock
from .item_io import json_bytes, write_bytes_atomic

__all__ = ["INDEX_FILE", "STALE_AFTER", "after_write", "entry_size"]

INDEX_FILE = ".joblib_size_index.json"
STALE_AFTER = 300.0  # seconds
_HEADROOM = 0.1  # evict down to 90% of a limit
_LOCK_TIMEOUT = 30.0


def entry_size(path: str) -> int:
    """Total size of the files of the entry directory ``path`` (0 if gone)."""
    total = 0
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_file():
                    total += entry.stat().st_size
    except FileNotFoundError:
        pass
    return total


def _read(root: str) -> dict | None:
    try:
        with open(os.path.join(root, INDEX_FILE), "rb") as f:
            index = json.loads(f.read().decode("utf-8"))
        if time.time() - index["time"] > STALE_AFTER:
            return None
        int(index["bytes"]), int(index["items"]), float(index["oldest"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return index


def _summary(items) -> dict:
    oldest = min((i.last_access for i in items), default=None)
    return {
        "bytes": sum(i.size for i in items),
        "items": len(items),
        "oldest": oldest.timestamp() if oldest is not None else time.time(),
        "time": time.time(),
    }


def _over(index: dict, limits) -> bool:
    if limits.bytes_limit is not None and index["bytes"] > limits.bytes_limit:
        return True
    if limits.items_limit is not None and index["items"] > limits.items_limit:
        return True
    if limits.age_limit is None:
        return False
    return time.time() - index["oldest"] > limits.age_limit.total_seconds()


def _evict(store, limits) -> dict:
    """List the cache, delete least recently used entries; return the new index."""
    items = store.get_items()
    bytes_target = items_target = None
    if limits.bytes_limit is not None:
        bytes_target = int(limits.bytes_limit * (1 - _HEADROOM))
    if limits.items_limit is not None:
        items_target = limits.items_limit - int(limits.items_limit * _HEADROOM)
    doomed = items_to_delete(items, bytes_target, items_target, limits.age_limit)
    for item in doomed:
        try:
            store.clear_location(item.path)
        except OSError:
            pass  # deleted meanwhile by another process
    gone = {item.path for item in doomed}
    return _summary([item for item in items if item.path not in gone])


def after_write(store, root: str, item_path: str, limits) -> None:
    """Account for the entry just written at ``item_path``; evict if over a limit."""
    size = entry_size(item_path)
    with FileLock(os.path.join(root, INDEX_FILE + ".lock"), _LOCK_TIMEOUT) as locked:
        index = _read(root) if locked else None
        if index is None:
            index = _summary(store.get_items())  # includes the new entry
        else:
            index["bytes"] += size
            index["items"] += 1
        if _over(index, limits):
            index = _evict(store, limits)
        if locked:
            write_bytes_atomic(os.path.join(root, INDEX_FILE), json_bytes(index))

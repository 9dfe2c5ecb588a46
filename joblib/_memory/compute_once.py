"""Compute-once: one caller computes a missing result, the others wait and load it.

The callers of one entry (threads and processes on the machine, same cache
folder) take the store's lock of the entry (``store.lock_item``: a file
lock next to the entry on a local store). The holder looks in the cache
again (another caller may have just stored the result), computes if needed,
stores, and releases. A waiter stops waiting as soon as the result appears,
when the lock is released (the holder finished, or died: the kernel frees
the lock of a killed process and the next waiter computes), or after
``compute_once_timeout`` seconds, and then computes itself. Where locks do
not work (stores without local files, file systems without ``flock``)
every caller computes, as without compute-once.
"""

from __future__ import annotations

from typing import Any, Callable

from .._store.file_lock import ACQUIRED, PROBED
from .cached_call import MISS, CallKey, lookup

__all__ = ["run"]


def run(state, key: CallKey, shelving: bool, compute: Callable[[], Any]) -> Any:
    """Return the call's value (or reference when shelving), computed once."""
    lock = state.store.lock_item(key.call_id)
    if lock is None:
        return compute()
    outcome = lock.acquire(
        state.options.compute_once_timeout,
        probe=lambda: state.store.contains_item(key.call_id),
    )
    try:
        if outcome in (ACQUIRED, PROBED):
            value = lookup(state, key, shelving)
            if value is not MISS:
                return value
        return compute()
    finally:
        lock.release()

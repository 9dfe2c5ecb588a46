"""Worker side: keep recently opened temporary memmaps mapped for a moment.

Successive tasks of one call usually receive the same large array.  Mapping
the file again for each task costs a page fault per few pages on first
access and an ``munmap`` at the end of the task: for a 400 MB array about
25 ms per task, close to half of a full pass over the data.  Reusing the
mapping for the next task avoids both.

A kept mapping must not outlive its usefulness, because it pins the file's
memory (the parent deletes the file at the end of the call, but the pages
stay allocated while mapped) and it counts in the worker's resident size,
which loky watches to detect memory leaks.  So a mapping is released:

- ``LINGER_SECONDS`` after its last use (a timer thread), which bounds the
  time an idle worker pins a finished call's data;
- at the start of every full garbage collection, which loky runs before it
  concludes that a worker leaks memory;
- when more than ``MAX_ENTRIES`` are kept (least recently used first);
- in a child process right after a fork.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

__all__ = ["LINGER_SECONDS", "MAX_ENTRIES", "RecentMappings", "recent_mappings"]

LINGER_SECONDS = 0.5
MAX_ENTRIES = 8

# Longest wait for the lock inside a garbage collection.
_GC_WAIT_SECONDS = 0.5


class RecentMappings:
    """A small, self-expiring cache of open memmaps keyed by file and mode.

    Mappings are always dropped while the lock is held, so once
    :meth:`clear` returns, no thread of this process still references them
    (loky measures the resident size right after a garbage collection).
    The lock is re-entrant because a collection, and thus :meth:`clear`, may
    start in the middle of :meth:`get` in the same thread.
    """

    def __init__(self, linger: float = LINGER_SECONDS, max_entries: int = MAX_ENTRIES):
        self._linger = linger
        self._max_entries = max_entries
        self._lock = threading.RLock()
        self._entries: OrderedDict = OrderedDict()  # key -> (memmap, last use)
        self._timer: threading.Timer | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Any, open_mapping: Callable[[], Any]) -> Any:
        """Return the cached mapping for ``key``, opening it if needed."""
        with self._lock:
            entry = self._entries.pop(key, None)
            mapping = open_mapping() if entry is None else entry[0]
            self._entries[key] = (mapping, time.monotonic())
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
            self._schedule(self._linger)
            return mapping

    def clear(self, timeout: float = -1) -> None:
        """Release every kept mapping (give up after ``timeout`` seconds)."""
        if not self._lock.acquire(timeout=timeout):
            return
        try:
            self._entries.clear()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        finally:
            self._lock.release()

    def _schedule(self, delay: float) -> None:
        if self._timer is None:
            self._timer = threading.Timer(delay, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def _expire(self) -> None:
        """Timer thread: drop the mappings idle for ``linger`` seconds."""
        with self._lock:
            self._timer = None
            now = time.monotonic()
            for key in [k for k, (_, used) in self._entries.items() if now - used >= self._linger]:
                del self._entries[key]
            if self._entries:
                oldest = min(used for _, used in self._entries.values())
                self._schedule(max(0.0, oldest + self._linger - now))

    def _reset_after_fork(self) -> None:
        # The timer thread does not exist in the child: start afresh.
        self._lock = threading.RLock()
        self._entries = OrderedDict()
        self._timer = None


recent_mappings = RecentMappings()


def _on_gc(phase: str, info: dict) -> None:
    if phase != "start" or info.get("generation") != 2 or sys.is_finalizing():
        return
    # This thread may hold the lock already (re-entrant); the timer thread
    # holds it only briefly.  The wait is bounded all the same: a thread
    # frozen while holding it (daemon threads stop at interpreter exit)
    # must not hang the collector.
    recent_mappings.clear(timeout=_GC_WAIT_SECONDS)


def _at_exit() -> None:
    # Before daemon threads are frozen: stop the timer, drop the maps and
    # leave the collector alone during the rest of the shutdown.
    if _on_gc in gc.callbacks:
        gc.callbacks.remove(_on_gc)
    recent_mappings.clear(timeout=_GC_WAIT_SECONDS)


gc.callbacks.append(_on_gc)
atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=recent_mappings._reset_after_fork)

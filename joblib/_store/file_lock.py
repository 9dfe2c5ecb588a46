"""An exclusive lock between processes and threads, held through an open file.

``flock`` locks belong to the open file: the kernel releases them when the
holder closes the file or dies (even by SIGKILL), so a lock file left
behind never blocks anyone. Each ``FileLock`` opens its own file, so two
threads of one process exclude each other too. Where the file system or the
platform has no such locks (some network file systems, Windows), locking
reports ``UNSUPPORTED`` and callers go on without the lock.

Waiting polls (``flock`` has no timeout) with a growing delay capped at
``_MAX_DELAY``; a ``probe`` called between attempts lets the waiter stop
early, e.g. when the result it waits for has appeared.
"""

from __future__ import annotations

import errno
import os
import time
from typing import Callable

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = ["ACQUIRED", "PROBED", "TIMED_OUT", "UNSUPPORTED", "FileLock"]

ACQUIRED, PROBED, TIMED_OUT, UNSUPPORTED = "acquired", "probed", "timed out", "unsupported"
_FIRST_DELAY, _MAX_DELAY = 0.001, 0.01
_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


class FileLock:
    """Exclusive lock on ``path`` (created if needed, never deleted).

    As a context manager it waits up to ``timeout`` seconds (None: as long
    as the holder lives) and gives True if it got the lock.
    """

    def __init__(self, path: str, timeout: float | None = None) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None

    def _try(self) -> str | None:
        """One attempt: ACQUIRED, UNSUPPORTED, or None (held by another)."""
        if fcntl is None:
            return UNSUPPORTED
        if self._fd is None:
            try:
                self._fd = os.open(self.path, _FLAGS, 0o666)
            except OSError:
                return UNSUPPORTED  # e.g. read-only cache: no lock possible
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return None
            self._close()
            return UNSUPPORTED  # ENOLCK, EOPNOTSUPP...: no locks here
        return ACQUIRED

    def acquire(self, timeout: float | None = None, probe: Callable | None = None) -> str:
        """Wait for the lock; return ACQUIRED, PROBED, TIMED_OUT or UNSUPPORTED.

        PROBED: ``probe()`` returned True while waiting (the lock is not held).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = _FIRST_DELAY
        while True:
            outcome = self._try()
            if outcome is not None:
                return outcome
            if probe is not None and probe():
                self._close()
                return PROBED
            if deadline is not None and time.monotonic() >= deadline:
                self._close()
                return TIMED_OUT
            time.sleep(delay)  # flock cannot wait with a timeout: poll
            delay = min(delay * 2, _MAX_DELAY)

    def release(self) -> None:
        """Release the lock (closing the file releases it)."""
        self._close()

    def _close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> bool:
        return self.acquire(self.timeout) == ACQUIRED

    def __exit__(self, *exc_info) -> None:
        self.release()

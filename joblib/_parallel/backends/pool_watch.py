"""Detect dead ``multiprocessing.Pool`` workers.

A stdlib pool silently replaces a crashed worker and the task it was
running never completes, so the caller would wait forever.  The watcher
thread sleeps on the workers' process sentinels (no polling) and, when one
exits with a non-zero code, fails every outstanding task with loky's
``TerminatedWorkerError``.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from multiprocessing.connection import wait
from typing import Any

__all__ = ["WorkerCrashWatcher", "describe_exit_codes"]

# Only used to pick up the workers a pool started to replace exited ones.
_REFRESH_SECONDS = 1.0


def describe_exit_codes(codes: list[int | None]) -> str:
    """Format exit codes as loky does: ``{EXIT(7), SIGKILL(-9)}``."""
    names = []
    for code in sorted(set(codes), key=lambda c: (c is None, c or 0)):
        if code is None:
            names.append("UNKNOWN")
            continue
        if code < 0:
            try:
                names.append(f"{signal.Signals(-code).name}({code})")
                continue
            except ValueError:
                pass
        names.append(f"EXIT({code})")
    return "{" + ", ".join(names) + "}"


def _crash_error(codes: list[int]) -> BaseException:
    # deferred: loky is loaded only once a process pool is used
    from loky.process_executor import TerminatedWorkerError

    return TerminatedWorkerError(
        "A worker process of the multiprocessing pool was unexpectedly "
        "terminated. This could be caused by a segmentation fault while "
        "calling the function or by an excessive memory usage causing the "
        "Operating System to kill the worker.\n\nThe exit codes of the "
        f"workers are {describe_exit_codes(codes)}"
    )


def _exit_code(worker: Any) -> int | None:
    """Exit code of a worker whose sentinel fired.

    The pool's own handler thread may be reaping the same child at this
    very moment, in which case our ``waitpid`` fails and the code shows up
    on the shared ``Popen`` object a moment later: wait briefly for it.
    """
    for _ in range(200):
        code = worker.exitcode
        if code is not None:
            return code
        time.sleep(0.005)
    return None  # exited, but its status was lost: treat as a crash


class WorkerCrashWatcher:
    """Fail the outstanding tasks of ``pool`` when one of its workers dies."""

    def __init__(self, pool: Any):
        self._pool = pool
        self._stop_r, self._stop_w = os.pipe()
        self._seen: set[int] = set()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="joblib-pool-watcher")
        self._thread.start()

    @staticmethod
    def can_watch(pool: Any) -> bool:
        """True for stdlib-like pools (process list and job cache).

        Third parties swap the pool class (Ray's actor pool has neither).
        """
        workers = getattr(pool, "_pool", None)
        return (isinstance(workers, list) and isinstance(getattr(pool, "_cache", None), dict)
                and all(hasattr(w, "sentinel") for w in workers))

    def stop(self) -> None:
        """Stop watching (the pool is being shut down) and join the thread."""
        if self._stop_w < 0:
            return
        os.write(self._stop_w, b"x")
        self._thread.join()
        os.close(self._stop_w)
        os.close(self._stop_r)
        self._stop_w = self._stop_r = -1

    def _run(self) -> None:
        while True:
            workers = [p for p in list(self._pool._pool) if p.pid not in self._seen]
            replacing = len(workers) < len(self._pool._pool) or bool(self._seen)
            ready = wait([p.sentinel for p in workers] + [self._stop_r],
                         timeout=_REFRESH_SECONDS if replacing else None)
            if self._stop_r in ready:
                return
            codes = []
            for worker in workers:
                if worker.sentinel in ready:
                    self._seen.add(worker.pid)
                    code = _exit_code(worker)
                    if code != 0:
                        codes.append(code)
            if codes:
                self._fail_outstanding(codes)

    def _fail_outstanding(self, codes: list[int]) -> None:
        error = _crash_error(codes)
        for job in list(self._pool._cache.values()):
            try:
                job._set(0, (False, error))
            except KeyError:
                # The real result arrived at the same time: it won.
                pass

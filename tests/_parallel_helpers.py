"""Shared helpers of the Parallel test files: the custom backend written
against joblib 1.6's documented backend API, and leak checks."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psutil

from joblib import ParallelBackendBase


class CustomThreadBackend(ParallelBackendBase):
    """A third-party style backend, as in joblib 1.6's custom backend docs."""

    supports_retrieve_callback = True
    uses_threads = True
    supports_sharedmem = True
    supports_timeout = True

    def __init__(self, nesting_level=None, inner_max_num_threads=None, **kwargs):
        super().__init__(nesting_level=nesting_level,
                         inner_max_num_threads=inner_max_num_threads, **kwargs)
        self._executor = None
        self.configured_with = None

    def effective_n_jobs(self, n_jobs):
        if n_jobs == 0:
            raise ValueError("n_jobs == 0 in Parallel has no meaning")
        if n_jobs is None:
            return 1
        if n_jobs < 0:
            return max(os.cpu_count() + 1 + n_jobs, 1)
        return n_jobs

    def configure(self, n_jobs=1, parallel=None, **backend_kwargs):
        self.configured_with = backend_kwargs
        self.parallel = parallel
        n_jobs = self.effective_n_jobs(n_jobs)
        self._executor = ThreadPoolExecutor(n_jobs)
        return n_jobs

    def submit(self, func, callback=None):
        future = self._executor.submit(func)
        if callback is not None:
            future.add_done_callback(callback)
        return future

    def retrieve_result_callback(self, future):
        return future.result()

    def terminate(self):
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def abort_everything(self, ensure_ready=True):
        self.terminate()
        if ensure_ready:
            self.configure(n_jobs=self.parallel.n_jobs, parallel=self.parallel)


def loky_worker_pids() -> set[int]:
    """PIDs of loky's reusable executor workers (kept alive by design)."""
    from joblib._parallel.memmapping.executor import current_reusable_executor

    executor = current_reusable_executor()
    if executor is None or not executor._processes:
        return set()
    return set(executor._processes)


def extra_children(before: set[int]) -> set[int]:
    """Live child processes that are neither pre-existing nor loky workers."""
    allowed = before | loky_worker_pids()
    found = set()
    for child in psutil.Process().children(recursive=False):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
        except psutil.NoSuchProcess:
            continue
        if child.pid not in allowed and not _is_loky_helper(child):
            found.add(child.pid)
    return found


def _is_loky_helper(child) -> bool:
    try:
        cmdline = " ".join(child.cmdline())
    except psutil.Error:
        return False
    # loky's resource tracker and idle workers being shut down.
    return "resource_tracker" in cmdline or "loky" in cmdline


def joblib_threads() -> set[threading.Thread]:
    """Threads started by joblib-owned pools (excludes loky's own managers)."""
    return {t for t in threading.enumerate()
            if t.name.startswith(("joblib-", "ThreadPoolExecutor"))
            or "Pool" in t.name}


def wait_until(predicate, seconds: float = 10.0, interval: float = 0.05) -> bool:
    """Re-check ``predicate`` until it holds or ``seconds`` pass.

    Process reaping, thread exit and the scheduler's bookkeeping are
    asynchronous: a bounded number of checks, never a fixed sleep.
    """
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(interval)
    return predicate()


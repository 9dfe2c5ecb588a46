"""``ThreadingBackend``: a pool of threads in the calling process."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from .base import FallbackToBackend, ParallelBackendBase
from .mixins import PoolManagerMixin
from .n_jobs import normalize_n_jobs
from .sequential import SequentialBackend

__all__ = ["ThreadingBackend"]


class ThreadingBackend(PoolManagerMixin, ParallelBackendBase):
    """Run batches in a thread pool (best for code that releases the GIL).

    The pool is started lazily by the first :meth:`submit`.  Completion
    callbacks run in the worker thread that finished the batch, so no
    extra result-handler thread sits between a task and the next dispatch.
    This is also the default backend of nested ``Parallel`` calls.
    """

    supports_retrieve_callback = True
    uses_threads = True
    supports_sharedmem = True

    def effective_n_jobs(self, n_jobs) -> int:
        """Threads need no multiprocessing support: normalise only."""
        return normalize_n_jobs(n_jobs)

    def configure(self, n_jobs=1, parallel=None, **backend_kwargs) -> int:
        """Record the pool size; one thread means running sequentially."""
        n_jobs = self.effective_n_jobs(n_jobs)
        if n_jobs == 1:
            raise FallbackToBackend(SequentialBackend(nesting_level=self.nesting_level))
        self.parallel = parallel
        self._n_jobs = n_jobs
        return n_jobs

    def _get_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self._n_jobs, thread_name_prefix="joblib-threading"
            )
        return self._pool

    def submit(self, func: Callable, callback: Callable | None = None) -> Future:
        """Run ``func()`` in a thread; ``callback(future)`` runs when done."""
        future = self._get_pool().submit(func)
        if callback is not None:
            future.add_done_callback(callback)
        return future

    def retrieve_result_callback(self, future: Future) -> Any:
        """Return the batch's value or raise its exception."""
        return future.result()

    def terminate(self) -> None:
        """Cancel queued batches and join the threads."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def abort_everything(self, ensure_ready: bool = True) -> None:
        """Cancel queued batches without waiting for the running ones.

        Threads cannot be killed: running batches finish in the background
        (their results are ignored), but the caller gets its error, or its
        timeout, right away.  A new pool is started lazily if needed.
        """
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

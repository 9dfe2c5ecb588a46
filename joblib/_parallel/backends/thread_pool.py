"""``ThreadingBackend``: a pool of threads in the calling process."""

from __future__ import annotations

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable

from .base import FallbackToBackend, ParallelBackendBase
from .mixins import PoolManagerMixin
from .n_jobs import normalize_n_jobs
from .sequential import SequentialBackend
from .thread_workers import TaskOutcome, ThreadWorkers

__all__ = ["ThreadingBackend"]


class ThreadingBackend(PoolManagerMixin, ParallelBackendBase):
    """Run batches in a thread pool (best for code that releases the GIL).

    The pool is started lazily by the first :meth:`submit`; completion
    callbacks run in one result thread of the pool.  This is also the
    default backend of nested ``Parallel`` calls.
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
        initializer = backend_kwargs.get("initializer")
        if initializer is not None and not callable(initializer):
            raise TypeError(f"initializer must be a callable, got: {initializer!r}")
        # Run once in each worker thread, before its first batch.
        self._init = (initializer, tuple(backend_kwargs.get("initargs", ())))
        return n_jobs

    def _get_pool(self) -> ThreadWorkers:
        if self._pool is None:
            initializer, initargs = getattr(self, "_init", (None, ()))
            self._pool = ThreadWorkers(self._n_jobs, initializer=initializer,
                                       initargs=initargs)
        return self._pool

    def submit(self, func: Callable, callback: Callable | None = None) -> TaskOutcome:
        """Run ``func()`` in a thread; ``callback(outcome)`` runs when done."""
        return self._get_pool().submit(func, callback)

    def retrieve_result_callback(self, outcome: TaskOutcome) -> Any:
        """Return the batch's value or raise its exception."""
        return outcome.result()

    def terminate(self) -> None:
        """Cancel queued batches and join the threads."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.cancel_pending()
            pool.shutdown(wait=True)

    def abort_everything(self, ensure_ready: bool = True) -> None:
        """Cancel queued batches without waiting for the running ones.

        Threads cannot be killed: running batches finish in the background
        (their results are ignored), but the caller gets its error, or its
        timeout, right away.  A new pool is started lazily if needed.
        """
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.cancel_pending()
            pool.shutdown(wait=False)

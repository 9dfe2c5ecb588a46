"""``MultiprocessingBackend``: a ``multiprocessing.Pool`` with automatic
memmapping of large arrays (``joblib.pool.MemmappingPool``)."""

from __future__ import annotations

import gc

from .base import FallbackToBackend, ParallelBackendBase
from .mixins import AutoBatchingMixin, PoolManagerMixin
from .n_jobs import process_pool_guard
from .sequential import SequentialBackend
from ..workers.state import wrap_for_processes

__all__ = ["MultiprocessingBackend"]


class MultiprocessingBackend(PoolManagerMixin, AutoBatchingMixin,
                             ParallelBackendBase):
    """Run batches in a fresh ``multiprocessing.Pool`` for each call.

    Accepted backend kwargs: ``initializer``, ``initargs``,
    ``maxtasksperchild`` and ``context`` (a multiprocessing context; the
    default honours ``JOBLIB_START_METHOD``).  Legacy: loky is faster and
    more robust.
    """

    supports_retrieve_callback = True
    supports_return_generator = False
    broadcast_via_files = True
    _watcher = None

    def effective_n_jobs(self, n_jobs) -> int:
        """Worker count; 1 (with a warning) where a pool cannot start."""
        forced = process_pool_guard(
            n_jobs, kind="Multiprocessing", nesting_level=self.nesting_level,
            in_main_thread=self.in_main_thread(), check_loky_depth=True,
        )
        if forced is not None:
            return forced
        return super().effective_n_jobs(n_jobs)

    def configure(self, n_jobs=1, parallel=None, prefer=None, require=None,
                  **memmapping_pool_kwargs) -> int:
        """Start the pool and return its size."""
        n_jobs = self.effective_n_jobs(n_jobs)
        if n_jobs == 1:
            raise FallbackToBackend(SequentialBackend(nesting_level=self.nesting_level))
        kwargs = wrap_for_processes({**self.backend_kwargs, **memmapping_pool_kwargs},
                                    parallel)
        # Forked children inherit the parent's garbage: collect the young
        # generations, where the garbage of recent work lies.  A full
        # collection (joblib 1.6) walks every object of the process on each
        # call: 2-8 ms in a small script, far more in a large application.
        gc.collect(1)
        # Deferred: heavy imports only this (legacy) backend needs.
        from ..memmapping.pool import MemmappingPool
        from ..workers import parent_watch  # noqa: F401 - imported once here, not per forked worker
        from .pool_watch import WorkerCrashWatcher  # lazy: keeps import joblib.parallel light

        self._pool = MemmappingPool(n_jobs, **kwargs)
        if WorkerCrashWatcher.can_watch(self._pool):
            self._watcher = WorkerCrashWatcher(self._pool)
        self.parallel = parallel
        return n_jobs

    def terminate(self) -> None:
        """Shut the pool down and forget the batch statistics."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
        super().terminate()
        self.reset_batch_stats()

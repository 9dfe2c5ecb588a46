"""``AutoBatchingMixin`` (adaptive batch sizes) and ``PoolManagerMixin``
(backends driving a ``multiprocessing.pool.Pool``-like object)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable

from ..._multiprocessing_helpers import MULTIPROCESSING_USABLE
from ..batching import next_batch_size, smoothed_duration
from .n_jobs import normalize_n_jobs
from .traceback_capture import capture_traceback, unwrap_outcome

__all__ = ["AutoBatchingMixin", "PoolManagerMixin"]


class AutoBatchingMixin:
    """Adapt the batch size so that a batch takes 0.2 to 2 seconds.

    Batches that are too quick to hide the dispatch overhead grow, batches
    long enough to leave workers idle at the end shrink.  Durations are an
    exponentially weighted mean, reset whenever the batch size changes.
    """

    MIN_IDEAL_BATCH_DURATION = 0.2
    MAX_IDEAL_BATCH_DURATION = 2
    _DEFAULT_EFFECTIVE_BATCH_SIZE = 1
    _DEFAULT_SMOOTHED_BATCH_DURATION = 0.0

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._effective_batch_size = self._DEFAULT_EFFECTIVE_BATCH_SIZE
        self._smoothed_batch_duration = self._DEFAULT_SMOOTHED_BATCH_DURATION

    def compute_batch_size(self) -> int:
        """Return the batch size to use for the next batch."""
        old_size = self._effective_batch_size
        duration = self._smoothed_batch_duration
        size = next_batch_size(old_size, duration, self.MIN_IDEAL_BATCH_DURATION,
                               self.MAX_IDEAL_BATCH_DURATION)
        if size != old_size:
            self._effective_batch_size = size
            # The running mean describes the old size only: start afresh.
            self._smoothed_batch_duration = self._DEFAULT_SMOOTHED_BATCH_DURATION
            self._report_resize(duration, size, size > old_size)
        return size

    def _report_resize(self, duration: float, size: int, grew: bool) -> None:
        parallel = getattr(self, "parallel", None)
        if parallel is not None and getattr(parallel, "verbose", 0) >= 10:
            speed = "fast" if grew else "slow"
            parallel._print(
                f"Batch computation too {speed} ({duration}s.) "
                f"Setting batch_size={size}."
            )

    def batch_completed(self, batch_size: int, duration: float) -> None:
        """Feed the duration of a finished batch to the estimator."""
        if batch_size == self._effective_batch_size:
            old = self._smoothed_batch_duration
            self._smoothed_batch_duration = smoothed_duration(
                old, duration, old == self._DEFAULT_SMOOTHED_BATCH_DURATION
            )

    def reset_batch_stats(self) -> None:
        """Forget the measured durations (before an unrelated call)."""
        self._effective_batch_size = self._DEFAULT_EFFECTIVE_BATCH_SIZE
        self._smoothed_batch_duration = self._DEFAULT_SMOOTHED_BATCH_DURATION


class PoolManagerMixin:
    """Helpers for backends that own a ``Pool`` with ``apply_async``."""

    _pool = None

    def effective_n_jobs(self, n_jobs) -> int:
        """Return the number of workers for ``n_jobs`` (1 without mp)."""
        if not MULTIPROCESSING_USABLE and n_jobs != 0:
            return 1
        return normalize_n_jobs(n_jobs)

    def terminate(self) -> None:
        """Close the pool and wait for its workers to exit."""
        if self._pool is not None:
            self._pool.close()
            self._pool.terminate()  # also joins the workers
            self._pool = None

    def _get_pool(self) -> Any:
        """Return the pool (a hook for lazily created pools)."""
        return self._pool

    def submit(self, func: Callable, callback: Callable | None = None):
        """Run ``func()`` in the pool; ``callback`` gets the result or error."""
        return self._get_pool().apply_async(
            capture_traceback(func), (), callback=callback, error_callback=callback
        )

    def retrieve_result_callback(self, result: Any) -> Any:
        """Return the task's value or raise its exception."""
        return unwrap_outcome(result)

    def abort_everything(self, ensure_ready: bool = True) -> None:
        """Kill the pool; start an identical one when ``ensure_ready``."""
        self.terminate()
        if ensure_ready:
            self.configure(n_jobs=self.parallel.n_jobs, parallel=self.parallel,
                           **self.parallel._configure_kwargs())

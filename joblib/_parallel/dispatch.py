"""Per-call state of ``Parallel``: pulls tasks from the input iterator under
a lock, submits batches, records outcomes and counts progress.

Completion callbacks run in backend threads; the caller's thread waits on
``cond`` (see :mod:`.results`), so nothing polls.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import deque

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator

from .backend_resolution import registry
from .batching import split_sizes
from .outcomes import TASK_ERROR, TASK_PENDING
from .progress import emit_events
from .tasks import BatchedCalls

__all__ = ["CallState"]


class CallState:
    """Everything one ``Parallel.__call__`` tracks while it runs."""

    def __init__(self, parallel: Any, n_jobs: int, lock: threading.RLock,
                 ordered: bool, progress_sink: Callable | None = None):
        self.parallel = parallel
        self.backend = parallel._backend
        self.n_jobs = n_jobs
        self.lock = lock
        self.cond = threading.Condition(lock)
        self.ordered = ordered
        # Set when the caller only wants the full list (no timeout): it then
        # waits for the end of the call, not for each batch.
        self.wait_all = False
        self.verbose = parallel.verbose
        self.retrieve_in_callback = self.backend.supports_retrieve_callback
        self.call_id = os.urandom(16).hex()
        self.jobs: deque = deque()   # ordered: in flight; unordered: finished
        self.pending: set = set()    # unordered: in flight
        self.ready_batches: deque = deque()
        self.n_dispatched_batches = self.n_dispatched_tasks = 0
        self.n_completed_tasks = self.nb_consumed = 0
        self.iterating = self.aborting = self.aborted = self.exception = False
        self.cancelled = False  # set by Parallel.cancel()
        self.original_iterator: Iterator | None = None
        self.pre_dispatch_amount = 0
        self.n_tasks = parallel.n_tasks
        # The total given to progress events: known from the start for a
        # sized input, else once the input is exhausted.  (``n_tasks`` stays
        # as it was: the verbose lines' layout depends on it, as in 1.6.)
        self.n_total = self.n_tasks
        self.start_time = parallel._start_time
        self.reducer_callback: Callable | None = None
        self.broadcast_context = _broadcast_context(parallel, self.backend,
                                                    self.call_id)
        self.progress_sink = progress_sink
        self._requests = 0
        self._pumping = False
        # True while the caller dispatches the first tasks; completions that
        # run synchronously meanwhile must not look like the end of the call.
        self._starting = False
        # Progress of completions that ran inside submit() while the input was
        # being read: emitted once the loop is done, so that the last event
        # carries the total if that loop found the input exhausted.
        self._deferred_events: list = []

    # -- dispatching ---------------------------------------------------
    def start(self, iterator: Iterator, original: Iterator | None) -> None:
        """Dispatch the first ``pre_dispatch`` tasks from ``iterator``."""
        with self.lock:
            self.original_iterator = original
            self._pumping = self._starting = True
            try:
                if self.dispatch_one_batch(iterator):
                    self.iterating = self.original_iterator is not None
                while self.dispatch_one_batch(iterator):
                    pass
                if original is None:
                    self.iterating = False
                    self._input_exhausted()
                self._drain_requests()
            finally:
                self._pumping = self._starting = False
            if self._deferred_events:
                self._emit_deferred_events()
            self.cond.notify_all()

    def dispatch_next(self) -> None:
        """Dispatch one more batch from the input (called on completions)."""
        with self.lock:
            if self.original_iterator is None:
                return
            self._requests += 1
            if self._pumping:
                # A synchronous completion inside submit(): the outer loop
                # will serve the request instead of recursing once per task.
                return
            self._pumping = True
            try:
                self._drain_requests()
            finally:
                self._pumping = False
            if self._deferred_events:
                self._emit_deferred_events()

    def _drain_requests(self) -> None:
        while self._requests and self.original_iterator is not None:
            self._requests -= 1
            if not self.dispatch_one_batch(self.original_iterator):
                self.iterating = False
                self.original_iterator = None
                self._input_exhausted()
        self._requests = 0

    def dispatch_one_batch(self, iterator: Iterator) -> bool:
        """Dispatch one batch; False when ``iterator`` is exhausted."""
        if self.aborting:
            return False
        batch_size = self.parallel._get_batch_size()
        with self.lock:
            if not self.ready_batches and not self._refill(iterator, batch_size):
                # Exhausted, or the input raised (recorded as an outcome).
                return self.aborting
            self._dispatch(self.ready_batches.popleft())
            return True

    def _refill(self, iterator: Iterator, batch_size: int) -> bool:
        """Slice the next tasks into ready batches; False if none are left."""
        big_batch_size = batch_size * self.n_jobs
        try:
            tasks = list(itertools.islice(iterator, big_batch_size))
        except Exception as exc:  # noqa: BLE001 - re-raised in the caller
            self._record_input_error(exc, batch_size)
            return False
        if not tasks:
            return False
        short_tail = (iterator is self.original_iterator
                      and len(tasks) < big_batch_size)
        size = split_sizes(len(tasks), self.n_jobs, short_tail)
        # One nested backend per batch: thread workers share objects, and
        # two tasks must not drive the same backend instance concurrently.
        nested = self.backend.get_nested_backend
        context = self.broadcast_context
        for i in range(0, len(tasks), size):
            batch = BatchedCalls(tasks[i:i + size], nested(), self.reducer_callback, None)
            if context is not None:
                batch.broadcast_context = context
            self.ready_batches.append(batch)
        return True

    def _input_exhausted(self) -> None:
        if self.n_total is None and not self.aborting:
            self.n_total = self.n_dispatched_tasks

    def _record_input_error(self, exc: BaseException, batch_size: int) -> None:
        tracker = registry().BatchCompletionCallBack(0, batch_size, self.parallel)
        self._track(tracker)
        self.record_outcome(tracker, TASK_ERROR, exc)

    def _track(self, tracker: Any) -> None:
        if self.ordered:
            self.jobs.append(tracker)
        else:
            self.pending.add(tracker)

    def _dispatch(self, batch: BatchedCalls) -> None:
        if self.aborting:
            return
        size = len(batch)
        tracker = registry().BatchCompletionCallBack(time.time(), size, self.parallel)
        self.n_dispatched_tasks += size
        self.n_dispatched_batches += 1
        self._track(tracker)
        try:
            job = self.backend.submit(batch, callback=tracker)
        except Exception as exc:  # noqa: BLE001 - re-raised in the caller
            self.record_outcome(tracker, TASK_ERROR, exc)
            return
        tracker.register_job(job)

    # -- completion ----------------------------------------------------
    def record_outcome(self, tracker: Any, status: str, result: Any) -> None:
        """Store a batch outcome once; wake the waiting caller if needed."""
        with self.lock:
            if tracker.status not in (TASK_PENDING, None):
                return
            tracker._result = result
            tracker.status = status
            tracker.job = None
            if status == TASK_ERROR:
                self.exception = self.aborting = True
            if not self.ordered:
                self.pending.discard(tracker)
                self.jobs.append(tracker)
                self.cond.notify_all()
            elif status == TASK_ERROR or (
                    not self.wait_all and self.jobs and self.jobs[0] is tracker):
                self.cond.notify_all()

    def batch_finished(self, tracker: Any, duration: float) -> None:
        """Update the estimator, counters and progress; dispatch more."""
        self.backend.batch_completed(tracker.batch_size, duration)
        with self.lock:
            self.n_completed_tasks += tracker.batch_size
            self.parallel.print_progress()
            if self.original_iterator is not None:
                self.dispatch_next()
            # After dispatch_next: the event of the completion that finds the
            # input exhausted already carries the total.
            if self.progress_sink is not None and not self.aborting:
                if self._pumping:  # a completion inside submit(): see start()
                    self._deferred_events.append((tracker, duration, self.n_completed_tasks,
                                                  time.time() - self.start_time))
                elif not self._emit_safely(tracker, duration):
                    return
            if not self.retrieve_in_callback or self.is_completed():
                self.cond.notify_all()

    def _emit_safely(self, tracker: Any, duration: float, n_completed: int | None = None,
                     elapsed: float | None = None) -> bool:
        """Emit the progress of one batch; False if the user's callback raised."""
        try:
            self._emit_events(tracker, duration, n_completed, elapsed)
        except BaseException as exc:  # noqa: BLE001 - the user's callback
            # Raised in a backend thread, it would be lost and the caller
            # would wait forever: fail the call as a task error does (the
            # caller re-raises it, workers stop).
            self._record_input_error(exc, 0)
            return False
        return True

    def _emit_deferred_events(self) -> None:
        with self.lock:
            while self._deferred_events and not self.aborting:
                if not self._emit_safely(*self._deferred_events.pop(0)):
                    break
            self._deferred_events.clear()

    def _emit_events(self, tracker: Any, duration: float, n_completed: int | None = None,
                     elapsed: float | None = None) -> None:
        # A deferred event keeps the count and time of its completion; the
        # total is read now (it may have become known since).
        if n_completed is None:
            n_completed = self.n_completed_tasks
        if elapsed is None:
            elapsed = time.time() - self.start_time
        emit_events(self.progress_sink, getattr(tracker, "first_index", 0),
                    tracker.batch_size, duration, n_completed, self.n_total, elapsed)

    # -- state queries -------------------------------------------------
    def is_completed(self) -> bool:
        """All dispatched tasks completed and nothing left to dispatch."""
        return self.n_completed_tasks == self.n_dispatched_tasks and not (
            self.iterating or self.aborting or self._starting)

    @property
    def completed(self) -> bool:
        return self.is_completed()

    @property
    def has_iterator(self) -> bool:
        return self.original_iterator is not None


def _broadcast_context(parallel: Any, backend: Any, call_id: str) -> tuple | None:
    """What :func:`joblib.broadcast` handles need to write their files, for
    backends that send them as files (``broadcast_via_files``)."""
    if not getattr(backend, "broadcast_via_files", False):
        return None
    kwargs = getattr(parallel, "_backend_kwargs", {})
    return (call_id, kwargs.get("temp_folder"), kwargs.get("max_nbytes", 1e6),
            kwargs.get("mmap_mode", "r"))

"""A fault-tolerant ``Parallel`` call: picks the workers, starts the
scheduler thread and turns its outcomes into the call's output under the
``on_error`` policy, in input or completion order."""

from __future__ import annotations

import queue
import threading
import time
import warnings

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Iterator

from ..progress import emit_events
from .errors import ParallelCancelledError
from .scheduler import Scheduler

__all__ = ["run_fault_tolerant", "make_pool"]

# How often the caller looks at the cancellation flag while waiting (a flag,
# because Parallel.cancel() may run in a signal handler and take no lock).
_POLL_SECONDS = 0.1


def make_pool(parallel: Any) -> Any:
    """Workers of the backend's kind, owned by this call."""
    # layering: runner chosen by backend class (see DEFERRED)
    from ..backends.loky_backend import LokyBackend
    from ..backends.mp_pool import MultiprocessingBackend  # layering: see DEFERRED
    from ..backends.sequential import SequentialBackend  # layering: see DEFERRED
    from ..backends.thread_pool import ThreadingBackend  # layering: see DEFERRED

    backend = parallel._backend
    kwargs = parallel._backend_kwargs
    init = (kwargs.get("initializer"), kwargs.get("initargs", ()))
    n_jobs = backend.effective_n_jobs(parallel.n_jobs)
    if isinstance(backend, (LokyBackend, MultiprocessingBackend)):
        import multiprocessing  # lazy: only for process pools

        from .process_pool import ProcessPool  # lazy: only the pool this run uses

        if isinstance(backend, LokyBackend):
            # Fresh interpreters, as loky's workers are.
            context = multiprocessing.get_context("spawn")
        else:
            context = parallel._configure_kwargs().get("context")
            context = context or multiprocessing.get_context()
        return ProcessPool(n_jobs, context, *init)
    if isinstance(backend, (ThreadingBackend, SequentialBackend)):
        from .thread_pool import ThreadPool  # lazy: only the pool this run uses

        return ThreadPool(n_jobs, *init)
    if getattr(backend, "supports_retrieve_callback", False):
        return _backend_pool(parallel, backend)
    raise ValueError(
        "retries, retry_on, retry_delay, task_timeout and on_error work with "
        "the 'loky', 'multiprocessing', 'threading', 'sequential' and 'dask' "
        "backends and backends with supports_retrieve_callback; got backend "
        f"{type(backend).__name__}")


def _backend_pool(parallel: Any, backend: Any) -> Any:
    """Slots over a backend that keeps its own workers (dask, custom)."""
    from .backend_pool import BackendPool  # lazy: only the pool this run uses

    n_jobs = backend.configure(n_jobs=parallel.n_jobs, parallel=parallel,
                               **parallel._configure_kwargs())
    if hasattr(backend, "start_call"):
        backend.start_call()
    return BackendPool(n_jobs, backend)


def run_fault_tolerant(parallel: Any, iterable: Iterable, sink: Callable | None):
    """Run the call; a list, or a generator for ``return_as='generator*'``."""
    pool = make_pool(parallel)
    scheduler = Scheduler(pool, iter(iterable), parallel._fault,
                          parallel._backend.get_nested_backend(),
                          parallel.batch_size)
    thread = threading.Thread(target=scheduler.run, daemon=True,
                              name="joblib-fault-tolerant-scheduler")
    parallel._scheduler = scheduler
    thread.start()
    output = _outputs(parallel, scheduler, thread, sink)
    if parallel.return_generator:
        return output
    return list(output)


def _outputs(parallel: Any, scheduler: Scheduler, thread: threading.Thread,
             sink: Callable | None) -> Iterator:
    emit = _Emitter(parallel, sink)
    try:
        while True:
            item = _next_outcome(parallel, scheduler)
            if item[0] == "end":
                return
            if item[0] == "fatal":
                raise item[1]
            if item[0] == "warn":
                warnings.warn(item[1], RuntimeWarning, stacklevel=3)
                continue
            yield from emit(*item)
    finally:
        scheduler.stop()
        thread.join()
        parallel._scheduler = None
        parallel._running = False
        if sink is not None and hasattr(sink, "close"):
            sink.close()


def _next_outcome(parallel: Any, scheduler: Scheduler) -> tuple:
    """The scheduler's next message; raise on cancellation or ``timeout``."""
    timeout = parallel.timeout
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if scheduler.cancelled:
            raise ParallelCancelledError()
        try:
            return scheduler.out.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            pass
        if deadline is not None and time.monotonic() >= deadline:
            from ..errors import ParallelTimeoutError  # imports multiprocessing

            raise ParallelTimeoutError(timeout)


class _Emitter:
    """Applies ``on_error`` and the output order to final outcomes."""

    def __init__(self, parallel: Any, sink: Callable | None):
        self.on_error = parallel._fault.on_error
        self.ordered = parallel.return_ordered
        self.parallel, self.sink = parallel, sink
        self.pending: dict = {}
        self.next_index = 0
        self.n_done = 0

    def __call__(self, index: int, ok: bool, value: Any) -> Iterator:
        self.n_done += 1
        if self.sink is not None:
            self._progress(index)
        if not ok and self.on_error == "raise":
            raise value
        if not self.ordered:
            if ok or self.on_error == "return":
                yield value
            return
        self.pending[index] = (ok, value)
        while self.next_index in self.pending:
            ok, value = self.pending.pop(self.next_index)
            self.next_index += 1
            if ok or self.on_error == "return":
                yield value

    def _progress(self, index: int) -> None:
        parallel = self.parallel
        emit_events(self.sink, index, 1, 0.0, self.n_done, parallel.n_tasks,
                    time.time() - parallel._start_time)

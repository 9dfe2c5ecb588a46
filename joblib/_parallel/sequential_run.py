"""The one-worker path of ``Parallel``: a plain loop in the caller, with
the same counters, progress lines and progress events as parallel runs."""

from __future__ import annotations

import itertools
import time

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Iterator

from .dispatch import CallState
from .progress import emit_events
from .workers.broadcast import LIVE_HANDLES, resolve_handles

__all__ = ["run_sequential"]


def run_sequential(parallel: Any, iterable: Iterable, sink: Callable | None):
    """Run the tasks of ``iterable`` in the caller; list or generator."""
    if LIVE_HANDLES[0]:  # joblib.broadcast handles: the tasks get their objects
        iterable = ((f, resolve_handles(a), resolve_handles(k)) for f, a, k in iterable)
    call = CallState(parallel, 1, parallel._lock, True, sink)
    parallel._call = call
    batch_size = parallel._get_batch_size()
    if (not parallel.return_generator and not parallel.verbose and sink is None
            and batch_size == 1):
        return _run_to_list(parallel, call, iterable)
    output = _outputs(parallel, call, iterable, batch_size, sink)
    next(output)
    return output if parallel.return_generator else list(output)


def _run_to_list(parallel: Any, call: CallState, iterable: Iterable) -> list:
    """Fast path: nobody watches progress, so skip the per-task bookkeeping."""
    try:
        results = [func(*args, **kwargs) for func, args, kwargs in iterable]
    except BaseException:
        call.exception = call.aborting = call.aborted = True
        raise
    finally:
        with parallel._lock:  # Parallel.cancel() looks at it under the lock
            parallel._running = False
    if call.cancelled:
        # lazy: fault tolerance loads only when asked for
        from .fault_tolerance.cancel import settle_sequential_cancel

        settle_sequential_cancel(call)
    n = len(results)
    call.n_dispatched_batches = call.n_dispatched_tasks = n
    call.n_completed_tasks = call.nb_consumed = n
    return results


def _prefetched(iterable: Iterable, batch_size: int) -> Iterator:
    """Consume the input ``batch_size`` tasks at a time (as batches would)."""
    if batch_size == 1:
        return iter(iterable)
    it = iter(iterable)
    chunks = iter(lambda: tuple(itertools.islice(it, batch_size)), ())
    return itertools.chain.from_iterable(chunks)


def _outputs(parallel: Any, call: CallState, iterable: Iterable,
             batch_size: int, sink: Callable | None) -> Iterator:
    try:
        call.iterating = True
        call.original_iterator = iterable
        tasks = _prefetched(iterable, batch_size)
        yield None
        for func, args, kwargs in tasks:
            if call.cancelled:
                # lazy: fault tolerance loads only when asked for
                from .fault_tolerance.errors import ParallelCancelledError

                raise ParallelCancelledError()
            call.n_dispatched_batches += 1
            call.n_dispatched_tasks += 1
            start = time.time()
            result = func(*args, **kwargs)
            call.n_completed_tasks += 1
            if sink is not None:
                _emit(call, sink, start)
            parallel.print_progress()
            yield result
            call.nb_consumed += 1
    except BaseException:
        call.exception = call.aborting = call.aborted = True
        raise
    finally:
        parallel._running = False
        call.iterating = False
        call.original_iterator = None
        parallel.print_progress()
        if sink is not None and hasattr(sink, "close"):
            sink.close()


def _emit(call: CallState, sink: Callable, start: float) -> None:
    now = time.time()
    emit_events(sink, call.n_completed_tasks - 1, 1, now - start,
                call.n_completed_tasks, call.n_tasks, now - call.start_time)

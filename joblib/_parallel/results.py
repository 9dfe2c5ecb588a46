"""Result streams of ``Parallel``: wait for finished batches (in input or
completion order) on the call's condition variable, never by polling."""

from __future__ import annotations

import time

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Iterator

from .outcomes import TASK_ERROR, TASK_PENDING

__all__ = ["iter_batches"]

# Upper bound of one condition wait.  Results wake the caller immediately;
# this only bounds how late a simulated Ctrl-C (``_thread.interrupt_main``,
# used by IDEs and notebooks) is noticed: it sets a flag that a blocked
# lock wait never sees, unlike a real SIGINT.
_INTERRUPT_CHECK_SECONDS = 0.1


def iter_batches(call: Any, timeout: float | None) -> Iterator[list]:
    """Yield the result list of each batch; raise the first task error."""
    if call.wait_all:
        yield from _all_batches(call)
        return
    next_tracker = _next_ordered if call.ordered else _next_unordered
    while True:
        with call.lock:
            tracker = next_tracker(call, timeout)
        if tracker is None:
            return
        results = tracker.get_result(timeout)
        call.nb_consumed += len(results)
        yield results


def _all_batches(call: Any) -> Iterator[list]:
    """Wait for the end of the call, then yield every batch's results."""
    with call.lock:
        # A list is returned at the end anyway: sleep until then instead of
        # waking up (and contending for the GIL) at every batch.
        while not (call.aborting or call.is_completed()):
            call.cond.wait(_INTERRUPT_CHECK_SECONDS)
        if call.aborting:
            _raise_first_error(call)
            return
        jobs, call.jobs = call.jobs, type(call.jobs)()
    for tracker in jobs:
        yield tracker.get_result()


def _raise_first_error(call: Any) -> None:
    """While aborting, raise the error of the first failed batch (if any)."""
    if call.cancelled:
        # lazy: fault tolerance loads only when asked for
        from .fault_tolerance.errors import ParallelCancelledError

        raise ParallelCancelledError()
    trackers = list(call.jobs) + list(call.pending)
    failed = next((t for t in trackers if t.status == TASK_ERROR), None)
    if failed is not None:
        failed.get_result()


def _wait(call: Any, deadline: float | None, on_expiry: Any) -> None:
    if deadline is None:
        call.cond.wait(_INTERRUPT_CHECK_SECONDS)
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0 or not call.cond.wait(min(remaining, _INTERRUPT_CHECK_SECONDS)):
        if time.monotonic() >= deadline:
            from .errors import ParallelTimeoutError  # imports multiprocessing

            call.record_outcome(on_expiry, TASK_ERROR,
                                ParallelTimeoutError(call.parallel.timeout))


def _next_ordered(call: Any, timeout: float | None) -> Any:
    """The next batch in input order once it finished, None at the end."""
    deadline = head = None
    while True:
        if call.aborting:
            _raise_first_error(call)
            return None
        if call.jobs:
            if call.jobs[0] is not head:
                head = call.jobs[0]
                deadline = None if timeout is None else time.monotonic() + timeout
            if head.status != TASK_PENDING:
                return call.jobs.popleft()
        elif not call.iterating and call.n_completed_tasks >= call.n_dispatched_tasks:
            return None
        else:
            head = deadline = None
        _wait(call, deadline, head)


def _next_unordered(call: Any, timeout: float | None) -> Any:
    """The next finished batch in completion order, None at the end."""
    deadline = None
    while True:
        if call.aborting:
            _raise_first_error(call)
            return None
        if call.jobs:
            return call.jobs.popleft()
        if (not call.pending and not call.iterating
                and call.n_completed_tasks >= call.n_dispatched_tasks):
            return None
        watched = next(iter(call.pending), None)
        if timeout is not None and watched is not None and deadline is None:
            deadline = time.monotonic() + timeout
        _wait(call, deadline if watched is not None else None, watched)

"""``Parallel.cancel()``: stop the running call of a ``Parallel`` object.

It may run in a signal handler, i.e. in the middle of any code of the main
thread, possibly while that thread holds the call's lock: it therefore
only sets flags and wakes the waiting side, which does the actual work
(stopping workers, removing temp folders) within its next poll.
"""

from __future__ import annotations

import threading

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any

from .errors import CANCELLED_MESSAGE, ParallelCancelledError

__all__ = ["cancel_call", "settle_sequential_cancel"]


def cancel_call(parallel: Any) -> None:
    """Flag the running call of ``parallel`` as cancelled (see module doc)."""
    scheduler = parallel.__dict__.get("_scheduler")
    if scheduler is not None:
        scheduler.cancel()  # fault-tolerant call: its scheduler stops
        return
    call = parallel.__dict__.get("_call")
    if call is None or not parallel._running:
        return
    call.cancelled = True
    # The waiting caller checks ``aborting`` at least every 0.1 s, and no
    # new batch is dispatched once it is set.
    call.aborting = True
    if call.n_jobs != 1 or parallel.return_generator:
        return  # generators check the flag before each task
    # One worker, a list: the tasks run in a plain loop in the caller.
    caller = parallel._caller_thread
    if caller == threading.get_ident():
        # A signal handler interrupting the call: stop it like Ctrl-C does.
        raise ParallelCancelledError(CANCELLED_MESSAGE)
    with parallel._lock:  # the caller marks the end of the loop under it
        if parallel._running:
            _set_async_exception(caller, ParallelCancelledError)


def _set_async_exception(thread_id: int, exc_type: Any) -> None:
    import ctypes  # lazy: ctypes only to cancel a running thread

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc_type))


def settle_sequential_cancel(call: Any) -> None:
    """End of a one-worker call that was cancelled from another thread:
    drop the exception scheduled for this thread if it did not fire yet,
    and raise it here instead (the call must not return normally)."""
    _set_async_exception_clear(threading.get_ident())
    raise ParallelCancelledError(CANCELLED_MESSAGE)


def _set_async_exception_clear(thread_id: int) -> None:
    import ctypes  # lazy: ctypes only to cancel a running thread

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)

"""The worker side of fault-tolerant calls: run a chunk of tasks one by one
and report each task's outcome as soon as it is known.

Reporting per task (not per chunk) is what lets the parent know, at any
moment, which task a worker is running: the first of its chunk without an
outcome.  It is also why a worker that dies loses no finished result.
"""

from __future__ import annotations

import pickle

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable

from ..config import current_config, set_config

__all__ = ["run_chunk", "process_main", "dump_outcome", "READY"]

# First message of a process worker: started and initialized.
READY = b"R"


def run_chunk(nested: Any, items: Iterable, report: Callable,
              keep_going: Callable[[], bool] = lambda: True) -> None:
    """Run ``(index, func, args, kwargs)`` items, calling
    ``report(index, ok, value)`` after each; ``nested`` is the
    ``(backend, n_jobs)`` that ``Parallel`` calls inside the tasks use."""
    previous = current_config()
    set_config({**previous, "backend": nested[0], "n_jobs": nested[1]})
    try:
        for index, func, args, kwargs in items:
            if not keep_going():
                return
            try:
                value, ok = func(*args, **kwargs), True
            except BaseException as exc:  # noqa: BLE001 - reported as the outcome
                value, ok = exc, False
            report(index, ok, value)
    finally:
        set_config(previous)


def dump_outcome(index: int, ok: bool, value: Any) -> bytes:
    """Pickle one outcome; an exception travels with its traceback text."""
    from ..backends.traceback_capture import _ExceptionWithTraceback

    if not ok:
        value = _ExceptionWithTraceback(value)
    try:
        return pickle.dumps((index, ok, value), pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - retried with cloudpickle below
        pass
    import cloudpickle

    try:
        return cloudpickle.dumps((index, ok, value))
    except Exception as exc:  # noqa: BLE001 - the task's outcome becomes this error
        what = "result" if ok else "exception"
        error = pickle.PicklingError(
            f"Could not pickle the {what} of the task to send it back to the "
            f"parent: {exc!r}")
        return pickle.dumps((index, False, _ExceptionWithTraceback(error)))


def _load_chunk(data: bytes) -> tuple:
    """``(indices, nested, items)``; items is an exception if unpickling fails."""
    import cloudpickle

    indices, payload = pickle.loads(data)
    try:
        nested, items = cloudpickle.loads(payload)
    except BaseException as exc:  # noqa: BLE001 - reported for each task
        return indices, (None, None), exc
    return indices, nested, items


def process_main(conn: Any, initializer: Callable | None = None,
                 initargs: tuple = ()) -> None:
    """Entry point of a worker process: serve chunks until told to stop.

    The worker ignores SIGINT: Ctrl-C reaches the whole process group, and
    the parent, which gets it too, stops the workers itself.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)
    conn.send_bytes(READY)

    def report(index: int, ok: bool, value: Any) -> None:
        conn.send_bytes(dump_outcome(index, ok, value))

    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return  # the parent is gone
        if not data:
            return
        indices, nested, items = _load_chunk(data)
        if isinstance(items, BaseException):
            for index in indices:
                report(index, False, items)
            continue
        run_chunk(nested, items, report)
        del items

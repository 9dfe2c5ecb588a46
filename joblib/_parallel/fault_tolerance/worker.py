"""The worker side of fault-tolerant calls: run a chunk of tasks one by one
and report each task's outcome as soon as it is known.

Reporting per task (not per chunk) is what lets the parent know, at any
moment, which task a worker is running: the first of its chunk without an
outcome.  It is also why a worker that dies loses no finished result.
"""

from __future__ import annotations

import linecache
import pickle
import signal
from collections import deque
from time import monotonic

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable

from ..config import current_config, set_config
from ..backends.traceback_capture import _rebuild
from ..workers.state import init_error, run_initializer

__all__ = ["run_chunk", "process_main", "dump_outcome", "read_log", "READY",
           "LOG_BYTES"]

# First message of a process worker: started and initialized.
READY = b"R"
# Outcomes of tiny tasks are sent together, at least this often (one pipe
# write per task would halve the throughput of tiny tasks).  Until sent,
# each one is also copied to a log in memory shared with the parent, which
# reads it if the worker dies: no finished task is lost or run again.
FLUSH_SECONDS = 0.005
LOG_BYTES = 1 << 18


def run_chunk(nested: Any, items: Iterable, report: Callable, state: Any,
              keep_going: Callable[[], bool] = lambda: True) -> None:
    """Run ``(index, func, args, kwargs)`` items, calling
    ``report(index, ok, value)`` after each; ``nested`` is the
    ``(backend, n_jobs)`` that ``Parallel`` calls inside the tasks use.

    ``state`` (two floats, shared with the parent) says which task runs
    since when: ``[index, start]``, index -1 when idle.  The start is
    written first, so a parent reading the index then the start never
    pairs a new index with an old start.
    """
    error = init_error()
    if error is not None:  # Parallel(initializer=...) failed in this worker
        for item in items:
            report(item[0], False, error)
        return
    previous = current_config()
    set_config({**previous, "backend": nested[0], "n_jobs": nested[1]})
    # Consumed as it runs: a failed task's traceback keeps this frame alive
    # (through its frame's f_back), and must not keep the whole chunk with
    # it (measured: +30% on a threading run where 1% of tasks fail).
    pending = deque(items)
    del items
    try:
        while pending:
            index, func, args, kwargs = pending.popleft()
            if not keep_going():
                return
            state[1] = monotonic()
            state[0] = index
            try:
                value, ok = func(*args, **kwargs), True
            except BaseException as exc:  # noqa: BLE001 - reported as the outcome
                if exc.__traceback__ is not None:  # start at the task's code
                    exc.__traceback__ = exc.__traceback__.tb_next
                value, ok = exc, False
            report(index, ok, value)
    finally:
        state[0] = -1
        set_config(previous)


def format_traceback(exc: BaseException) -> str:
    """The worker's traceback text, in ``traceback``'s layout.

    Written out here because ``traceback.format_exception`` parses each
    source line to place its ``^^^`` markers, which costs more than a tiny
    task: a run where 1% of 100,000 tasks fail would be 10% slower.
    """
    lines = ["Traceback (most recent call last):\n"]
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        lines.append(f'  File "{code.co_filename}", line {tb.tb_lineno}, '
                     f"in {code.co_name}\n")
        source = linecache.getline(code.co_filename, tb.tb_lineno).strip()
        if source:
            lines.append(f"    {source}\n")
        tb = tb.tb_next
    lines.append(f"{type(exc).__qualname__}: {exc}\n" if str(exc)
                 else f"{type(exc).__qualname__}\n")
    return "".join(lines)


class _Failure:
    """Pickles as the exception, with the worker's traceback as its cause."""

    __slots__ = ("exc", "tb")

    def __init__(self, exc: BaseException):
        self.exc = exc
        self.tb = '\n"""\n%s"""' % format_traceback(exc)

    def __reduce__(self):
        return _rebuild, (self.exc, self.tb)


def dump_outcome(index: int, ok: bool, value: Any) -> bytes:
    """Pickle one outcome; an exception travels with its traceback text."""
    if not ok:
        value = _Failure(value)
    try:
        return pickle.dumps((index, ok, value), pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - retried with cloudpickle below
        pass
    import cloudpickle  # lazy: only when pickle fails

    try:
        return cloudpickle.dumps((index, ok, value))
    except Exception as exc:  # noqa: BLE001 - the task's outcome becomes this error
        what = "result" if ok else "exception"
        error = pickle.PicklingError(
            f"Could not pickle the {what} of the task to send it back to the "
            f"parent: {exc!r}")
        return pickle.dumps((index, False, _Failure(error)))


def _load_chunk(data: bytes) -> tuple:
    """``(indices, nested, items)``; items is an exception if unpickling fails."""
    import cloudpickle  # lazy: cloudpickle only in the worker

    indices, payload = pickle.loads(data)
    try:
        nested, items = cloudpickle.loads(payload)
    except BaseException as exc:  # noqa: BLE001 - reported for each task
        return indices, (None, None), exc
    return indices, nested, items


class _Outbox:
    """Outcomes waiting to be sent, mirrored in the shared crash log."""

    def __init__(self, conn: Any, state: Any, log: Any):
        self.conn, self.state = conn, state
        self.log = memoryview(log).cast("B")
        self.offset = 0
        self.items: list = []
        self.last = monotonic()

    def report(self, index: int, ok: bool, value: Any) -> None:
        data = dump_outcome(index, ok, value)
        self.items.append(data)
        end = self.offset + 4 + len(data)
        if end > len(self.log):
            self.flush()  # no room: send now
            return
        self.log[self.offset:self.offset + 4] = len(data).to_bytes(4, "little")
        self.log[self.offset + 4:end] = data
        self.offset = end
        self.state[2] = end  # after the bytes: the parent reads up to here
        if monotonic() - self.last >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.items:
            self.conn.send_bytes(pickle.dumps(self.items, pickle.HIGHEST_PROTOCOL))
            self.items = []
        # Dying between the send and here only makes the parent see some
        # outcomes twice, which it ignores.
        self.state[2] = self.offset = 0
        self.last = monotonic()


def read_log(state: Any, log: Any) -> list:
    """The pickled outcomes a dead worker logged but did not send."""
    view = memoryview(log).cast("B")
    end, offset, items = int(state[2]), 0, []
    while offset + 4 <= end:
        size = int.from_bytes(view[offset:offset + 4], "little")
        items.append(bytes(view[offset + 4:offset + 4 + size]))
        offset += 4 + size
    return items


def process_main(conn: Any, state: Any, log: Any, parent: int,
                 initializer: Callable | None = None, initargs: tuple = ()) -> None:
    """Entry point of a worker process: serve chunks until told to stop.

    The worker ignores SIGINT: Ctrl-C reaches the whole process group, and
    the parent, which gets it too, stops the workers itself.  It exits when
    the parent dies, even in the middle of a task.
    """
    from ..workers.parent_watch import watch_parent  # lazy: the worker process only

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent(parent)
    run_initializer(initializer, initargs)
    conn.send_bytes(READY)
    outbox = _Outbox(conn, state, log)
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
                outbox.report(index, False, items)
        else:
            outbox.last = monotonic()
            run_chunk(nested, items, outbox.report, state)
        del items
        outbox.flush()

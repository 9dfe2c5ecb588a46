"""Exceptions of fault-tolerant ``Parallel`` calls and the notes that say
which task an exception came from."""

from __future__ import annotations

import sys
from concurrent.futures import CancelledError

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["TaskTimeoutError", "ParallelCancelledError", "describe_task",
           "add_task_note", "worker_died_error", "CANCELLED_MESSAGE"]

CANCELLED_MESSAGE = "The Parallel call was cancelled by Parallel.cancel()."

# Longest repr of a task's function and arguments put in a note.
_REPR_LIMIT = 120


class TaskTimeoutError(TimeoutError):
    """A task ran longer than ``Parallel(task_timeout=...)`` and was stopped.

    A subclass of the builtin :class:`TimeoutError`.  On process backends
    the worker that ran the task was killed and replaced; on the threading
    backend the task's thread could not be stopped and was abandoned.
    """


class ParallelCancelledError(CancelledError):
    """The call was stopped by :meth:`joblib.Parallel.cancel`.

    A subclass of :class:`concurrent.futures.CancelledError`.
    """

    def __init__(self, *args: Any):
        # Raised without arguments in a thread interrupted asynchronously.
        super().__init__(*(args or (CANCELLED_MESSAGE,)))


def _short_repr(obj: Any, limit: int) -> str:
    try:
        text = repr(obj)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the error
        text = f"<{type(obj).__name__} object>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def describe_task(index: int, func: Any, args: tuple, kwargs: dict) -> str:
    """``task 3: f(1, x=2)``, the call's repr truncated to a short line."""
    name = getattr(func, "__qualname__", None) or _short_repr(func, 40)
    parts = [_short_repr(a, 40) for a in args]
    parts += [f"{k}={_short_repr(v, 40)}" for k, v in kwargs.items()]
    call = _short_repr_text(f"{name}({', '.join(parts)})", _REPR_LIMIT)
    return f"task {index}: {call}"


def _short_repr_text(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 4] + "...)"


def add_task_note(exc: BaseException, note: str) -> BaseException:
    """Attach ``note`` to ``exc`` (``add_note`` from Python 3.11 on).

    Before 3.11 tracebacks do not show ``__notes__``: the note is also
    appended to the worker's traceback text (the exception's cause), which
    they do show.
    """
    if sys.version_info >= (3, 11):
        exc.add_note(note)
        return exc
    notes = getattr(exc, "__notes__", None)  # pragma: no cover - Python < 3.11
    if not isinstance(notes, list):  # pragma: no cover
        notes = []
        try:
            exc.__notes__ = notes
        except AttributeError:
            return exc
    notes.append(note)  # pragma: no cover
    cause = exc.__cause__  # pragma: no cover
    if cause is not None and hasattr(cause, "tb"):  # pragma: no cover
        cause.tb += f"\n{note}"
    return exc  # pragma: no cover


def worker_died_error(exitcode: int | None, running: list[str]) -> BaseException:
    """loky's ``TerminatedWorkerError``, saying how the worker ended and
    which tasks it was running (its message starts as loky's does)."""
    from loky.process_executor import TerminatedWorkerError

    from ..backends.pool_watch import describe_exit_codes

    tasks = "; ".join(running) if running else "none"
    return TerminatedWorkerError(
        "A worker process managed by the executor was unexpectedly "
        "terminated. This could be caused by a segmentation fault while "
        "calling the function or by an excessive memory usage causing the "
        "Operating System to kill the worker.\n\nThe exit codes of the "
        f"workers are {describe_exit_codes([exitcode])}\n"
        f"Tasks running on it: {tasks}"
    )

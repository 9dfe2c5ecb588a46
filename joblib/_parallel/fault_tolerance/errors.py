"""Exceptions of fault-tolerant ``Parallel`` calls and the notes that say
which task an exception came from."""

from __future__ import annotations

from concurrent.futures import CancelledError

from .notes import add_task_note, describe_task

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["TaskTimeoutError", "ParallelCancelledError", "describe_task",
           "add_task_note", "worker_died_error", "CANCELLED_MESSAGE"]

CANCELLED_MESSAGE = "The Parallel call was cancelled by Parallel.cancel()."


class TaskTimeoutError(TimeoutError):
    """A task ran longer than ``Parallel(task_timeout=...)`` and was stopped.

    A subclass of the builtin :class:`TimeoutError`.  On process backends
    the worker that ran the task was killed and replaced; on the threading
    backend the task's thread could not be stopped and was abandoned.
    """

    __module__ = "joblib"  # its public home (tracebacks, pickles)


class ParallelCancelledError(CancelledError):
    """The call was stopped by :meth:`joblib.Parallel.cancel`.

    A subclass of :class:`concurrent.futures.CancelledError`.
    """

    __module__ = "joblib"

    def __init__(self, *args: Any):
        # Raised without arguments in a thread interrupted asynchronously.
        super().__init__(*(args or (CANCELLED_MESSAGE,)))


def worker_died_error(exitcode: int | None, running: list[str]) -> BaseException:
    """loky's ``TerminatedWorkerError``, saying how the worker ended and
    which tasks it was running (its message starts as loky's does)."""
    # lazy: loky loads only when a process pool is used
    from loky.process_executor import TerminatedWorkerError

    # layering: core reaches into a backend (see DEFERRED)
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

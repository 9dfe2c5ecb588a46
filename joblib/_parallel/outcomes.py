"""``BatchCompletionCallBack``: tracks one dispatched batch, records its
outcome when the backend reports completion, then dispatches more work.

:mod:`joblib.parallel` re-exports this class; ``Parallel`` looks it up there
for every batch so that user subclasses patched in (the "tqdm" recipe)
take effect.
"""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any


__all__ = ["BatchCompletionCallBack", "TASK_DONE", "TASK_ERROR", "TASK_PENDING"]

TASK_DONE = "Done"
TASK_ERROR = "Error"
TASK_PENDING = "Pending"


class BatchCompletionCallBack:
    """Completion callback and result holder of one batch.

    Parameters
    ----------
    dispatch_timestamp : float
        ``time.time()`` when the batch was submitted.
    batch_size : int
        Number of tasks in the batch.
    parallel : Parallel
        The ``Parallel`` instance running the batch.
    """

    def __init__(self, dispatch_timestamp: float, batch_size: int, parallel: Any):
        self.dispatch_timestamp = dispatch_timestamp
        self.batch_size = batch_size
        self.parallel = parallel
        self._call = parallel._call
        self.parallel_call_id = self._call.call_id
        self.first_index = self._call.n_dispatched_tasks
        self.job = None
        self._result = None
        self.status = TASK_PENDING if self._call.retrieve_in_callback else None

    def register_job(self, job: Any) -> None:
        """Record the object returned by the backend's ``submit``."""
        self.job = job

    def __call__(self, *args, **kwargs) -> None:
        """Called by the backend (in any thread) once the batch finished."""
        call = self._call
        if not call.retrieve_in_callback:
            self._dispatch_new()
            return
        if call.aborting:
            return
        if self._retrieve_result(*args, **kwargs):
            self._dispatch_new()

    def _retrieve_result(self, out: Any) -> bool:
        """Fetch and record the outcome; True if the batch succeeded."""
        try:
            result = self._call.backend.retrieve_result_callback(out)
            outcome = dict(status=TASK_DONE, result=result)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            # Drop the callback thread's frames: the useful traceback is the
            # worker's (chained as the cause) and this avoids ref cycles.
            exc.__traceback__ = None
            outcome = dict(status=TASK_ERROR, result=exc)
        self._register_outcome(outcome)
        return outcome["status"] != TASK_ERROR

    def _register_outcome(self, outcome: dict) -> None:
        """Record the outcome once (later calls are ignored)."""
        self._call.record_outcome(self, outcome["status"], outcome["result"])

    def _dispatch_new(self) -> None:
        """Feed the batch duration to the estimator and dispatch more work."""
        duration = time.time() - self.dispatch_timestamp
        self._call.batch_finished(self, duration)

    def get_status(self, timeout: float | None = None) -> str | None:
        """Return the status (``'Pending'``, ``'Done'`` or ``'Error'``)."""
        return self.status

    def get_result(self, timeout: float | None = None) -> Any:
        """Return the batch's results or raise its exception.

        Blocks (up to ``timeout``) only for backends without
        ``supports_retrieve_callback``.
        """
        call = self._call
        if self.status is None:
            try:
                result = call.backend.retrieve_result(self.job, timeout=timeout)
                self._register_outcome(dict(status=TASK_DONE, result=result))
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                if _is_timeout(exc):
                    from .errors import ParallelTimeoutError  # defined over multiprocessing's

                    exc = ParallelTimeoutError()
                self._register_outcome(dict(status=TASK_ERROR, result=exc))
        return self._return_or_raise()

    def _return_or_raise(self) -> Any:
        result, self._result = self._result, None
        if self.status == TASK_ERROR:
            raise result
        return result

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} of {self.batch_size} tasks: "
                f"{self.status}>")


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, TimeoutError):
        return True
    # Only a program that imported multiprocessing can hold its TimeoutError.
    mp_context = sys.modules.get("multiprocessing.context")
    return mp_context is not None and isinstance(exc, mp_context.TimeoutError)

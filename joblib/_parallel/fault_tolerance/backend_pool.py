"""Fault-tolerant calls on a backend that runs work elsewhere (dask, and
custom backends with ``supports_retrieve_callback``).

The backend keeps its workers; each of ``n_jobs`` *slots* here has at most
one chunk submitted through ``backend.submit``.  Outcomes come back per
chunk, so a task's clock starts when its chunk is submitted, and with
``task_timeout`` chunks hold one task.  A timed-out task is cancelled with
the backend's own means (a dask future's ``cancel``); its slot is replaced.
"""

from __future__ import annotations

import queue
from collections import deque

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any

from .worker import _Failure, run_chunk

__all__ = ["BackendPool", "RemoteChunk"]

# Errors of the backend itself that mean the task's worker was lost.
_LOST_WORKER_ERRORS = ("KilledWorker", "TerminatedWorkerError", "CommClosedError")


class RemoteChunk:
    """A picklable chunk: runs its tasks, returns ``[(index, ok, value)]``."""

    def __init__(self, nested: Any, tasks: list):
        self.nested, self.tasks = nested, tasks

    def __call__(self) -> list:
        outcomes: list = []

        def report(index: int, ok: bool, value: Any) -> None:
            outcomes.append((index, ok, value if ok else _Failure(value)))

        run_chunk(self.nested, self.tasks, report, [-1, 0.0])
        return outcomes

    def __repr__(self) -> str:
        return f"<RemoteChunk of {len(self.tasks)} tasks>"


class _Slot:
    def __init__(self) -> None:
        self.queue: deque = deque()
        self.sent_at = 0.0
        self.ready = True
        self.abandoned = False
        self.job: Any = None


class BackendPool:
    """``n`` slots submitting chunks through ``backend``."""

    kills_tasks = False
    per_task_clock = False  # outcomes come per chunk
    timeout_note = "; it was cancelled through the backend"
    warns_on_timeout = False

    def __init__(self, n: int, backend: Any):
        self.backend = backend
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self.workers = [_Slot() for _ in range(n)]

    def pack(self, nested: Any, items: list) -> tuple:
        return RemoteChunk(nested, items), items, []

    def send(self, worker: _Slot, chunk: RemoteChunk, indices: list) -> None:
        def done(out: Any) -> None:
            self._events.put(("done", worker, out))

        worker.job = self.backend.submit(chunk, callback=done)

    def wait(self, timeout: float | None) -> list:
        try:
            items = [self._events.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                items.append(self._events.get_nowait())
            except queue.Empty:
                break
        events: list = []
        for item in items:
            if item[0] == "done" and not item[1].abandoned:
                self._unpack(item[1], item[2], events)
        return events

    def _unpack(self, worker: _Slot, out: Any, events: list) -> None:
        try:
            outcomes = self.backend.retrieve_result_callback(out)
        except BaseException as exc:  # noqa: BLE001 - the chunk's outcome
            events.append(("lost", worker, exc,
                           type(exc).__name__ in _LOST_WORKER_ERRORS))
            return
        for index, ok, value in outcomes:
            if isinstance(value, _Failure):  # not pickled: a thread backend
                value = value.exc
            events.append(("result", worker, index, ok, value))

    @staticmethod
    def current(worker: _Slot) -> tuple:
        if not worker.queue:
            return None, 0.0
        return worker.queue[0], worker.sent_at

    def wakeup(self) -> None:
        self._events.put(("wake",))

    def replace(self, worker: _Slot, kill: bool) -> list:
        worker.abandoned = True
        cancel = getattr(worker.job, "cancel", None)
        if kill and cancel is not None:
            try:
                cancel()
            except Exception:  # noqa: BLE001 - best effort: it is abandoned
                pass
        self.workers[self.workers.index(worker)] = _Slot()
        return []

    def shutdown(self, kill: bool) -> None:
        self.workers = []
        if kill and hasattr(self.backend, "abort_everything"):
            self.backend.abort_everything(ensure_ready=False)
        if hasattr(self.backend, "stop_call"):
            self.backend.stop_call()
        self.backend.terminate()


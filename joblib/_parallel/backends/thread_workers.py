"""A minimal thread pool for ``ThreadingBackend``.

Completion callbacks take the call's lock and dispatch more work.  Running
them in each worker would make the workers queue up on that lock (a lock
convoy: every collision costs two context switches); a dedicated result
thread costs a hand-over per task instead.  Here the workers *combine*:
a finished worker pushes its outcome to a queue and, if no other worker is
already doing so, drains that queue running the callbacks.  Nobody ever
blocks on the drain lock, and the C-level ``SimpleQueue`` needs no
Python-level lock.
"""

from __future__ import annotations

import threading
from _queue import Empty, SimpleQueue  # as queue's, without importing queue

from ..workers.state import init_error, run_initializer

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["ThreadWorkers", "TaskOutcome"]


class TaskOutcome:
    """Result holder returned by ``submit`` (a minimal future)."""

    __slots__ = ("value", "error", "cancelled")

    def __init__(self):
        self.value = self.error = None
        self.cancelled = False

    def result(self, timeout: float | None = None) -> Any:
        """Return the value or raise the task's exception."""
        if self.error is not None:
            raise self.error
        return self.value

    get = result  # ``multiprocessing.pool.AsyncResult`` spelling


class TaskCancelled(Exception):
    """The task was dropped before it started (the pool was aborted)."""


class ThreadWorkers:
    """``n_threads`` daemon threads running submitted callables."""

    def __init__(self, n_threads: int, name: str = "joblib-threading",
                 initializer: Callable | None = None, initargs: tuple = ()):
        self._initializer, self._initargs = initializer, tuple(initargs)
        self._tasks: SimpleQueue = SimpleQueue()
        self._done: SimpleQueue = SimpleQueue()
        self._drain_lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(n_threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, func: Callable[[], Any], callback: Callable | None) -> TaskOutcome:
        """Queue ``func``; ``callback(outcome)`` runs once it finished."""
        outcome = TaskOutcome()
        self._tasks.put((func, outcome, callback))
        return outcome

    def _work(self) -> None:
        get, done = self._tasks.get, self._done.put
        init_error = self._initialize()
        while True:
            item = get()
            if item is None:
                return
            func, outcome, callback = item
            if init_error is not None:
                outcome.error = init_error
            else:
                try:
                    outcome.value = func()
                except BaseException as exc:  # noqa: BLE001 - delivered to the caller
                    outcome.error = exc
            done((outcome, callback))
            self._drain()

    def _initialize(self) -> BaseException | None:
        """Run the initializer in this thread; its exception, if it raised."""
        if self._initializer is None:
            return None
        run_initializer(self._initializer, self._initargs)
        return init_error()

    def _drain(self) -> None:
        """Run pending callbacks unless another thread already does."""
        while not self._done.empty():
            if not self._drain_lock.acquire(blocking=False):
                return
            try:
                self._run_callbacks()
            finally:
                self._drain_lock.release()
            # An outcome pushed while we held the lock, by a worker whose
            # acquire failed, would otherwise wait: loop to check.

    def _run_callbacks(self) -> None:
        while True:
            try:
                outcome, callback = self._done.get_nowait()
            except Empty:
                return
            if callback is None:
                continue
            try:
                callback(outcome)
            except Exception:  # noqa: BLE001 - as concurrent.futures: log, go on
                import logging  # lazy: keeps import joblib.parallel light (no logging)

                logging.getLogger("joblib").exception(
                    "exception calling callback for %r", outcome)

    def cancel_pending(self) -> None:
        """Fail the queued (not yet started) tasks as cancelled."""
        while True:
            try:
                item = self._tasks.get_nowait()
            except Empty:
                break
            if item is not None:
                _, outcome, callback = item
                outcome.error, outcome.cancelled = TaskCancelled(), True
                self._done.put((outcome, callback))
        self._drain()

    def shutdown(self, wait: bool = True) -> None:
        """Stop the threads once their running tasks finished."""
        for _ in self._threads:
            self._tasks.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

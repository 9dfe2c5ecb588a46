"""Worker threads of fault-tolerant calls (threading and sequential
backends).

A thread cannot be killed: a task that exceeds ``task_timeout`` is
reported as timed out and its thread is *abandoned* (it finishes the task
in the background, its outcome is ignored, and it then exits); a fresh
thread takes its place so the call keeps its number of workers.
"""

from __future__ import annotations

import queue
import threading
from collections import deque

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable

from .worker import run_chunk
from ..workers.state import run_initializer

__all__ = ["ThreadPool"]


class ThreadWorker:
    """One worker thread and the parent's view of it."""

    def __init__(self) -> None:
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.queue: deque = deque()
        self.state = [-1, 0.0]  # [index running or -1, its start]
        self.sent_at = 0.0
        self.abandoned = False
        self.ready = True
        self.thread: threading.Thread | None = None


class ThreadPool:
    """``n`` worker threads reporting outcomes on one event queue."""

    kills_tasks = False
    per_task_clock = True
    timeout_note = ("; a thread cannot be stopped: it was abandoned and "
                    "finishes the task in the background")
    warns_on_timeout = True

    def __init__(self, n: int, initializer: Callable | None = None,
                 initargs: tuple = ()):
        self._init = (initializer, tuple(initargs))
        # SimpleQueue.put is reentrant: wakeup() may run in a signal handler.
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._backlog: list = []  # events taken out early by replace()
        self.workers: list[ThreadWorker] = [self._spawn() for _ in range(n)]

    def _spawn(self) -> ThreadWorker:
        worker = ThreadWorker()
        worker.thread = threading.Thread(
            target=self._serve, args=(worker,), daemon=True,
            name="joblib-fault-tolerant-thread")
        worker.thread.start()
        return worker

    def _serve(self, worker: ThreadWorker) -> None:
        run_initializer(*self._init)

        def report(index: int, ok: bool, value: Any) -> None:
            if not worker.abandoned:
                self._events.put(("result", worker, index, ok, value))

        while True:
            message = worker.inbox.get()
            if message is None:
                return
            nested, items = message
            run_chunk(nested, items, report, worker.state,
                      lambda: not worker.abandoned)
            del message, items
            if worker.abandoned:
                return

    # -- work ----------------------------------------------------------
    def pack(self, nested: Any, items: list) -> tuple:
        """Threads share memory: nothing to pickle."""
        return (nested, items), items, []

    def send(self, worker: ThreadWorker, chunk: tuple, indices: list) -> None:
        worker.inbox.put(chunk)

    def wait(self, timeout: float | None) -> list:
        """Events ready within ``timeout`` seconds (see ProcessPool.wait)."""
        events, self._backlog = self._backlog, []
        if not events:
            try:
                events.append(self._events.get(timeout=timeout))
            except queue.Empty:
                return []
        events += self._take_all()
        return [e for e in events if e[0] == "result" and not e[1].abandoned]

    @staticmethod
    def current(worker: ThreadWorker) -> tuple:
        """``(index, start)`` of the task ``worker`` runs, index None if idle."""
        index = worker.state[0]
        return (None if index < 0 else index), worker.state[1]

    def wakeup(self) -> None:
        """Interrupt :meth:`wait` (safe in a signal handler)."""
        self._events.put(("wake",))

    def replace(self, worker: ThreadWorker, kill: bool) -> list:
        """Abandon ``worker`` (it exits after its task) and start another;
        return the outcomes it reported before (as :meth:`wait` events)."""
        worker.abandoned = True
        worker.inbox.put(None)
        self.workers[self.workers.index(worker)] = self._spawn()
        mine = []
        for event in self._take_all():
            (mine if event[0] == "result" and event[1] is worker
             else self._backlog).append(event)
        return mine

    def _take_all(self) -> list:
        events = []
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                return events

    def shutdown(self, kill: bool) -> None:
        """Stop the threads; wait for them unless ``kill`` (they then finish
        their running task in the background, as 1.6 does on errors)."""
        workers, self.workers = self.workers, []
        for worker in workers:
            worker.abandoned = worker.abandoned or kill
            worker.inbox.put(None)
        if not kill:
            for worker in workers:
                worker.thread.join()

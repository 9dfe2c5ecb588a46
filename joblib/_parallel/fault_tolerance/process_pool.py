"""Worker processes of fault-tolerant calls, owned by the call.

loky's executor and ``multiprocessing.Pool`` treat a killed worker as a
broken pool (loky fails every pending task; the pool loses the task).  A
fault-tolerant call must kill exactly one worker, the one running a stuck
task, and keep the others going, so it manages its own processes: one pipe
per worker, and the parent always knows which task each worker runs.
"""

from __future__ import annotations

import os
import pickle
import time
from collections import deque
from multiprocessing.connection import wait as wait_ready

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable

from .worker import LOG_BYTES, READY as _READY, process_main, read_log

__all__ = ["ProcessPool", "ProcessWorker"]

# How long a worker that was asked to stop may take before it is killed.
_STOP_GRACE_SECONDS = 5.0


class ProcessWorker:
    """One worker process and the parent's view of it."""

    def __init__(self, process: Any, conn: Any, state: Any, log: Any):
        self.process = process
        self.conn = conn
        self.state = state           # [index running or -1, its start, log end]
        self.log = log               # outcomes not sent yet (see worker.py)
        self.queue: deque = deque()  # indices sent and not reported yet
        self.sent_at = 0.0
        # Set by its first message: a task's clock must not include the
        # start of the interpreter (a second or more on a loaded machine).
        self.ready = False
        self.born = time.monotonic()

    @property
    def pid(self) -> int:
        return self.process.pid


class ProcessPool:
    """``n`` worker processes started from ``context``.

    Parameters
    ----------
    n : int
        Number of workers.
    context : multiprocessing context
        How to start them (``spawn`` for the loky backend, the backend's
        context for ``multiprocessing``).
    initializer, initargs
        Run once in every worker before its first task.
    """

    kills_tasks = True
    per_task_clock = True
    timeout_note = ""
    warns_on_timeout = False

    def __init__(self, n: int, context: Any, initializer: Callable | None = None,
                 initargs: tuple = ()):
        self._context = context
        self._init = (initializer, tuple(initargs))
        self._wake_r, self._wake_w = os.pipe()
        self._closed = False
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.workers: list[ProcessWorker] = []
        self.workers = [self._spawn() for _ in range(n)]

    def _spawn(self) -> ProcessWorker:
        parent_conn, child_conn = self._context.Pipe(duplex=True)
        state = self._context.RawArray("d", [-1.0, 0.0, 0.0])
        log = self._context.RawArray("c", LOG_BYTES)
        process = self._context.Process(
            target=process_main,
            args=(child_conn, state, log, os.getpid(), *self._init),
            name="joblib-fault-tolerant-worker")
        process.start()
        child_conn.close()
        return ProcessWorker(process, parent_conn, state, log)

    # -- work ----------------------------------------------------------
    def pack(self, nested: Any, items: list) -> tuple:
        """``(payload, items sent, [(index, error)])``: a task that cannot be
        pickled fails alone instead of failing its whole chunk."""
        import cloudpickle  # lazy: cloudpickle only when sending tasks

        try:
            return cloudpickle.dumps((nested, items)), items, []
        except Exception:  # noqa: BLE001 - find the culprit(s) below
            pass
        good, failed = [], []
        for item in items:
            try:
                cloudpickle.dumps(item)
                good.append(item)
            except Exception as exc:  # noqa: BLE001 - the task's outcome
                failed.append((item[0], exc))
        return cloudpickle.dumps((nested, good)), good, failed

    def send(self, worker: ProcessWorker, payload: bytes, indices: list) -> None:
        """Send a pickled chunk; only ever to a worker with an empty queue
        (it is then blocked reading, so a large chunk cannot deadlock)."""
        worker.conn.send_bytes(pickle.dumps((indices, payload), pickle.HIGHEST_PROTOCOL))

    def wait(self, timeout: float | None) -> list:
        """Events ``("result", worker, index, ok, value)`` and
        ``("died", worker, exitcode)`` ready within ``timeout`` seconds."""
        by_object: dict = {self._wake_r: None}
        for worker in self.workers:
            by_object[worker.conn] = worker
            by_object[worker.process.sentinel] = worker
        ready = wait_ready(list(by_object), timeout)
        events: list = []
        seen: set = set()
        for obj in ready:
            worker = by_object[obj]
            if worker is None:
                self._drain_wakeups()
            elif id(worker) not in seen:
                seen.add(id(worker))
                self._collect(worker, events)
        return events

    def _collect(self, worker: ProcessWorker, events: list) -> None:
        dead = worker.process.exitcode is not None
        try:
            while worker.conn.poll():
                data = worker.conn.recv_bytes()
                if data == _READY:
                    worker.ready = True
                    continue
                for item in pickle.loads(data):
                    events.append(("result", worker) + _load_outcome(item, worker))
        except (EOFError, OSError):
            dead = True
        if dead:
            worker.process.join(_STOP_GRACE_SECONDS)
            for item in read_log(worker.state, worker.log):
                events.append(("result", worker) + _load_outcome(item, worker))
            events.append(("died", worker, worker.process.exitcode))

    def _drain_wakeups(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def wakeup(self) -> None:
        """Interrupt :meth:`wait` (safe in a signal handler)."""
        if self._closed:
            return  # the descriptor number may already belong to another file
        try:
            os.write(self._wake_w, b"x")
        except OSError:  # full (a wake-up is pending anyway) or closed
            pass

    def replace(self, worker: ProcessWorker, kill: bool) -> list:
        """Kill (if asked) and reap ``worker``, start its successor; return
        the outcomes it sent before it ended (as :meth:`wait` events)."""
        events: list = []
        if kill and worker.process.exitcode is None:
            worker.process.kill()
            worker.process.join(_STOP_GRACE_SECONDS)
            self._collect(worker, events)
            events = [e for e in events if e[0] == "result"]
        self._stop(worker, kill=True)
        self.workers[self.workers.index(worker)] = self._spawn()
        return events

    @staticmethod
    def current(worker: ProcessWorker) -> tuple:
        """``(index, start)`` of the task ``worker`` runs, index None if idle."""
        index = int(worker.state[0])
        return (None if index < 0 else index), worker.state[1]

    # -- end -----------------------------------------------------------
    def _stop(self, worker: ProcessWorker, kill: bool) -> None:
        if kill and worker.process.exitcode is None:
            worker.process.kill()
        worker.process.join(_STOP_GRACE_SECONDS)
        worker.conn.close()

    def shutdown(self, kill: bool) -> None:
        """Stop every worker: ask politely, or kill right away."""
        workers, self.workers = self.workers, []
        if not kill:
            for worker in workers:
                try:
                    worker.conn.send_bytes(b"")
                except OSError:
                    pass
        for worker in workers:
            if not kill:
                worker.process.join(_STOP_GRACE_SECONDS)
            self._stop(worker, kill=True)
        self._closed = True
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass


def _load_outcome(data: bytes, worker: ProcessWorker) -> tuple:
    """``(index, ok, value)``; an outcome that cannot be unpickled here
    becomes the error of the task the worker was running."""
    try:
        return pickle.loads(data)
    except Exception as exc:  # noqa: BLE001 - becomes the task's outcome
        index = worker.queue[0] if worker.queue else -1
        return index, False, pickle.UnpicklingError(
            f"Could not unpickle the outcome of the task in the parent: {exc!r}")

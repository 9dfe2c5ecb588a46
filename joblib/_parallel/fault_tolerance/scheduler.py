"""The parent side of a fault-tolerant call, run in one scheduler thread.

It keeps a table ``index -> task and failure count``, sends chunks of
tasks to idle workers, and turns worker events into final outcomes:

- a result: the task is done;
- an exception in ``retry_on``, a dead worker or a task past
  ``task_timeout``: the task is re-queued (after ``retry_delay``, doubled at
  each attempt) until it has failed ``retries + 1`` times;
- any other exception, or the last failure: the task's final outcome is
  that exception, with a note saying which task it was.

Only the task a worker was running is charged for the worker's death;
tasks queued behind it on that worker are re-queued uncharged.  Final
outcomes go to ``out`` (a ``SimpleQueue``) as ``(index, ok, value)``, then
``("end", n_tasks)`` or ``("fatal", exception)``.
"""

from __future__ import annotations

import heapq
import queue
import time
from collections import deque

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Iterator

from .errors import TaskTimeoutError, add_task_note, describe_task, worker_died_error

__all__ = ["Scheduler"]

# Longest sleep between two looks at the state when nothing happens (a
# cancellation wakes the scheduler at once; this only bounds surprises).
_MAX_WAIT = 1.0
# Chunks of tiny tasks are sized to take about this long on a worker.
_TARGET_CHUNK_SECONDS = 0.02
_MAX_CHUNK = 1000
# A worker process not ready after this long is replaced.
_START_TIMEOUT = 120.0
# With task_timeout, how often to look whether a sent task has started.
_START_POLL = 0.02


class Scheduler:
    """Runs the tasks of ``iterator`` on ``pool`` under ``options``."""

    def __init__(self, pool: Any, iterator: Iterator, options: Any, nested: Any,
                 batch_size: Any):
        self.pool, self.options, self.nested = pool, options, nested
        self.iterator = iterator
        self.exhausted = False
        self.n_read = 0
        self.tasks: dict = {}          # index -> [func, args, kwargs, failures]
        self.ready: deque = deque()    # indices waiting for a worker
        self.delayed: list = []        # heap of (due, index): retries to come
        self.out: queue.SimpleQueue = queue.SimpleQueue()
        self.cancelled = self.stopping = False
        self.auto = batch_size == "auto"
        self.chunk = 1 if self.auto else int(batch_size)
        if options.task_timeout is not None and not pool.per_task_clock:
            # Outcomes come per chunk: a task's clock is its chunk's.
            self.auto, self.chunk = False, 1
        self._mean = None
        self._idle_deaths = 0

    # -- control (any thread, or a signal handler) ----------------------
    def cancel(self) -> None:
        self.cancelled = True
        self.pool.wakeup()

    def stop(self) -> None:
        self.stopping = True
        self.pool.wakeup()

    # -- main loop -----------------------------------------------------
    def run(self) -> None:
        """The scheduler thread's body; never raises."""
        finished = False
        try:
            finished = self._loop()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self.out.put(("fatal", exc))
        finally:
            try:
                self.pool.shutdown(kill=not finished)
            finally:
                if finished:
                    self.out.put(("end", self.n_read))

    def _loop(self) -> bool:
        while not (self.cancelled or self.stopping):
            self._read_input()
            self._dispatch()
            if self.exhausted and not self.tasks:
                return True
            for event in self.pool.wait(self._wait_time()):
                handler = {"result": self._on_result, "died": self._on_death,
                           "lost": self._on_lost}[event[0]]
                handler(*event[1:])
            self._check_timeouts()
            self._check_starts()
            self._promote_retries()
        return False

    def _read_input(self) -> None:
        want = 2 * len(self.pool.workers) * self.chunk
        while not self.exhausted and len(self.ready) < want:
            try:
                func, args, kwargs = next(self.iterator)
            except StopIteration:
                self.exhausted = True
                return
            self.tasks[self.n_read] = [func, args, kwargs, 0]
            self.ready.append(self.n_read)
            self.n_read += 1

    def _dispatch(self) -> None:
        for worker in self.pool.workers:
            if not self.ready or self.stopping:
                return
            if worker.queue or not worker.ready:
                continue
            size = max(1, min(self.chunk, len(self.ready) // len(self.pool.workers)))
            indices = [self.ready.popleft() for _ in range(min(size, len(self.ready)))]
            items = [(i, *self.tasks[i][:3]) for i in indices]
            payload, sent, failed = self.pool.pack(self.nested, items)
            for index, exc in failed:
                self._fail(index, exc, retryable=False)
            if not sent:
                continue
            indices = [item[0] for item in sent]
            worker.queue.extend(indices)
            worker.sent_at, worker.sent_len = time.monotonic(), len(indices)
            try:
                self.pool.send(worker, payload, indices)
            except OSError:
                pass  # it died: its death event re-queues these tasks

    def _wait_time(self) -> float:
        now = time.monotonic()
        wait = _MAX_WAIT
        timeout = self.options.task_timeout
        if timeout is not None:
            for worker in self.pool.workers:
                if not worker.queue:
                    continue
                index, start = self.pool.current(worker)
                # Not started yet: look again soon, its clock starts then.
                wait = min(wait, _START_POLL if index is None
                           else start + timeout - now)
        if self.delayed:
            wait = min(wait, self.delayed[0][0] - now)
        return max(wait, 0.0)

    # -- events --------------------------------------------------------
    def _on_result(self, worker: Any, index: int, ok: bool, value: Any) -> None:
        if not worker.queue or worker.queue[0] != index:
            return  # a stale outcome (task already re-queued)
        worker.queue.popleft()
        if not worker.queue:
            self._learn((time.monotonic() - worker.sent_at) / worker.sent_len)
        self._idle_deaths = 0
        if ok:
            del self.tasks[index]
            self.out.put((index, True, value))
        else:
            self._fail(index, value, isinstance(value, self.options.retry_on))

    def _learn(self, duration: float) -> None:
        if not self.auto:
            return
        mean = self._mean = (duration if self._mean is None
                             else 0.7 * self._mean + 0.3 * duration)
        self.chunk = max(1, min(_MAX_CHUNK, int(_TARGET_CHUNK_SECONDS / max(mean, 1e-7))))

    def _culprit(self, worker: Any) -> int | None:
        """The task ``worker`` was running when it ended: its shared state
        says, else (it died between tasks) the first one it was sent."""
        index, _ = self.pool.current(worker)
        if index in worker.queue:
            return index
        return worker.queue[0] if worker.queue and index is None else None

    def _requeue_rest(self, worker: Any, culprit: int | None) -> None:
        """Put back the tasks of ``worker`` but its culprit, uncharged."""
        rest = [i for i in worker.queue if i != culprit]
        worker.queue.clear()
        self.ready.extendleft(reversed(rest))

    def _on_death(self, worker: Any, exitcode: int | None) -> None:
        culprit = self._culprit(worker)
        self._requeue_rest(worker, culprit)
        if not self.stopping:
            self.pool.replace(worker, kill=False)
        if culprit is None:
            self._idle_deaths += 1
            if self._idle_deaths > 2 * len(self.pool.workers) + 2:
                raise worker_died_error(exitcode, [])
            return
        self._fail(culprit, worker_died_error(exitcode, [self._describe(culprit)]),
                   retryable=True)

    def _on_lost(self, worker: Any, exc: BaseException, lost_worker: bool) -> None:
        """A chunk failed in the backend itself (e.g. dask's KilledWorker)."""
        if not worker.queue:
            return
        culprit = worker.queue[0]
        self._requeue_rest(worker, culprit)
        self._fail(culprit, exc, lost_worker or isinstance(exc, self.options.retry_on))

    def _check_timeouts(self) -> None:
        timeout = self.options.task_timeout
        if timeout is None:
            return
        now = time.monotonic()
        for worker in list(self.pool.workers):
            index, start = self.pool.current(worker)
            if index is None or index not in worker.queue or now - start < timeout:
                continue
            for event in self.pool.replace(worker, kill=True):
                self._on_result(*event[1:])
            culprit = self._culprit(worker)
            self._requeue_rest(worker, culprit)
            if culprit is not None:
                self._timed_out(culprit, timeout)

    def _check_starts(self) -> None:
        """Replace a worker process that did not start within
        _START_TIMEOUT (e.g. stuck on a lock inherited through fork)."""
        now = time.monotonic()
        for worker in list(self.pool.workers):
            if not worker.ready and now - getattr(worker, "born", now) > _START_TIMEOUT:
                self.pool.replace(worker, kill=True)
                self._idle_deaths += 1
                if self._idle_deaths > 2 * len(self.pool.workers) + 2:
                    raise RuntimeError(
                        f"joblib could not start worker processes: none was "
                        f"ready within {_START_TIMEOUT} s")

    def _timed_out(self, index: int, timeout: float) -> None:
        message = (f"{self._describe(index)} did not complete within "
                   f"task_timeout={timeout} s{self.pool.timeout_note}")
        if self.pool.warns_on_timeout:
            self.out.put(("warn", message))
        self._fail(index, TaskTimeoutError(message), retryable=True)

    def _promote_retries(self) -> None:
        now = time.monotonic()
        due = []
        while self.delayed and self.delayed[0][0] <= now:
            due.append(heapq.heappop(self.delayed)[1])
        self.ready.extendleft(reversed(due))

    # -- outcomes ------------------------------------------------------
    def _fail(self, index: int, exc: BaseException, retryable: bool) -> None:
        task = self.tasks[index]
        task[3] += 1
        failures = task[3]
        if retryable and failures <= self.options.retries and not self.stopping:
            delay = self.options.delay(failures)
            if delay:
                heapq.heappush(self.delayed, (time.monotonic() + delay, index))
            else:
                self.ready.appendleft(index)
            return
        attempts = f", after {failures} attempts" if failures > 1 else ""
        add_task_note(exc, f"joblib: raised by {self._describe(index)}{attempts}")
        del self.tasks[index]
        self.out.put((index, False, exc))
        if self.options.on_error == "raise":
            self.stopping = True

    def _describe(self, index: int) -> str:
        func, args, kwargs = self.tasks[index][:3]
        return describe_task(index, func, args, kwargs)

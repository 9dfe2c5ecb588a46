"""Start-up and teardown of the multiprocessing backend's per-call pool.

What a ``Parallel(backend="multiprocessing")`` call guarantees when it
returns: its workers have exited and been reaped, idle workers exited on
their own (their ``multiprocessing`` finalizers ran) rather than being
killed, and garbage made just before the call was collected before the fork.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import os
import signal
import weakref
from multiprocessing.util import Finalize

import pytest

from joblib import Parallel, delayed
from joblib.pool import MemmappingPool

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="fork start method"
)


def _is_reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _mark_exit(folder: str) -> None:
    path = os.path.join(folder, str(os.getpid()))
    Finalize(None, lambda: open(path, "w").close(), exitpriority=10)


@pytest.mark.timeout(120)
def test_idle_workers_exit_normally_on_terminate():
    # Stdlib's terminate() kills whichever worker has not yet read its stop
    # sentinel (about one worker in seven here): an idle, closed pool must
    # let every worker exit on its own, every time.
    codes = []
    for _ in range(8):
        pool = MemmappingPool(2, max_nbytes=None)
        assert pool.map(abs, range(-50, 0), chunksize=5) == list(range(50, 0, -1))
        pool.close()
        pool.terminate()
        codes += [worker.exitcode for worker in pool._pool]
    assert codes == [0] * 16


def _touch_then_sleep(path: str) -> None:
    import time

    open(path, "w").close()
    time.sleep(60)


@pytest.mark.timeout(120)
def test_terminate_still_kills_busy_workers(tmp_path):
    # Tasks outstanding: terminate() stops the workers at once, as before.
    import time

    pool = MemmappingPool(2, max_nbytes=None)
    paths = [str(tmp_path / name) for name in "ab"]
    pool.map_async(_touch_then_sleep, paths, chunksize=1)
    deadline = time.monotonic() + 60
    while not all(os.path.exists(p) for p in paths) and time.monotonic() < deadline:
        time.sleep(0.01)  # polling for the tasks to start, with a deadline
    assert all(os.path.exists(p) for p in paths), "the tasks never started"
    pool.close()
    start = time.monotonic()
    pool.terminate()
    assert time.monotonic() - start < 15
    assert [worker.exitcode for worker in pool._pool] == [-signal.SIGTERM] * 2


@pytest.mark.timeout(120)
def test_call_returns_with_workers_exited_and_reaped(tmp_path):
    for _ in range(3):
        pids = Parallel(n_jobs=2, backend="multiprocessing", batch_size=1,
                        initializer=_mark_exit, initargs=(str(tmp_path),))(
            delayed(os.getpid)() for _ in range(40))
        pids = set(pids)
        assert pids and os.getpid() not in pids
        # At return, not later: the workers' exit finalizers ran and the
        # processes are gone (no polling).
        assert {int(name) for name in os.listdir(tmp_path)} >= pids
        assert all(_is_reaped(pid) for pid in pids)


class _Cycle:
    def __init__(self):
        self.me = self


@pytest.mark.timeout(120)
def test_recent_garbage_is_collected_before_forking():
    # Forked workers inherit the parent's garbage: the call collects it first.
    was_enabled = gc.isenabled()
    gc.disable()  # only the backend may collect here
    try:
        garbage = _Cycle()
        alive = weakref.ref(garbage)
        del garbage
        assert alive() is not None
        out = Parallel(n_jobs=2, backend="multiprocessing")(
            delayed(math.sqrt)(i) for i in range(10))
        assert out == [math.sqrt(i) for i in range(10)]
        assert alive() is None
    finally:
        if was_enabled:
            gc.enable()


@pytest.mark.timeout(120)
def test_workers_replaced_after_maxtasksperchild():
    # The worker handler, which no longer watches the result pipe, still
    # wakes up when a worker exits and starts its replacement.
    pool = MemmappingPool(2, max_nbytes=None, maxtasksperchild=1)
    try:
        pids = pool.map(_own_pid, range(12), chunksize=1)
    finally:
        pool.close()
        pool.terminate()
    assert len(set(pids)) == 12


def _own_pid(_):
    return os.getpid()


@pytest.mark.timeout(120)
def test_worker_handler_does_not_spin_on_pending_results(monkeypatch):
    # The standard pool's worker handler also waits on the result pipe, so
    # it woke up again and again while results were pending (about a
    # thousand times in a call of 70 batches), taking the GIL from the
    # threads doing the work.  It must wake only on events it acts on.
    import multiprocessing.pool as stdlib_pool

    wakeups = []
    maintain = stdlib_pool.Pool.__dict__["_maintain_pool"].__func__

    def counting_maintain(*args):
        wakeups.append(1)
        return maintain(*args)

    monkeypatch.setattr(stdlib_pool.Pool, "_maintain_pool", staticmethod(counting_maintain))
    out = Parallel(n_jobs=2, backend="multiprocessing", batch_size=1)(
        delayed(math.sqrt)(i) for i in range(2000))
    assert out == [math.sqrt(i) for i in range(2000)]
    assert len(wakeups) < 100, len(wakeups)

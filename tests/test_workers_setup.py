"""``Parallel(initializer=..., initargs=...)`` on every backend and
:func:`joblib.worker_state`: set-up once per worker process, worker thread
or (sequential) call; a failing initializer fails the call with its own
exception and traceback."""

from __future__ import annotations

import os
import threading
import traceback

import pytest

from joblib import Parallel, delayed, worker_state

BACKENDS = ["loky", "multiprocessing", "threading", "sequential"]


def record_init(log_path, tag):
    ident = f"{os.getpid()}-{threading.get_ident()}"
    with open(log_path, "a") as f:
        f.write(ident + "\n")
    worker_state().tag = tag
    worker_state().ident = ident


def read_state(i):
    state = worker_state()
    return state.tag, state.ident


def failing_initializer():
    raise ZeroDivisionError("set-up failed in failing_initializer")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", BACKENDS)
def test_initializer_runs_once_per_worker(backend, tmp_path):
    log = tmp_path / "init.log"
    out = Parallel(n_jobs=2, backend=backend, batch_size=1,
                   initializer=record_init, initargs=(str(log), "ready"))(
        delayed(read_state)(i) for i in range(20))
    inits = log.read_text().split()
    assert {tag for tag, _ in out} == {"ready"}
    # every worker that ran a task was set up exactly once
    assert len(inits) == len(set(inits))
    assert {ident for _, ident in out} <= set(inits)
    if backend == "sequential":
        assert len(inits) == 1  # once per call, in the caller
        assert inits[0] == f"{os.getpid()}-{threading.get_ident()}"
    else:
        assert 1 <= len(inits) <= 2


@pytest.mark.timeout(120)
def test_sequential_initializer_runs_once_per_call(tmp_path):
    log = tmp_path / "init.log"
    for _ in range(3):
        Parallel(n_jobs=1, initializer=record_init, initargs=(str(log), 1))(
            delayed(read_state)(i) for i in range(4))
    assert len(log.read_text().split()) == 3


@pytest.mark.timeout(120)
def test_threading_initializer_in_each_thread(tmp_path):
    log = tmp_path / "init.log"
    barrier = threading.Barrier(2, timeout=30)

    def wait_for_other_thread(i):
        barrier.wait()  # both threads must each have run a task
        return worker_state().ident

    out = Parallel(n_jobs=2, backend="threading", batch_size=1,
                   initializer=record_init, initargs=(str(log), 0))(
        delayed(wait_for_other_thread)(i) for i in range(2))
    assert len(set(out)) == 2
    assert sorted(log.read_text().split()) == sorted(out)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", BACKENDS)
def test_failing_initializer_fails_the_call_with_its_exception(backend):
    with pytest.raises(ZeroDivisionError, match="set-up failed") as info:
        Parallel(n_jobs=2, backend=backend, initializer=failing_initializer)(
            delayed(abs)(i) for i in range(10))
    text = "".join(traceback.format_exception(info.value))
    assert "failing_initializer" in text


@pytest.mark.timeout(120)
def test_loky_workers_usable_after_failing_initializer():
    with pytest.raises(ZeroDivisionError):
        Parallel(n_jobs=2, initializer=failing_initializer)(
            delayed(abs)(i) for i in range(4))
    assert Parallel(n_jobs=2)(delayed(abs)(-i) for i in range(4)) == [0, 1, 2, 3]


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_initializer_must_be_callable(backend):
    with pytest.raises(TypeError, match="initializer must be a callable, got: 3"):
        Parallel(n_jobs=2, backend=backend, initializer=3)(
            delayed(abs)(i) for i in range(4))


def test_worker_state_outside_workers_is_per_thread():
    worker_state().here = 1
    seen = []
    t = threading.Thread(target=lambda: seen.append(hasattr(worker_state(), "here")))
    t.start()
    t.join()
    assert seen == [False] and worker_state().here == 1
    assert "here=1" in repr(worker_state())
    del worker_state().here

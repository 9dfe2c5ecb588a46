"""Faults: task errors, timeouts, dying workers, Ctrl-C, unpicklable
tasks; after each, the next call works and nothing leaks."""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
import traceback

import pytest

from joblib import Parallel, delayed
from joblib.externals.loky.process_executor import TerminatedWorkerError

from _parallel_helpers import wait_until as _wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))





def square(x):
    return x * x


def sleep_then(x, seconds):
    time.sleep(seconds)
    return x


def exit_on(x, bad, how):
    if x == bad:
        if how == "exit":
            os._exit(7)
        elif how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif how == "segfault":
            import ctypes

            ctypes.string_at(0)
    return x


def with_array(a, fail):
    if fail:
        raise ValueError("array task failed")
    return float(a.sum())


@pytest.mark.parametrize("backend", ["loky", "multiprocessing"])
@pytest.mark.parametrize("how", ["exit", "kill", "segfault"])
def test_dead_worker_raises_terminated_worker_error(backend, how, no_leaks):
    with pytest.raises(TerminatedWorkerError) as excinfo:
        Parallel(n_jobs=2, backend=backend)(
            delayed(exit_on)(i, 3, how) for i in range(8))
    message = str(excinfo.value)
    assert "exit codes" in message
    expected = {"exit": "EXIT(7)", "kill": "SIGKILL(-9)", "segfault": "SIGSEGV(-11)"}
    assert expected[how] in message
    assert Parallel(n_jobs=2, backend=backend)(
        delayed(square)(i) for i in range(4)) == [0, 1, 4, 9]


@pytest.mark.parametrize("backend", ["loky", "multiprocessing"])
def test_timeout_raises_and_cancels(backend, no_leaks):
    with pytest.raises(multiprocessing.TimeoutError):
        Parallel(n_jobs=2, backend=backend, timeout=0.3)(
            delayed(sleep_then)(i, 0 if i == 0 else 60) for i in range(4))
    assert Parallel(n_jobs=2, backend=backend)(
        delayed(square)(i) for i in range(3)) == [0, 1, 4]


@pytest.mark.parametrize("return_as", ["list", "generator", "generator_unordered"])
def test_timeout_threading_is_also_builtin_timeout_error(return_as, no_leaks):
    release = threading.Event()
    try:
        with pytest.raises(TimeoutError):
            list(Parallel(n_jobs=2, backend="threading", timeout=0.2,
                          return_as=return_as)(
                delayed(release.wait)(30) for _ in range(4)))
    finally:
        release.set()


def test_timeout_ignored_with_warning_for_sequential(no_leaks):
    with pytest.warns(UserWarning, match="does not support timeout"):
        out = Parallel(n_jobs=1, timeout=1)(delayed(square)(i) for i in range(3))
    assert out == [0, 1, 4]


@pytest.mark.parametrize("backend", ["loky", "multiprocessing", "threading"])
def test_error_cancels_outstanding_tasks_promptly(backend, no_leaks):
    # The failing task is first; the others would take a minute in total.
    tasks = [delayed(exit_on)(0, -1, "")] + [
        delayed(sleep_then)(i, 0.5) for i in range(120)]
    tasks.insert(1, delayed(square)("not a number"))
    start = time.monotonic()
    with pytest.raises(TypeError):
        Parallel(n_jobs=2, backend=backend, batch_size=1)(tasks)
    # Generous bound: aborting must not run the remaining 60 s of work.
    assert time.monotonic() - start < 30


def test_unpicklable_argument_error_names_the_object(no_leaks):
    lock = threading.Lock()
    with pytest.raises(Exception) as excinfo:
        Parallel(n_jobs=2, backend="loky")(delayed(square)(lock) for _ in range(2))
    text = "".join(traceback.format_exception(excinfo.value))
    assert "lock" in text
    assert Parallel(n_jobs=2)(delayed(square)(i) for i in range(2)) == [0, 1]


def test_unpicklable_function_mp_error(no_leaks):
    with pytest.raises(Exception) as excinfo:
        Parallel(n_jobs=2, backend="multiprocessing")(
            delayed(lambda x: x)(i) for i in range(2))
    assert "lambda" in str(excinfo.value)


def test_lambdas_and_local_functions_work_with_loky(no_leaks):
    offset = 10

    def local(x):
        return x + offset

    assert Parallel(n_jobs=2)(delayed(local)(i) for i in range(3)) == [10, 11, 12]
    assert Parallel(n_jobs=2)(delayed(lambda x: -x)(i) for i in range(3)) == [0, -1, -2]


def test_wrap_non_picklable_objects(no_leaks):
    from joblib import wrap_non_picklable_objects

    @wrap_non_picklable_objects
    def local(x):
        return x * 3

    assert Parallel(n_jobs=2, backend="multiprocessing")(
        delayed(local)(i) for i in range(3)) == [0, 3, 6]


@pytest.mark.parametrize("fail", [False, True])
def test_memmapped_temp_folders_removed(fail, no_leaks):
    np = pytest.importorskip("numpy")
    a = np.ones(300_000)
    parallel = Parallel(n_jobs=2, max_nbytes=1000)
    tasks = [delayed(with_array)(a, fail) for _ in range(4)]
    if fail:
        with pytest.raises(ValueError, match="array task failed"):
            parallel(tasks)
    else:
        assert parallel(tasks) == [300_000.0] * 4


_CTRL_C_CHILD = textwrap.dedent("""
    import os, signal, sys, time
    # A child started from a background job (nohup, some CI runners) inherits
    # an ignored SIGINT: restore Python's handler so Ctrl-C is delivered.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.insert(0, {root!r})
    from joblib import Parallel, delayed

    def block(i, fifo):
        with open(fifo, "w") as f:
            f.write("%d\\n" % os.getpid())
        time.sleep(120)

    Parallel(n_jobs=2, backend={backend!r})(
        delayed(block)(i, {fifo!r}) for i in range(4))
""")


@pytest.mark.parametrize("backend", ["loky", "multiprocessing"])
def test_keyboard_interrupt_kills_workers_quickly(backend, tmp_path):
    import psutil

    fifo = str(tmp_path / "started")
    os.mkfifo(fifo)
    code = _CTRL_C_CHILD.format(root=ROOT, backend=backend, fifo=fifo)
    child = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE)
    try:
        # Opening the FIFO for reading blocks until a worker opens it.
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        ready, _, _ = select.select([fd], [], [], 60)
        assert ready, "no worker started"
        worker_pid = int(os.read(fd, 100).split()[0])
        os.close(fd)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
    finally:
        child.kill()
        child.wait()
    assert b"KeyboardInterrupt" in err
    assert _wait_until(lambda: not psutil.pid_exists(worker_pid)
                       or psutil.Process(worker_pid).status() == psutil.STATUS_ZOMBIE)

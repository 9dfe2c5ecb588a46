"""Fault-tolerant Parallel: retries, per-task timeouts, on_error policies,
cancellation and errors naming their task, on every process backend and
threading; after each, no worker process, thread or temp folder is left."""

from __future__ import annotations

import concurrent.futures
import ctypes
import os
import signal
import threading
import time

import pytest

import joblib
from joblib import Parallel, ParallelCancelledError, TaskTimeoutError, delayed
from joblib.externals.loky.process_executor import TerminatedWorkerError

from _parallel_helpers import wait_until as _wait_until

PROCESS_BACKENDS = ["loky", "multiprocessing"]
RETURN_AS = ["list", "generator", "generator_unordered"]





# -- tasks (module level: worker processes import them) ------------------
def square(x):
    return x * x


def fail_on(x, bad):
    if x == bad:
        raise ValueError(f"bad value {x}")
    return x


def count_attempt(folder, x):
    """Record an attempt of task ``x``; return how many it has had."""
    path = os.path.join(folder, f"{x}.attempts")
    with open(path, "a") as f:
        f.write(f"{time.monotonic()}\n")
    with open(path) as f:
        return len(f.read().split())


def flaky(folder, x, failures, exc_type=ValueError):
    """Fail the first ``failures`` attempts of task ``x``."""
    n = count_attempt(folder, x)
    if n <= failures:
        raise exc_type(f"attempt {n} of task {x} failed")
    return x


def crash_once(folder, x, bad, how):
    """Kill its worker the first time task ``bad`` runs."""
    count_attempt(folder, x)
    marker = os.path.join(folder, "crashed")
    if x == bad and not os.path.exists(marker):
        open(marker, "w").close()
        if how == "segfault":
            ctypes.string_at(0)
        elif how == "exit":
            os._exit(7)
        else:
            os.kill(os.getpid(), signal.SIGKILL)
    return x


def hang_on(folder, x, bad, once=False):
    """Task ``bad`` blocks (for good, or only on its first attempt)."""
    n = count_attempt(folder, x)
    if x == bad and (not once or n == 1):
        open(os.path.join(folder, "hanging"), "w").close()
        time.sleep(120)
    return x


def wait_for_file(path, seconds=30.0):
    """Block until ``path`` exists (a task gated by the test)."""
    deadline = time.monotonic() + seconds
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    return path


def started_then_block(folder, x, array=None):
    open(os.path.join(folder, f"started-{x}-{os.getpid()}"), "w").close()
    time.sleep(120)
    return x


def attempts(folder, x):
    path = os.path.join(folder, f"{x}.attempts")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return len(f.read().split())


def note_of(exc):
    return "\n".join(getattr(exc, "__notes__", []))


# -- bad input -----------------------------------------------------------
@pytest.mark.parametrize("kwargs, exc_type, words", [
    (dict(retries=-1), ValueError, "retries must be an int >= 0"),
    (dict(retries=1.5), TypeError, "got 1.5 (type float)"),
    (dict(retries=True), TypeError, "retries must be an int"),
    (dict(task_timeout=0), ValueError, "task_timeout must be a number of seconds > 0, got 0"),
    (dict(task_timeout=-2), ValueError, "got -2"),
    (dict(task_timeout="1"), TypeError, "got '1' (type str)"),
    (dict(retry_delay=-1), ValueError, "retry_delay must be a number of seconds >= 0"),
    (dict(on_error="ignore"), ValueError, "but got 'ignore' instead"),
    (dict(retry_on=(ValueError, 3)), TypeError, "got 3 (type int) in it"),
    (dict(retry_on="ValueError"), TypeError, "got 'ValueError'"),
    (dict(retry_on=int), TypeError, "exception class"),
])
def test_bad_arguments_fail_at_construction(kwargs, exc_type, words):
    with pytest.raises(exc_type, match=words.replace("(", r"\(").replace(")", r"\)")):
        Parallel(n_jobs=2, **kwargs)


def test_defaults_keep_the_plain_path():
    parallel = Parallel(n_jobs=2, on_error="raise", retries=0, retry_on=())
    assert parallel._fault is None
    assert Parallel(n_jobs=2, retry_on=ValueError)._fault.retry_on == (ValueError,)


def test_exception_classes():
    assert issubclass(TaskTimeoutError, TimeoutError)
    assert issubclass(ParallelCancelledError, concurrent.futures.CancelledError)
    assert joblib.parallel.TaskTimeoutError is TaskTimeoutError
    assert "TaskTimeoutError" in joblib.__all__
    assert str(ParallelCancelledError()).startswith("The Parallel call was cancelled")


def test_backend_without_retrieve_callback_is_refused(no_leaks):
    from _parallel_helpers import CustomThreadBackend

    class OldStyleBackend(CustomThreadBackend):
        supports_retrieve_callback = False

    with pytest.raises(ValueError, match="got backend OldStyleBackend"):
        Parallel(n_jobs=2, backend=OldStyleBackend(), retries=1)(
            delayed(square)(i) for i in range(3))


def test_custom_backend_with_retrieve_callback(tmp_path, no_leaks):
    from _parallel_helpers import CustomThreadBackend

    out = Parallel(n_jobs=2, backend=CustomThreadBackend(), retries=1,
                   retry_on=ValueError, on_error="return")(
        delayed(flaky)(str(tmp_path), i, 1 if i == 1 else 5 if i == 2 else 0)
        for i in range(4))
    assert out[:2] + out[3:] == [0, 1, 3] and isinstance(out[2], ValueError)
    assert attempts(str(tmp_path), 1) == 2 and attempts(str(tmp_path), 2) == 2


# -- on_error ------------------------------------------------------------
def _collect(out):
    return out if isinstance(out, list) else list(out)


@pytest.mark.parametrize("return_as", RETURN_AS)
@pytest.mark.parametrize("backend", ["threading", "sequential"])
def test_on_error_policies_threads(backend, return_as, tmp_path, no_leaks):
    _check_policies(backend, return_as, tmp_path)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_on_error_policies_processes(backend, tmp_path, no_leaks):
    # Each call starts its workers: every policy in one order, "return" in all.
    _check_policies(backend, "generator", tmp_path / "generator")
    for return_as in ("list", "generator_unordered"):
        _check_policies(backend, return_as, tmp_path / return_as, only_return=True)


def _check_policies(backend, return_as, folder, only_return=False):
    folder.mkdir(exist_ok=True)
    ordered = return_as != "generator_unordered"
    kwargs = dict(n_jobs=2, backend=backend, return_as=return_as,
                  retries=2, retry_on=ValueError)

    # "return": the exception at the task's place, every other task done.
    out = _collect(Parallel(on_error="return", **kwargs)(
        delayed(flaky)(str(folder), i, 99 if i == 3 else 0) for i in range(8)))
    errors = [x for x in out if isinstance(x, ValueError)]
    assert len(out) == 8 and len(errors) == 1
    if ordered:
        assert out[3] is errors[0] and out[:3] == [0, 1, 2] and out[4:] == [4, 5, 6, 7]
    else:
        assert sorted(x for x in out if not isinstance(x, Exception)) == [0, 1, 2, 4, 5, 6, 7]
    assert attempts(str(folder), 3) == 3  # the policy applies after the last attempt
    assert "task 3: flaky(" in note_of(errors[0]) and "after 3 attempts" in note_of(errors[0])
    assert "attempt 3 of task 3 failed" in str(errors[0])
    assert "Traceback" in str(errors[0].__cause__) or errors[0].__traceback__ is not None
    if only_return:
        return

    # "skip": left out.
    out = _collect(Parallel(on_error="skip", **kwargs)(
        delayed(fail_on)(i, 5) for i in range(8)))
    assert (out if ordered else sorted(out)) == [0, 1, 2, 3, 4, 6, 7]

    # "raise": 1.6's behaviour, with a note naming the task.
    with pytest.raises(ValueError, match="bad value 5") as info:
        _collect(Parallel(on_error="raise", **kwargs)(
            delayed(fail_on)(i, 5) for i in range(8)))
    assert "task 5: fail_on(5, 5)" in note_of(info.value)


def test_retry_only_retry_on_types_with_doubling_delay(tmp_path, no_leaks):
    folder = str(tmp_path)
    out = Parallel(n_jobs=2, backend="threading", retries=3, retry_on=(KeyError, ValueError),
                   retry_delay=0.05)(delayed(flaky)(folder, i, 2) for i in range(3))
    assert out == [0, 1, 2]
    with open(os.path.join(folder, "1.attempts")) as f:
        times = [float(t) for t in f.read().split()]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.05 and times[2] - times[1] >= 0.1
    # Not in retry_on: no second attempt.
    with pytest.raises(TypeError):
        Parallel(n_jobs=2, backend="threading", retries=3, retry_on=ValueError)(
            delayed(flaky)(folder, i, 1, TypeError) for i in range(10, 12))
    assert attempts(folder, 10) + attempts(folder, 11) <= 2


# -- dead workers --------------------------------------------------------
@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
@pytest.mark.parametrize("how", ["segfault", "exit", "sigkill"])
def test_dead_worker_task_is_retried_on_a_new_worker(backend, how, tmp_path, no_leaks):
    folder = str(tmp_path)
    out = Parallel(n_jobs=2, backend=backend, retries=1)(
        delayed(crash_once)(folder, i, 4, how) for i in range(10))
    assert out == list(range(10))
    assert attempts(folder, 4) == 2
    # Only the task that killed its worker ran twice.
    assert all(attempts(folder, i) == 1 for i in range(10) if i != 4)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_dead_worker_error_names_exit_code_and_task(backend, tmp_path, no_leaks):
    folder = str(tmp_path)
    with pytest.raises(TerminatedWorkerError) as info:
        Parallel(n_jobs=2, backend=backend, on_error="raise", retry_on=OSError)(
            delayed(crash_once)(folder, i, 2, "exit") for i in range(6))
    message = str(info.value)
    assert message.startswith("A worker process managed by the executor was "
                              "unexpectedly terminated.")
    assert "EXIT(7)" in message and "task 2: crash_once(" in message
    os.remove(os.path.join(folder, "crashed"))
    out = Parallel(n_jobs=2, backend=backend, on_error="return", retry_on=OSError)(
        delayed(crash_once)(folder, i, 2, "sigkill") for i in range(6))
    assert isinstance(out[2], TerminatedWorkerError) and "SIGKILL(-9)" in str(out[2])
    assert out[:2] + out[3:] == [0, 1, 3, 4, 5]


# -- per-task timeouts ---------------------------------------------------
@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_stuck_task_is_stopped_fast_tasks_kept(backend, tmp_path, no_leaks):
    folder = str(tmp_path)
    start = time.monotonic()
    out = Parallel(n_jobs=2, backend=backend, task_timeout=1, on_error="return")(
        delayed(hang_on)(folder, i, 3) for i in range(20))
    assert time.monotonic() - start < 60
    assert isinstance(out[3], TaskTimeoutError) and isinstance(out[3], TimeoutError)
    assert "task 3: hang_on(" in str(out[3]) and "task_timeout=1.0 s" in str(out[3])
    assert out[:3] + out[4:] == [i for i in range(20) if i != 3]
    # The other worker's tasks were neither lost nor run twice.
    assert all(attempts(folder, i) == 1 for i in range(20) if i != 3)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_timed_out_task_is_retried(backend, tmp_path, no_leaks):
    folder = str(tmp_path)
    out = Parallel(n_jobs=2, backend=backend, task_timeout=1, retries=1,
                   return_as="generator_unordered")(
        delayed(hang_on)(folder, i, 1, once=True) for i in range(4))
    assert sorted(out) == [0, 1, 2, 3]
    assert attempts(folder, 1) == 2


def test_threading_timeout_abandons_the_thread(tmp_path, no_leaks):
    gate = tmp_path / "release"
    try:
        with pytest.warns(RuntimeWarning, match="abandoned"):
            out = Parallel(n_jobs=2, backend="threading", task_timeout=0.5,
                           on_error="return")(
                [delayed(wait_for_file)(str(gate))] +
                [delayed(square)(i) for i in range(1, 6)])
        assert isinstance(out[0], TaskTimeoutError)
        assert "abandoned" in str(out[0])
        assert out[1:] == [1, 4, 9, 16, 25]
    finally:
        gate.touch()  # the abandoned thread ends; no_leaks checks it did


def test_timeout_with_raise_names_the_task(tmp_path, no_leaks):
    gate = tmp_path / "release"
    try:
        with pytest.raises(TaskTimeoutError, match="task 2: wait_for_file"):
            with pytest.warns(RuntimeWarning):
                Parallel(n_jobs=2, backend="threading", task_timeout=0.3)(
                    delayed(wait_for_file)(str(gate)) if i == 2 else delayed(square)(i)
                    for i in range(4))
    finally:
        gate.touch()


# -- cancellation --------------------------------------------------------
def _cancel_when_started(parallel, folder, n_started=1):
    def watch():
        _wait_until(lambda: len([f for f in os.listdir(folder)
                                 if f.startswith("started")]) >= n_started, 60)
        cancelled_at.append(time.monotonic())
        parallel.cancel()

    cancelled_at: list = []
    thread = threading.Thread(target=watch)
    thread.start()
    return thread, cancelled_at


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", PROCESS_BACKENDS + ["threading"])
@pytest.mark.parametrize("fault_tolerant", [False, True])
def test_cancel_from_another_thread(backend, fault_tolerant, tmp_path, no_leaks):
    folder = str(tmp_path)
    options = dict(retries=1) if fault_tolerant else {}
    # Plain process calls memory-map this array into a temp folder, which
    # must be gone after the cancellation (the no_leaks fixture checks).
    np = pytest.importorskip("numpy")
    array = np.ones(10_000) if backend != "threading" else None
    parallel = Parallel(n_jobs=2, backend=backend, max_nbytes=1000, **options)
    gate = tmp_path / "gate"
    task = started_then_block if backend != "threading" else _thread_task(gate)
    watcher, cancelled_at = _cancel_when_started(parallel, folder, n_started=2)
    try:
        with pytest.raises(ParallelCancelledError):
            parallel(delayed(task)(folder, i, array) for i in range(50))
        assert time.monotonic() - cancelled_at[0] < 1.0
    finally:
        gate.touch()
        watcher.join()
    started = [f for f in os.listdir(folder) if f.startswith("started")]
    assert len(started) <= 4  # no further task started
    assert not parallel._running
    # The object can run again.
    assert parallel(delayed(square)(i) for i in range(3)) == [0, 1, 4]


def _thread_task(gate):
    def task(folder, x, array=None):
        open(os.path.join(folder, f"started-{x}"), "w").close()
        wait_for_file(str(gate))
        return x
    return task


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_cancel_during_a_generator(backend, tmp_path, no_leaks):
    folder = str(tmp_path)
    parallel = Parallel(n_jobs=2, backend=backend, on_error="return",
                        return_as="generator")
    out = parallel(delayed(started_then_block)(folder, i) if i >= 2
                   else delayed(square)(i) for i in range(20))
    assert next(out) == 0
    watcher, cancelled_at = _cancel_when_started(parallel, folder)
    with pytest.raises(ParallelCancelledError):
        list(out)
    watcher.join()
    assert time.monotonic() - cancelled_at[0] < 1.0


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fault_tolerant", [False, True])
def test_cancel_from_a_signal_handler(fault_tolerant, tmp_path, no_leaks):
    folder = str(tmp_path)
    options = dict(on_error="return") if fault_tolerant else {}
    parallel = Parallel(n_jobs=2, **options)
    previous = signal.signal(signal.SIGALRM, lambda *_: parallel.cancel())
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.5)
        start = time.monotonic()
        with pytest.raises(ParallelCancelledError):
            parallel(delayed(started_then_block)(folder, i) for i in range(10))
        assert time.monotonic() - start < 10
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_cancel_sequential_from_another_thread(tmp_path):
    folder = str(tmp_path)
    gate = tmp_path / "gate"
    parallel = Parallel(n_jobs=1)
    watcher, cancelled_at = _cancel_when_started(parallel, folder)
    try:
        with pytest.raises(ParallelCancelledError):
            parallel(delayed(_thread_task(gate))(folder, i) if i == 0
                     else delayed(square)(i) for i in range(5))
    finally:
        gate.touch()
        watcher.join()
    assert parallel(delayed(square)(i) for i in range(3)) == [0, 1, 4]


def test_cancel_without_a_running_call_does_nothing():
    parallel = Parallel(n_jobs=2, retries=1)
    parallel.cancel()
    assert parallel(delayed(square)(i) for i in range(3)) == [0, 1, 4]


# -- concurrent use ------------------------------------------------------
@pytest.mark.timeout(300)
def test_parallel_from_many_threads_at_once(no_leaks):
    backends = ["loky", "threading", "loky", "sequential", "loky", "threading",
                "multiprocessing", "loky"]
    errors: list = []

    def client(k):
        try:
            for j in range(20):
                backend = backends[(k + j) % len(backends)]
                # A few fault-tolerant calls in the mix (each starts its own
                # workers, which is slow on a loaded machine).
                options = dict(on_error="return") if k < 2 and j == 9 else {}
                out = Parallel(n_jobs=2, backend=backend, **options)(
                    delayed(square)(i + j) for i in range(10))
                assert out == [(i + j) ** 2 for i in range(10)], (backend, out)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


# -- worker set-up ---------------------------------------------------------
def _set_up(name):
    joblib.worker_state().name = name


def _read_state(x):
    return joblib.worker_state().name, x


def _fail_set_up():
    raise RuntimeError("set-up failed")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_initializer_runs_in_fault_tolerant_workers(backend, no_leaks):
    out = Parallel(n_jobs=2, backend=backend, retries=1, initializer=_set_up,
                   initargs=("db",))(delayed(_read_state)(i) for i in range(4))
    assert out == [("db", i) for i in range(4)]
    out = Parallel(n_jobs=2, backend=backend, on_error="return",
                   initializer=_fail_set_up)(delayed(square)(i) for i in range(3))
    assert all(isinstance(x, RuntimeError) and "set-up failed" in str(x) for x in out)


# -- dask ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                           processes=False, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.timeout(120)
def test_dask_retries_policies_and_timeouts(dask_client, tmp_path):
    folder = str(tmp_path)
    gate = tmp_path / "gate"
    with joblib.parallel_config(backend="dask"):
        out = Parallel(retries=1, retry_on=ValueError)(
            delayed(flaky)(folder, i, 1) for i in range(4))
        assert out == [0, 1, 2, 3]
        out = list(Parallel(on_error="skip", return_as="generator_unordered")(
            delayed(fail_on)(i, 2) for i in range(4)))
        assert sorted(out) == [0, 1, 3]
        try:
            out = Parallel(task_timeout=0.5, on_error="return")(
                delayed(wait_for_file)(str(gate)) if i == 1 else delayed(square)(i)
                for i in range(4))
        finally:
            gate.touch()
    assert isinstance(out[1], TaskTimeoutError) and "task 1: wait_for_file" in str(out[1])
    assert out[:1] + out[2:] == [0, 4, 9]


# -- Ctrl-C ----------------------------------------------------------------------
_CTRL_C_CHILD = """
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {root!r})
from joblib import Parallel, delayed

def block(i, folder):
    open(os.path.join(folder, "started-%d" % os.getpid()), "w").close()
    time.sleep(120)

Parallel(n_jobs=2, backend={backend!r}, retries=1, task_timeout=60)(
    delayed(block)(i, {folder!r}) for i in range(4))
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_ctrl_c_stops_a_fault_tolerant_call(backend, tmp_path):
    import subprocess
    import sys

    import psutil

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = _CTRL_C_CHILD.format(root=root, backend=backend, folder=str(tmp_path))
    child = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE)
    try:
        assert _wait_until(lambda: len(os.listdir(tmp_path)) == 2, 60), "no worker started"
        workers = [int(name.split("-")[1]) for name in os.listdir(tmp_path)]
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
    finally:
        child.kill()
        child.wait()
    assert b"KeyboardInterrupt" in err
    for pid in workers:
        assert _wait_until(lambda: not psutil.pid_exists(pid)
                           or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)


def test_whole_call_timeout_keeps_its_meaning(tmp_path, no_leaks):
    import multiprocessing

    gate = tmp_path / "gate"
    try:
        with pytest.raises(multiprocessing.TimeoutError) as info:
            Parallel(n_jobs=2, backend="threading", timeout=0.3, on_error="return")(
                delayed(wait_for_file)(str(gate)) for _ in range(3))
        assert isinstance(info.value, TimeoutError)
    finally:
        gate.touch()

"""Contract tests: one body per behaviour, run against every backend
(loky, multiprocessing, threading, sequential and a custom one)."""

from __future__ import annotations

import math
import threading
import time
import warnings

import pytest

import joblib.parallel
from joblib import Parallel, delayed, register_parallel_backend
from joblib.parallel import get_active_backend

from _parallel_helpers import CustomThreadBackend, extra_children, joblib_threads

register_parallel_backend("custom_threads", CustomThreadBackend)

BACKENDS = ["loky", "multiprocessing", "threading", "sequential", "custom_threads"]
GENERATOR_BACKENDS = ["loky", "threading", "sequential", "custom_threads"]


def _wait_until(predicate, seconds=10.0):
    # Termination of pools is asynchronous at the OS level (reaping):
    # wait for the condition with a bounded number of checks.
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


@pytest.fixture
def no_leaks():
    import psutil

    before_children = {c.pid for c in psutil.Process().children()}
    before_threads = joblib_threads()
    yield
    assert _wait_until(lambda: not (joblib_threads() - before_threads)), (
        joblib_threads() - before_threads)
    assert _wait_until(lambda: not extra_children(before_children)), (
        extra_children(before_children))


@pytest.fixture(params=BACKENDS)
def backend(request, no_leaks):
    return request.param


@pytest.fixture(params=GENERATOR_BACKENDS)
def gen_backend(request, no_leaks):
    return request.param


def square(x):
    return x * x


def fail_on(x, bad):
    if x == bad:
        raise ValueError(f"bad value {x}")
    return x


def kw_func(a, b=0, *, c=0):
    return a + b + c


def nested_sum(n):
    return sum(Parallel(n_jobs=2)(delayed(square)(i) for i in range(n)))


def active_backend_name(_):
    backend, n_jobs = get_active_backend()
    return type(backend).__name__, backend.nesting_level, n_jobs


# ---------------------------------------------------------------- results
@pytest.mark.parametrize("n_jobs", [1, 2, -1])
def test_results_in_input_order(backend, n_jobs):
    out = Parallel(n_jobs=n_jobs, backend=backend)(delayed(square)(i) for i in range(50))
    assert out == [i * i for i in range(50)]


def test_args_and_kwargs(backend):
    out = Parallel(n_jobs=2, backend=backend)(
        delayed(kw_func)(i, b=1, c=i) for i in range(6))
    assert out == [2 * i + 1 for i in range(6)]


def test_empty_input(backend):
    assert Parallel(n_jobs=2, backend=backend)([]) == []


@pytest.mark.parametrize("batch_size", [1, 3, "auto"])
def test_batch_sizes(backend, batch_size):
    out = Parallel(n_jobs=2, backend=backend, batch_size=batch_size)(
        delayed(square)(i) for i in range(23))
    assert out == [i * i for i in range(23)]


@pytest.mark.parametrize("pre_dispatch", ["all", 3, "n_jobs", "2*n_jobs + 1"])
def test_pre_dispatch_values(backend, pre_dispatch):
    out = Parallel(n_jobs=2, backend=backend, pre_dispatch=pre_dispatch)(
        delayed(square)(i) for i in range(17))
    assert out == [i * i for i in range(17)]


def test_ordered_generator(gen_backend):
    gen = Parallel(n_jobs=2, backend=gen_backend, return_as="generator")(
        delayed(square)(i) for i in range(30))
    assert not isinstance(gen, list)
    assert list(gen) == [i * i for i in range(30)]


def test_unordered_generator(gen_backend):
    gen = Parallel(n_jobs=2, backend=gen_backend, return_as="generator_unordered")(
        delayed(square)(i) for i in range(30))
    assert sorted(gen) == [i * i for i in range(30)]


def test_multiprocessing_rejects_generators(no_leaks):
    with pytest.raises(ValueError, match="does not support return_as"):
        Parallel(n_jobs=2, backend="multiprocessing", return_as="generator")


def test_infinite_input_with_generator(gen_backend):
    import itertools

    tasks = (delayed(square)(i) for i in itertools.count())
    gen = Parallel(n_jobs=2, backend=gen_backend, return_as="generator")(tasks)
    first = [next(gen) for _ in range(20)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gen.close()
    assert first == [i * i for i in range(20)]


def test_input_consumed_lazily(backend):
    consumed = []

    def tasks():
        for i in range(40):
            consumed.append(i)
            yield delayed(square)(i)

    out = Parallel(n_jobs=2, backend=backend, pre_dispatch="n_jobs",
                   batch_size=1)(tasks())
    assert out == [i * i for i in range(40)]
    assert consumed == list(range(40))


# ---------------------------------------------------------------- errors
def test_task_error_reraised_and_next_call_works(backend):
    with pytest.raises(ValueError, match="bad value 7"):
        Parallel(n_jobs=2, backend=backend)(delayed(fail_on)(i, 7) for i in range(20))
    out = Parallel(n_jobs=2, backend=backend)(delayed(square)(i) for i in range(5))
    assert out == [0, 1, 4, 9, 16]


def test_error_in_generator_mode(gen_backend):
    gen = Parallel(n_jobs=2, backend=gen_backend, return_as="generator")(
        delayed(fail_on)(i, 3) for i in range(10))
    with pytest.raises(ValueError, match="bad value 3"):
        list(gen)


def test_input_generator_error_surfaces(backend):
    def tasks():
        yield delayed(square)(1)
        yield delayed(square)(2)
        raise KeyError("input broke")

    with pytest.raises(KeyError, match="input broke"):
        Parallel(n_jobs=2, backend=backend)(tasks())


def test_worker_traceback_is_shown(no_leaks):
    with pytest.raises(ValueError) as excinfo:
        Parallel(n_jobs=2, backend="loky")(delayed(fail_on)(i, 1) for i in range(4))
    text = "".join(__import__("traceback").format_exception(excinfo.value))
    assert "fail_on" in text


def test_mp_worker_traceback_is_shown(no_leaks):
    with pytest.raises(ValueError) as excinfo:
        Parallel(n_jobs=2, backend="multiprocessing")(
            delayed(fail_on)(i, 1) for i in range(4))
    text = "".join(__import__("traceback").format_exception(excinfo.value))
    assert "fail_on" in text


# ---------------------------------------------------------------- reuse
def test_context_manager_reuses_backend(backend):
    with Parallel(n_jobs=2, backend=backend) as parallel:
        first = parallel(delayed(square)(i) for i in range(5))
        used = parallel._backend
        second = parallel(delayed(square)(i) for i in range(5, 10))
        assert parallel._backend is used
    assert first + second == [i * i for i in range(10)]


def test_reentrant_call_raises(gen_backend):
    parallel = Parallel(n_jobs=2, backend=gen_backend, return_as="generator")
    gen = parallel(delayed(square)(i) for i in range(10))
    with pytest.raises(RuntimeError, match="already running"):
        parallel(delayed(square)(i) for i in range(3))
    assert list(gen) == [i * i for i in range(10)]
    assert list(parallel(delayed(square)(i) for i in range(3))) == [0, 1, 4]


def test_closing_generator_early_warns_and_cancels(no_leaks):
    gen = Parallel(n_jobs=2, backend="threading", return_as="generator")(
        delayed(time.sleep)(0.01) for _ in range(200))
    next(gen)
    with pytest.warns(UserWarning, match="cancelled"):
        gen.close()


def test_dropping_generator_releases_the_call(gen_backend):
    parallel = Parallel(n_jobs=2, backend=gen_backend, return_as="generator")
    gen = parallel(delayed(square)(i) for i in range(100))
    next(gen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        del gen
    out = parallel(delayed(square)(i) for i in range(3))
    assert list(out) == [0, 1, 4]


# ---------------------------------------------------------------- nesting
def test_nested_calls_do_not_oversubscribe(backend):
    out = Parallel(n_jobs=2, backend=backend)(
        delayed(active_backend_name)(i) for i in range(2))
    name, level, _ = out[0]
    if backend in ("sequential",):
        assert level == 0
    elif backend == "custom_threads":
        assert name == "ThreadingBackend" and level == 1
    else:
        assert name == "ThreadingBackend" and level == 1


def test_nested_parallel_runs(backend):
    out = Parallel(n_jobs=2, backend=backend)(delayed(nested_sum)(n) for n in range(5))
    assert out == [sum(i * i for i in range(n)) for n in range(5)]


def nested_level2(_):
    return Parallel(n_jobs=2)(delayed(active_backend_name)(i) for i in range(1))[0]


def test_second_nesting_level_is_sequential(no_leaks):
    out = Parallel(n_jobs=2, backend="threading")(
        delayed(nested_level2)(i) for i in range(2))
    # Level 1 runs with threads; the level-2 tasks see the sequential backend.
    assert out[0][0] == "SequentialBackend"
    assert out[0][1] == 2


# ---------------------------------------------------------------- patching
def test_batch_completion_callback_patch(backend, monkeypatch):
    seen = []

    class Recorder(joblib.parallel.BatchCompletionCallBack):
        def __call__(self, *args, **kwargs):
            seen.append(self.batch_size)
            return super().__call__(*args, **kwargs)

    monkeypatch.setattr(joblib.parallel, "BatchCompletionCallBack", Recorder)
    out = Parallel(n_jobs=2, backend=backend)(delayed(square)(i) for i in range(25))
    assert out == [i * i for i in range(25)]
    if backend != "sequential":
        assert sum(seen) == 25


def test_progress_callable_gets_one_event_per_task(backend):
    events = []
    lock = threading.Lock()

    def record(event):
        with lock:
            events.append(event)

    out = Parallel(n_jobs=2, backend=backend, progress=record)(
        [delayed(square)(i) for i in range(30)])
    assert out == [i * i for i in range(30)]
    assert sorted(e.index for e in events) == list(range(30))
    assert sorted(e.n_completed for e in events) == list(range(1, 31))
    assert all(e.n_total == 30 for e in events)


def test_progress_with_generator_input_has_unknown_total(gen_backend):
    # None until the input runs out, then the total, up to the last event.
    # (With 10 tasks the input could run out before the first event when
    # the first batches finished while the caller was still submitting.)
    events = []
    gen = Parallel(n_jobs=2, backend=gen_backend, progress=events.append,
                   return_as="generator")(delayed(square)(i) for i in range(200))
    assert list(gen) == [i * i for i in range(200)]
    totals = [event.n_total for event in events]
    assert len(events) == 200 and totals[0] is None
    known = totals.index(200) if 200 in totals else len(totals)
    assert set(totals[:known]) == {None} and set(totals[known:]) <= {200}
    if gen_backend != "sequential":
        # Workers run ahead of the input: the completion that finds it
        # exhausted reports the total.  (Run in the caller, the last task
        # finishes before the input is found exhausted.)
        assert totals[-1] == 200


def test_progress_true_text_fallback(capfd, monkeypatch, no_leaks):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    Parallel(n_jobs=2, backend="threading", progress=True)(
        [delayed(square)(i) for i in range(10)])
    assert "10/10 tasks" in capfd.readouterr().err
    Parallel(n_jobs=1, progress=True)(delayed(square)(i) for i in range(7))
    assert "7/? tasks" in capfd.readouterr().err


def test_cpu_count_and_effective_n_jobs():
    from joblib import cpu_count, effective_n_jobs

    n_cpus = cpu_count()
    assert n_cpus >= 1
    assert effective_n_jobs(1) == 1
    assert effective_n_jobs(-1) == n_cpus
    assert effective_n_jobs(-2) == max(n_cpus - 1, 1)
    with pytest.raises(ValueError, match="n_jobs == 0"):
        effective_n_jobs(0)


# ---------------------------------------------------------------- misc API
class _ConfigPropagatingParallel(Parallel):
    """Like scikit-learn's subclass: rewrites the task triples."""

    def __call__(self, iterable):
        tagged = ((_Tagged(func), args, kwargs) for func, args, kwargs in iterable)
        return super().__call__(tagged)


class _Tagged:
    def __init__(self, func):
        self.func = func

    def __call__(self, *args, **kwargs):
        return ("tagged", self.func(*args, **kwargs))


def test_subclass_overriding_call(backend):
    out = _ConfigPropagatingParallel(n_jobs=2, backend=backend)(
        delayed(square)(i) for i in range(4))
    assert out == [("tagged", i * i) for i in range(4)]


def test_generator_dropped_in_another_thread(no_leaks):
    parallel = Parallel(n_jobs=2, backend="threading", return_as="generator")
    holder = [parallel(delayed(square)(i) for i in range(50))]
    next(holder[0])

    def drop():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            holder.clear()

    thread = threading.Thread(target=drop)
    thread.start()
    thread.join()
    assert _wait_until(lambda: not parallel._running)
    assert list(parallel(delayed(square)(i) for i in range(3))) == [0, 1, 4]


def test_context_manager_exit_aborts_unfinished_generator(no_leaks):
    with Parallel(n_jobs=2, backend="threading", return_as="generator") as parallel:
        gen = parallel(delayed(square)(i) for i in range(100))
        assert next(gen) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gen.close()


def test_invalid_pre_dispatch_leaves_instance_usable(no_leaks):
    parallel = Parallel(n_jobs=2, backend="threading", pre_dispatch="n_jobs; 1")
    with pytest.raises(ValueError):
        parallel(delayed(square)(i) for i in range(3))
    parallel.pre_dispatch = "2*n_jobs"
    assert parallel(delayed(square)(i) for i in range(3)) == [0, 1, 4]


def test_oversubscription_allowed(no_leaks):
    from joblib import cpu_count

    n_jobs = cpu_count() + 2
    out = Parallel(n_jobs=n_jobs, backend="threading")(
        delayed(threading.get_ident)() for _ in range(50))
    assert len(out) == 50


def test_delayed_keeps_function_metadata():
    import pickle

    d = delayed(kw_func)
    assert d(1, b=2) == (kw_func, (1,), {"b": 2})
    assert d.__name__ == "kw_func" and d.__wrapped__ is kw_func
    assert d.__module__ == kw_func.__module__ and d.__doc__ == kw_func.__doc__
    assert pickle.loads(pickle.dumps(d))(3) == (kw_func, (3,), {})
    assert delayed(math.sqrt)(4) == (math.sqrt, (4,), {})


def test_counters_after_call(backend):
    parallel = Parallel(n_jobs=2, backend=backend)
    parallel(delayed(square)(i) for i in range(20))
    assert parallel.n_completed_tasks == 20
    assert parallel.n_dispatched_tasks == 20


def test_managed_backend_survives_task_error(backend):
    with Parallel(n_jobs=2, backend=backend) as parallel:
        with pytest.raises(ValueError, match="bad value 2"):
            parallel(delayed(fail_on)(i, 2) for i in range(10))
        assert parallel(delayed(square)(i) for i in range(6)) == [
            i * i for i in range(6)]


def test_progress_true_uses_tqdm_when_installed(monkeypatch, no_leaks):
    import sys
    import types

    bars = []

    class FakeTqdm:
        def __init__(self, total=None, **kwargs):
            self.total, self.n, self.closed = total, 0, False
            bars.append(self)

        def update(self, n=1):
            self.n += n

        def close(self):
            self.closed = True

    fake = types.ModuleType("tqdm.auto")
    fake.tqdm = FakeTqdm
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    out = Parallel(n_jobs=2, backend="threading", progress=True)(
        [delayed(square)(i) for i in range(12)])
    assert out == [i * i for i in range(12)]
    assert len(bars) == 1 and bars[0].total == 12
    assert bars[0].n == 12 and bars[0].closed


def test_progress_event_is_immutable_value():
    import pickle

    from joblib.parallel import ProgressEvent

    event = ProgressEvent(index=1, duration=0.5, batch_size=2, n_completed=3,
                          n_total=None, elapsed=1.0)
    assert pickle.loads(pickle.dumps(event)) == event
    assert hash(pickle.loads(pickle.dumps(event))) == hash(event)
    assert repr(event) == ("ProgressEvent(index=1, duration=0.5, batch_size=2, "
                           "n_completed=3, n_total=None, elapsed=1.0)")
    with pytest.raises(AttributeError, match="immutable"):
        event.index = 2
    with pytest.raises(AttributeError, match="immutable"):
        del event.index

"""The dask backend on a real ``distributed.LocalCluster`` with two worker
processes (one thread each) and an in-process ``Client``, started once for
the module and shut down at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import traceback
import uuid
import warnings

import pytest

# dask[distributed] is in the ``test`` extra: a missing install must fail
# the run, not skip these tests.
import distributed
import numpy as np
import psutil

import joblib.parallel
from joblib import Memory, Parallel, delayed, parallel_config
from joblib._dask import DaskDistributedBackend
from joblib.parallel import get_active_backend

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------------------------ the cluster
@pytest.fixture(scope="module")
def cluster():
    with warnings.catch_warnings():
        # Port-in-use and memory-limit notices are irrelevant here.
        warnings.simplefilter("ignore")
        local = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True,
            dashboard_address=None, memory_limit="2GiB")
    client = distributed.Client(local)
    pids = set(client.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids
    yield client, local
    client.close()
    local.close()
    assert _wait_until(lambda: not any(_alive(pid) for pid in pids)), (
        "dask worker processes left running")


def _alive(pid):
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_until(predicate, seconds=10.0):
    # Process exit and the scheduler's bookkeeping are asynchronous: check
    # the condition a bounded number of times.
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


@pytest.fixture
def client(cluster):
    return cluster[0]


@pytest.fixture
def worker_pids(client):
    return set(client.run(os.getpid).values())


@pytest.fixture
def event(client):
    """A cluster-wide event; set at teardown so blocked tasks end."""
    ev = distributed.Event(f"joblib-test-{uuid.uuid4().hex}", client=client)
    yield ev
    ev.set()


def scheduler_keys(client, prefix):
    """``{key: state}`` of the scheduler's tasks whose key starts with prefix."""
    def keys(dask_scheduler):
        return {str(k): (ts.state, len(ts.who_wants))
                for k, ts in dask_scheduler.tasks.items()}

    return {k: v for k, v in client.run_on_scheduler(keys).items()
            if k.startswith(prefix)}


# ------------------------------------------------------------ task bodies
def square(x):
    return x * x


def square_and_pid(x):
    return x * x, os.getpid()


def fail_on(x, bad):
    if x == bad:
        raise ValueError(f"bad value {x}")
    return x


def wait_for_event(name, i=0):
    distributed.Event(name).wait(timeout=60)
    return i


def wait_outside_the_pool(name, i=0):
    # A seceded task frees its worker thread: on this 2 x 1-thread cluster,
    # the scheduler may start two waiters before the failing task, which
    # then could not run until they timed out.
    distributed.secede()
    return wait_for_event(name, i)


def quick_then_block(i, name):
    if i == 0:
        return 0
    return wait_for_event(name, i)


def current_key_and_deps(array, i):
    worker = distributed.get_worker()
    key = worker.get_current_task()
    deps = sorted(str(dep.key) for dep in worker.state.tasks[key].dependencies)
    return str(key), deps, float(array.sum())


def nested_pids(n):
    backend, _ = get_active_backend()
    inner = Parallel()(delayed(square_and_pid)(i) for i in range(n))
    return type(backend).__name__, [r for r, _ in inner], {p for _, p in inner}


def kw_func(a, b=0, *, c=0):
    return a + b + c


# ------------------------------------------------------------ registration
def test_backend_name_registers_lazily(client, worker_pids, monkeypatch):
    monkeypatch.delitem(joblib.parallel.BACKENDS, "dask", raising=False)
    with parallel_config(backend="dask"):
        backend, _ = get_active_backend()
        out = Parallel()(delayed(square_and_pid)(i) for i in range(20))
    assert isinstance(backend, DaskDistributedBackend)
    assert backend.client is client
    assert [r for r, _ in out] == [i * i for i in range(20)]
    pids = {p for _, p in out}
    assert pids <= worker_pids and os.getpid() not in pids


def test_effective_n_jobs_is_the_cluster_size(client):
    backend = DaskDistributedBackend(client=client)
    assert backend.effective_n_jobs(1) == 2
    assert backend.configure(n_jobs=5) == 2
    assert DaskDistributedBackend.MIN_IDEAL_BATCH_DURATION == 0.2
    assert DaskDistributedBackend.MAX_IDEAL_BATCH_DURATION == 1.0


def test_scatter_must_be_a_list(client):
    with pytest.raises(TypeError, match="scatter must be a list/tuple.*dict"):
        DaskDistributedBackend(client=client, scatter={"a": 1})


# ------------------------------------------------------------ contract
@pytest.mark.parametrize("batch_size", [1, 3, "auto"])
def test_results_in_input_order(client, batch_size):
    with parallel_config(backend="dask"):
        out = Parallel(batch_size=batch_size)(delayed(square)(i) for i in range(30))
    assert out == [i * i for i in range(30)]


@pytest.mark.parametrize("pre_dispatch", ["all", 3, "2*n_jobs + 1"])
def test_args_kwargs_and_pre_dispatch(client, pre_dispatch):
    with parallel_config(backend="dask"):
        out = Parallel(pre_dispatch=pre_dispatch)(
            delayed(kw_func)(i, b=1, c=2) for i in range(10))
        assert Parallel()([]) == []
    assert out == [i + 3 for i in range(10)]


def test_input_consumed_lazily(client):
    consumed = []

    def tasks():
        for i in range(12):
            consumed.append(i)
            yield delayed(square)(i)

    with parallel_config(backend="dask"):
        gen = Parallel(pre_dispatch="n_jobs", batch_size=1,
                       return_as="generator")(tasks())
        assert next(gen) == 0
        assert len(consumed) < 12
        assert list(gen) == [i * i for i in range(1, 12)]


def test_generators_ordered_and_unordered(client):
    with parallel_config(backend="dask"):
        ordered = Parallel(return_as="generator")(
            delayed(square)(i) for i in range(25))
        unordered = Parallel(return_as="generator_unordered")(
            delayed(square)(i) for i in range(25))
        assert not isinstance(ordered, list)
        assert list(ordered) == [i * i for i in range(25)]
        assert sorted(unordered) == [i * i for i in range(25)]


def test_context_manager_reuses_backend(client):
    with Parallel(backend=DaskDistributedBackend(client=client)) as parallel:
        used = parallel._backend
        first = parallel(delayed(square)(i) for i in range(5))
        second = parallel(delayed(square)(i) for i in range(5, 10))
        assert parallel._backend is used
    assert first + second == [i * i for i in range(10)]


def test_progress_events_and_patched_callback(client, monkeypatch):
    seen, events = [], []

    class Recorder(joblib.parallel.BatchCompletionCallBack):
        def __call__(self, *args, **kwargs):
            seen.append(self.batch_size)
            return super().__call__(*args, **kwargs)

    monkeypatch.setattr(joblib.parallel, "BatchCompletionCallBack", Recorder)
    with parallel_config(backend="dask"):
        out = Parallel(progress=events.append)(delayed(square)(i) for i in range(30))
    assert out == [i * i for i in range(30)]
    assert sum(seen) == 30
    assert sorted(e.index for e in events) == list(range(30))


def test_auto_batching_groups_small_tasks(client):
    with parallel_config(backend="dask"):
        keys = Parallel()(delayed(current_key_and_deps)(np.zeros(1), i)
                          for i in range(1000))
    names = {k for k, _, _ in keys}
    assert all(k.startswith("batch_of_current_key_and_deps_") for k in names)
    # Tiny tasks are grouped: far fewer dask tasks than joblib tasks.
    assert len(names) < 500


def test_reentrant_call_raises(client):
    parallel = Parallel(backend=DaskDistributedBackend(client=client),
                        return_as="generator")
    gen = parallel(delayed(square)(i) for i in range(10))
    with pytest.raises(RuntimeError, match="already running"):
        parallel(delayed(square)(i) for i in range(3))
    assert list(gen) == [i * i for i in range(10)]


# ------------------------------------------------------------ errors
def test_input_generator_error_surfaces(client):
    def tasks():
        yield delayed(square)(1)
        yield delayed(square)(2)
        raise KeyError("input broke")

    with parallel_config(backend="dask"):
        with pytest.raises(KeyError, match="input broke"):
            Parallel()(tasks())


def test_error_reraised_with_remote_traceback_and_rest_cancelled(client, event):
    tasks = [delayed(fail_on)(0, 0)] + [
        delayed(wait_outside_the_pool)(event.name, i) for i in range(1, 6)]
    with parallel_config(backend="dask"):
        with pytest.raises(ValueError, match="bad value 0") as excinfo:
            Parallel(batch_size=1)(tasks)
    text = "".join(traceback.format_exception(excinfo.value))
    assert "fail_on" in text and 'raise ValueError(f"bad value {x}")' in text
    # Cancelling is a message to the scheduler: wait for it to be handled.
    assert _wait_until(lambda: not scheduler_keys(client, "batch_of_wait_outside_the_pool"))
    event.set()  # frees the threads still running cancelled tasks
    with parallel_config(backend="dask"):
        assert Parallel()(delayed(square)(i) for i in range(3)) == [0, 1, 4]


def test_timeout_raises_and_cancels(client, event):
    with parallel_config(backend="dask"):
        with pytest.raises(TimeoutError):
            Parallel(timeout=0.5, batch_size=1)(
                delayed(wait_for_event)(event.name, i) for i in range(4))
    # Cancelling is a message to the scheduler: wait for it to be handled.
    assert _wait_until(lambda: not scheduler_keys(client, "batch_of_wait_for_event"))


def test_closing_generator_cancels_remaining_futures(client, event):
    with parallel_config(backend="dask"):
        gen = Parallel(return_as="generator", batch_size=1)(
            delayed(quick_then_block)(i, event.name) for i in range(6))
        assert next(gen) == 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gen.close()
    # Cancelling is a message to the scheduler: wait for it to be handled.
    assert _wait_until(lambda: not scheduler_keys(client, "batch_of_quick_then_block"))


# ------------------------------------------------------------ data movement
def test_large_arguments_scattered_once_per_call(client):
    data = np.arange(100_000, dtype=np.float64)
    with parallel_config(backend="dask"):
        first = Parallel(batch_size=1)(
            delayed(current_key_and_deps)(data, i) for i in range(6))
        second = Parallel(batch_size=1)(
            delayed(current_key_and_deps)(data, i) for i in range(2))
    deps = {tuple(d) for _, d, _ in first}
    assert len(deps) == 1 and len(next(iter(deps))) == 1
    assert all(total == data.sum() for _, _, total in first)
    # A new call scatters again (the previous copy was released).
    assert {tuple(d) for _, d, _ in second} != deps
    # Small arguments travel inside the task instead.
    with parallel_config(backend="dask"):
        small = Parallel()(delayed(current_key_and_deps)(np.ones(3), 0) for _ in range(2))
    assert all(d == [] for _, d, _ in small)


def test_explicit_scatter_is_broadcast_and_reused(client):
    data = np.ones(50_000)
    with parallel_config(backend="dask", scatter=[data]):
        backend, _ = get_active_backend()
        first = Parallel(batch_size=1)(
            delayed(current_key_and_deps)(data, i) for i in range(4))
        second = Parallel(batch_size=1)(
            delayed(current_key_and_deps)(data, i) for i in range(2))
    # The same copy serves both calls.  (How many workers hold it is not
    # checked: dask's active memory manager may drop broadcast replicas.)
    key = str(backend.data_futures[id(data)].key)
    assert {tuple(d) for _, d, _ in first + second} == {(key,)}


def test_submit_kwargs_and_scheduler_host(client, cluster):
    worker = sorted(client.scheduler_info()["workers"])[0]
    pid = client.run(os.getpid, workers=[worker])[worker]
    backend = DaskDistributedBackend(scheduler_host=cluster[1].scheduler_address,
                                     workers=[worker], allow_other_workers=False)
    try:
        assert backend.client is not client
        out = Parallel(backend=backend)(delayed(square_and_pid)(i) for i in range(8))
    finally:
        backend.client.close()
    assert {p for _, p in out} == {pid}


def test_memory_cache_shared_by_workers(client, tmp_path, worker_pids):
    memory = Memory(tmp_path / "cache", verbose=0)
    cached = memory.cache(square_and_pid)
    with parallel_config(backend="dask"):
        first = Parallel(batch_size=1)(delayed(cached)(i) for i in range(8))
        again = Parallel(batch_size=1)(delayed(cached)(i) for i in range(8))
    assert [r for r, _ in first] == [i * i for i in range(8)]
    # Second run: every value is read from the cache, including those that
    # another worker process computed.
    assert again == first
    assert {p for _, p in first} <= worker_pids
    assert cached.check_call_in_cache(3)
    assert cached(5) == first[5]


# ------------------------------------------------------------ nesting
def test_nested_parallel_stays_on_dask_without_deadlock(client, worker_pids):
    # 4 outer tasks on 2 single-thread workers each wait for inner tasks:
    # this only completes because waiting tasks secede from the pool.
    with parallel_config(backend="dask"):
        out = Parallel(batch_size=1)(delayed(nested_pids)(n) for n in (3, 4, 5, 6))
    for (name, results, pids), n in zip(out, (3, 4, 5, 6)):
        assert name == "DaskDistributedBackend"
        assert results == [i * i for i in range(n)]
        assert pids <= worker_pids


def test_backend_pickles_without_its_client(client):
    import pickle

    backend = DaskDistributedBackend(client=client, wait_for_workers_timeout=3,
                                     priority=5)
    copy = pickle.loads(pickle.dumps(backend))
    assert copy.wait_for_workers_timeout == 3
    assert copy.submit_kwargs == {"priority": 5}
    assert copy.client is client  # looked up again: the default client


# ------------------------------------------------------------ failures
def test_no_worker_timeout_message():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        empty = distributed.LocalCluster(n_workers=0, processes=False,
                                         dashboard_address=None)
    try:
        with distributed.Client(empty, set_as_default=False) as empty_client:
            backend = DaskDistributedBackend(client=empty_client,
                                             wait_for_workers_timeout=0.5)
            with pytest.raises(TimeoutError, match="no worker after 0.5 seconds"):
                backend.effective_n_jobs(-1)
    finally:
        empty.close()


def _run(code):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, env=env, timeout=120, cwd=ROOT)


def test_clear_errors_without_dask_or_client():
    code = (
        "import sys\n"
        "from joblib import parallel_config\n"
        "try:\n"
        "    parallel_config(backend='dask')\n"
        "except ValueError as e:\n"
        "    print('NOCLIENT', e)\n"
        "sys.modules['distributed'] = None\n"
        "import joblib.parallel\n"
        "joblib.parallel.BACKENDS.pop('dask')\n"
        "sys.modules.pop('joblib._dask')\n"
        "sys.modules.pop('joblib._parallel.backends.dask_backend')\n"
        "try:\n"
        "    parallel_config(backend='dask')\n"
        "except ImportError as e:\n"
        "    print('IMPORT', e)\n"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert "NOCLIENT To use Joblib with Dask first create a Dask Client" in proc.stdout
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("IMPORT"))
    assert "dask" in line and "distributed" in line


def test_example_script_runs():
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "dask_parallel.py")],
        capture_output=True, text=True, timeout=180, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 0, proc.stderr
    assert "sum of squares: 332833500" in proc.stdout
    assert "nested results ok" in proc.stdout

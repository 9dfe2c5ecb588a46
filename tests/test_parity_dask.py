"""The dask backend as in joblib 1.6 (issue #11), on real in-process
``distributed.LocalCluster`` instances (threads, no worker processes: fast)."""

from __future__ import annotations

import threading
import time
import warnings

import pytest

distributed = pytest.importorskip("distributed")

import joblib  # noqa: E402
from joblib import Parallel, delayed, parallel_config  # noqa: E402


@pytest.fixture
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # distributed's port/resource notices
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2,
                                           processes=False, dashboard_address=None)
    with cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture
def empty_cluster_client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=0, processes=False,
                                           dashboard_address=None)
    with cluster, distributed.Client(cluster) as c:
        yield c


def _nested(i):
    inner = Parallel(n_jobs=2)
    out = inner(delayed(abs)(-j) for j in range(3))
    return type(inner._backend).__name__, out


@pytest.mark.timeout(120)
def test_no_thread_left_after_a_call(client):
    def callback_threads():
        return [t for t in threading.enumerate()
                if t.name.startswith("Dask-Callback-Thread")]

    assert callback_threads() == []
    with parallel_config("dask"):
        assert Parallel()(delayed(abs)(-i) for i in range(6)) == list(range(6))
        # Nested calls share the executor while the outer call runs.
        assert Parallel()(delayed(_nested)(i) for i in range(2)) == [
            ("DaskDistributedBackend", [0, 1, 2])] * 2
    deadline = time.monotonic() + 10
    while callback_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert callback_threads() == []
    # And the next call still works (the executor is made again).
    with parallel_config("dask"):
        assert Parallel()(delayed(abs)(-i) for i in range(3)) == [0, 1, 2]


@pytest.mark.timeout(120)
def test_callback_executor_of_someone_else_is_kept(client):
    seen = threading.Event()
    client.submit(abs, -1).add_done_callback(lambda f: seen.set())
    assert seen.wait(30)
    executor = distributed.Future._cb_executor
    with parallel_config("dask"):
        assert Parallel()(delayed(abs)(-i) for i in range(3)) == [0, 1, 2]
    assert distributed.Future._cb_executor is executor


@pytest.mark.timeout(120)
def test_no_worker_in_time_raises(empty_cluster_client):
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="^DaskDistributedBackend has no worker after 1 seconds."):
        with parallel_config("dask", wait_for_workers_timeout=1):
            Parallel()(delayed(abs)(i) for i in range(2))
    assert time.monotonic() - start < 30
    # Without waiting: 1.6's RuntimeError for a backend without workers.
    with pytest.raises(RuntimeError, match="^DaskDistributedBackend has no active worker."):
        with parallel_config("dask", wait_for_workers_timeout=0):
            Parallel()(delayed(abs)(i) for i in range(2))


def test_dask_module_has_16_names():
    from joblib import _dask

    for name in ("Batch", "DaskDistributedBackend", "AutoBatchingMixin",
                 "ParallelBackendBase", "is_weakrefable", "parallel_config"):
        assert hasattr(_dask, name), name
    assert _dask.is_weakrefable(test_dask_module_has_16_names)
    assert not _dask.is_weakrefable(1)
    assert joblib._dask.DaskDistributedBackend.__name__ == "DaskDistributedBackend"


@pytest.mark.timeout(120)
def test_two_generators_sharing_the_configured_backend(client):
    # The configured backend instance serves both calls: the first one to
    # finish must not stop the callbacks of the other.
    with parallel_config("dask"):
        ordered = Parallel(return_as="generator")(delayed(abs)(-i) for i in range(25))
        unordered = Parallel(return_as="generator_unordered")(
            delayed(abs)(-i) for i in range(25))
        assert list(ordered) == list(range(25))
        assert sorted(unordered) == list(range(25))

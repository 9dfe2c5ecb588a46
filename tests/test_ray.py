"""Ray's joblib backend (``ray.util.joblib.register_ray``), unchanged, on a
local Ray instance with 2 CPUs.

Ray's backend subclasses ``joblib._parallel_backends.MultiprocessingBackend``
and swaps the base class of ``joblib.pool.PicklingPool`` for its actor pool;
it also imports ``joblib.parallel.BatchedCalls`` and ``parallel_backend``.
"""

from __future__ import annotations

import os
import threading
import traceback

import pytest

# ray is in the ``test`` extra: a missing install must fail the run.
import numpy as np
import ray
from ray.util.joblib import register_ray

from joblib import Parallel, delayed, parallel_config
from joblib.parallel import get_active_backend


TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS_DIR)


@pytest.fixture(scope="module")
def ray_instance():
    # Ray's worker processes inherit the environment of the local instance,
    # not the test's sys.path: let them import joblib and this module.
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (ROOT, TESTS_DIR, saved) if p)
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
    register_ray()
    # Ray's backend rewrites ``PicklingPool.__bases__`` to its actor pool when
    # it configures: restore the stdlib base so later tests of the
    # multiprocessing backend run on real processes again.
    from joblib.pool import PicklingPool

    original_bases = PicklingPool.__bases__
    try:
        yield
    finally:
        PicklingPool.__bases__ = original_bases
        ray.shutdown()
    assert not ray.is_initialized()


@pytest.fixture
def thread_errors():
    """Exceptions that escaped any thread during the test (must be none)."""
    errors = []
    previous = threading.excepthook
    threading.excepthook = errors.append
    yield errors
    threading.excepthook = previous
    assert not errors, [
        "".join(traceback.format_exception(e.exc_type, e.exc_value, e.exc_traceback))
        for e in errors]


def square_and_pid(x):
    return x * x, os.getpid()


def array_sum(a, i):
    return float(a.sum()) + i, type(a).__name__


def fail_on(x, bad):
    if x == bad:
        raise ValueError(f"bad value {x}")
    return x


def test_ray_backend_runs_tasks_in_actors(ray_instance, thread_errors):
    with parallel_config(backend="ray", n_jobs=2):
        backend, _ = get_active_backend()
        out = Parallel()(delayed(square_and_pid)(i) for i in range(40))
    assert type(backend).__name__ == "RayBackend"
    assert [r for r, _ in out] == [i * i for i in range(40)]
    assert os.getpid() not in {p for _, p in out}


def test_ray_all_cpus_and_large_arrays(ray_instance, thread_errors):
    data = np.ones(500_000)  # 4 MB: above the memmapping threshold
    out = Parallel(n_jobs=-1, backend="ray")(
        delayed(array_sum)(data, i) for i in range(6))
    assert out == [(500_000.0 + i, "ndarray") for i in range(6)]
    backend, _ = get_active_backend()
    with parallel_config(backend="ray"):
        assert Parallel(n_jobs=-1)._backend.effective_n_jobs(-1) == 2


def test_ray_errors_are_reraised(ray_instance, thread_errors):
    with pytest.raises(ValueError, match="bad value 3"):
        Parallel(n_jobs=2, backend="ray")(delayed(fail_on)(i, 3) for i in range(10))
    out = Parallel(n_jobs=2, backend="ray")(delayed(fail_on)(i, -1) for i in range(4))
    assert out == [0, 1, 2, 3]

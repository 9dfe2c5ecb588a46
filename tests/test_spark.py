"""joblibspark's backend (``register_spark``), unchanged, on a local Spark
session (``local[2]``, Java 17).

joblibspark imports ``AutoBatchingMixin``, ``ParallelBackendBase``,
``register_parallel_backend`` and ``SequentialBackend`` from
``joblib.parallel`` and ``_TracebackCapturingWrapper`` from
``joblib._utils``; it implements the legacy ``apply_async`` API (which
joblib 1.6 still accepts, with a ``DeprecationWarning``).
"""

from __future__ import annotations

import os
import sys
import warnings

import pytest

# pyspark and joblibspark are in the ``test`` extra: a missing install must
# fail the run.
from joblibspark import register_spark
from pyspark.sql import SparkSession

from joblib import Parallel, delayed, parallel_config
from joblib.parallel import get_active_backend

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS_DIR)


@pytest.fixture(scope="module")
def spark():
    # Spark starts its python workers with the driver's environment and
    # ``python3`` from PATH: make them use this interpreter (which has
    # joblibspark) and import joblib and this module.
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "PYSPARK_PYTHON")}
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (ROOT, TESTS_DIR, saved["PYTHONPATH"]) if p)
    os.environ["PYSPARK_PYTHON"] = sys.executable
    try:
        session = (SparkSession.builder.master("local[2]")
                   .appName("joblib-tests")
                   .config("spark.ui.enabled", "false")
                   .config("spark.driver.memory", "1g")
                   .config("spark.ui.showConsoleProgress", "false")
                   .getOrCreate())
        session.sparkContext.setLogLevel("ERROR")
        register_spark()
        yield session
        session.stop()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def square_and_pid(x):
    return x * x, os.getpid()


def fail_on(x, bad):
    if x == bad:
        raise ValueError(f"bad value {x}")
    return x


@pytest.fixture
def quiet():
    with warnings.catch_warnings():
        # joblibspark's own notices (local mode, legacy apply_async).
        warnings.simplefilter("ignore")
        yield


def test_spark_backend_runs_tasks_in_python_workers(spark, quiet):
    with parallel_config(backend="spark", n_jobs=2):
        backend, _ = get_active_backend()
        out = Parallel()(delayed(square_and_pid)(i) for i in range(20))
    assert type(backend).__name__ == "SparkDistributedBackend"
    assert [r for r, _ in out] == [i * i for i in range(20)]
    assert os.getpid() not in {p for _, p in out}


@pytest.mark.filterwarnings("ignore:Spark local mode")
def test_spark_all_slots_and_legacy_api_warning(spark):
    with parallel_config(backend="spark"):
        assert Parallel(n_jobs=-1)._backend.effective_n_jobs(-1) == 2
    with pytest.warns(DeprecationWarning, match="apply_async"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            out = Parallel(n_jobs=2, backend="spark")(
                delayed(square_and_pid)(i) for i in range(4))
    assert [r for r, _ in out] == [0, 1, 4, 9]


def test_spark_task_errors_fail_the_call(spark, quiet):
    # joblibspark wraps tasks in joblib._utils._TracebackCapturingWrapper,
    # which returns the error as a value, and implements no
    # retrieve_result_callback: joblib 1.6.0 then fails with
    # "TypeError: '_ExceptionWithTraceback' object is not iterable"; we
    # re-raise the task's own error (or Spark's PythonException carrying it,
    # when the failure surfaces through Spark's job instead).
    from pyspark.errors import PythonException

    with pytest.raises((ValueError, PythonException), match="bad value 2"):
        Parallel(n_jobs=2, backend="spark")(delayed(fail_on)(i, 2) for i in range(6))
    out = Parallel(n_jobs=2, backend="spark")(delayed(fail_on)(i, -1) for i in range(3))
    assert out == [0, 1, 2]

"""Environment-driven behaviour (JOBLIB_MULTIPROCESSING, JOBLIB_START_METHOD,
thread caps in workers) and byte-for-byte verbose output against joblib 1.6."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

from joblib import Parallel, delayed, parallel_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF_PYTHON = "/work/refvenv/bin/python"


def _run(code: str, env: dict | None = None, python: str = sys.executable,
         with_project: bool = True) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.pop("PYTHONPATH", None)
    if with_project:
        full_env["PYTHONPATH"] = ROOT
    full_env.update(env or {})
    return subprocess.run([python, "-c", textwrap.dedent(code)], env=full_env,
                          capture_output=True, text=True, timeout=120)


def worker_env(_):
    return {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                          "MKL_NUM_THREADS", "ENABLE_IPC")}


def worker_blas_threads(_):
    from threadpoolctl import threadpool_info

    import numpy  # noqa: F401  (loads the BLAS library)

    return sorted({info["num_threads"] for info in threadpool_info()})


def test_multiprocessing_disabled_by_env():
    result = _run("""
        import joblib, joblib.parallel
        from joblib import Parallel, delayed, cpu_count
        from joblib._multiprocessing_helpers import mp
        assert mp is None and joblib.parallel.mp is None
        assert cpu_count() == 1
        assert joblib.parallel.DEFAULT_BACKEND == "threading"
        assert Parallel(n_jobs=2)(delayed(abs)(-i) for i in range(4)) == [0, 1, 2, 3]
        import warnings
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            p = Parallel(n_jobs=2, backend="loky")
        assert "not available" in str(w[0].message)
        assert p(delayed(abs)(-i) for i in range(3)) == [0, 1, 2]
        print("ok")
    """, env={"JOBLIB_MULTIPROCESSING": "0"})
    assert result.stdout.strip() == "ok", result.stderr


def test_start_method_env_selects_context():
    result = _run("""
        import multiprocessing
        from joblib import Parallel, delayed
        p = Parallel(n_jobs=2, backend="multiprocessing")
        assert p._backend_kwargs["context"].get_start_method() == "forkserver"
        assert p(delayed(abs)(-i) for i in range(3)) == [0, 1, 2]
        print("ok")
    """, env={"JOBLIB_START_METHOD": "forkserver"})
    assert result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize("backend", ["loky", "multiprocessing"])
def test_worker_thread_caps_default(backend, monkeypatch):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "ENABLE_IPC"):
        monkeypatch.delenv(var, raising=False)
    from joblib import cpu_count

    expected = str(max(cpu_count() // 2, 1))
    env = Parallel(n_jobs=2, backend=backend)(delayed(worker_env)(i) for i in range(2))
    if backend == "loky":
        assert env[0] == {"OMP_NUM_THREADS": expected, "OPENBLAS_NUM_THREADS": expected,
                          "MKL_NUM_THREADS": expected, "ENABLE_IPC": "1"}


def test_worker_blas_threads_limited_and_overridable():
    pytest.importorskip("numpy")
    pytest.importorskip("threadpoolctl")
    from joblib import cpu_count

    out = Parallel(n_jobs=2)(delayed(worker_blas_threads)(i) for i in range(2))
    assert out[0] == [max(cpu_count() // 2, 1)]
    with parallel_config(backend="loky", inner_max_num_threads=2):
        out = Parallel(n_jobs=2)(delayed(worker_blas_threads)(i) for i in range(2))
    assert out[0] == [2]
    with parallel_config(backend="loky", inner_max_num_threads=3):
        env = Parallel(n_jobs=2)(delayed(worker_env)(i) for i in range(2))
    assert env[0]["OMP_NUM_THREADS"] == "3"


def test_parent_setting_is_kept_in_workers(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    env = Parallel(n_jobs=2)(delayed(worker_env)(i) for i in range(2))
    assert env[0]["OMP_NUM_THREADS"] == "5"


_VERBOSE_SCRIPT = """
    import math, sys
    from joblib import Parallel, delayed
    verbose, n_jobs, kind, pre = {verbose}, {n_jobs}, {kind!r}, {pre!r}
    tasks = (delayed(math.sqrt)(i) for i in range(25))
    if kind == "list":
        tasks = list(tasks)
    Parallel(n_jobs=n_jobs, verbose=verbose, backend="threading", batch_size=1,
             pre_dispatch=pre)(tasks)
"""


def _normalised(text: str) -> list[str]:
    # Elapsed/remaining times differ from run to run; everything else must not.
    return sorted(re.sub(r"\d+\.\d+(s|min)", "T", line) for line in text.splitlines())


@pytest.mark.skipif(not os.path.exists(REF_PYTHON), reason="needs joblib 1.6 venv")
@pytest.mark.parametrize("verbose, n_jobs, kind, pre", [
    (5, 1, "list", "2*n_jobs"), (11, 1, "gen", "2*n_jobs"), (60, 1, "gen", "2*n_jobs"),
    (5, 2, "list", "2*n_jobs"), (100, 2, "gen", "2*n_jobs"), (10, 2, "gen", "2*n_jobs"),
])
def test_verbose_output_matches_joblib_16(verbose, n_jobs, kind, pre):
    code = _VERBOSE_SCRIPT.format(verbose=verbose, n_jobs=n_jobs, kind=kind, pre=pre)
    ours = _run(code)
    ref = _run(code, python=REF_PYTHON, with_project=False)
    assert ref.returncode == 0 and ours.returncode == 0, ours.stderr
    assert _normalised(ours.stderr) == _normalised(ref.stderr)
    assert _normalised(ours.stdout) == _normalised(ref.stdout)
    assert ours.stderr or ours.stdout


def test_verbose_above_50_goes_to_stdout(capsys):
    Parallel(n_jobs=1, verbose=60)(delayed(abs)(i) for i in range(3))
    captured = capsys.readouterr()
    assert "[Parallel(n_jobs=1)]: Done   3 out of   3" not in captured.err
    assert "Done" in captured.out and captured.err == ""


def test_import_parallel_stays_light():
    result = _run("""
        import sys
        import joblib.parallel, joblib._parallel_backends
        heavy = [m for m in ("numpy", "loky", "cloudpickle", "concurrent.futures")
                 if m in sys.modules]
        print(heavy)
    """)
    assert result.stdout.strip() == "[]", result.stderr

"""Automatic memmapping seen through ``Parallel`` (loky and multiprocessing)."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest

np = pytest.importorskip("numpy")

import joblib  # noqa: E402
from joblib import Parallel, delayed, parallel_config  # noqa: E402

BACKENDS = ["loky", "multiprocessing"]
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(joblib.__file__)))


def describe(a):
    """Worker side: what arrived (type, file, mode, sum)."""
    return type(a).__name__, getattr(a, "filename", None), getattr(a, "mode", None), float(a.sum())


def fill(out, i, value):
    out[i] = value


def first_rows(a, n):
    return a[:n]


def fail_on(i, a):
    if i == 3:
        raise ValueError("boom %d" % i)
    return float(a.sum())


def crash(i, a):
    if i == 3:
        os._exit(1)
    return float(a.sum())


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A private temporary root, also given as JOBLIB_TEMP_FOLDER, that must end empty."""
    root = tmp_path / "memmaps"
    root.mkdir()
    monkeypatch.setenv("JOBLIB_TEMP_FOLDER", str(root))
    yield str(root)
    assert os.listdir(root) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_large_array_written_once_and_removed(root, backend):
    a = np.arange(300_000, dtype=np.float64)  # 2.4 MB > '1M'
    out = Parallel(n_jobs=2, backend=backend)(delayed(describe)(a) for _ in range(6))
    kinds, files, modes, sums = zip(*out)
    assert set(kinds) == {"memmap"} and set(modes) == {"r"}
    assert len(set(files)) == 1 and set(sums) == {float(a.sum())}
    assert os.path.dirname(os.path.dirname(files[0])) == root
    small = Parallel(n_jobs=2, backend=backend)(delayed(describe)(np.ones(10)) for _ in range(2))
    assert {k for k, *_ in small} == {"ndarray"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_call_uses_its_own_folder(root, backend):
    a = np.ones(300_000)
    first = Parallel(n_jobs=2, backend=backend)(delayed(describe)(a) for _ in range(2))
    second = Parallel(n_jobs=2, backend=backend)(delayed(describe)(a) for _ in range(2))
    assert os.path.dirname(first[0][1]) != os.path.dirname(second[0][1])


def test_context_manager_block_shares_one_folder(root):
    a = np.ones(300_000)
    with Parallel(n_jobs=2) as parallel:
        f1 = parallel(delayed(describe)(a) for _ in range(2))[0][1]
        f2 = parallel(delayed(describe)(a) for _ in range(2))[0][1]
        assert os.path.dirname(f1) == os.path.dirname(f2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_settings_from_parallel_and_parallel_config(root, tmp_path, backend):
    a = np.arange(2000, dtype=np.float64)  # 16 kB
    out = Parallel(n_jobs=2, backend=backend, max_nbytes="1K", mmap_mode="c")(
        delayed(describe)(a) for _ in range(2)
    )
    assert {(k, m) for k, _, m, _ in out} == {("memmap", "c")}
    other = tmp_path / "other"
    other.mkdir()
    with parallel_config(backend=backend, temp_folder=str(other), max_nbytes=1000, mmap_mode="r+"):
        out = Parallel(n_jobs=2)(delayed(describe)(a) for _ in range(2))
    assert {(k, m) for k, _, m, _ in out} == {("memmap", "r+")}
    assert out[0][1].startswith(str(other)) and os.listdir(other) == []
    for disabled in ({"max_nbytes": None}, {"mmap_mode": None}):
        out = Parallel(n_jobs=2, backend=backend, **disabled)(delayed(describe)(a) for _ in range(2))
        assert {k for k, *_ in out} == {"ndarray"}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["w+", "r+"])
def test_shared_output_written_by_workers(root, tmp_path, backend, mode):
    path = str(tmp_path / "out.mmap")
    out = np.memmap(path, dtype=np.int64, mode="w+", shape=(20,))
    if mode == "r+":
        out = np.memmap(path, dtype=np.int64, mode="r+", shape=(20,))
    Parallel(n_jobs=2, backend=backend)(delayed(fill)(out, i, i * i) for i in range(20))
    assert out.tolist() == [i * i for i in range(20)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_user_memmap_views_passed_by_reference(root, tmp_path, backend):
    path = str(tmp_path / "in.mmap")
    m = np.memmap(path, dtype=np.float32, mode="w+", shape=(1000, 10))
    m[:] = np.arange(10_000).reshape(1000, 10)
    m.flush()
    views = [m, m[100:200], m[::3, 2:7], m.T, m[50:60].view(np.int32)]
    out = Parallel(n_jobs=2, backend=backend, max_nbytes=0)(delayed(first_rows)(v, 5) for v in views)
    for v, back in zip(views, out):
        np.testing.assert_array_equal(back, v[:5])
    assert isinstance(out[1], np.memmap) and out[1].filename == os.path.abspath(path)


@pytest.mark.parametrize("backend", BACKENDS)
def test_results_backed_by_temporary_files_come_back_as_arrays(root, backend):
    a = np.arange(300_000, dtype=np.int64).reshape(1000, 300)
    out = Parallel(n_jobs=2, backend=backend)(delayed(first_rows)(a, n) for n in (1, 500))
    assert [type(o) for o in out] == [np.ndarray, np.ndarray]
    np.testing.assert_array_equal(out[1], a[:500])


@pytest.mark.parametrize("backend", BACKENDS)
def test_task_exception_removes_folder(root, backend):
    a = np.ones(300_000)
    with pytest.raises(ValueError, match="boom 3"):
        Parallel(n_jobs=2, backend=backend)(delayed(fail_on)(i, a) for i in range(8))


def test_worker_crash_removes_folder(root):
    from loky.process_executor import TerminatedWorkerError

    a = np.ones(300_000)
    with pytest.raises(TerminatedWorkerError):
        Parallel(n_jobs=2)(delayed(crash)(i, a) for i in range(8))
    # The executor is usable again afterwards.
    assert Parallel(n_jobs=2)(delayed(describe)(a) for _ in range(2))[0][0] == "memmap"


def test_generator_output_closed_early_removes_folder(root):
    # (the multiprocessing backend does not return generators)
    a = np.ones(300_000)
    gen = Parallel(n_jobs=2, return_as="generator")(
        delayed(describe)(a) for _ in range(20)
    )
    assert next(gen)[0] == "memmap"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "N tasks ... have been cancelled"
        gen.close()


def run_script(code, root, timeout=120):
    env = dict(os.environ, PYTHONPATH=_REPO, JOBLIB_TEMP_FOLDER=str(root))
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout
    )


def test_keyboard_interrupt_removes_folder_and_stays_quiet(root):
    # A real SIGINT, as Ctrl-C sends (it also wakes a blocked main thread).
    code = (
        "import os, signal, threading, numpy as np\n"
        # Inherited SIG_IGN (nohup, background jobs) would swallow the signal.
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from joblib import Parallel, delayed\n"
        "def task(i, a):\n"
        "    import time; time.sleep(0.05); return float(a.sum())\n"
        "def results():\n"
        "    a = np.ones(300_000)\n"
        "    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
        "    return Parallel(n_jobs=2)(delayed(task)(i, a) for i in range(10_000))\n"
        "try:\n"
        "    results()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', os.listdir(os.environ['JOBLIB_TEMP_FOLDER']))\n"
    )
    proc = run_script(code, root)
    # Removed by the interrupted call itself, not only at interpreter exit.
    assert proc.stdout.strip() == "interrupted []", proc.stderr
    assert "resource_tracker" not in proc.stderr and "leaked" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_tracker_warning_on_normal_runs(root, backend):
    code = (
        "import numpy as np\n"
        "from joblib import Parallel, delayed\n"
        "def total(a): return float(a.sum())\n"
        "if __name__ == '__main__':\n"
        "    a = np.ones(300_000)\n"
        "    for _ in range(3):\n"
        "        assert Parallel(n_jobs=2, backend=%r)(delayed(total)(a) for _ in range(4)) == [3e5] * 4\n"
        "    print('ok')\n" % backend
    )
    proc = run_script(code, root)
    assert proc.stdout.strip() == "ok", proc.stderr
    assert proc.stderr == "", proc.stderr


def test_example_script_runs(root):
    example = os.path.join(_REPO, "examples", "shared_memmap_output.py")
    proc = subprocess.run(
        [sys.executable, example],
        env=dict(os.environ, PYTHONPATH=_REPO, JOBLIB_TEMP_FOLDER=root),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("OK")


@pytest.fixture
def tiny_tmpfs(mount_tmpfs):
    """A 1 MB RAM file system."""
    return mount_tmpfs("1M")


@pytest.mark.parametrize("backend", BACKENDS)
def test_full_temp_folder_raises_a_clear_error(root, tiny_tmpfs, backend):
    a = np.ones(1_000_000)  # 8 MB in a 1 MB file system
    with pytest.raises(Exception) as info:
        Parallel(n_jobs=2, backend=backend, temp_folder=tiny_tmpfs)(delayed(describe)(a) for _ in range(4))
    # loky reports pickling failures as a PicklingError caused by the error.
    text = str(info.value) + str(info.value.__cause__)
    assert "No space left on device" in text and tiny_tmpfs in text
    assert "JOBLIB_TEMP_FOLDER" in text and "max_nbytes" in text
    assert os.listdir(tiny_tmpfs) == []

"""``joblib.executor``: loky's reusable executor with memmapping, real workers."""

from __future__ import annotations

import os
import uuid

import pytest

np = pytest.importorskip("numpy")

from loky.process_executor import TerminatedWorkerError  # noqa: E402
from loky.reusable_executor import _ReusablePoolExecutor  # noqa: E402

from joblib.executor import MemmappingExecutor, get_memmapping_executor  # noqa: E402

N_JOBS = 2


def describe(a):
    """Worker side: what arrived."""
    return type(a).__name__, getattr(a, "filename", None), getattr(a, "mode", None), float(a.sum())


def fill(out, start, stop, value):
    out[start:stop] = value
    return os.getpid()


def slice_of(a, start, stop):
    return a[start:stop]


def crash():
    os._exit(3)


def fail():
    raise ValueError("task failed")


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "memmaps"
    root.mkdir()
    yield str(root)
    assert os.listdir(root) == []


def start_context(root, **kwargs):
    context_id = uuid.uuid4().hex
    executor = get_memmapping_executor(N_JOBS, temp_folder=root, context_id=context_id, **kwargs)
    executor._temp_folder_manager.set_current_context(context_id)
    return executor, context_id


def end_context(executor, context_id):
    executor._temp_folder_manager._clean_temporary_resources(context_id=context_id)


def test_executor_type_and_reuse(root):
    ex1, cid1 = start_context(root)
    ex1.submit(os.getpid).result()
    workers = set(ex1._processes)
    ex2, cid2 = start_context(root)
    assert ex2 is ex1
    assert isinstance(ex1, MemmappingExecutor) and isinstance(ex1, _ReusablePoolExecutor)
    ex2.submit(os.getpid).result()
    assert set(ex2._processes) == workers
    manager = ex2._temp_folder_manager
    for name in ("set_current_context", "register_new_context", "resolve_temp_folder_name",
                 "_clean_temporary_resources"):
        assert callable(getattr(manager, name))
    end_context(ex1, cid1)
    end_context(ex2, cid2)


def test_large_array_is_memmapped_once_and_cleaned(root):
    executor, cid = start_context(root)
    a = np.arange(500_000, dtype=np.float64)
    results = [executor.submit(describe, a).result() for _ in range(5)]
    kinds, files, modes, sums = zip(*results)
    assert set(kinds) == {"memmap"} and set(modes) == {"r"}
    assert len(set(files)) == 1 and set(sums) == {float(a.sum())}
    folder = os.path.dirname(files[0])
    assert os.path.dirname(folder) == root and os.listdir(folder) == [os.path.basename(files[0])]
    small = executor.submit(describe, np.arange(10.0)).result()
    assert small[0] == "ndarray"
    end_context(executor, cid)
    assert not os.path.exists(folder)


def test_contexts_use_separate_folders(root):
    executor, cid1 = start_context(root)
    a = np.ones(500_000)
    f1 = executor.submit(describe, a).result()[1]
    executor2, cid2 = start_context(root)
    assert executor2 is executor
    f2 = executor.submit(describe, a).result()[1]
    assert os.path.dirname(f1) != os.path.dirname(f2)
    end_context(executor, cid1)
    assert not os.path.exists(f1) and os.path.exists(f2)
    end_context(executor, cid2)


def test_reused_executor_honours_new_temp_folder(root, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    executor, cid1 = start_context(root)
    f1 = executor.submit(describe, np.ones(500_000)).result()[1]
    executor2, cid2 = start_context(str(other))
    assert executor2 is executor
    f2 = executor.submit(describe, np.ones(500_000)).result()[1]
    assert f1.startswith(root) and f2.startswith(str(other))
    end_context(executor, cid1)
    end_context(executor, cid2)
    assert os.listdir(other) == []


@pytest.mark.parametrize("mode", ["r+", "w+"])
def test_workers_write_into_shared_output(tmp_path, root, mode):
    path = str(tmp_path / "out.mmap")
    out = np.memmap(path, dtype=np.float64, mode="w+", shape=(1000,))
    if mode == "r+":
        out = np.memmap(path, dtype=np.float64, mode="r+", shape=(1000,))
    executor, cid = start_context(root)
    futures = [executor.submit(fill, out, i * 100, (i + 1) * 100, i) for i in range(10)]
    assert len({f.result() for f in futures}) >= 1
    np.testing.assert_array_equal(out, np.repeat(np.arange(10.0), 100))
    end_context(executor, cid)


def test_results_come_back_correctly(tmp_path, root):
    executor, cid = start_context(root)
    a = np.arange(500_000, dtype=np.int64)
    back = executor.submit(slice_of, a, 10, 20).result()
    assert type(back) is np.ndarray and back.tolist() == list(range(10, 20))
    user = np.memmap(str(tmp_path / "u.mmap"), dtype=np.int64, mode="w+", shape=(100,))
    user[:] = np.arange(100)
    user.flush()
    back = executor.submit(slice_of, user, 50, 60).result()
    assert isinstance(back, np.memmap) and back.filename == user.filename
    assert back.tolist() == list(range(50, 60))
    end_context(executor, cid)


def test_max_nbytes_and_mmap_mode_settings(root):
    a = np.arange(2000, dtype=np.float64)  # 16 kB
    executor, cid = start_context(root, max_nbytes="1K", mmap_mode="c")
    kind, _, mode, _ = executor.submit(describe, a).result()
    assert (kind, mode) == ("memmap", "c")
    end_context(executor, cid)
    executor, cid = start_context(root, max_nbytes=None)
    assert executor.submit(describe, a).result()[0] == "ndarray"
    end_context(executor, cid)


def test_settings_change_keeps_the_workers(root):
    a = np.arange(2000, dtype=np.float64)  # 16 kB
    executor, cid = start_context(root, max_nbytes=100, mmap_mode="r")
    assert executor.submit(describe, a).result()[2] == "r"
    workers = set(executor._processes)
    end_context(executor, cid)
    executor2, cid = start_context(root, max_nbytes="1M", mmap_mode="c")
    assert executor2 is executor
    assert executor.submit(describe, a).result()[0] == "ndarray"
    assert set(executor._processes) == workers
    end_context(executor, cid)


def test_task_exception_then_cleanup(root):
    executor, cid = start_context(root)
    executor.submit(describe, np.ones(500_000)).result()
    with pytest.raises(ValueError, match="task failed"):
        executor.submit(fail).result()
    end_context(executor, cid)


def test_worker_crash_then_terminate_removes_folders(root):
    executor, cid = start_context(root)
    executor.submit(describe, np.ones(500_000)).result()
    with pytest.raises(TerminatedWorkerError):
        executor.submit(crash).result()
    executor.terminate(kill_workers=True)
    executor, cid = start_context(root)
    assert executor.submit(describe, np.ones(500_000)).result()[0] == "memmap"
    executor.terminate(kill_workers=True)


def test_unusable_temp_folder_fails_the_task_without_hanging(tmp_path, root):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    executor, cid = start_context(str(not_a_dir))
    future = executor.submit(describe, np.ones(500_000))
    with pytest.raises(Exception) as info:
        future.result(timeout=60)
    text = repr(info.value) + repr(info.value.__cause__)
    assert "JOBLIB_TEMP_FOLDER" in text and str(not_a_dir) in text
    end_context(executor, cid)
    # The executor still works afterwards.
    executor, cid = start_context(root)
    assert executor.submit(describe, np.ones(10)).result()[0] == "ndarray"
    end_context(executor, cid)


@pytest.mark.parametrize("kwargs", [{"mmap_mode": "rw"}, {"max_nbytes": [1]}])
def test_bad_settings_are_rejected_before_any_worker_change(kwargs):
    with pytest.raises((ValueError, TypeError), match="mmap_mode|max_nbytes"):
        get_memmapping_executor(N_JOBS, context_id="bad", **kwargs)

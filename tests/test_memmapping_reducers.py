"""Memmapping reducers and temporary folders, exercised without workers.

A pickle written with the forward reducers and read back in this process is
exactly what a worker receives, so these tests check the reconstructed
arrays (type, values, file, offset, strides, mode) directly.
"""

from __future__ import annotations

import io
import os
import pickle

import pytest

np = pytest.importorskip("numpy")

from joblib._memmapping_reducer import (  # noqa: E402
    ArrayMemmapForwardReducer,
    JOBLIB_MMAPS,
    TemporaryResourcesManager,
    get_memmapping_reducers,
    has_shareable_memory,
    reduce_array_memmap_backward,
)
from joblib._parallel.memmapping import temp_folders  # noqa: E402
from joblib._parallel.memmapping.forward import parse_max_nbytes  # noqa: E402
from joblib.pool import CustomizablePickler  # noqa: E402


@pytest.fixture
def manager(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    m = TemporaryResourcesManager(str(root))
    yield m
    m._clean_temporary_resources()
    assert os.listdir(root) == []


def send(obj, manager, **kwargs):
    """Pickle ``obj`` as the parent would for a worker, then unpickle it."""
    forward, _ = get_memmapping_reducers(temp_folder_resolver=manager, **kwargs)
    buf = io.BytesIO()
    CustomizablePickler(buf, forward).dump(obj)
    return pickle.loads(buf.getvalue())


def send_back(obj):
    _, backward = get_memmapping_reducers(temp_folder_resolver=lambda: "unused")
    buf = io.BytesIO()
    CustomizablePickler(buf, backward).dump(obj)
    return pickle.loads(buf.getvalue())


def folder_files(manager):
    folder = manager.resolve_temp_folder_name()
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_has_shareable_memory(tmp_path):
    a = np.arange(10.0)
    assert not has_shareable_memory(a)
    mm = np.memmap(tmp_path / "f", dtype="f8", mode="w+", shape=(10,))
    assert has_shareable_memory(mm)
    assert has_shareable_memory(mm[2:5])
    assert has_shareable_memory(np.asarray(mm)[::2])
    assert not has_shareable_memory(np.array(mm))


def test_large_array_arrives_as_readonly_memmap(manager):
    a = np.arange(1000, dtype=np.float64)
    b = send(a, manager, max_nbytes=100)
    assert isinstance(b, np.memmap)
    assert b.mode == "r" and not b.flags.writeable
    np.testing.assert_array_equal(a, b)
    assert os.path.dirname(b.filename) == manager.resolve_temp_folder_name()
    assert b.filename in JOBLIB_MMAPS


@pytest.mark.parametrize(
    "max_nbytes, mmap_mode",
    [(10_000, "r"), (None, "r"), (100, None)],
    ids=["small", "max_nbytes-None", "mmap_mode-None"],
)
def test_no_memmap_below_threshold_or_when_disabled(manager, max_nbytes, mmap_mode):
    a = np.arange(1000, dtype=np.float64)
    b = send(a, manager, max_nbytes=max_nbytes, mmap_mode=mmap_mode)
    assert type(b) is np.ndarray
    np.testing.assert_array_equal(a, b)
    assert folder_files(manager) == []


def test_object_arrays_are_pickled(manager):
    a = np.array([{"k": i} for i in range(500)], dtype=object)
    b = send(a, manager, max_nbytes=10)
    assert type(b) is np.ndarray and b[7] == {"k": 7}
    assert folder_files(manager) == []


def test_same_array_written_once_per_context(manager):
    a, c = np.ones(1000), np.zeros(1000)
    out = send([a, a, c, {"again": a}], manager, max_nbytes=100)
    assert out[0].filename == out[1].filename == out[3]["again"].filename
    assert out[2].filename != out[0].filename
    forward, _ = get_memmapping_reducers(temp_folder_resolver=manager, max_nbytes=100)
    assert forward[np.ndarray](a)[1][0] == forward[np.ndarray](a)[1][0]
    # The record of written arrays belongs to the context, not the reducer.
    assert len(folder_files(manager)) == 2


def test_new_context_rewrites_in_its_own_folder(manager):
    a = np.ones(1000)
    first = send(a, manager, max_nbytes=100).filename
    manager.set_current_context("second")
    second = send(a, manager, max_nbytes=100).filename
    assert os.path.dirname(first) != os.path.dirname(second)
    assert second.endswith(".mmap") and "second" in os.path.dirname(second)


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.arange(3000.0).reshape(30, 100),
        lambda: np.asfortranarray(np.arange(3000.0).reshape(30, 100)),
        lambda: np.arange(6000.0).reshape(60, 100)[::2, 1::3],
        lambda: np.arange(3000, dtype=np.int32)[::-1],
        lambda: np.zeros(400, dtype=[("a", "<i4"), ("b", ">f8", (2,))]),
        lambda: np.arange(2000, dtype=">i8"),
        lambda: np.arange(2000).astype("datetime64[s]").reshape(40, 50)[:, ::2],
        lambda: np.ones((3, 4, 500), dtype=np.complex64)[:, 1:3],
    ],
    ids=["C", "F", "strided", "reversed", "structured", "big-endian", "datetime", "3d-chunks"],
)
def test_layouts_and_dtypes_round_trip(manager, make):
    a = make()
    b = send(a, manager, max_nbytes=100)
    assert isinstance(b, np.memmap)
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(a, b)
    if a.flags.f_contiguous and not a.flags.c_contiguous:
        assert b.flags.f_contiguous


def test_mode_w_plus_does_not_zero_and_r_plus_writes_through(manager):
    a = np.arange(1000.0)
    b = send(a, manager, max_nbytes=100, mmap_mode="w+")
    assert b.mode == "r+"
    np.testing.assert_array_equal(b, a)
    b[:] = -1
    b.flush()
    c = send(a, manager, max_nbytes=100, mmap_mode="c")
    assert c.filename == b.filename and c.mode == "c"
    assert (c == -1).all()


@pytest.mark.parametrize(
    "view",
    [
        lambda m: m,
        lambda m: m[3:17],
        lambda m: m[5:40:3],
        lambda m: m[::-2],
        lambda m: m.reshape(10, 10)[2:7, 1:9:2],
        lambda m: m.reshape(10, 10).T,
        lambda m: m[8:].view(np.int32),
        lambda m: np.asarray(m)[10:30],
    ],
    ids=["whole", "slice", "step", "reversed", "2d-strided", "transposed", "dtype-view", "ndarray-view"],
)
def test_user_memmaps_and_views_are_sent_by_reference(manager, tmp_path, view):
    path = str(tmp_path / "user.mmap")
    m = np.memmap(path, dtype=np.float64, mode="w+", shape=(100,), offset=24)
    m[:] = np.arange(100)
    v = view(m)
    b = send(v, manager, max_nbytes=None)
    assert has_shareable_memory(b)
    np.testing.assert_array_equal(b, v)
    assert b.shape == v.shape and b.dtype == v.dtype
    if v.flags.c_contiguous or v.flags.f_contiguous:
        assert isinstance(b, np.memmap) and b.filename == os.path.abspath(path)
    else:
        assert b.strides == v.strides
    assert folder_files(manager) == []


def test_write_through_user_memmap_reference(manager, tmp_path):
    path = str(tmp_path / "out.mmap")
    m = np.memmap(path, dtype=np.int64, mode="w+", shape=(20,))
    b = send(m[5:10], manager)
    assert b.mode == "r+" and b.offset == 40
    b[:] = 7
    b.flush()
    assert list(m[4:11]) == [0, 7, 7, 7, 7, 7, 0]


def test_backward_temporary_memmap_comes_back_by_value(manager, tmp_path):
    b = send(np.arange(1000.0), manager, max_nbytes=100)
    back = send_back(b[10:20])
    assert type(back) is np.ndarray and not has_shareable_memory(back)
    np.testing.assert_array_equal(back, np.arange(10.0, 20.0))

    user = np.memmap(str(tmp_path / "u.mmap"), dtype="f4", mode="w+", shape=(50,))
    back = send_back(user[5:9])
    assert isinstance(back, np.memmap) and back.filename == user.filename
    assert reduce_array_memmap_backward(np.arange(3))[0] is not None


def test_reducer_pickles_without_its_state(manager):
    reducer = ArrayMemmapForwardReducer(100, manager, "r", True, verbose=2)
    clone = pickle.loads(pickle.dumps(reducer))
    assert clone._max_nbytes == 100 and clone._mmap_mode == "r" and clone.verbose == 2


@pytest.mark.parametrize(
    "value, expected",
    [(None, None), (0, 0), (1e6, 1_000_000), ("1M", 1024**2), ("10k", 10240), ("2G", 2 * 1024**3)],
)
def test_parse_max_nbytes(value, expected):
    assert parse_max_nbytes(value) == expected


@pytest.mark.parametrize("value, exc", [("lots", ValueError), (-1, ValueError), ([1], TypeError)])
def test_parse_max_nbytes_errors(value, exc):
    with pytest.raises(exc, match="max_nbytes"):
        parse_max_nbytes(value)


def test_bad_mmap_mode_is_rejected():
    with pytest.raises(ValueError, match="mmap_mode"):
        get_memmapping_reducers(temp_folder_resolver=lambda: "x", mmap_mode="rw")


# ---- temporary folder resolution ------------------------------------------------


def test_temp_root_order(monkeypatch, tmp_path):
    monkeypatch.setenv("JOBLIB_TEMP_FOLDER", str(tmp_path / "env"))
    assert temp_folders.resolve_temp_root(str(tmp_path / "arg"))[0] == str(tmp_path / "arg")
    assert temp_folders.resolve_temp_root()[0] == str(tmp_path / "env")
    monkeypatch.delenv("JOBLIB_TEMP_FOLDER")
    monkeypatch.setattr(temp_folders, "_shared_mem_usable", lambda: True)
    assert temp_folders.resolve_temp_root() == ("/dev/shm", True)
    monkeypatch.setattr(temp_folders, "_shared_mem_usable", lambda: False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    assert temp_folders.resolve_temp_root() == (str(tmp_path), False)


def test_shared_mem_needs_more_than_2gb(monkeypatch):
    if not os.path.isdir("/dev/shm") or not hasattr(os, "statvfs"):
        pytest.skip("no /dev/shm here")
    import joblib._memmapping_reducer as owner  # 1.6's home of these globals

    monkeypatch.setattr(owner, "SYSTEM_SHARED_MEM_FS_MIN_SIZE", 2**62)
    assert not temp_folders._shared_mem_usable()
    monkeypatch.setattr(owner, "SYSTEM_SHARED_MEM_FS", "/nonexistent/shm")
    assert not temp_folders._shared_mem_usable()


def test_folder_is_private_and_removed(manager):
    send(np.ones(1000), manager, max_nbytes=100)
    folder = manager.resolve_temp_folder_name()
    assert os.path.basename(folder).startswith("joblib_memmapping_folder_")
    assert oct(os.stat(folder).st_mode & 0o777) == "0o700"
    (name,) = os.listdir(folder)
    assert oct(os.stat(os.path.join(folder, name)).st_mode & 0o777) == "0o600"
    manager._clean_temporary_resources()
    assert not os.path.exists(folder)


def test_unusable_folder_error_names_folder_and_settings(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    manager = TemporaryResourcesManager(str(not_a_dir))
    with pytest.raises(OSError, match="JOBLIB_TEMP_FOLDER") as info:
        send(np.ones(1000), manager, max_nbytes=100)
    assert str(not_a_dir) in str(info.value) and "temp_folder" in str(info.value)


def test_full_folder_error_removes_partial_file(manager, monkeypatch):
    import errno

    from joblib._parallel.memmapping import array_files

    def full(a, fd, order):
        os.write(fd, b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(array_files, "_write_raw", full)
    with pytest.raises(OSError, match="No space left on device") as info:
        send(np.ones(1000), manager, max_nbytes=100)
    assert info.value.errno == errno.ENOSPC
    assert "max_nbytes" in str(info.value) and manager.resolve_temp_folder_name() in str(info.value)
    assert folder_files(manager) == []


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_any_pickle_protocol(manager, protocol):
    forward, _ = get_memmapping_reducers(temp_folder_resolver=manager, max_nbytes=1000)
    small, large = np.arange(10.0), np.arange(1000.0)
    buf = io.BytesIO()
    CustomizablePickler(buf, forward, protocol=protocol).dump([small, large, small[::2]])
    out = pickle.loads(buf.getvalue())
    assert [type(x) for x in out] == [np.ndarray, np.memmap, np.ndarray]
    np.testing.assert_array_equal(out[1], large)
    np.testing.assert_array_equal(out[2], small[::2])
    out[0][0] = 5.0  # arrays sent by value are writable copies


# ---- compatibility paths -------------------------------------------------------

SURFACE = {
    "joblib._memmapping_reducer": [
        "ArrayMemmapForwardReducer", "FILE_PERMISSIONS", "FOLDER_PERMISSIONS", "JOBLIB_MMAPS",
        "SYSTEM_SHARED_MEM_FS", "SYSTEM_SHARED_MEM_FS_MIN_SIZE", "TemporaryResourcesManager",
        "get_memmapping_reducers", "has_shareable_memory", "reduce_array_memmap_backward",
        "_get_backing_memmap", "_get_temp_dir", "_reduce_memmap_backed", "_WeakArrayKeyMap",
        "add_maybe_unlink_finalizer", "unlink_file",
    ],
    "joblib.pool": [
        "CustomizablePickler", "CustomizablePicklingQueue", "MemmappingPool", "PicklingPool",
        "TemporaryResourcesManager", "get_memmapping_reducers", "mp", "assert_spawning",
    ],
    "joblib.executor": [
        "MemmappingExecutor", "get_memmapping_executor", "TemporaryResourcesManager",
        "get_memmapping_reducers", "_TestingMemmappingExecutor",
    ],
}


@pytest.mark.parametrize("module", sorted(SURFACE))
def test_joblib_16_names_exist(module):
    import importlib

    mod = importlib.import_module(module)
    missing = [name for name in SURFACE[module] if not hasattr(mod, name)]
    assert missing == []
    assert set(mod.__all__) <= set(dir(mod))


def test_get_temp_dir_compat(tmp_path):
    from joblib._memmapping_reducer import _get_temp_dir

    assert _get_temp_dir("sub", str(tmp_path)) == (str(tmp_path / "sub"), False)
    assert not (tmp_path / "sub").exists()
    assert temp_folders.SYSTEM_SHARED_MEM_FS_MIN_SIZE == int(2e9)


def test_empty_views_of_memmaps(manager, tmp_path):
    m = np.memmap(str(tmp_path / "e.mmap"), dtype=np.float64, mode="w+", shape=(10,))
    b = send(m[5:5], manager)
    assert b.shape == (0,) and b.dtype == np.float64
    assert send(np.zeros((0, 3)), manager, max_nbytes=0).shape == (0, 3)

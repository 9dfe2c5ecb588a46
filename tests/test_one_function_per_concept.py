"""One function per concept: each argument is checked by one validator, with
one wording of its error, wherever users pass it (issue #17, item 4)."""

import os

import pytest

np = pytest.importorskip("numpy")

from joblib import Memory, Parallel, delayed, dump, load  # noqa: E402
from joblib._parallel.memmapping.forward import (  # noqa: E402
    get_memmapping_reducers,
    parse_max_nbytes,
)
from joblib._store.atomic import atomic_write, replace_on_success  # noqa: E402
from joblib._store.item_io import write_bytes_atomic  # noqa: E402
from joblib.disk import memstr_to_bytes  # noqa: E402

# joblib 1.6's text for a bad size string (its typo included).
SIZE_16_PREFIX = "Invalid literal for size give: "


def _message(func, *args, **kwargs):
    with pytest.raises(ValueError) as excinfo:
        func(*args, **kwargs)
    return str(excinfo.value)


def test_mmap_mode_has_one_wording_everywhere(tmp_path):
    path = str(tmp_path / "a.pkl")
    dump(np.arange(3), path)
    messages = {
        _message(load, path, mmap_mode="rw"),
        _message(Memory, str(tmp_path), mmap_mode="rw"),
        _message(get_memmapping_reducers, temp_folder_resolver=lambda: "x", mmap_mode="rw"),
    }
    assert len(messages) == 1, messages
    (message,) = messages
    assert message.startswith("mmap_mode should be one of None, 'r+', 'r', 'w+', 'c'")
    assert "'rw' (type str)" in message


@pytest.mark.parametrize("long_name, short", [("readonly", "r"), ("copyonwrite", "c")])
def test_numpy_long_mmap_names_are_accepted_as_in_joblib_16(tmp_path, long_name, short):
    path = str(tmp_path / "a.pkl")
    dump(np.arange(3.0), path)
    loaded = load(path, mmap_mode=long_name)
    assert isinstance(loaded, np.memmap) and loaded.mode == short
    mem = Memory(str(tmp_path / "cache"), mmap_mode=long_name, verbose=0)
    cached = mem.cache(np.ones)
    cached(4)
    assert isinstance(cached(4), np.memmap)


def test_write_long_name_does_not_truncate_the_workers_data():
    # 'write' is numpy's name of 'w+', which workers must open as 'r+'.
    data = np.arange(1000.0)
    out = Parallel(n_jobs=2, max_nbytes=10, mmap_mode="write")(
        delayed(np.sum)(data) for _ in range(2)
    )
    assert out == [data.sum()] * 2


@pytest.mark.parametrize("text", ["10MB", "lots", ""])
def test_size_strings_have_one_wording_starting_with_joblib_16s(text):
    strict = _message(memstr_to_bytes, text)
    lenient = _message(parse_max_nbytes, text)
    assert strict.startswith(SIZE_16_PREFIX + text + " (type <class 'str'>)")
    assert lenient.startswith(SIZE_16_PREFIX + text + " (type <class 'str'>)")
    assert "max_nbytes=%r" % (text,) in lenient


def test_parallel_max_nbytes_string_error_starts_with_joblib_16s():
    message = _message(Parallel, n_jobs=2, max_nbytes="1T")
    assert message.startswith(SIZE_16_PREFIX + "1T")


@pytest.mark.parametrize("writer", ["replace_on_success", "atomic_write", "write_bytes_atomic"])
def test_every_atomic_writer_leaves_nothing_behind_on_failure(tmp_path, writer):
    target = tmp_path / "out"
    target.write_bytes(b"old")

    def fail():
        if writer == "replace_on_success":
            with replace_on_success(str(target)) as tmp:
                open(tmp, "wb").close()
                raise KeyboardInterrupt
        elif writer == "atomic_write":
            with atomic_write(str(target)) as f:
                f.write(b"half")
                raise KeyboardInterrupt
        else:
            write_bytes_atomic(str(target), None)  # fails after creating the file

    with pytest.raises((KeyboardInterrupt, TypeError, ValueError, NotImplementedError)):
        fail()
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out"]


@pytest.mark.parametrize("options", [{}, {"retries": 1}], ids=["plain", "fault_tolerant"])
def test_every_run_builds_the_same_progress_events(options):
    events = []
    out = Parallel(n_jobs=2, backend="threading", batch_size=1, progress=events.append,
                   **options)(delayed(abs)(-i) for i in range(4))
    assert out == [0, 1, 2, 3]
    assert sorted(e.index for e in events) == [0, 1, 2, 3]
    assert [e.n_completed for e in events] == [1, 2, 3, 4]
    assert all(e.batch_size == 1 for e in events)


def test_replace_on_success_on_another_file_system():
    # The fsspec store passes its file system's mv and rm_file.
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    fs.pipe_file("/store/out", b"old")
    with pytest.raises(KeyboardInterrupt):
        with replace_on_success("/store/out", "/store/out.tmp", fs.mv, fs.rm_file) as tmp:
            fs.pipe_file(tmp, b"half")
            raise KeyboardInterrupt
    assert fs.ls("/store", detail=False) == ["/store/out"] and fs.cat("/store/out") == b"old"
    with replace_on_success("/store/out", "/store/out.tmp", fs.mv, fs.rm_file) as tmp:
        fs.pipe_file(tmp, b"new")
    assert fs.ls("/store", detail=False) == ["/store/out"] and fs.cat("/store/out") == b"new"

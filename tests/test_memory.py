"""Behaviour of joblib.Memory as users see it: caching, layout, options, errors."""

from __future__ import annotations

import asyncio
import glob
import logging
import os
import pickle

import pytest

import joblib
from joblib import Memory, MemorizedResult, expires_after
from joblib._store_backends import CacheWarning
from joblib.memory import (
    AsyncMemorizedFunc,
    AsyncNotMemorizedFunc,
    MemorizedFunc,
    NotMemorizedFunc,
    NotMemorizedResult,
    _FUNCTION_HASHES,
)


@pytest.fixture
def memory(tmp_path):
    return Memory(tmp_path, verbose=0)


@pytest.fixture
def counted():
    """A function that records its calls."""
    calls = []

    def f(x, y=1):
        calls.append((x, y))
        return x + y

    f.calls = calls
    return f


def entry_dirs(mf):
    func_dir = os.path.join(mf.store_backend.location, mf.func_id)
    return sorted(d for d in os.listdir(func_dir) if len(d) == 32)


# --- basic caching ------------------------------------------------------------


def test_cache_hit_and_miss(memory, counted):
    f = memory.cache(counted)
    assert isinstance(f, MemorizedFunc)
    assert f(1) == 2 and f(1) == 2
    assert f(2) == 3
    assert counted.calls == [(1, 1), (2, 1)]


def test_positional_keyword_and_default_share_an_entry(memory, counted):
    f = memory.cache(counted)
    assert f(1) == f(x=1) == f(1, 1) == f(1, y=1) == 2
    assert counted.calls == [(1, 1)]
    assert len(entry_dirs(f)) == 1


def test_on_disk_layout(tmp_path, counted):
    f = Memory(str(tmp_path), verbose=0).cache(counted)
    f(3)
    func_dir = os.path.join(str(tmp_path), "joblib", *f.func_id.split(os.sep))
    assert f.store_backend.location == os.path.join(str(tmp_path), "joblib")
    (entry,) = entry_dirs(f)
    assert sorted(os.listdir(os.path.join(func_dir, entry))) == [
        "metadata.json",
        "output.pkl",
    ]
    with open(os.path.join(func_dir, "func_code.py")) as fh:
        header = fh.readline()
    assert header.startswith("# first line: ")
    assert f.func_id.endswith(os.path.join("<locals>", "f"))
    with open(tmp_path / ".gitignore") as fh:
        assert fh.read() == "# Created by joblib automatically.\n*\n"


def test_gitignore_is_never_overwritten(tmp_path):
    (tmp_path / ".gitignore").write_text("keep me\n")
    Memory(str(tmp_path), verbose=0).cache(abs)(-1)
    assert (tmp_path / ".gitignore").read_text() == "keep me\n"


def test_pathlib_location_stores_in_the_directory_itself(tmp_path, counted):
    # joblib 1.6 appends 'joblib' only to str locations.
    memory = Memory(tmp_path, verbose=0)
    assert memory.store_backend.location == str(tmp_path)
    assert repr(memory) == "Memory(location=%s)" % tmp_path


def test_reprs(tmp_path, counted):
    memory = Memory(str(tmp_path), verbose=0)
    f = memory.cache(counted)
    loc = os.path.join(str(tmp_path), "joblib")
    assert repr(memory) == "Memory(location=%s)" % loc
    assert repr(f) == "MemorizedFunc(func=%r, location=%s)" % (counted, loc)
    assert repr(f.store_backend) == 'FileSystemStoreBackend(location="%s")' % loc
    assert repr(Memory(None)) == "Memory(location=None)"


def test_memorized_func_wraps_the_function(memory):
    def documented(a):
        """Some documentation."""
        return a

    f = memory.cache(documented)
    assert f.__name__ == "documented" and f.__wrapped__ is documented
    assert f.__doc__.startswith("Memoized version of documented(a)")
    assert "Some documentation." in f.__doc__
    assert memory.cache(f).func is documented  # re-wrapping unwraps


def test_cache_as_decorator_with_arguments(memory):
    calls = []

    @memory.cache(ignore=["verbose"], verbose=0)
    def g(x, verbose=False):
        calls.append(x)
        return x

    assert g(1, verbose=True) == g(1, verbose=False) == 1
    assert calls == [1]
    assert g.ignore == ["verbose"]


def test_memory_eval(memory, counted):
    assert memory.eval(counted, 1, y=2) == 3
    assert memory.eval(counted, 1, y=2) == 3
    assert counted.calls == [(1, 2)]
    assert Memory(None).eval(counted, 0) == 1


# --- location=None ------------------------------------------------------------


def test_no_location_is_transparent(counted):
    memory = Memory(None)
    f = memory.cache(counted)
    assert isinstance(f, NotMemorizedFunc)
    assert f(1) == 2 and f(1) == 2 and len(counted.calls) == 2
    assert f.call(1) == (2, {})
    assert f.check_call_in_cache(1) is False
    result = f.call_and_shelve(5)
    assert isinstance(result, NotMemorizedResult) and result.get() == 6
    assert repr(result) == "NotMemorizedResult(6)"
    result.clear()
    with pytest.raises(KeyError):
        result.get()
    assert repr(result) == "NotMemorizedResult with no value"
    memory.clear(warn=False)
    assert memory.reduce_size(items_limit=1) is None
    f.clear()


def test_not_memorized_result_pickles():
    result = pickle.loads(pickle.dumps(NotMemorizedResult([1])))
    assert result.get() == [1]


# --- call / shelve / check ----------------------------------------------------


def test_call_forces_recompute_and_returns_metadata(memory, counted):
    f = memory.cache(counted)
    f(1)
    out, metadata = f.call(1)
    assert out == 2 and len(counted.calls) == 2
    assert set(metadata) == {"duration", "input_args", "time"}
    assert metadata["input_args"] == {"y": "1", "x": "1"}


def test_check_call_in_cache(memory, counted):
    f = memory.cache(counted)
    assert not f.check_call_in_cache(1)
    f(1)
    assert f.check_call_in_cache(1) and not f.check_call_in_cache(2)
    assert counted.calls == [(1, 1)]


def test_call_and_shelve(memory, counted):
    f = memory.cache(counted)
    result = f.call_and_shelve(4)
    assert isinstance(result, MemorizedResult)
    assert result.get() == 5 and f.call_and_shelve(4).get() == 5
    assert len(counted.calls) == 1
    assert result.func_id == result.func == f.func_id and len(result.args_id) == 32
    assert result.duration >= 0
    assert repr(result) == 'MemorizedResult(location="%s", func="%s", args_id="%s")' % (
        f.store_backend.location,
        f.func_id,
        result.args_id,
    )
    again = pickle.loads(pickle.dumps(result))
    assert again.get() == 5 and again.timestamp is None
    rebuilt = MemorizedResult(
        location=f.store_backend.location, func=result.func_id, args_id=result.args_id
    )
    assert rebuilt.get() == 5
    result.clear()
    with pytest.raises(KeyError):
        again.get()


def test_memorized_result_rejects_escaping_ids(memory):
    with pytest.raises(ValueError, match="outside of the cache location"):
        MemorizedResult(memory.store_backend, ("../../etc", "x"))


def test_clear_function_and_memory(memory, counted):
    f = memory.cache(counted)
    f(1)
    f.clear(warn=False)
    assert entry_dirs(f) == []
    f(1)
    memory.clear(warn=False)
    assert len(_FUNCTION_HASHES) == 0
    assert f(1) == 2 and len(counted.calls) == 3
    assert f(1) == 2 and len(counted.calls) == 3


def test_memory_clear_warns_through_logging(memory, caplog):
    with caplog.at_level(logging.WARNING, logger="joblib"):
        memory.clear()
    assert "Flushing completely the cache" in caplog.text


# --- validation callback ------------------------------------------------------


def test_cache_validation_callback(memory, counted):
    verdicts = []
    f = memory.cache(counted, cache_validation_callback=lambda meta: verdicts.pop())
    f(1)
    verdicts.append(True)
    assert f(1) == 2 and len(counted.calls) == 1
    verdicts.append(False)
    assert f(1) == 2 and len(counted.calls) == 2
    verdicts.append(False)
    assert not f.check_call_in_cache(1)


def test_validation_callback_must_be_callable(memory):
    with pytest.raises(
        ValueError, match="cache_validation_callback needs to be callable"
    ):
        memory.cache(abs, cache_validation_callback=1)


def test_expires_after():
    import time

    fresh = expires_after(seconds=60)
    assert fresh({"time": time.time()})
    assert not fresh({"time": time.time() - 120})
    assert not expires_after(seconds=-1)({"time": time.time()})
    assert not fresh({})  # no metadata: expired rather than a KeyError


# --- options ------------------------------------------------------------------


def test_invalid_compress_fails_at_construction(tmp_path):
    with pytest.raises(ValueError, match="compress"):
        Memory(tmp_path, compress=12)
    with pytest.raises(ValueError):
        Memory(tmp_path, compress=("nope", 3))
    with pytest.raises(TypeError):
        Memory(tmp_path, compress=1.5)


def test_invalid_mmap_mode_fails_at_construction(tmp_path):
    with pytest.raises(ValueError, match="mmap_mode"):
        Memory(tmp_path, mmap_mode="rw")


def test_compressed_results(tmp_path, counted):
    f = Memory(tmp_path, compress=3, verbose=0).cache(counted)
    assert f(1) == 2 and f(1) == 2 and len(counted.calls) == 1
    (entry,) = entry_dirs(f)
    with open(
        os.path.join(f.store_backend.location, f.func_id, entry, "output.pkl"), "rb"
    ) as fh:
        assert fh.read(1) == b"x"  # zlib stream


def test_compress_with_mmap_mode_warns(tmp_path):
    with pytest.warns(UserWarning, match="cannot be memmapped"):
        Memory(tmp_path, compress=True, mmap_mode="r")


def test_mmap_mode_returns_memmaps_from_the_first_call(tmp_path):
    np = pytest.importorskip("numpy")
    memory = Memory(tmp_path, mmap_mode="r", verbose=0)

    def arange(n):
        return np.arange(n, dtype=float)

    def ones(n):
        return np.ones(n)

    f = memory.cache(arange)
    first, second = f(10), f(10)
    assert isinstance(first, np.memmap) and isinstance(second, np.memmap)
    np.testing.assert_array_equal(second, np.arange(10.0))
    plain = memory.cache(ones, mmap_mode=None)
    assert not isinstance(plain(3), np.memmap)
    assert not isinstance(plain(3), np.memmap)  # per-function mode on hits too
    mapped = Memory(tmp_path / "other", verbose=0).cache(ones, mmap_mode="r")
    assert isinstance(mapped(4), np.memmap) and isinstance(mapped(4), np.memmap)


def test_unknown_backend_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="Unknown location"):
        Memory(tmp_path, backend="nope")


def test_non_path_location_warns_and_disables_caching():
    with pytest.warns(UserWarning, match="not supported"):
        memory = Memory(location=12)
    assert memory.store_backend is None


def test_backend_options_cannot_shadow_arguments(tmp_path):
    with pytest.raises(TypeError, match="compress"):
        Memory(tmp_path, backend_options={"compress": 3})


# --- verbose output -----------------------------------------------------------


def test_verbose_messages(tmp_path, capsys):
    memory = Memory(tmp_path, verbose=5)

    def shout(x):
        return x

    f = memory.cache(shout)
    f(7)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "_" * 80
    assert lines[1].startswith("[Memory] Calling ") and lines[1].endswith(".shout...")
    assert lines[2] == "shout(7)"
    assert lines[3].endswith("shout - 0.0s, 0.0min") and len(lines[3]) == 80
    f(7)
    out = capsys.readouterr().out
    assert "[Memory]" in out and "Loading shout..." in out
    assert "shout cache loaded - 0.0s, 0.0min" in out
    Memory(tmp_path, verbose=0).cache(shout)(8)
    assert capsys.readouterr().out == ""


# --- failures -----------------------------------------------------------------


def test_unpicklable_result_warns_and_returns_the_value(memory):
    calls = []

    def make(x):
        calls.append(x)
        return lambda: x  # a local lambda cannot be pickled

    f = memory.cache(make)
    with pytest.warns(CacheWarning, match="failed to pickle"):
        out = f(1)
    assert out() == 1
    with pytest.warns(CacheWarning):
        assert f(1)() == 1
    assert calls == [1, 1]
    with pytest.warns(CacheWarning):
        shelved = f.call_and_shelve(2)
    assert shelved.get()() == 2
    assert not glob.glob(
        os.path.join(f.store_backend.location, "**", "*.tmp"), recursive=True
    )


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupted_entry_is_reported_and_recomputed(memory, counted, damage):
    f = memory.cache(counted)
    f(list(range(50)), y=[1])
    (entry,) = entry_dirs(f)
    path = os.path.join(f.store_backend.location, f.func_id, entry, "output.pkl")
    data = open(path, "rb").read()
    new = {
        "truncate": data[: len(data) // 2],
        "garbage": b"\x80\x04garbage",
        "empty": b"",
    }
    with open(path, "wb") as fh:
        fh.write(new[damage])
    result = f.call_and_shelve(list(range(50)), y=[1])
    with pytest.raises(KeyError, match="corrupted"):
        result.get()
    with pytest.warns(CacheWarning, match="Exception while loading results"):
        assert f(list(range(50)), y=[1]) == list(range(50)) + [1]
    assert len(counted.calls) == 2
    assert f(list(range(50)), y=[1]) == list(range(50)) + [1]
    assert len(counted.calls) == 2


def test_location_that_cannot_be_created_names_the_path(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(OSError, match="Cannot create the cache directory") as info:
        Memory(str(blocker / "cache"))
    assert str(blocker / "cache") in str(info.value)


def add(a, b=0):
    add.calls.append((a, b))
    return a + b


add.calls = []


# --- pickling -----------------------------------------------------------------


def test_memory_and_memorized_func_pickle(memory, counted):
    f = memory.cache(add)
    f(2, 3)
    memory2 = pickle.loads(pickle.dumps(memory))
    assert memory2.timestamp is None and repr(memory2) == repr(memory)
    f2 = pickle.loads(pickle.dumps(f))
    assert f2.timestamp is None and f2.func is add
    add.calls.clear()
    assert f2(2, 3) == 5 and add.calls == []
    assert joblib.hash(memory) == joblib.hash(memory2)


def test_memorized_func_state_has_only_joblib16_names(memory):
    f = memory.cache(add)
    f(1)
    state = f.__getstate__()
    assert not [k for k in state if k.startswith("_jl_")]
    assert {
        "func",
        "func_id",
        "store_backend",
        "ignore",
        "mmap_mode",
        "compress",
        "_verbose",
        "timestamp",
        "_func_code_info",
        "_func_code_id",
        "cache_validation_callback",
    } <= set(state)


# --- async --------------------------------------------------------------------


def test_async_functions(tmp_path):
    calls = []

    async def slow_double(x):
        calls.append(x)
        await asyncio.sleep(0)
        return 2 * x

    memory = Memory(tmp_path, verbose=0)
    f = memory.cache(slow_double)
    assert isinstance(f, AsyncMemorizedFunc)

    async def scenario():
        assert await f(2) == 4
        assert await f(2) == 4
        shelved = await f.call_and_shelve(3)
        assert shelved.get() == 6
        out, metadata = await f.call(2)
        assert out == 4 and "duration" in metadata

    asyncio.run(scenario())
    assert calls == [2, 3, 2]
    g = Memory(None).cache(slow_double)
    assert isinstance(g, AsyncNotMemorizedFunc)
    assert asyncio.run(g(5)) == 10
    assert asyncio.run(g.call_and_shelve(5)).get() == 10


# --- reduce_size --------------------------------------------------------------


def _touch(mf, args_id, when):
    path = os.path.join(mf.store_backend.location, mf.func_id, args_id, "output.pkl")
    st = os.stat(path)
    os.utime(path, (when, st.st_mtime))


def test_reduce_size_evicts_least_recently_accessed(memory, counted):
    f = memory.cache(counted)
    for x in range(4):
        f(x)
    ids = {x: f.call_and_shelve(x).args_id for x in range(4)}
    base = 1_700_000_000
    for x in range(4):
        _touch(f, ids[x], base + x)
    f(0)  # accessing an entry makes it the most recent
    memory.reduce_size(items_limit=2)
    assert sorted(entry_dirs(f)) == sorted([ids[0], ids[3]])
    memory.reduce_size(bytes_limit="1K")
    assert len(entry_dirs(f)) <= 2
    memory.reduce_size(bytes_limit=0)
    assert entry_dirs(f) == []


def test_reduce_size_age_limit(memory, counted):
    import datetime
    import time

    f = memory.cache(counted)
    f(1)
    f(2)
    old = f.call_and_shelve(1).args_id
    _touch(f, old, time.time() - 3600)
    memory.reduce_size(age_limit=datetime.timedelta(minutes=5))
    assert len(entry_dirs(f)) == 1 and old not in entry_dirs(f)
    with pytest.raises(ValueError, match="positive timedelta"):
        memory.reduce_size(age_limit=datetime.timedelta(seconds=-1))
    memory.reduce_size()  # no limit: nothing happens
    assert len(entry_dirs(f)) == 1


def test_decorating_creates_the_function_directory(memory, counted):
    f = memory.cache(counted)
    assert os.path.isdir(os.path.join(f.store_backend.location, f.func_id))
    assert entry_dirs(f) == []


def test_read_only_location_is_a_clear_error(tmp_path, counted):
    if os.geteuid() == 0:
        # Root ignores directory permissions; sysfs refuses mkdir even to root.
        with pytest.raises(PermissionError, match="Cannot create the cache directory"):
            Memory("/sys/joblib-test-cache", verbose=0)
        return
    memory = Memory(str(tmp_path), verbose=0)
    os.chmod(memory.store_backend.location, 0o500)
    try:
        with pytest.raises(PermissionError, match="Cannot create the cache directory"):
            memory.cache(counted)
    finally:
        os.chmod(memory.store_backend.location, 0o700)


def test_expires_after_recomputes_old_results(memory, counted):
    import json
    import time

    f = memory.cache(counted, cache_validation_callback=expires_after(minutes=5))
    f(1)
    assert f(1) == 2 and len(counted.calls) == 1
    (entry,) = entry_dirs(f)
    meta_path = os.path.join(f.store_backend.location, f.func_id, entry, "metadata.json")
    with open(meta_path) as fh:
        metadata = json.load(fh)
    metadata["time"] = time.time() - 3600
    with open(meta_path, "w") as fh:
        json.dump(metadata, fh)
    assert not f.check_call_in_cache(1)
    assert f(1) == 2 and len(counted.calls) == 2
    assert f(1) == 2 and len(counted.calls) == 2

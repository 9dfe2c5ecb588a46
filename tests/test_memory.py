"""Behaviour of joblib.Memory as users see it: caching, layout, options, errors."""

from __future__ import annotations

import asyncio
import functools
import glob
import logging
import os
import pathlib
import pickle
import warnings

import pytest

import joblib
from joblib import Memory, MemorizedResult, expires_after
from joblib._store_backends import CacheWarning
from joblib.memory import (
    AsyncMemorizedFunc,
    AsyncNotMemorizedFunc,
    JobLibCollisionWarning,
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


# --- basic caching --------------------------------------------------------


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


# --- location=None ----------------------------------------------------------


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


# --- identity of functions --------------------------------------------------


def test_nested_functions_have_distinct_ids(memory):
    def outer_a():
        def inner(x):
            return ("a", x)

        return inner

    def outer_b():
        def inner(x):
            return ("b", x)

        return inner

    fa, fb = memory.cache(outer_a()), memory.cache(outer_b())
    assert fa.func_id != fb.func_id
    assert fa(1) == ("a", 1) and fb(1) == ("b", 1)


class Counter:
    def __init__(self):
        self.calls = 0

    def method(self, x):
        self.calls += 1
        return x * 10


def test_methods_with_ignore_self(memory):
    a, b = Counter(), Counter()
    cached_a = memory.cache(a.method, ignore=["self"])
    cached_b = memory.cache(b.method, ignore=["self"])
    assert cached_a(2) == 20 and cached_b(2) == 20
    assert (a.calls, b.calls) == (1, 0)  # shared entry: self is ignored
    assert cached_a.func_id.endswith(os.path.join("Counter", "method"))


def add(a, b=0):
    add.calls.append((a, b))
    return a + b


add.calls = []


def test_partial_is_cached_by_its_function_and_bound_arguments(memory):
    add.calls.clear()
    p1 = memory.cache(functools.partial(add, 1))
    p2 = memory.cache(functools.partial(add, 2))
    assert p1(b=5) == 6 and p1(b=5) == 6 and p2(b=5) == 7
    assert add.calls == [(1, 5), (2, 5)]
    # Same call through the plain function: same entry.
    assert memory.cache(add)(1, b=5) == 6 and len(add.calls) == 2
    # A pickled partial hits in another "process" (no repr-based identity).
    again = pickle.loads(pickle.dumps(p1))
    assert again(b=5) == 6 and len(add.calls) == 2


def test_lambdas_sharing_an_id_warn_and_stay_correct(memory):
    f1 = memory.cache(lambda x: x + 1)
    f2 = memory.cache(lambda x: x + 2)
    assert f1.func_id == f2.func_id
    assert f1(1) == 2
    with pytest.warns(JobLibCollisionWarning) as record:
        assert f2(1) == 3
    assert "Cannot detect name collisions for function '<lambda>" in str(record[0].message)
    with pytest.warns(JobLibCollisionWarning):
        assert f1(1) == 2


def test_function_names_cannot_escape_the_cache(tmp_path):
    memory = Memory(str(tmp_path / "cache"), verbose=0)

    def evil(x):
        return x

    evil.__name__ = "../../../escaped"
    evil.__qualname__ = "../../../escaped"
    evil.__module__ = "/abs/../mod"
    f = memory.cache(evil)
    assert f(1) == 1
    root = os.path.realpath(str(tmp_path / "cache" / "joblib"))
    for path in glob.glob(str(tmp_path / "**"), recursive=True):
        if os.path.isfile(path) and not path.endswith(".gitignore"):
            assert os.path.realpath(path).startswith(root + os.sep), path
    assert not os.path.exists(str(tmp_path / "escaped"))


# --- arguments ----------------------------------------------------------------


def test_ignore_unknown_name_is_a_clear_error(memory):
    f = memory.cache(lambda x: x, ignore=["y"])
    with pytest.raises(ValueError, match="argument 'y' is not defined"):
        f(1)


def test_ignore_as_a_string_is_rejected(memory):
    f = memory.cache(lambda x: x, ignore="x")
    with pytest.raises(ValueError, match="ignore_lst must be a list"):
        f(1)


def test_wrong_arguments_raise_value_error(memory, counted):
    f = memory.cache(counted)
    with pytest.raises(ValueError, match="Wrong number of arguments"):
        f()
    with pytest.raises(ValueError, match="Too many arguments"):
        f(1, 2, 3)


def test_unhashable_argument_error_names_it(memory):
    import threading

    f = memory.cache(lambda data, flag=None: 1)
    with pytest.raises(TypeError, match="'flag'") as info:
        f(1, flag=threading.Lock())
    assert isinstance(info.value, pickle.PicklingError)


def test_keyword_only_and_varargs(memory):
    calls = []

    def g(a, *args, key=3, **kwargs):
        calls.append(a)
        return a, args, key, kwargs

    f = memory.cache(g)
    assert f(1, 2, key=4, z=5) == (1, (2,), 4, {"z": 5})
    assert f(1, 2, z=5, key=4) == (1, (2,), 4, {"z": 5})
    assert f(1, 2, key=3, z=5) == (1, (2,), 3, {"z": 5})
    assert len(calls) == 2


# --- call / shelve / check ------------------------------------------------------


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


# --- validation callback ----------------------------------------------------------


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
    with pytest.raises(ValueError, match="cache_validation_callback needs to be callable"):
        memory.cache(abs, cache_validation_callback=1)


def test_expires_after():
    import time

    fresh = expires_after(seconds=60)
    assert fresh({"time": time.time()})
    assert not fresh({"time": time.time() - 120})
    assert not expires_after(seconds=-1)({"time": time.time()})
    assert not fresh({})  # no metadata: expired rather than a KeyError


# --- options ------------------------------------------------------------------------


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
    with open(os.path.join(f.store_backend.location, f.func_id, entry, "output.pkl"), "rb") as fh:
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


# --- verbose output ----------------------------------------------------------------


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


# --- failures --------------------------------------------------------------------------


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
    assert not glob.glob(os.path.join(f.store_backend.location, "**", "*.tmp"), recursive=True)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupted_entry_is_reported_and_recomputed(memory, counted, damage):
    f = memory.cache(counted)
    f(list(range(50)), y=[1])
    (entry,) = entry_dirs(f)
    path = os.path.join(f.store_backend.location, f.func_id, entry, "output.pkl")
    data = open(path, "rb").read()
    new = {"truncate": data[: len(data) // 2], "garbage": b"\x80\x04garbage", "empty": b""}
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


# --- code changes ------------------------------------------------------------------------


def _write_module(path: pathlib.Path, body: str):
    path.write_text(body)
    # Make sure the new source is seen even within the same second.
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def _import_fresh(name: str):
    import importlib
    import sys

    sys.modules.pop(name, None)
    importlib.invalidate_caches()
    return importlib.import_module(name)


def test_code_change_invalidates_and_recomputes(tmp_path, monkeypatch, caplog):
    monkeypatch.syspath_prepend(str(tmp_path))
    module_file = tmp_path / "memo_changing_mod.py"
    _write_module(module_file, "def compute(x):\n    return x + 1\n")
    memory = Memory(str(tmp_path / "cache"), verbose=1)
    mod = _import_fresh("memo_changing_mod")
    assert memory.cache(mod.compute)(1) == 2
    assert memory.cache(mod.compute).check_call_in_cache(1)

    _write_module(module_file, "def compute(x):\n    return x + 100\n")
    mod = _import_fresh("memo_changing_mod")
    f = memory.cache(mod.compute)
    assert not f.check_call_in_cache(1)  # honours the code change
    with caplog.at_level(logging.WARNING, logger="joblib"):
        assert f(1) == 101
    assert "Clearing function cache identified by" in caplog.text
    assert f.check_call_in_cache(1)
    # The previous definition is not served the new results.
    _write_module(module_file, "\n\ndef compute(x):\n    return x + 100\n")
    mod = _import_fresh("memo_changing_mod")
    # Moving the function without editing it keeps its results.
    assert memory.cache(mod.compute).check_call_in_cache(1)


def test_function_hashes_table_is_patchable(memory, counted, monkeypatch):
    import weakref

    f = memory.cache(counted)
    f(1)
    monkeypatch.setattr(joblib.memory, "_FUNCTION_HASHES", weakref.WeakKeyDictionary())
    assert f(1) == 2 and len(counted.calls) == 1
    assert counted in joblib.memory._FUNCTION_HASHES


# --- pickling ------------------------------------------------------------------------------


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
    assert {"func", "func_id", "store_backend", "ignore", "mmap_mode", "compress",
            "_verbose", "timestamp", "_func_code_info", "_func_code_id",
            "cache_validation_callback"} <= set(state)


# --- async -----------------------------------------------------------------------------------


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


# --- reduce_size ---------------------------------------------------------------------------------


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


# --- __main__ scripts and interactive cells ------------------------------------------------


MAIN_SCRIPT = """
import sys
from joblib import Memory

memory = Memory(sys.argv[1], verbose=0)

@memory.cache
def from_main(x):
    print("computing", x)
    return x * 3

print("result", from_main(7))
"""


def test_functions_of_main_scripts_are_cached_across_runs(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(MAIN_SCRIPT)
    root = os.path.dirname(os.path.dirname(os.path.abspath(joblib.__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    outputs = [
        subprocess.run(
            [sys.executable, str(script), str(tmp_path / "cache")],
            capture_output=True, text=True, env=env, timeout=60, check=True,
        ).stdout
        for _ in range(2)
    ]
    assert outputs[0] == "computing 7\nresult 21\n"
    assert outputs[1] == "result 21\n"
    func_dirs = glob.glob(str(tmp_path / "cache" / "joblib" / "__main__-*" / "from_main"))
    assert len(func_dirs) == 1 and "script" in func_dirs[0]


def _cell_function(source, execution_count):
    import linecache
    import types

    filename = "<ipython-input-%d-5d41402abc>" % execution_count
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    (func_code,) = [c for c in code.co_consts if hasattr(c, "co_code")]
    return types.FunctionType(func_code, {"__name__": "__main__", "CALLS": []})


def test_ipython_cell_rerun_hits_the_cache(memory):
    source = "def cell(x):\n    CALLS.append(x)\n    return x + 0.5\n"
    first, rerun = _cell_function(source, 3), _cell_function(source, 9)
    assert memory.cache(first)(1) == 1.5
    assert memory.cache(rerun)(1) == 1.5
    assert first.__globals__["CALLS"] == [1] and rerun.__globals__["CALLS"] == []


def test_highest_verbosity_logs_each_query(tmp_path, caplog, capsys):
    f = Memory(tmp_path, verbose=20).cache(abs)
    with caplog.at_level(logging.INFO, logger="joblib"):
        f(-4)
    assert "Querying abs with signature" in caplog.text
    assert "abs(-4)" in caplog.text
    assert "Persisting in" in capsys.readouterr().out

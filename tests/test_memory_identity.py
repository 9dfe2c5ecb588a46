"""Memory: how functions and calls are identified, and code-change detection."""

from __future__ import annotations

import functools
import glob
import logging
import os
import pathlib
import pickle

import pytest

import joblib
from joblib import Memory
from joblib.memory import JobLibCollisionWarning


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


# --- identity of functions ----------------------------------------------------


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
    assert "Cannot detect name collisions for function '<lambda>" in str(
        record[0].message
    )
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


# --- code changes -------------------------------------------------------------


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


# --- __main__ scripts and interactive cells -----------------------------------


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
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        ).stdout
        for _ in range(2)
    ]
    assert outputs[0] == "computing 7\nresult 21\n"
    assert outputs[1] == "result 21\n"
    func_dirs = glob.glob(
        str(tmp_path / "cache" / "joblib" / "__main__-*" / "from_main")
    )
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

"""Interoperability with real joblib 1.6.0: its caches and its pickles.

The fixtures in ``tests/data`` were written by joblib 1.6.0 with
``tests/data/create_joblib16_cache.py``. Tests that run joblib 1.6.0 itself
need ``/work/refvenv`` and are skipped elsewhere.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap

import pytest

from joblib import Memory
from joblib._store_backends import FileSystemStoreBackend
from joblib.memory import (
    MemorizedFunc,
    MemorizedResult,
    NotMemorizedFunc,
    NotMemorizedResult,
)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
REF_PYTHON = "/work/refvenv/bin/python"
with open(os.path.join(DATA, "joblib16_memory_expected.json")) as _f:
    EXPECTED = json.load(_f)


@pytest.fixture
def funcs(monkeypatch):
    """The fixture's module, imported under the name 1.6 used, with a fresh call log."""
    monkeypatch.syspath_prepend(DATA)
    sys.modules.pop("joblib16_memory_funcs", None)
    module = importlib.import_module("joblib16_memory_funcs")
    yield module
    sys.modules.pop("joblib16_memory_funcs", None)


@pytest.fixture
def cache_copy(tmp_path, monkeypatch):
    """A copy of the 1.6 cache in tmp_path, which becomes the cwd."""
    shutil.copytree(os.path.join(DATA, "joblib16_cache"), tmp_path / "joblib16_cache")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "joblib16_cache"


def _snapshot(root) -> dict:
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, root)] = f.read()
    return files


def test_joblib16_cache_is_reused_without_recomputing(funcs, cache_copy):
    before = _snapshot(cache_copy)
    memory = Memory(str(cache_copy), verbose=0)
    for name in ("square", "combine", "describe"):
        ignore = ["debug"] if name == "describe" else None
        cached = memory.cache(getattr(funcs, name), ignore=ignore)
        assert cached.func_id == EXPECTED[name + "_func_id"]
        for call in EXPECTED[name]:
            args, kwargs = call["args"], call["kwargs"]
            key = cached.call_and_shelve(*args, **kwargs)
            assert key.args_id == call["args_id"]
            assert cached._get_args_id(*args, **kwargs) == call["args_id"]
            assert repr(cached(*args, **kwargs)) == call["value"]
    assert funcs.CALLS == []
    after = _snapshot(cache_copy)
    # No 1.6 file was rewritten or removed (func_code.py included).
    assert {k: v for k, v in after.items() if k in before} == before


def test_joblib16_cache_with_arrays(funcs, cache_copy):
    np = pytest.importorskip("numpy")
    arr = np.arange(12, dtype=np.float64).reshape(3, 4)
    memory = Memory(str(cache_copy), verbose=0)
    cached = memory.cache(funcs.array_stats)
    assert cached.call_and_shelve(arr).args_id == EXPECTED["array_stats"]["args_id"]
    doubled, total = cached(arr)
    np.testing.assert_array_equal(doubled, arr * 2)
    assert total == 66.0 and funcs.CALLS == []
    mapped = Memory(str(cache_copy), mmap_mode="r", verbose=0).cache(funcs.array_stats)
    assert isinstance(mapped(arr)[0], np.memmap) and funcs.CALLS == []


def test_joblib16_cache_code_change_is_detected(funcs, cache_copy):
    memory = Memory(str(cache_copy), verbose=0)
    func_code = (
        cache_copy / "joblib" / "joblib16_memory_funcs" / "square" / "func_code.py"
    )
    text = func_code.read_text()
    func_code.write_text(text.replace("x * x", "x * x * x"))
    assert memory.cache(funcs.square)(3) == 9
    assert funcs.CALLS == [("square", 3)]


# --- pickles written by joblib 1.6.0 ------------------------------------------


def _load_joblib16_pickles():
    with open(os.path.join(DATA, "joblib16_memory_pickles.pkl"), "rb") as f:
        return pickle.load(f)


def test_joblib16_pickles_load_and_work(funcs, cache_copy):
    objects = _load_joblib16_pickles()
    memory, square, result = objects["memory"], objects["square"], objects["result"]
    assert isinstance(memory, Memory) and isinstance(square, MemorizedFunc)
    assert isinstance(result, MemorizedResult)
    assert isinstance(memory.store_backend, FileSystemStoreBackend)
    assert repr(memory) == EXPECTED["pickles"]["memory_repr"]
    assert repr(result) == EXPECTED["pickles"]["result_repr"]
    assert result.get() == 9
    assert square(3) == 9 and memory.cache(funcs.square)(4) == 16
    assert funcs.CALLS == []
    assert square(5) == 25 and funcs.CALLS == [("square", 5)]
    assert objects["not_memorized_result"].get() == [1, 2]
    assert isinstance(objects["not_memorized_func"], NotMemorizedFunc)
    assert objects["memory_none"].store_backend is None
    assert isinstance(objects["memory_none"].cache(funcs.square), NotMemorizedFunc)


def test_joblib16_pickled_memory_can_be_used_with_joblib_dump(
    funcs, cache_copy, tmp_path
):
    import joblib

    objects = _load_joblib16_pickles()
    joblib.dump(objects, tmp_path / "model.joblib")
    again = joblib.load(tmp_path / "model.joblib")
    assert again["square"](3) == 9 and funcs.CALLS == []


# --- our pickles, as joblib 1.6.0 will read them ------------------------------


class _RecordingUnpickler(pickle.Unpickler):
    def __init__(self, file):
        super().__init__(file)
        self.names = set()

    def find_class(self, module, name):
        self.names.add("%s %s" % (module, name))
        return super().find_class(module, name)


def _our_objects(funcs, location):
    memory = Memory(location, verbose=0)
    square = memory.cache(funcs.square)
    result = square.call_and_shelve(3)
    return {
        "memory": memory,
        "square": square,
        "result": result,
        "not_memorized_result": NotMemorizedResult([1, 2]),
        "not_memorized_func": NotMemorizedFunc(funcs.square),
        "memory_none": Memory(None),
    }


def test_our_pickles_use_only_joblib16_names(funcs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    objects = _our_objects(funcs, "cache")
    data = pickle.dumps(objects, protocol=4)
    unpickler = _RecordingUnpickler(io.BytesIO(data))
    unpickler.load()
    assert unpickler.names <= set(EXPECTED["pickles"]["globals"])
    states = EXPECTED["pickles"]
    assert sorted(objects["memory"].__getstate__()) == states["memory_state"]
    assert sorted(objects["square"].__getstate__()) == states["memorized_func_state"]
    assert sorted(objects["result"].__getstate__()) == states["memorized_result_state"]
    assert sorted(objects["memory"].store_backend.__dict__) == states["store_state"]


REF_SCRIPT = textwrap.dedent("""
    import json, pickle, sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import joblib
    assert joblib.__version__ == "1.6.0", joblib.__file__
    import joblib16_memory_funcs as funcs
    with open("ours.pkl", "rb") as f:
        objects = pickle.load(f)
    out = {
        "result": objects["result"].get(),
        "square": objects["square"](3),
        "memory": objects["memory"].cache(funcs.square)(3),
        "combine": objects["memory"].cache(funcs.combine)(1, 5, 7, 8, scale=3, z=1),
        "nmr": objects["not_memorized_result"].get(),
        "array": float(objects["memory"].cache(funcs.array_stats)(
            np.arange(12, dtype=np.float64).reshape(3, 4))[0].sum()),
        "calls": funcs.CALLS,
        "types": sorted(
            type(o).__module__ + "." + type(o).__name__ for o in objects.values()
        ),
    }
    print(json.dumps(out))
    """)


@pytest.mark.skipif(
    not os.path.exists(REF_PYTHON), reason="needs joblib 1.6.0 in /work/refvenv"
)
def test_joblib16_reads_our_pickles_and_cache(funcs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    objects = _our_objects(funcs, "cache")
    objects["memory"].cache(funcs.combine)(1, 5, 7, 8, scale=3, z=1)
    np = pytest.importorskip("numpy")
    arr = np.arange(12, dtype=np.float64).reshape(3, 4)
    objects["memory"].cache(funcs.array_stats)(arr)
    with open("ours.pkl", "wb") as f:
        pickle.dump(objects, f, protocol=4)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [REF_PYTHON, "-c", REF_SCRIPT, DATA],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["result"] == out["square"] == out["memory"] == 9
    assert out["combine"] == {"sum": 63, "keys": ["z"]}
    assert out["nmr"] == [1, 2] and out["array"] == 132.0
    assert out["calls"] == []  # every value came from the cache we wrote
    assert "joblib.memory.Memory" in out["types"]

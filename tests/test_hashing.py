"""Tests for joblib.hash: determinism, numpy support and 1.6 compatibility."""

from __future__ import annotations

import collections
import decimal
import importlib.util
import json
import os
import pickle
import subprocess
import sys
import textwrap
import tracemalloc

import pytest

import joblib
from joblib import hashing
from joblib.hashing import Hasher, NumpyHasher, hash

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data")


def _load_reference_builder():
    path = os.path.join(DATA, "create_joblib16_hashes.py")
    spec = importlib.util.spec_from_file_location("create_joblib16_hashes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REFERENCE = _load_reference_builder()
with open(REFERENCE.OUTPUT) as _stream:
    RECORDED = json.load(_stream)


def _run_python(code, tmp_path, seed="0"):
    """Run ``code`` as a __main__ script in a fresh interpreter; return stdout."""
    script = tmp_path / "child_script.py"
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, PYTHONHASHSEED=str(seed), PYTHONPATH=ROOT)
    result = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# --------------------------------------------------------------------------
# Agreement with joblib 1.6.0 (digests recorded by tests/data/create_...py)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(RECORDED["pure"]))
def test_digest_equals_joblib16_for_builtin_objects(name):
    obj = REFERENCE.build_pure_cases()[name]
    expected = RECORDED["pure"][name]
    assert REFERENCE.hash_all(hash, {name: obj})[name] == expected


@pytest.fixture(scope="module")
def numpy_cases(tmp_path_factory):
    np = pytest.importorskip("numpy")
    recorded_major = RECORDED["numpy"].split(".")[0]
    if np.__version__.split(".")[0] != recorded_major:
        pytest.skip("reference digests recorded with numpy %s" % RECORDED["numpy"])
    if pickle.DEFAULT_PROTOCOL != RECORDED["pickle_default_protocol"]:
        pytest.skip("dtype digests depend on pickle.DEFAULT_PROTOCOL")
    cases = REFERENCE.build_numpy_cases(str(tmp_path_factory.mktemp("mm")))
    yield cases
    cases.clear()


@pytest.mark.parametrize("name", sorted(RECORDED["numpy_cases"]))
def test_digest_equals_joblib16_for_numpy_objects(name, numpy_cases):
    expected = RECORDED["numpy_cases"][name]
    assert REFERENCE.hash_all(hash, {name: numpy_cases[name]})[name] == expected


def test_digest_without_numpy_imported_matches_reference(tmp_path):
    # The Hasher (no numpy) and NumpyHasher streams agree on builtins.
    code = """
        import json, sys
        sys.path.insert(0, %r)
        import create_joblib16_hashes as ref
        import joblib
        cases = ref.build_pure_cases()
        print(json.dumps(ref.hash_all(joblib.hash, cases)))
        assert "numpy" not in sys.modules
    """ % DATA
    digests = json.loads(_run_python(code, tmp_path))
    assert digests == RECORDED["pure"]


# --------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------
_SEED_SCRIPT = """
    import collections, json
    import joblib

    def module_function(x):
        return x

    class MainClass:
        def __init__(self, value):
            self.value = value

        def method(self):
            return self.value

    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
    objects = {
        "dict": {w: i for i, w in enumerate(words)},
        "set": set(words),
        "frozenset": frozenset(words),
        "nested": {"s": set(words), "d": {w: [w] for w in words}},
        "unorderable_keys": {1: "a", "b": 2, None: 3, (1, "x"): 4},
        "unorderable_set": {1, "a", None, (2, "b")},
        "ordered_dict": collections.OrderedDict((w, 1) for w in words),
        "function": module_function,
        "class": MainClass,
        "instance": MainClass(set(words)),
        "method": MainClass(3).method,
    }
    print(json.dumps({k: joblib.hash(v) for k, v in objects.items()}))
"""


def test_hash_independent_of_pythonhashseed(tmp_path):
    outputs = [
        json.loads(_run_python(_SEED_SCRIPT, tmp_path, seed=seed))
        for seed in ("0", "1", "12345")
    ]
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(set(outputs[0].values())) == len(outputs[0])


def test_hash_of_numpy_objects_independent_of_pythonhashseed(tmp_path):
    pytest.importorskip("numpy")
    code = """
        import numpy as np
        import joblib
        obj = {"w": np.arange(5.0), "names": {"x", "y", "z"},
               "dtypes": [np.dtype("f4"), np.dtype([("a", "i4")])]}
        print(joblib.hash(obj))
    """
    outputs = {_run_python(code, tmp_path, seed=seed) for seed in ("3", "4")}
    assert len(outputs) == 1


def test_dict_and_set_ignore_insertion_order():
    keys = ["k%d" % i for i in range(3000)]
    forward = {k: i for i, k in enumerate(keys)}
    backward = {k: forward[k] for k in reversed(keys)}
    assert hash(forward) == hash(backward)
    assert hash(set(keys)) == hash(set(reversed(keys)))
    assert hash({1: "a", "b": 2}) == hash({"b": 2, 1: "a"})


def test_equal_values_hash_alike_whatever_their_identity():
    shared = "aa"
    built = "".join(["a", "a"])
    assert shared is not built
    assert hash([shared, shared]) == hash([shared, built])
    assert hash({"k": b"xy"}) == hash({"k": bytes([120, 121])})


@pytest.mark.parametrize("hash_name", ["md5", "sha1"])
def test_distinct_values_hash_differently(hash_name):
    values = [
        None, 0, 1, 1.0, True, False, "1", b"1", [1], (1,), {1}, frozenset({1}),
        {1: None}, {"1": 1}, [1, 2], [2, 1], (1, 2), [[1], 2], 2**70, -1, "",
        b"", [], (), {}, set(), collections.OrderedDict([(1, 2)]),
        decimal.Decimal("1"), 1 + 0j, len, int, str.upper,
    ]
    digests = [hash(value, hash_name=hash_name) for value in values]
    assert len(set(digests)) == len(values)
    assert all(len(d) == {"md5": 32, "sha1": 40}[hash_name] for d in digests)


def test_ordered_dict_with_unorderable_keys_keeps_its_items():
    # joblib 1.6 dropped the items here, so these two collided.
    first = collections.OrderedDict([(1, "a"), ("b", 2)])
    second = collections.OrderedDict([(3, "c"), ("d", 5)])
    assert hash(first) != hash(second)


def test_frozenset_hashes_like_itself_in_any_order():
    words = ["w%d" % i for i in range(50)]
    assert hash(frozenset(words)) == hash(frozenset(reversed(words)))
    assert hash(frozenset(words)) != hash(set(words))


def test_recursive_containers_hash():
    first = [1]
    first.append(first)
    second = [1]
    second.append(second)
    assert hash(first) == hash(second)
    assert hash(first) != hash([1, [1]])


# --------------------------------------------------------------------------
# Functions, methods, classes
# --------------------------------------------------------------------------
class _Counter:
    def __init__(self, start):
        self.start = start

    def method(self):
        return self.start

    def other(self):
        return self.start


def test_bound_methods_are_hashed_by_name_instance_and_class():
    assert hash(_Counter(1).method) == hash(_Counter(1).method)
    assert hash(_Counter(1).method) != hash(_Counter(2).method)
    assert hash(_Counter(1).method) != hash(_Counter(1).other)
    assert hash([].append) != hash([1].append)


def test_functions_and_classes_hash_by_qualified_name():
    assert hash(_Counter) == hash(_Counter)
    assert hash(_Counter) != hash(dict)
    assert hash(json.dumps) != hash(json.loads)
    assert hash(type(None)) != hash(type(Ellipsis))


def test_unpicklable_objects_raise_pickling_error():
    with pytest.raises(pickle.PicklingError, match="while hashing"):
        hash(lambda x: x)


# --------------------------------------------------------------------------
# Arguments and module hygiene
# --------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["sha256", "MD5", None, 5])
def test_invalid_hash_name_lists_accepted_names(bad):
    with pytest.raises(ValueError) as excinfo:
        hash([1, 2], hash_name=bad)
    message = str(excinfo.value)
    assert repr(bad) in message and "'md5'" in message and "'sha1'" in message


def test_import_does_not_import_numpy(tmp_path):
    code = """
        import sys
        import joblib.hashing
        assert joblib.hash({"a": [1, 2.0, "x"], "b": {1, 2}})
        print("numpy" in sys.modules)
    """
    assert _run_python(code, tmp_path).strip() == "False"


def test_persisted_stand_in_classes_keep_their_path_and_state():
    stand_in = hashing._ConsistentSet({"b", "a"})
    assert hashing._ConsistentSet.__module__ == "joblib.hashing"
    assert hashing._MyHash.__module__ == "joblib.hashing"
    assert vars(stand_in) == {"_sequence": ["a", "b"]}
    assert vars(hashing._MyHash("f", 1)) == {"args": ("f", 1)}


def test_hasher_classes_agree_with_hash():
    obj = {"a": [1, 2], "b": {"x"}}
    assert Hasher().hash(obj) == hash(obj)
    assert Hasher(hash_name="sha1").hash(obj) == hash(obj, hash_name="sha1")
    assert joblib.hash is hash


def test_numpy_hasher_class(tmp_path):
    np = pytest.importorskip("numpy")
    mm = np.memmap(tmp_path / "x.mm", dtype=np.float64, mode="w+", shape=(3,))
    try:
        assert NumpyHasher().hash([mm, "a"]) == hash([mm, "a"])
        coerced = NumpyHasher(coerce_mmap=True).hash([mm, "a"])
        assert coerced == hash([np.zeros(3), "a"])
    finally:
        del mm


# --------------------------------------------------------------------------
# numpy
# --------------------------------------------------------------------------
def test_array_layout_is_part_of_the_key():
    np = pytest.importorskip("numpy")
    flat = np.arange(12, dtype=np.float64)
    digests = {
        hash(flat),
        hash(flat.reshape(3, 4)),
        hash(flat.reshape(4, 3)),
        hash(np.asfortranarray(flat.reshape(3, 4))),
        hash(flat.astype(np.float32)),
        hash(flat.view(np.int64)),
        hash(flat[::2]),
        hash(flat.tolist()),
    }
    assert len(digests) == 8
    assert hash(flat) == hash(flat.copy())
    assert hash(flat[::2].copy()) == hash(np.ascontiguousarray(flat[::2]))


def test_memmap_hash_and_coerce_mmap(tmp_path):
    np = pytest.importorskip("numpy")
    array = np.arange(20, dtype=np.int32)
    mm = np.memmap(tmp_path / "data.mm", dtype=np.int32, mode="w+", shape=(20,))
    mm[:] = array
    try:
        assert hash(mm) != hash(array)
        assert hash(mm, coerce_mmap=True) == hash(array, coerce_mmap=True)
        assert hash([mm, 1], coerce_mmap=True) == hash([array, 1])
    finally:
        del mm


def test_numpy_scalars_and_dtypes():
    np = pytest.importorskip("numpy")
    assert hash(np.float64(1.0)) != hash(1.0)
    assert hash(np.float64(1.0)) != hash(np.float32(1.0))
    assert hash(np.dtype("f4")) != hash(np.dtype("f8"))
    roundtripped = pickle.loads(pickle.dumps(np.dtype("f4")))
    assert hash([np.dtype("f4"), np.dtype("f4")]) == hash([np.dtype("f4"), roundtripped])


def test_object_arrays_hash_their_content():
    np = pytest.importorskip("numpy")
    first = np.array([1, "a", None], dtype=object)
    assert hash(first) == hash(np.array([1, "a", None], dtype=object))
    assert hash(first) != hash(np.array([1, "b", None], dtype=object))


def test_non_contiguous_arrays_hash_the_same_whatever_the_chunking(monkeypatch):
    np = pytest.importorskip("numpy")
    from joblib._hashing import arrays

    strided = np.arange(3000.0).reshape(100, 30)[::3, ::2]
    expected = hash(strided)
    monkeypatch.setattr(arrays, "_CHUNK_BYTES", 64)
    assert hash(strided) == expected
    monkeypatch.setattr(arrays, "_CHUNK_BYTES", 1)
    assert hash(strided) == expected


def test_contiguous_arrays_are_hashed_without_copy():
    np = pytest.importorskip("numpy")
    c_order = np.ones((2000, 2500))  # 40 MB
    f_order = np.asfortranarray(c_order)
    strided = c_order[:, ::2]
    for array, limit in ((c_order, 1 << 20), (f_order, 1 << 20), (strided, 24 << 20)):
        tracemalloc.start()
        try:
            hash(array)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < limit, (array.flags, peak)

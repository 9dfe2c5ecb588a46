"""joblib 1.6 behaviours of load() with file objects (issue #11).

Each test here failed before the fix it covers.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import warnings

import pytest

import joblib
from joblib.numpy_pickle import NumpyUnpickler

np = pytest.importorskip("numpy")


def test_bytesio_is_read_from_its_start_after_dump():
    buf = io.BytesIO()
    joblib.dump({"a": np.arange(5), "b": "text"}, buf)
    loaded = joblib.load(buf)  # no buf.seek(0), as code written for 1.6 does
    np.testing.assert_array_equal(loaded["a"], np.arange(5))
    assert loaded["b"] == "text"
    buf2 = io.BytesIO()
    joblib.dump([1, 2], buf2, compress=3)
    assert joblib.load(buf2) == [1, 2]


def test_two_objects_in_one_buffer_still_load_in_turn():
    # Kept from before: a buffer positioned in the middle is read from there.
    buf = io.BytesIO()
    joblib.dump("first", buf)
    joblib.dump("second", buf)
    buf.seek(0)
    assert joblib.load(buf) == "first"
    assert joblib.load(buf) == "second"


def _load_warnings(fileobj, mmap_mode="r"):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = joblib.load(fileobj, mmap_mode=mmap_mode)
    return value, caught


def test_mmap_mode_on_in_memory_buffer_warns_and_loads_in_memory():
    buf = io.BytesIO()
    joblib.dump(np.arange(4), buf)
    buf.seek(0)
    value, caught = _load_warnings(buf)
    assert type(value) is np.ndarray
    assert [w.category for w in caught] == [UserWarning]
    assert str(caught[0].message).startswith(
        'In memory persistence is not compatible with mmap_mode "r" flag passed. '
        "mmap_mode option will be ignored.")
    assert caught[0].filename == __file__  # points at the caller


def test_mmap_mode_on_compressed_file_object_warns(tmp_path):
    buf = io.BytesIO()
    joblib.dump(np.arange(4), buf, compress=3)
    buf.seek(0)
    value, caught = _load_warnings(buf, "c")
    assert type(value) is np.ndarray
    assert [str(w.message) for w in caught][0].startswith(
        'mmap_mode "c" is not compatible with compressed file . "c" flag will be ignored.')
    path = str(tmp_path / "z.pkl")
    joblib.dump(np.arange(4), path, compress=3)
    for target in (path, open(path, "rb")):
        value, caught = _load_warnings(target)
        if not isinstance(target, str):
            target.close()
        assert str(caught[0].message).startswith(
            'mmap_mode "r" is not compatible with compressed file %s. '
            '"r" flag will be ignored.' % path)


def test_mmap_mode_on_open_raw_file_loads_in_memory_quietly(tmp_path):
    # 1.6: a caller's raw file object is never memory-mapped, and no warning.
    path = str(tmp_path / "raw.pkl")
    joblib.dump(np.arange(4), path)
    with open(path, "rb") as f:
        value, caught = _load_warnings(f)
    assert type(value) is np.ndarray and caught == []


class BlockingUnpickler(NumpyUnpickler):
    """Refuses the globals listed in ``self.blocked`` (set after construction)."""

    def find_class(self, module, name):
        if (module, name) in self.blocked:
            raise pickle.UnpicklingError("global %s.%s is forbidden" % (module, name))
        return super().find_class(module, name)


def _object_array_file():
    arr = np.empty(2, dtype=object)
    arr[0] = collections.OrderedDict(a=1)
    arr[1] = 3
    buf = io.BytesIO()
    joblib.dump({"x": arr}, buf)
    buf.seek(0)
    return buf


def test_find_class_of_a_subclass_applies_inside_object_arrays():
    buf = _object_array_file()
    unpickler = BlockingUnpickler("", buf, True)
    unpickler.blocked = {("collections", "OrderedDict")}
    with pytest.raises(pickle.UnpicklingError, match="OrderedDict is forbidden"):
        unpickler.load()
    # Allowed: the same file loads.
    buf.seek(0)
    unpickler = BlockingUnpickler("", buf, True)
    unpickler.blocked = set()
    assert unpickler.load()["x"][0] == {"a": 1}


def test_find_class_set_on_the_instance_applies_inside_object_arrays():
    buf = _object_array_file()
    unpickler = NumpyUnpickler("", buf, True)
    plain = unpickler.find_class

    def restricted(module, name):
        if name == "OrderedDict":
            raise pickle.UnpicklingError("blocked by the instance")
        return plain(module, name)

    unpickler.find_class = restricted
    with pytest.raises(pickle.UnpicklingError, match="blocked by the instance"):
        unpickler.load()

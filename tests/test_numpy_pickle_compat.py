"""Files written by real joblib releases (tests/data) load here, and back.

The fixtures come from tests/data/create_joblib_fixtures.py run with joblib
0.9.4, 0.17.0, 1.0.1, 1.1.1 and 1.6.0; see its docstring to regenerate them.
"""

from __future__ import annotations

import glob
import importlib.util
import io
import os
import shutil
import warnings

import pytest

import joblib
from joblib.numpy_pickle_compat import (
    NDArrayWrapper,
    ZNDArrayWrapper,
    load_compatibility,
    read_zfile,
    write_zfile,
)

np = pytest.importorskip("numpy")
pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")

DATA = os.path.join(os.path.dirname(__file__), "data")


def _fixture_module():
    spec = importlib.util.spec_from_file_location(
        "create_joblib_fixtures", os.path.join(DATA, "create_joblib_fixtures.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIXTURES = _fixture_module()
MAIN_FILES = sorted(
    os.path.basename(p)
    for p in glob.glob(os.path.join(DATA, "joblib_*"))
    if not p.endswith(".npy")
)


def _version(name):
    return tuple(int(x) for x in name.split("_")[1].split("."))


def _assert_equal(expected, got):
    if isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray)
        assert got.shape == expected.shape
        assert got.dtype.newbyteorder("=") == expected.dtype.newbyteorder("=")
        if expected.dtype.hasobject:
            assert got.tolist() == expected.tolist()
        else:
            np.testing.assert_array_equal(got, expected)
    elif isinstance(expected, dict):
        assert expected.keys() == got.keys()
        for key in expected:
            _assert_equal(expected[key], got[key])
    elif isinstance(expected, (list, tuple)):
        assert type(expected) is type(got) and len(expected) == len(got)
        for a, b in zip(expected, got):
            _assert_equal(a, b)
    elif hasattr(expected, "__dict__"):
        assert type(expected) is type(got)
        _assert_equal(vars(expected), vars(got))
    else:
        assert expected == got


def test_fixtures_present():
    versions = {name.split("_")[1] for name in MAIN_FILES}
    assert {"0.9.4", "0.17.0", "1.0.1", "1.1.1", "1.6.0"} <= versions
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(DATA, "*")))
    assert total < 2 * 1024**2


@pytest.mark.parametrize("name", MAIN_FILES)
def test_load_release_fixture(name):
    expected = FIXTURES.build_fixture_object(np)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        got = joblib.load(os.path.join(DATA, name))
    _assert_equal(expected, got)
    deprecations = [w for w in record if issubclass(w.category, DeprecationWarning)
                    and "regenerate" in str(w.message)]
    assert bool(deprecations) == (_version(name) < (0, 10))


@pytest.mark.parametrize(
    "name", [n for n in MAIN_FILES if "_none_" in n and _version(n) >= (0, 10)]
)
def test_mmap_release_fixture(name):
    expected = FIXTURES.build_fixture_object(np)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        got = joblib.load(os.path.join(DATA, name), mmap_mode="r")
    arrays = got["arrays"]
    assert isinstance(arrays["fortran"], np.memmap)
    assert arrays["big_endian"].dtype == np.dtype(">i4")  # mapped as written
    assert not isinstance(arrays["object"], np.memmap)
    _assert_equal(expected, got)
    unaligned = [w for w in record if "not byte aligned" in str(w.message)]
    if _version(name) >= (1, 2):
        assert not unaligned
        assert arrays["float32"].ctypes.data % 16 == 0


def test_ours_is_byte_identical_to_joblib_1_6(tmp_path):
    # Same object, same protocol: the file must be the very bytes 1.6 wrote.
    obj = FIXTURES.build_fixture_object(np)
    for label, compress, suffix in FIXTURES.COMPRESSIONS:
        if label in ("bz2", "lzma", "xz", "lz4"):
            continue  # these libraries may legitimately differ across builds
        ref = os.path.join(DATA, "joblib_1.6.0_%s_py311%s" % (label, suffix))
        ours = tmp_path / os.path.basename(ref)
        joblib.dump(obj, ours, compress=compress)
        with open(ref, "rb") as f:
            assert ours.read_bytes() == f.read(), label


def test_legacy_multi_file_mmap(tmp_path):
    name = "joblib_0.9.4_none_py311.pkl"
    for path in glob.glob(os.path.join(DATA, name + "*")):
        shutil.copy(path, tmp_path)
    with pytest.warns(DeprecationWarning, match="regenerate"):
        got = joblib.load(tmp_path / name, mmap_mode="r")
    assert isinstance(got["arrays"]["float32"], np.memmap)
    _assert_equal(FIXTURES.build_fixture_object(np), got)


def test_legacy_companion_outside_directory_is_refused(tmp_path):
    np.save(tmp_path / "secret.npy", np.arange(3))
    inner = tmp_path / "inner"
    inner.mkdir()
    buf = io.BytesIO()
    import pickle

    pickle.dump({"a": NDArrayWrapper("../secret.npy", np.ndarray)}, buf, protocol=2)
    (inner / "evil.pkl").write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="companion"):
        joblib.load(inner / "evil.pkl")


def test_zfile_roundtrip(tmp_path):
    path = tmp_path / "data.z"
    with open(path, "wb") as f:
        write_zfile(f, b"some payload" * 100)
    with open(path, "rb") as f:
        assert read_zfile(f) == b"some payload" * 100


def test_load_compatibility_with_zndarray_companion(tmp_path):
    import pickle

    arr = np.arange(6, dtype=np.float64).reshape(2, 3)
    init_args = (np.ndarray, (0,), b"b")
    state = (1, arr.shape, arr.dtype, False)
    with open(tmp_path / "obj.pkl_01.npy.z", "wb") as f:
        write_zfile(f, arr.tobytes())
    payload = pickle.dumps(
        {"a": ZNDArrayWrapper("obj.pkl_01.npy.z", init_args, state)}, protocol=2
    )
    with open(tmp_path / "obj.pkl", "wb") as f:
        write_zfile(f, payload)
    got = load_compatibility(str(tmp_path / "obj.pkl"))
    np.testing.assert_array_equal(got["a"], arr)
    with pytest.warns(DeprecationWarning):
        np.testing.assert_array_equal(joblib.load(tmp_path / "obj.pkl")["a"], arr)

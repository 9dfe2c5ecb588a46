"""Tests for joblib.dump / joblib.load: round trips, options, file objects."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import pickle
import warnings

import pytest

import joblib
from joblib import numpy_pickle
from joblib.numpy_pickle import NumpyArrayWrapper, NumpyPickler, NumpyUnpickler

np = pytest.importorskip("numpy")
pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")

COMPRESSIONS = [0, 3, True, "gzip", ("bz2", 1), ("lzma", 1), "xz", "lz4", ("zlib", 9)]


def _arrays():
    base = np.arange(24).reshape(4, 6)
    cases = {
        "structured": np.array(
            [(1, 2.5, "ab"), (3, -1.0, "xyz")],
            dtype=[("a", "<i4"), ("b", ">f8"), ("c", "U3")],
        ),
        "datetime": np.array(["2020-01-01T00:00", "NaT"], dtype="M8[ns]"),
        "timedelta": np.array([1, -5, 0], dtype="m8[s]"),
        "unicode": np.array(["", "héllo", "wörld!"]),
        "bytes": np.array([b"a", b"bcd", b""]),
        "fortran": np.asfortranarray(base.astype(np.float64)),
        "view": base[::2, 1::2],
        "reversed": base.T[1:, ::-1],
        "zero_d": np.array(3.5),
        "empty": np.empty((0, 3), dtype=np.int16),
        "bool": np.array([True, False, True]),
        "float_specials": np.array([np.nan, np.inf, -0.0]),
    }
    for name in (
        "int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 "
        "float64 longdouble complex64 complex128 clongdouble"
    ).split():
        cases[name] = (np.arange(7) - 3).astype(name)
    return cases


ARRAYS = _arrays()


def assert_same_array(expected, got):
    assert isinstance(got, np.ndarray)
    assert got.shape == expected.shape
    assert got.dtype.newbyteorder("=") == expected.dtype.newbyteorder("=")
    np.testing.assert_array_equal(got, expected)


class Estimator:
    """A scikit-learn-like object with array attributes."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha
        self.coef_ = np.linspace(0, 1, 6).reshape(2, 3)
        self.classes_ = np.array(["a", "b"])
        self.extra_ = {"hist": [np.arange(3), (np.ones(2),)]}


# -- round trips ----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ARRAYS))
@pytest.mark.parametrize("compress", [0, 3])
def test_array_roundtrip(tmp_path, name, compress):
    path = tmp_path / "a.pkl"
    assert joblib.dump(ARRAYS[name], path, compress=compress) == [str(path)]
    assert_same_array(ARRAYS[name], joblib.load(path))


@pytest.mark.parametrize("compress", COMPRESSIONS)
def test_every_compressor_roundtrip(tmp_path, compress):
    obj = {"arrays": list(ARRAYS.values()), "text": "x" * 1000}
    path = tmp_path / "obj.pkl"
    joblib.dump(obj, path, compress=compress)
    got = joblib.load(path)
    assert got["text"] == obj["text"]
    for expected, loaded in zip(obj["arrays"], got["arrays"]):
        assert_same_array(expected, loaded)


@pytest.mark.parametrize("protocol", [0, 2, 3, 4, 5])
def test_protocols(tmp_path, protocol):
    obj = [ARRAYS["fortran"], {"k": ARRAYS["view"]}, "s"]
    joblib.dump(obj, tmp_path / "p.pkl", protocol=protocol)
    got = joblib.load(tmp_path / "p.pkl")
    assert_same_array(obj[0], got[0])
    assert_same_array(obj[1]["k"], got[1]["k"])
    assert got[2] == "s"


def test_large_array_chunked(tmp_path):
    big = np.random.RandomState(0).random_sample(5_000_000)  # 40 MB: several chunks
    for compress in (0, 1):
        joblib.dump(big, tmp_path / "big.pkl", compress=compress)
        np.testing.assert_array_equal(joblib.load(tmp_path / "big.pkl"), big)


def test_nested_estimator_and_containers(tmp_path):
    est = Estimator(alpha=0.3)
    obj = {"model": est, "tuple": (ARRAYS["int8"], [ARRAYS["zero_d"]])}
    joblib.dump(obj, tmp_path / "e.pkl")
    got = joblib.load(tmp_path / "e.pkl")
    assert isinstance(got["model"], Estimator)
    assert got["model"].alpha == 0.3
    assert_same_array(est.coef_, got["model"].coef_)
    assert_same_array(est.extra_["hist"][1][0], got["model"].extra_["hist"][1][0])
    assert isinstance(got["tuple"], tuple)


def test_shared_references_become_copies(tmp_path):
    # joblib 1.6 writes each reference of an array in full.
    shared = np.arange(5.0)
    joblib.dump([shared, shared], tmp_path / "s.pkl")
    first, second = joblib.load(tmp_path / "s.pkl")
    assert_same_array(shared, first)
    assert first is not second


def test_object_array(tmp_path):
    arr = np.array([1, "two", None, {"k": [3]}, np.arange(2)], dtype=object)
    joblib.dump({"o": arr}, tmp_path / "o.pkl")
    got = joblib.load(tmp_path / "o.pkl")["o"]
    assert got.dtype == object and got[:4].tolist() == arr[:4].tolist()
    np.testing.assert_array_equal(got[4], np.arange(2))


def test_matrix_and_memmap_inputs(tmp_path):
    mat = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    mm = np.memmap(tmp_path / "raw.dat", dtype=np.int32, mode="w+", shape=(3,))
    mm[:] = [7, 8, 9]
    joblib.dump([mat, mm], tmp_path / "m.pkl")
    got_mat, got_mm = joblib.load(tmp_path / "m.pkl")
    assert type(got_mat) is np.matrix
    np.testing.assert_array_equal(got_mat, mat)
    assert type(got_mm) is np.ndarray
    np.testing.assert_array_equal(got_mm, [7, 8, 9])


def test_plain_objects_are_plain_pickles(tmp_path):
    obj = [{"i": i, "s": str(i)} for i in range(1000)]
    joblib.dump(obj, tmp_path / "plain.pkl")
    with open(tmp_path / "plain.pkl", "rb") as f:
        assert pickle.load(f) == obj
    assert joblib.load(tmp_path / "plain.pkl") == obj


def test_late_array_after_many_objects(tmp_path):
    # The fast attempt spills frames to disk before meeting the array.
    obj = [{"i": i, "s": "x" * 20} for i in range(30000)] + [np.arange(3)]
    for target in (tmp_path / "late.pkl", tmp_path / "late.pkl.gz"):
        joblib.dump(obj, target)
        got = joblib.load(target)
        assert got[:-1] == obj[:-1]
        assert_same_array(obj[-1], got[-1])


# -- byte order and mmap --------------------------------------------------------
def test_big_endian_native_by_default(tmp_path):
    arr = np.arange(5, dtype=">f8")
    joblib.dump(arr, tmp_path / "b.pkl")
    got = joblib.load(tmp_path / "b.pkl")
    assert got.dtype.isnative
    np.testing.assert_array_equal(got, arr)
    kept = joblib.load(tmp_path / "b.pkl", ensure_native_byte_order=False)
    assert kept.dtype == np.dtype(">f8")
    mapped = joblib.load(tmp_path / "b.pkl", mmap_mode="r")
    assert mapped.dtype == np.dtype(">f8") and isinstance(mapped, np.memmap)


@pytest.mark.parametrize("mmap_mode", ["r", "r+", "c", "w+"])
def test_mmap_modes(tmp_path, mmap_mode):
    obj = {"c": ARRAYS["int64"], "f": ARRAYS["fortran"], "o": np.array([None])}
    path = tmp_path / "mm.pkl"
    joblib.dump(obj, path)
    got = joblib.load(path, mmap_mode=mmap_mode)
    for key in ("c", "f"):
        assert isinstance(got[key], np.memmap)
        assert got[key].ctypes.data % 16 == 0  # aligned
        np.testing.assert_array_equal(got[key], obj[key])
    assert got["f"].flags.f_contiguous
    assert not isinstance(got["o"], np.memmap)  # object arrays are never mapped
    expected_mode = "r+" if mmap_mode == "w+" else mmap_mode
    assert got["c"].mode == expected_mode


def test_mmap_r_plus_writes_through(tmp_path):
    joblib.dump(np.zeros(4), tmp_path / "w.pkl")
    mm = joblib.load(tmp_path / "w.pkl", mmap_mode="r+")
    mm[1] = 5
    mm.flush()
    del mm
    np.testing.assert_array_equal(joblib.load(tmp_path / "w.pkl"), [0, 5, 0, 0])


def test_mmap_on_compressed_file_warns(tmp_path):
    joblib.dump(np.arange(3), tmp_path / "c.pkl", compress=3)
    with pytest.warns(UserWarning, match="compressed file") as record:
        got = joblib.load(tmp_path / "c.pkl", mmap_mode="r")
    assert record[0].filename == __file__  # points at the caller
    assert not isinstance(got, np.memmap)
    np.testing.assert_array_equal(got, np.arange(3))


def test_ensure_native_with_mmap_is_an_error(tmp_path):
    joblib.dump([1], tmp_path / "x.pkl")
    with pytest.raises(ValueError, match="mmap_mode=r"):
        joblib.load(tmp_path / "x.pkl", mmap_mode="r", ensure_native_byte_order=True)


# -- file objects and paths -----------------------------------------------------
def test_pathlike_and_str(tmp_path):
    class MyPath:
        def __init__(self, p):
            self.p = p

        def __fspath__(self):
            return str(self.p)

    path = MyPath(tmp_path / "pl.pkl")
    assert joblib.dump({"a": 1}, path) == [str(tmp_path / "pl.pkl")]
    assert joblib.load(path) == {"a": 1}
    assert joblib.load(str(tmp_path / "pl.pkl")) == {"a": 1}


@pytest.mark.parametrize("compress", [0, 3, "xz"])
def test_bytesio(compress):
    obj = [ARRAYS["float32"], {"x": "y"}]
    buf = io.BytesIO()
    assert joblib.dump(obj, buf, compress=compress) is None
    buf.seek(0)
    got = joblib.load(buf)
    assert_same_array(obj[0], got[0])
    assert got[1] == {"x": "y"}


def test_open_file_objects(tmp_path):
    obj = {"a": ARRAYS["view"], "plain": list(range(10))}
    with open(tmp_path / "f.pkl", "wb") as f:
        joblib.dump(obj, f)
    with open(tmp_path / "f.pkl", "rb") as f:
        got = joblib.load(f)
    assert_same_array(obj["a"], got["a"])
    # The file written through a file object is an ordinary joblib file.
    assert_same_array(obj["a"], joblib.load(tmp_path / "f.pkl", mmap_mode="r")["a"])


@pytest.mark.parametrize("opener", [gzip.GzipFile, bz2.BZ2File, lzma.LZMAFile])
@pytest.mark.parametrize("with_array", [True, False])
def test_compressed_file_objects(tmp_path, opener, with_array):
    obj = {"a": ARRAYS["int32"] if with_array else None, "s": "text"}
    path = tmp_path / "f.bin"
    with opener(path, "wb") as f:
        joblib.dump(obj, f)
    with opener(path, "rb") as f:
        got = joblib.load(f)
    assert got["s"] == "text"
    if with_array:
        assert_same_array(obj["a"], got["a"])


def test_file_object_load_ignores_mmap(tmp_path):
    joblib.dump(np.arange(3), tmp_path / "x.pkl")
    with open(tmp_path / "x.pkl", "rb") as f:
        got = joblib.load(f, mmap_mode="r")
    assert not isinstance(got, np.memmap)


def test_non_seekable_target_and_source(tmp_path):
    class WriteOnly(io.RawIOBase):
        def __init__(self):
            self.chunks = []

        def writable(self):
            return True

        def write(self, b):
            self.chunks.append(bytes(b))
            return len(b)

    for obj in ([1, 2, 3], [np.arange(4), "x"]):
        sink = WriteOnly()
        joblib.dump(obj, sink)
        data = b"".join(sink.chunks)

        class ReadOnly(io.RawIOBase):
            def __init__(self):
                self._b = io.BytesIO(data)

            def readable(self):
                return True

            def readinto(self, b):
                return self._b.readinto(b)

        got = joblib.load(io.BufferedReader(ReadOnly()))
        assert str(got) == str(obj)


# -- the Numpy(Un)Pickler classes -------------------------------------------------
def test_numpy_pickler_classes_direct_use():
    buf = io.BytesIO()
    NumpyPickler(buf).dump({"a": ARRAYS["uint16"]})
    buf.seek(0)
    got = NumpyUnpickler("", buf, ensure_native_byte_order=True).load()
    assert_same_array(ARRAYS["uint16"], got["a"])
    assert issubclass(NumpyPickler, pickle._Pickler)
    assert issubclass(NumpyUnpickler, pickle._Unpickler)


def test_wrapper_attributes_are_the_16_names():
    buf = io.BytesIO()
    NumpyPickler(buf).dump(ARRAYS["fortran"])
    data = buf.getvalue()
    assert b"joblib.numpy_pickle" in data and b"NumpyArrayWrapper" in data
    wrapper = NumpyPickler(io.BytesIO())._create_array_wrapper(ARRAYS["fortran"])
    assert vars(wrapper) == {
        "subclass": np.ndarray,
        "shape": (4, 6),
        "order": "F",
        "dtype": np.dtype("float64"),
        "allow_mmap": True,
        "numpy_array_alignment_bytes": 16,
    }
    assert NumpyArrayWrapper.__module__ == "joblib.numpy_pickle"


def test_restricted_unpickler_also_restricts_object_arrays():
    # GHSA-m62q-453p-gv66: the nested stream of an object array must go
    # through the same find_class as the outer stream.
    class Forbidden(Exception):
        pass

    class RestrictedUnpickler(NumpyUnpickler):
        def find_class(self, module, name):
            if module == "collections":
                raise Forbidden("%s.%s" % (module, name))
            return super().find_class(module, name)

    import collections

    buf = io.BytesIO()
    arr = np.array([collections.OrderedDict(a=1)], dtype=object)
    NumpyPickler(buf).dump({"safe": 1, "arr": arr})
    buf.seek(0)
    with pytest.raises(Forbidden, match="collections.OrderedDict"):
        RestrictedUnpickler("", buf, ensure_native_byte_order=True).load()


# -- errors and faults --------------------------------------------------------------
def test_swapped_arguments(tmp_path):
    with pytest.raises(ValueError, match="Second argument should be a filename"):
        joblib.dump(str(tmp_path / "x.pkl"), 3)


def test_unknown_compression(tmp_path):
    with pytest.raises(ValueError, match="Non valid compression method"):
        joblib.dump([1], tmp_path / "x.pkl", compress="nope")
    with pytest.raises(ValueError, match="compress level"):
        joblib.dump([1], tmp_path / "x.pkl", compress=("zlib", 11))
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("mmap_mode", ["rw", "R", 1])
def test_invalid_mmap_mode(tmp_path, mmap_mode):
    joblib.dump([1], tmp_path / "x.pkl")
    with pytest.raises(ValueError, match="mmap_mode should be one of"):
        joblib.load(tmp_path / "x.pkl", mmap_mode=mmap_mode)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pkl"):
        joblib.load(tmp_path / "missing.pkl")
    with pytest.raises(IsADirectoryError):
        joblib.load(tmp_path)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        joblib.dump([1], tmp_path)


def test_load_bad_filename_type():
    with pytest.raises(TypeError, match="filename should be"):
        joblib.load(3.5)


def test_not_a_joblib_file(tmp_path):
    path = tmp_path / "text.pkl"
    path.write_bytes(b"hello, I am a text file\n")
    with pytest.raises(pickle.UnpicklingError, match="text.pkl"):
        joblib.load(path)


def test_empty_file(tmp_path):
    (tmp_path / "empty.pkl").write_bytes(b"")
    with pytest.raises(EOFError, match="empty.pkl"):
        joblib.load(tmp_path / "empty.pkl")


@pytest.mark.parametrize("compress", [0, 3])
@pytest.mark.parametrize("with_array", [True, False])
def test_truncated_file(tmp_path, compress, with_array):
    obj = [np.arange(1000.0) if with_array else list(range(1000)), "tail"]
    path = tmp_path / "t.pkl"
    joblib.dump(obj, path, compress=compress)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises((EOFError, pickle.UnpicklingError, ValueError, OSError)):
        joblib.load(path)


def test_corrupted_array_bytes_do_not_crash(tmp_path):
    path = tmp_path / "c.pkl"
    joblib.dump(np.arange(100.0), path)
    data = bytearray(path.read_bytes())
    data[-41:-1] = b"\x00" * 40  # payload corruption: still loads, values differ
    path.write_bytes(bytes(data))
    assert joblib.load(path).shape == (100,)
    data[-1:] = b"\xee"  # an invalid opcode where STOP was
    path.write_bytes(bytes(data))
    with pytest.raises(pickle.UnpicklingError, match="c.pkl"):
        joblib.load(path)


def test_failed_dump_keeps_previous_file(tmp_path):
    path = tmp_path / "keep.pkl"
    joblib.dump({"v": 1}, path)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot pickle me")

    for obj in ([np.arange(3), Unpicklable()], [Unpicklable()]):
        with pytest.raises(RuntimeError, match="cannot pickle me"):
            joblib.dump(obj, path)
        assert joblib.load(path) == {"v": 1}
        assert os.listdir(tmp_path) == ["keep.pkl"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_dump_into_read_only_directory(tmp_path):
    # root ignores directory permissions but not read-only sysfs.
    target = tmp_path / "x.pkl" if os.geteuid() else "/sys/joblib-test.pkl"
    os.chmod(tmp_path, 0o500)
    try:
        with pytest.raises(PermissionError, match="Cannot write .*x.pkl|joblib-test"):
            joblib.dump([1], target)
    finally:
        os.chmod(tmp_path, 0o700)


def test_dump_into_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        joblib.dump([1], tmp_path / "no" / "x.pkl")


def test_load_docstring_warns_about_trust():
    assert "trust" in joblib.load.__doc__
    assert "arbitrary code" in joblib.load.__doc__


def test_no_warning_on_plain_roundtrip(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        joblib.dump([np.arange(3)], tmp_path / "x.pkl")
        joblib.load(tmp_path / "x.pkl", mmap_mode="r")


def test_numpy_pickle_reexports():
    for name in ("NDArrayWrapper", "ZNDArrayWrapper", "load_compatibility",
                 "BinaryZlibFile", "register_compressor", "Pickler", "Unpickler"):
        assert hasattr(numpy_pickle, name)


def test_retry_after_fast_attempt_leaves_exact_file(tmp_path):
    # The C-pickler attempt writes (and flushes) objects before it meets the
    # array; the array-aware retry overwrites them in place. The file must
    # be exactly what a direct dump produces, with nothing left over.
    np = pytest.importorskip("numpy")
    value = ["item-%d" % i for i in range(50_000)] + [np.arange(10.0)]
    path = tmp_path / "mixed.pkl"
    joblib.dump(value, path)
    buffer = io.BytesIO()
    joblib.dump(value, buffer)
    assert path.read_bytes() == buffer.getvalue()
    loaded = joblib.load(path)
    assert loaded[:-1] == value[:-1]
    np.testing.assert_array_equal(loaded[-1], value[-1])

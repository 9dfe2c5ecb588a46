"""Tests for the compressor registry, BinaryZlibFile and the compress parser."""

from __future__ import annotations

import gzip
import io
import zlib

import pytest

import joblib
from joblib import compressor
from joblib._persist.options import resolve_compress
from joblib.compressor import (
    BinaryGzipFile,
    BinaryZlibFile,
    CompressorWrapper,
    register_compressor,
)

PAYLOAD = b"".join(b"line %d of some compressible text\n" % i for i in range(20000))


@pytest.fixture
def restore_registry():
    saved = dict(compressor._COMPRESSORS)
    yield
    compressor._COMPRESSORS.clear()
    compressor._COMPRESSORS.update(saved)


# -- resolve_compress ---------------------------------------------------------
@pytest.mark.parametrize(
    "compress, filename, expected",
    [
        (0, None, (None, 0)),
        (False, None, (None, 0)),
        (True, None, ("zlib", None)),
        (3, None, ("zlib", 3)),
        (9, "x.pkl", ("zlib", 9)),
        ("gzip", None, ("gzip", None)),
        ("lzma", "x.gz", ("lzma", None)),
        (("bz2", 5), "x.gz", ("bz2", 5)),
        (("xz", 0), None, (None, 0)),
        (0, "x.pkl.gz", ("gzip", None)),
        (0, "x.z", ("zlib", None)),
        (0, "x.bz2", ("bz2", None)),
        (4, "x.xz", ("xz", 4)),
        (True, "x.lzma", ("lzma", None)),
        (0, "x.pkl", (None, 0)),
    ],
)
def test_resolve_compress(compress, filename, expected):
    assert resolve_compress(compress, filename) == expected


def test_resolve_compress_extension_of_pathlike(tmp_path):
    assert resolve_compress(0, tmp_path / "a.bz2") == ("bz2", None)


@pytest.mark.parametrize(
    "compress, exc, match",
    [
        (10, ValueError, "compress level"),
        (-1, ValueError, "compress level"),
        (("zlib", 12), ValueError, "compress level"),
        ("zstd-unknown", ValueError, "Non valid compression method"),
        (("zlib", 3, 4), ValueError, "exactly 2 elements"),
        (3.0, TypeError, "compress"),
        (("zlib", "high"), TypeError, "compress level"),
        ((3, "zlib"), TypeError, "method"),
        ([("zlib", 3)], TypeError, "list"),
    ],
)
def test_resolve_compress_errors(compress, exc, match):
    with pytest.raises(exc, match=match):
        resolve_compress(compress)


def test_type_errors_are_also_value_errors():
    # joblib 1.6 raised ValueError for every bad compress value.
    with pytest.raises(ValueError):
        resolve_compress(3.0)


def test_lz4_missing_gives_install_hint(monkeypatch):
    wrapper = compressor._COMPRESSORS["lz4"]
    monkeypatch.setattr(wrapper, "_factory", None)
    monkeypatch.setattr(compressor, "_import_lz4_frame_file", lambda: None)
    with pytest.raises(ValueError, match="pip install lz4"):
        resolve_compress("lz4")
    with pytest.raises(ValueError, match="pip install lz4"):
        joblib.dump([1], io.BytesIO(), compress=("lz4", 3))


# -- registry -----------------------------------------------------------------
def test_builtin_compressors_registered():
    for name in ("zlib", "gzip", "bz2", "lzma", "xz", "lz4"):
        assert isinstance(compressor._COMPRESSORS[name], CompressorWrapper)


def test_register_compressor_errors(restore_registry):
    with pytest.raises(TypeError, match="name should be a string"):
        register_compressor(1, CompressorWrapper(gzip.GzipFile))
    with pytest.raises(ValueError, match="CompressorWrapper"):
        register_compressor("x", gzip.GzipFile)
    with pytest.raises(TypeError, match="fileobj_factory"):
        register_compressor("x", CompressorWrapper(object))
    with pytest.raises(ValueError, match="already registered"):
        register_compressor("zlib", CompressorWrapper(gzip.GzipFile))


def test_third_party_compressor_roundtrip(tmp_path, restore_registry):
    class CountingGzip(gzip.GzipFile):
        opened = 0

        def __init__(self, fileobj, mode, compresslevel=9):
            type(self).opened += 1
            super().__init__(fileobj=fileobj, mode=mode, compresslevel=compresslevel)

    register_compressor(
        "counting",
        CompressorWrapper(CountingGzip, prefix=b"\x1f\x8b", extension=".cgz"),
    )
    obj = {"a": list(range(100))}
    joblib.dump(obj, tmp_path / "explicit.bin", compress=("counting", 6))
    joblib.dump(obj, tmp_path / "by_extension.cgz")
    assert CountingGzip.opened == 2
    assert resolve_compress("counting") == ("counting", None)
    for name in ("explicit.bin", "by_extension.cgz"):
        assert joblib.load(tmp_path / name) == obj
        assert (tmp_path / name).read_bytes()[:2] == b"\x1f\x8b"


def test_register_force_replaces(restore_registry):
    new = CompressorWrapper(gzip.GzipFile, prefix=b"\x1f\x8b", extension=".gz")
    register_compressor("gzip", new, force=True)
    assert compressor._COMPRESSORS["gzip"] is new


# -- BinaryZlibFile -------------------------------------------------------------
@pytest.mark.parametrize(
    "cls, decompress",
    [(BinaryZlibFile, zlib.decompress), (BinaryGzipFile, gzip.decompress)],
)
def test_binary_zlib_file_formats(cls, decompress):
    buf = io.BytesIO()
    with cls(buf, "wb", compresslevel=6) as f:
        f.write(PAYLOAD[:1000])
        f.write(memoryview(PAYLOAD)[1000:])
        assert f.tell() == len(PAYLOAD)
    data = buf.getvalue()
    assert decompress(data) == PAYLOAD
    assert len(data) < len(PAYLOAD) // 5
    assert not buf.closed  # a caller's file object is left open


def test_binary_zlib_file_reads_zlib_output():
    raw = io.BytesIO(zlib.compress(PAYLOAD, 1))
    with BinaryZlibFile(raw) as f:
        assert f.read(10) == PAYLOAD[:10]
        target = bytearray(5000)
        assert f.readinto(target) == 5000
        assert bytes(target) == PAYLOAD[10:5010]
        assert f.tell() == 5010
        assert f.read() == PAYLOAD[5010:]
        assert f.read(10) == b""


def test_binary_zlib_file_seek(tmp_path):
    path = tmp_path / "data.z"
    with BinaryZlibFile(str(path), "wb") as f:
        f.write(PAYLOAD)
    with BinaryZlibFile(path, "rb") as f:
        f.seek(100)
        assert f.read(5) == PAYLOAD[100:105]
        f.seek(10)  # backwards: rewinds and decompresses again
        assert f.read(5) == PAYLOAD[10:15]
        f.seek(5, 1)
        assert f.tell() == 20
        assert f.seek(-3, 2) == len(PAYLOAD) - 3
        assert f.read() == PAYLOAD[-3:]


def test_binary_gzip_file_is_readable_by_gzip_module(tmp_path):
    path = tmp_path / "data.gz"
    with BinaryGzipFile(path, "wb", compresslevel=1) as f:
        f.write(PAYLOAD)
    with gzip.open(path) as f:
        assert f.read() == PAYLOAD


@pytest.mark.parametrize("level", [0, 10, "3", 2.5, True])
def test_binary_zlib_file_bad_level(level):
    with pytest.raises(ValueError, match="compresslevel"):
        BinaryZlibFile(io.BytesIO(), "wb", compresslevel=level)


def test_binary_zlib_file_bad_mode_and_target():
    with pytest.raises(ValueError, match="mode"):
        BinaryZlibFile(io.BytesIO(), "ab")
    with pytest.raises(TypeError, match="file object"):
        BinaryZlibFile(42)


def test_binary_zlib_file_closed_and_wrong_direction():
    f = BinaryZlibFile(io.BytesIO(), "wb")
    with pytest.raises(io.UnsupportedOperation):
        f.read()
    f.close()
    f.close()  # idempotent
    assert f.closed
    with pytest.raises(ValueError, match="closed"):
        f.write(b"x")

"""The lean lz4 reader used by load agrees with lz4's own LZ4FrameFile."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

lz4_frame = pytest.importorskip("lz4.frame")

import joblib  # noqa: E402
from joblib._persist.lz4_reader import LZ4FrameReader  # noqa: E402


def _frames(chunks, level=0):
    return b"".join(lz4_frame.compress(c, compression_level=level) for c in chunks)


payloads = st.lists(
    st.one_of(st.binary(max_size=3000),
              st.integers(0, 600_000).map(lambda n: bytes(range(7)) * (n // 7))),
    min_size=1, max_size=3,
)


@settings(max_examples=40, deadline=None)
@given(chunks=payloads, sizes=st.lists(st.integers(1, 300_000), min_size=1, max_size=8))
def test_reads_agree_with_lz4framefile(chunks, sizes):
    data = _frames(chunks)
    ours = LZ4FrameReader(io.BytesIO(data))
    theirs = lz4_frame.LZ4FrameFile(io.BytesIO(data), "rb")
    for size in sizes * 3:
        buf = bytearray(size)
        n = ours.readinto(buf)
        assert bytes(buf[:n]) == theirs.read(n)
        assert ours.tell() == theirs.tell()
    assert ours.read() == theirs.read()


@settings(max_examples=25, deadline=None)
@given(chunks=payloads, targets=st.lists(st.integers(0, 700_000), max_size=5))
def test_seek_agrees(chunks, targets):
    data = _frames(chunks)
    plain = b"".join(chunks)
    reader = io.BufferedReader(LZ4FrameReader(io.BytesIO(data)))
    for target in targets:
        got = reader.seek(target)
        assert got == min(target, len(plain))
        assert reader.read(100) == plain[target:target + 100]


def test_truncated_stream_is_eoferror():
    data = _frames([bytes(200_000)])
    with pytest.raises(EOFError, match="end-of-stream"):
        LZ4FrameReader(io.BytesIO(data[:-9])).read()


def test_load_of_lz4_files(tmp_path):
    array = np.random.default_rng(0).integers(0, 16, 3_000_000).astype(np.float64)
    path = tmp_path / "a.pkl"
    joblib.dump({"a": array, "b": [array[:3]]}, path, compress="lz4")
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded["a"], array)
    np.testing.assert_array_equal(loaded["b"][0], array[:3])
    assert joblib.inspect_file(path)["arrays"][0]["bytes"] == array.nbytes
    np.testing.assert_array_equal(joblib.load(path, trusted=[])["a"], array)

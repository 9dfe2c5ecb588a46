"""compress="zstd": dump/load, extension and magic-byte detection, Memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import joblib
from joblib.compressor import _COMPRESSORS, ZSTD_NOT_INSTALLED_ERROR

pytest.importorskip("backports.zstd" if sys.version_info < (3, 14) else "compression.zstd")

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ROOT = Path(__file__).resolve().parent.parent


def _value():
    return {"a": np.arange(10_000, dtype=np.int64) % 7, "b": ["x"] * 100,
            "o": np.array([1, "z"], dtype=object)}


def _check(loaded, value):
    np.testing.assert_array_equal(loaded["a"], value["a"])
    assert loaded["b"] == value["b"]
    assert loaded["o"].tolist() == [1, "z"]


@pytest.mark.parametrize("compress", ["zstd", ("zstd", 1), ("zstd", 3), ("zstd", 9)])
def test_round_trip_and_magic(tmp_path, compress):
    value = _value()
    path = tmp_path / "v.pkl"  # no telling extension: magic bytes decide
    assert joblib.dump(value, path, compress=compress) == [str(path)]
    raw = path.read_bytes()
    assert raw.startswith(ZSTD_MAGIC)
    assert len(raw) < value["a"].nbytes / 5
    _check(joblib.load(path), value)
    assert joblib.inspect_file(path)["compressor"] == "zstd"
    _check(joblib.load(path, trusted=[]), value)


def test_levels_change_the_output(tmp_path):
    data = np.sin(np.arange(200_000) / 100.0).round(3)
    sizes = []
    for level in (1, 9):
        path = tmp_path / ("l%d.pkl" % level)
        joblib.dump(data, path, compress=("zstd", level))
        sizes.append(path.stat().st_size)
    assert sizes[0] != sizes[1]  # the level reaches the codec


def test_extension_selects_zstd(tmp_path):
    path = tmp_path / "model.pkl.zst"
    joblib.dump(_value(), path)
    assert path.read_bytes().startswith(ZSTD_MAGIC)
    _check(joblib.load(path), _value())
    # An explicit method wins over the extension, as for other compressors.
    joblib.dump(_value(), path, compress=("zlib", 3))
    assert not path.read_bytes().startswith(ZSTD_MAGIC)


def test_file_objects(tmp_path):
    import io

    buf = io.BytesIO()
    joblib.dump(_value(), buf, compress="zstd")
    assert buf.getvalue().startswith(ZSTD_MAGIC)
    buf.seek(0)
    _check(joblib.load(buf), _value())


def test_memory_with_zstd(tmp_path):
    calls = []

    def f(x):
        calls.append(x)
        return np.full(1000, x)

    mem = joblib.Memory(tmp_path, compress="zstd", verbose=0)
    cached = mem.cache(f)
    np.testing.assert_array_equal(cached(3), np.full(1000, 3))
    np.testing.assert_array_equal(cached(3), np.full(1000, 3))
    assert calls == [3]
    outputs = list(tmp_path.rglob("output.pkl"))
    assert len(outputs) == 1 and outputs[0].read_bytes().startswith(ZSTD_MAGIC)


def test_bad_level_is_refused(tmp_path):
    with pytest.raises(ValueError, match="Non valid compress level"):
        joblib.dump(1, tmp_path / "x", compress=("zstd", 30))


def test_missing_package_names_the_extra(tmp_path):
    # A child where neither compression.zstd nor backports.zstd imports.
    code = (
        "import sys\n"
        "sys.modules['compression.zstd'] = None\n"
        "sys.modules['backports.zstd'] = None\n"
        "import joblib\n"
        "for call in (lambda: joblib.dump(1, %r, compress='zstd'),\n"
        "             lambda: joblib.dump(1, %r)):\n"
        "    try:\n        call()\n"
        "    except ValueError as e:\n        print(e)\n"
        % (str(tmp_path / "a"), str(tmp_path / "b.zst"))
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.stdout.splitlines() == [ZSTD_NOT_INSTALLED_ERROR] * 2, out.stderr
    assert 'pip install "joblib[zstd]"' in ZSTD_NOT_INSTALLED_ERROR


def test_registered_with_magic_and_extension():
    wrapper = _COMPRESSORS["zstd"]
    assert wrapper.prefix == ZSTD_MAGIC and wrapper.extension == ".zst"

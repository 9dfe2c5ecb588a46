"""joblib.inspect_file, corrupt files, and ``python -m joblib info|check``."""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
import time
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

import joblib

DATA = Path(__file__).parent / "data"
FIXTURES = sorted(
    p.name for p in DATA.glob("joblib_*_py311.pkl*") if p.suffix != ".npy"
)
ROOT = Path(__file__).resolve().parent.parent


def _sample():
    return {
        "coef": np.arange(12.0).reshape(3, 4),
        "f": np.asfortranarray(np.ones((2, 3), dtype=np.float32)),
        "obj": np.array([1, "a", np.arange(2)], dtype=object),
        "ns": types.SimpleNamespace(a=1),
    }


@pytest.mark.parametrize("compress", [0, 3, ("gzip", 1), ("lz4", 1), ("xz", 1)])
def test_report_of_a_joblib_file(tmp_path, compress):
    path = tmp_path / "s.pkl"
    joblib.dump(_sample(), path, compress=compress)
    report = joblib.inspect_file(path)
    json.dumps(report)  # JSON-serialisable
    expected = "not-compressed" if compress == 0 else (
        "zlib" if compress == 3 else compress[0])
    assert report["compressor"] == expected
    assert report["size"] == path.stat().st_size
    assert report["protocol"] == pickle.DEFAULT_PROTOCOL
    assert report["format"] == "joblib"
    assert report["globals"]["types.SimpleNamespace"] == 1
    assert report["needs_trust"] == ["types.SimpleNamespace"]
    arrays = report["arrays"]
    # The array inside the object array is in its nested plain pickle.
    assert [a["dtype"] for a in arrays] == ["<f8", "<f4", "object"]
    assert arrays[0]["shape"] == [3, 4] and arrays[0]["bytes"] == 96
    assert arrays[1]["order"] == "F" and arrays[1]["bytes"] == 24
    if compress == 0:
        raw = path.read_bytes()
        start = arrays[0]["offset"]
        assert start % 16 == 0  # joblib aligns array data
        got = np.frombuffer(raw[start:start + 96], dtype="<f8")
        np.testing.assert_array_equal(got, np.arange(12.0))


def test_report_of_a_plain_pickle(tmp_path):
    path = tmp_path / "p.pkl"
    path.write_bytes(pickle.dumps({"a": np.arange(3), "b": [1]}, protocol=2))
    report = joblib.inspect_file(path)
    assert report["format"] == "pickle" and report["protocol"] == 2
    assert report["arrays"] == []
    assert "numpy.core.multiarray._reconstruct" in report["globals"] or (
        "numpy._core.multiarray._reconstruct" in report["globals"])


@pytest.mark.parametrize("name", FIXTURES)
def test_fixtures_of_old_versions(name):
    report = joblib.inspect_file(DATA / name)
    assert report["globals"]["types.SimpleNamespace"] == 1
    dtypes = [a.get("dtype") for a in report["arrays"]]
    if "0.9.4_zlib" in name:
        assert report["compressor"] == "compat"
    else:
        assert len(report["arrays"]) == 24 - ("0.9.4" in name)
        assert "|i1" in dtypes and "<M8[s]" in dtypes
        # joblib 0.9 pickled object arrays inline, later versions wrap them.
        assert ("object" in dtypes) == ("0.9.4" not in name)


def test_nothing_is_imported_or_run(tmp_path):
    mod = tmp_path / "side_effect_mod2.py"
    mod.write_text("open(%r, 'w').close()\nclass K:\n    def __reduce__(self):\n"
                   "        return (K, ())\n" % str(tmp_path / "IMPORTED"))
    path = tmp_path / "k.pkl"
    path.write_bytes(b"\x80\x02cside_effect_mod2\nK\n)R.")
    code = ("import sys, joblib; sys.path.insert(0, %r); "
            "print(joblib.inspect_file(%r)['globals'])" % (str(tmp_path), str(path)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.strip() == "{'side_effect_mod2.K': 1}", out.stderr
    assert not (tmp_path / "IMPORTED").exists()


def test_truncated_files_give_a_clear_error(tmp_path):
    path = tmp_path / "t.pkl"
    joblib.dump(_sample(), path)
    raw = path.read_bytes()
    cut = tmp_path / "cut.pkl"
    for n in sorted(set(range(0, len(raw), 7)) | {1, 2, 11, len(raw) - 1}):
        cut.write_bytes(raw[:n])
        with pytest.raises(pickle.UnpicklingError, match="truncated, corrupted"):
            joblib.inspect_file(cut)
        with pytest.raises((pickle.UnpicklingError, EOFError)):
            joblib.load(cut, trusted=["types.SimpleNamespace"])


@pytest.mark.parametrize("compress", [0, 3, ("lz4", 1), ("bz2", 1)])
def test_garbage_never_crashes(tmp_path, compress):
    rng = random.Random(0)
    path = tmp_path / "g.pkl"
    joblib.dump(_sample(), path, compress=compress)
    raw = bytearray(path.read_bytes())
    bad = tmp_path / "bad.pkl"
    start = time.monotonic()
    for _ in range(150):
        data = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        bad.write_bytes(bytes(data))
        try:
            joblib.inspect_file(bad)
        except pickle.UnpicklingError as exc:
            assert str(bad) in str(exc)
    for size in (0, 1, 100, 5000):
        bad.write_bytes(bytes(rng.randrange(256) for _ in range(size)))
        with pytest.raises(pickle.UnpicklingError, match=str(bad)):
            joblib.inspect_file(bad)
    assert time.monotonic() - start < 60


@pytest.mark.parametrize("claim", [16 * 1024**3, 1024**4])
@pytest.mark.parametrize("compress", [0, 3])
@pytest.mark.parametrize("mmap_mode", [None, "r+"])
def test_huge_array_header_is_a_corrupt_file(tmp_path, claim, compress, mmap_mode):
    path = tmp_path / "h.pkl"
    # Protocol 3: no frames whose lengths the edit below would break.
    joblib.dump({"x": np.zeros(4)}, path, protocol=3)
    raw = path.read_bytes()
    count = claim // 8
    # Shape (4,) becomes (count,): LONG1 with 6 bytes.
    hostile = raw.replace(b"K\x04\x85", b"\x8a\x06" + count.to_bytes(6, "little")
                          + b"\x85", 1)
    assert hostile != raw
    if compress:
        plain = tmp_path / "plain.pkl"
        plain.write_bytes(hostile)
        import zlib
        hostile = zlib.compress(hostile, 3)
    path.write_bytes(hostile)
    size = path.stat().st_size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(EOFError, match="truncated or corrupted") as info:
            joblib.load(path, mmap_mode=mmap_mode)
    assert str(path) in str(info.value)
    assert path.stat().st_size == size  # not extended by np.memmap
    with pytest.raises(pickle.UnpicklingError, match="truncated or corrupted"):
        joblib.inspect_file(path)


def _cli(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "joblib", *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=cwd)


@pytest.mark.timeout(300)
def test_cli_info_and_check(tmp_path):
    good = tmp_path / "good.pkl"
    joblib.dump(_sample(), good, compress=3)
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"garbage")
    out = _cli("info", str(good))
    assert out.returncode == 0 and "compressor:  zlib" in out.stdout
    assert "types.SimpleNamespace" in out.stdout and "(needs trusted=)" in out.stdout
    out = _cli("info", "--json", str(good), str(bad))
    assert out.returncode == 1 and str(bad) in out.stderr
    assert json.loads(out.stdout)[0]["globals"]["types.SimpleNamespace"] == 1
    out = _cli("check", str(good), "--trusted", "numpy")
    assert out.returncode == 1 and "types.SimpleNamespace" in out.stdout
    out = _cli("check", str(good), "--trusted", "numpy", "types.SimpleNamespace",
               "--load")
    assert out.returncode == 0, out.stderr
    assert _cli("check", str(bad)).returncode == 1
    assert _cli("check", str(tmp_path / "missing.pkl")).returncode == 2
    assert _cli("check").returncode == 2
    assert _cli().returncode == 2
    helped = _cli("check", "--help")
    assert helped.returncode == 0 and "--trusted" in helped.stdout
    assert "info" in _cli("--help").stdout


def test_record_dtype_arrays(tmp_path):
    dtype = np.rec.fromrecords([(1, 2.0)], names="a,b").dtype  # type np.record
    value = np.zeros(3, dtype=dtype)
    path = tmp_path / "rec.pkl"
    joblib.dump(value, path)
    [entry] = joblib.inspect_file(path)["arrays"]
    assert entry["bytes"] == 3 * dtype.itemsize
    assert joblib.load(path, trusted=[]).dtype == dtype

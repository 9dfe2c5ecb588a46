"""Write the joblib-release fixture files used by tests/test_numpy_pickle_compat.py.

Run it with an interpreter where the joblib release to capture is importable
(and numpy, plus lz4 for the lz4 files), NOT with this repository's joblib::

    python -m venv /tmp/fixvenv
    /tmp/fixvenv/bin/pip install numpy lz4
    /tmp/fixvenv/bin/pip install --no-deps --target /tmp/jl_1.6.0 joblib==1.6.0
    cd /tmp && PYTHONPATH=/tmp/jl_1.6.0 /tmp/fixvenv/bin/python \\
        /path/to/repo/tests/data/create_joblib_fixtures.py /path/to/repo/tests/data

Releases captured: 0.9.4 (the old multi-file ``.npy``-companion format and
the "zfile" format, still readable by 1.6), 0.17.0 (single file, no
alignment padding), 1.0.1, 1.1.1 and 1.6.0 (aligned arrays). 0.10-0.16 do
not run with numpy 2. Files are named
``joblib_<version>_<compress>_py<major><minor>.pkl[.<ext>]``; companion
files of 0.9.4 sit next to their main file.

The objects are built by :func:`build_fixture_object`, which the tests
import to get the expected values; keep it deterministic and small.
"""

from __future__ import annotations

import os
import sys
import types

# (label, compress argument, file suffix); None = the release cannot do it.
COMPRESSIONS = [
    ("none", 0, ".pkl"),
    ("zlib", 3, ".pkl"),
    ("gzip", ("gzip", 3), ".pkl"),
    ("bz2", ("bz2", 3), ".pkl"),
    ("lzma", ("lzma", 3), ".pkl"),
    ("xz", ("xz", 3), ".pkl"),
    ("lz4", ("lz4", 3), ".pkl"),
    ("gzext", 0, ".pkl.gz"),
]


def build_fixture_object(np):
    """Return the object stored in every fixture file."""
    base = np.arange(12).reshape(3, 4)
    shared = np.linspace(0.0, 1.0, 5)
    arrays = {
        "int8": np.arange(-3, 4, dtype=np.int8),
        "uint16": np.arange(5, dtype=np.uint16),
        "int64": np.arange(6, dtype=np.int64) * (2**40),
        "float32": np.linspace(-1, 1, 5).astype(np.float32),
        "float64_nan": np.array([1.5, np.nan, -np.inf]),
        "complex128": np.array([1 + 2j, -3j]),
        "bool": np.array([True, False, True]),
        "datetime": np.array(["2021-03-04T05:06", "NaT"], dtype="M8[s]"),
        "timedelta": np.array([7, -1], dtype="m8[ms]"),
        "unicode": np.array(["a", "bé", ""]),
        "bytes": np.array([b"x", b"yz"]),
        "structured": np.array(
            [(1, 2.0), (3, 4.0)], dtype=[("i", "<i4"), ("f", "<f8")]
        ),
        "object": np.array([1, "two", None, (3,)], dtype=object),
        "fortran": np.asfortranarray(base.astype(np.float64)),
        "view": base[::2, 1::2],
        "zero_d": np.array(42),
        "empty": np.zeros((0, 2), dtype=np.float32),
        "big_endian": np.arange(4, dtype=">i4"),
        "matrix": np.matrix([[1.0, 2.0], [3.0, 4.0]]),
    }
    estimator = types.SimpleNamespace(
        alpha=0.5, coef_=base.astype(np.float64) / 7, classes_=np.array(["a", "b"])
    )
    return {
        "arrays": arrays,
        "estimator": estimator,
        "nested": (shared, [shared, {"again": shared}]),
        "plain": {"int": 1, "str": "s", "list": [1.5, None, True], "bytes": b"\x00"},
    }


def _can_compress(joblib, label) -> bool:
    version = tuple(int(p) for p in joblib.__version__.split(".")[:2])
    if label in ("none", "zlib"):
        return True
    if version < (0, 10):
        return False
    if label == "lz4":
        try:
            import lz4  # noqa: F401
        except ImportError:
            return False
        return version >= (0, 12)
    return True


def main(outdir: str) -> None:
    import joblib
    import numpy as np

    obj = build_fixture_object(np)
    py = "py%d%d" % sys.version_info[:2]
    for label, compress, suffix in COMPRESSIONS:
        if not _can_compress(joblib, label):
            continue
        name = "joblib_%s_%s_%s%s" % (joblib.__version__, label, py, suffix)
        written = joblib.dump(obj, os.path.join(outdir, name), compress=compress)
        print("\n".join(os.path.basename(p) for p in written))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))

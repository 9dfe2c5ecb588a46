"""Compare the compressors of ``joblib.dump``: file size, dump and load time.

The data is a dict of numpy arrays that looks like a typical dataset: a
table of measurements rounded to two decimals (so moderately compressible)
and a column of integer class labels (very compressible).  Each compressor
is tried at one or more levels, timed over a few repetitions (the best time is
kept), and the file is loaded back and checked.

    python examples/compressors_comparison.py              # 1 MB of data, quick
    python examples/compressors_comparison.py --size-mb 50 --repeat 3

The table in the "Persistence" page of the documentation was produced by
this script.  The lz4 rows need ``pip install lz4``, the zstd rows Python
3.14 or ``pip install "joblib[zstd]"``.
"""

import argparse
import os
import shutil
import tempfile
import time

import numpy as np

from joblib import dump, load

# (label, value of dump's ``compress`` argument)
CHOICES = [
    ("none", 0),
    ("zlib, level 1", ("zlib", 1)),
    ("zlib, level 3", ("zlib", 3)),
    ("zlib, level 9", ("zlib", 9)),
    ("gzip, level 3", ("gzip", 3)),
    ("bz2, level 3", ("bz2", 3)),
    ("lzma, level 3", ("lzma", 3)),
    ("xz, level 3", ("xz", 3)),
    ("lz4, level 1", ("lz4", 1)),
    ("lz4, level 3", ("lz4", 3)),
    ("zstd, level 1", ("zstd", 1)),
    ("zstd, level 3", ("zstd", 3)),
    ("zstd, level 9", ("zstd", 9)),
]


def make_data(size_mb):
    rng = np.random.default_rng(0)
    n_rows = int(size_mb * 1e6 / (8 * 10 + 8))
    features = rng.normal(size=(n_rows, 10)).round(2)
    labels = rng.integers(0, 5, size=n_rows)
    return {"features": features, "labels": labels}


def best_time(func, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def measure(data, compress, path, repeat):
    dump_s = best_time(lambda: dump(data, path, compress=compress), repeat)
    size = os.path.getsize(path)
    load_s = best_time(lambda: load(path), repeat)
    loaded = load(path)
    assert np.array_equal(loaded["features"], data["features"])
    assert np.array_equal(loaded["labels"], data["labels"])
    return size, dump_s, load_s


def available(method):
    """Whether the compressor's package is installed (lz4, zstd)."""
    from joblib.compressor import _COMPRESSORS

    try:
        _COMPRESSORS[method]._check_versions()
    except (ValueError, AttributeError):
        return not hasattr(_COMPRESSORS[method], "_check_versions")
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    data = make_data(args.size_mb)
    raw = sum(a.nbytes for a in data.values())
    print("data: %.1f MB of numpy arrays, best of %d runs" % (raw / 1e6, args.repeat))
    print("%-15s %10s %7s %9s %9s" % ("compress", "size (MB)", "ratio", "dump (s)", "load (s)"))
    folder = tempfile.mkdtemp(prefix="joblib_compressors_")
    try:
        for label, compress in CHOICES:
            method = compress[0] if isinstance(compress, tuple) else None
            if method is not None and not available(method):
                print("%-15s (skipped: %s is not installed)" % (label, method))
                continue
            path = os.path.join(folder, "data.joblib")
            size, dump_s, load_s = measure(data, compress, path, args.repeat)
            print("%-15s %10.2f %7.2f %9.3f %9.3f"
                  % (label, size / 1e6, raw / size, dump_s, load_s))
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()

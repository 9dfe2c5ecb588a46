"""dump/load: raw arrays, compressed arrays, and plain Python objects."""

from __future__ import annotations

import os

import numpy as np
import joblib

from benchmarks.harness import Bench, check, timed

__all__ = ["run_raw", "run_compressed", "run_objects", "compressible_array",
           "object_list"]

MB = 2**20


def compressible_array(n_items: int) -> "np.ndarray":
    """Seeded float64 data quantised to 16 levels: compresses a few times."""
    rng = np.random.default_rng(42)
    levels = rng.integers(0, 16, size=n_items).astype(np.float64)
    return levels * 0.25


def object_list(n_items: int) -> list:
    """Alternating small dicts and short strings (pickle-bound, no numpy)."""
    return [{"id": i, "name": f"item{i}", "score": i * 0.5} if i % 2
            else f"s{i:07d}" for i in range(n_items)]


def _dump_metric(bench: Bench, name: str, value, path: str, k: int,
                 amount: float | None, **dump_kwargs) -> None:
    def once() -> float:
        if os.path.exists(path):
            os.remove(path)
        bench.sync()
        seconds, written = timed(joblib.dump, value, path, **dump_kwargs)
        check(isinstance(written, list) and os.path.exists(path),
              f"dump returned {written!r} and {path!r} exists: "
              f"{os.path.exists(path)}")
        return seconds

    bench.measure(name, once, k=k, warmup=1, amount=amount)


def _load_metric(bench: Bench, name: str, expected, path: str, k: int,
                 amount: float | None, dump_kwargs: dict | None = None,
                 **load_kwargs) -> None:
    def setup() -> None:
        # With --only selecting a load metric alone, its dump was skipped.
        if not os.path.exists(path):
            joblib.dump(expected, path, **(dump_kwargs or {}))

    def once() -> float:
        check(os.path.exists(path), f"{path} was not written by dump")
        seconds, loaded = timed(joblib.load, path, **load_kwargs)
        if isinstance(expected, np.ndarray):
            check(isinstance(loaded, np.ndarray)
                  and loaded.shape == expected.shape
                  and np.array_equal(loaded, expected),
                  "loaded array differs from the dumped one")
        else:
            check(loaded == expected, "loaded objects differ from the dumped")
        return seconds

    bench.measure(name, once, k=k, warmup=1, amount=amount, setup=setup)


def run_raw(bench: Bench) -> None:
    """``dump_raw``, ``load_raw``, ``load_mmap``: uncompressed array I/O."""
    n_items = bench.n(256 * MB // 8, minimum=1024)
    array = np.linspace(0.0, 1.0, n_items)
    size_mb = array.nbytes / MB
    path = os.path.join(bench.tmpdir, "raw.pkl")
    _dump_metric(bench, "dump_raw", array, path, 3, size_mb)
    _load_metric(bench, "load_raw", array, path, 3, size_mb)
    expected_sum = float(array.sum())

    def mmap_setup() -> None:
        if not os.path.exists(path):
            joblib.dump(array, path)

    def mmap_once() -> float:

        def load_and_sum():
            loaded = joblib.load(path, mmap_mode="r")
            return loaded, float(loaded.sum())

        seconds, (loaded, total) = timed(load_and_sum)
        check(isinstance(loaded, np.memmap),
              f"mmap_mode='r' gave {type(loaded).__name__}, not a memmap")
        check(total == expected_sum, "memmapped data has a different sum")
        return seconds

    bench.measure("load_mmap", mmap_once, k=3, warmup=1, amount=size_mb,
                  setup=mmap_setup)


def run_compressed(bench: Bench) -> None:
    """zlib level 3, lz4 and zstd level 3: dump/load speed and ratio.

    joblib 1.6 has no zstd: on that side the zstd metrics report its error.
    """
    array = compressible_array(bench.n(48 * MB // 8, minimum=1024))
    size_mb = array.nbytes / MB
    for tag, compress in (("zlib3", ("zlib", 3)), ("lz4", "lz4"),
                          ("zstd3", ("zstd", 3))):
        path = os.path.join(bench.tmpdir, f"array.pkl.{tag}")
        _dump_metric(bench, f"dump_{tag}", array, path, 2, size_mb,
                     compress=compress)
        _load_metric(bench, f"load_{tag}", array, path, 3, size_mb,
                     dump_kwargs={"compress": compress})

        def ratio(path=path, compress=compress) -> float:
            if not os.path.exists(path):
                joblib.dump(array, path, compress=compress)
            value = array.nbytes / os.path.getsize(path)
            # 16-level data compresses several times with either codec: a
            # ratio near 1 means the compress argument was ignored.
            check(value > 1.5, f"file is barely compressed (x{value:.2f})")
            return value

        bench.record(f"{tag}_ratio", ratio)


def run_objects(bench: Bench) -> None:
    """``dump_objects``, ``load_objects``: pickling-bound persistence."""
    items = object_list(bench.n(100_000, minimum=100))
    path = os.path.join(bench.tmpdir, "objects.pkl")
    _dump_metric(bench, "dump_objects", items, path, 2, None)
    _load_metric(bench, "load_objects", items, path, 2, None)

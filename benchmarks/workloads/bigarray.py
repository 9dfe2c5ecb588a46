"""Large arrays sent to workers (joblib's automatic memmapping)."""

from __future__ import annotations

import statistics
import sys

import numpy as np
from joblib import Parallel, delayed

from benchmarks.harness import Bench, check, timed

__all__ = ["run_bigarray", "array_sum"]


def array_sum(array: "np.ndarray") -> float:
    """Task body: read the whole array once."""
    return float(array.sum())


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not found in /proc/self/status")


def _reset_peak_rss() -> None:
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0),
    # so the next reading of VmHWM is the peak of this call alone.
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def run_bigarray(bench: Bench) -> None:
    """``par_bigarray``: 8 tasks sharing one large array on 2 workers."""
    if not (bench.wants("par_bigarray")
            or bench.wants("par_bigarray_parent_mb")):
        return
    n_items = bench.n(200 * 2**20 // 8, minimum=1024)
    array = np.arange(n_items, dtype=np.float64)
    array *= 1.0 / n_items
    expected = float(array.sum())
    n_tasks = 8

    def call() -> list:
        return Parallel(n_jobs=2)(delayed(array_sum)(array)
                                  for _ in range(n_tasks))

    def once() -> float:
        seconds, out = timed(call)
        check(out == [expected] * n_tasks,
              f"wrong sums: {out[:3]!r}..., expected {expected!r}")
        return seconds

    bench.measure("par_bigarray", once, k=3, warmup=1)

    def parent_mb() -> float:
        check(sys.platform.startswith("linux"), "needs Linux /proc")
        rises = []
        for _ in range(3):
            before = _status_kb("VmRSS")
            _reset_peak_rss()
            once()
            rises.append(max(0, _status_kb("VmHWM") - before) / 1024)
        return statistics.median(rises)

    bench.record("par_bigarray_parent_mb", parent_mb)

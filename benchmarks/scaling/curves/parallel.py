"""Parallel: total time and per-task overhead vs number of tasks."""

from __future__ import annotations

import math
import time

from joblib import Parallel, delayed

from benchmarks.scaling.probe import Probe, best_time, check

__all__ = ["run"]

_BACKENDS = ("sequential", "threading", "loky", "multiprocessing")
# Past this many seconds for one call, larger sizes of that backend are
# skipped (reported as errors): they would take minutes.
_SLOW_CALL = 60.0


def _one_call(backend: str, n_tasks: int) -> None:
    n_jobs = 1 if backend == "sequential" else 2
    out = Parallel(n_jobs=n_jobs, backend=backend)(
        delayed(math.sqrt)(i) for i in range(n_tasks))
    check(len(out) == n_tasks and out[-1] == math.sqrt(n_tasks - 1),
          f"wrong results from {backend}")


def run(probe: Probe) -> None:
    """Per backend: a warm-up call, then one best-of timing per size."""
    for backend in _BACKENDS:
        with probe.guard(f"total_{backend}", 0):
            _one_call(backend, 10)  # start workers: their cost is elsewhere
        too_slow = False
        for size in probe.sizes:
            if too_slow:
                probe.point(f"total_{backend}", size, math.nan,
                            skipped="a smaller size took over a minute")
                continue
            with probe.guard(f"total_{backend}", size):
                start = time.perf_counter()
                seconds = best_time(lambda: _one_call(backend, size))
                too_slow = time.perf_counter() - start > _SLOW_CALL
                probe.point(f"total_{backend}", size, seconds)
                probe.point(f"per_task_{backend}", size, seconds / size)

"""Child-side helpers for the curves: timing, peak memory, reporting.

A curve's ``run(probe)`` measures each series at each size in
``probe.sizes`` and reports every point with :meth:`Probe.point`.  A point
whose measurement raises is reported as an error for that point only; the
curve goes on with the next one, so one broken size never hides the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from typing import Any, Callable, Iterator

__all__ = ["Probe", "best_time", "peak_rise_mb", "check"]


class CheckError(AssertionError):
    """A measured call returned a wrong result."""


def check(condition: bool, message: str) -> None:
    """Raise :class:`CheckError` unless ``condition`` (works under -O)."""
    if not condition:
        raise CheckError(message)


def best_time(func: Callable[[], Any], budget: float = 0.5,
              max_reps: int = 7) -> float:
    """Best of repeated calls of ``func``: at least one, then more while
    their total stays under ``budget`` seconds (at most ``max_reps``).

    On a shared machine the fastest run is the least disturbed one; small
    sizes get more repetitions, large ones (already long) a single one.
    """
    times: list = []
    spent = 0.0
    while len(times) < max_reps and (not times or spent + min(times) < budget):
        start = time.perf_counter()
        func()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        spent += elapsed
    return min(times)


def peak_rise_mb(func: Callable[[], Any]) -> tuple:
    """Call ``func``; return ``(its result, peak of the memory it
    allocated, in MB)``.

    Measured with :mod:`tracemalloc`, which also sees numpy's data
    buffers: unlike the process's peak RSS it does not depend on what the
    allocator kept from earlier calls.  Only for memory, never for timing
    (tracing slows allocations down).
    """
    import tracemalloc

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = func()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, max(0, peak - baseline) / 2**20


class Probe:
    """What a curve's ``run`` gets: its sizes, scratch folders, reporting.

    Parameters
    ----------
    curve : str
        The curve's name (copied into every reported line).
    sizes : sequence of numbers
        The x values to measure, in increasing order.
    out : file object
        Where the JSON lines go.
    """

    def __init__(self, curve: str, sizes, out: Any) -> None:
        self.curve = curve
        self.sizes = list(sizes)
        self._out = out
        self.tmpdir = tempfile.mkdtemp(prefix="joblib-scaling-data-")
        parent = os.environ.get("JOBLIB_BENCH_CACHE_PARENT") or None
        self.cachedir = tempfile.mkdtemp(prefix="joblib-scaling-cache-",
                                         dir=parent)

    def point(self, series: str, x: float, y: float, **extra: Any) -> None:
        """Report ``series`` = ``y`` at size ``x``."""
        self._emit({"series": series, "x": x, "y": float(y), **extra})

    @contextlib.contextmanager
    def guard(self, series: str, x: float) -> Iterator[None]:
        """Report an exception inside the block as this point's error."""
        try:
            yield
        except Exception as exc:  # any failure is this point's error
            traceback.print_exc(limit=-3, file=sys.stderr)
            self._emit({"series": series, "x": x,
                        "error": f"{type(exc).__name__}: {exc}"[:400]})

    def _emit(self, payload: dict) -> None:
        self._out.write(json.dumps({"curve": self.curve, **payload}) + "\n")
        self._out.flush()

    def close(self) -> None:
        """Remove the scratch folders."""
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        shutil.rmtree(self.cachedir, ignore_errors=True)

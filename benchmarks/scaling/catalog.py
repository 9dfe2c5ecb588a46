"""Every scaling curve: its sizes, its series and what they mean (pure data).

The orchestrator lists, filters and reports curves from here without
importing any workload (or numpy).  A curve runs in one fresh child per
side; its ``run`` function measures every series at every size.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Series", "Curve", "CURVES", "MODES", "curve", "select_curves"]

# full: the published charts; quick: a few minutes; tiny: the CI smoke test.
MODES = ("full", "quick", "tiny")


class Series(NamedTuple):
    """One line of a chart: a cost measured at every size."""

    name: str
    unit: str  # "s", "s/call", "s/task" or "MB"
    what: str


class Curve(NamedTuple):
    """Costs measured against one size, over several orders of magnitude."""

    name: str
    target: str  # "module:function" run by the child
    x_label: str
    sizes: dict  # mode -> tuple of sizes
    series: tuple
    what: str


_BACKENDS = ("sequential", "threading", "loky", "multiprocessing")


def _parallel_series() -> tuple:
    series = []
    for backend in _BACKENDS:
        series.append(Series(f"total_{backend}", "s",
                             f"one Parallel call of N tiny tasks, {backend}"))
        series.append(Series(f"per_task_{backend}", "s/task",
                             f"that time divided by N ({backend})"))
    return tuple(series)


CURVES: tuple = (
    Curve(
        "memory_entries", "benchmarks.scaling.curves.memory:run",
        "entries in the function's cache",
        {"full": (100, 1000, 10_000, 100_000), "quick": (100, 1000, 5000),
         "tiny": (10, 40)},
        (Series("hit", "s/call", "a cache hit (small int argument)"),
         Series("miss", "s/call", "a miss: compute (trivial) and store"),
         Series("reduce_size", "s", "reduce_size(items_limit=90% of the"
                " entries): scan, sort and delete a tenth")),
        "Memory.cache hit and miss latency and reduce_size time vs number"
        " of entries"),
    Curve(
        "parallel_tasks", "benchmarks.scaling.curves.parallel:run",
        "tasks in one call",
        {"full": (10, 100, 1000, 10_000, 100_000, 1_000_000),
         "quick": (10, 100, 1000, 10_000, 100_000), "tiny": (10, 50)},
        _parallel_series(),
        "Parallel(n_jobs=2) total time and per-task overhead vs number of"
        " tasks (math.sqrt-sized tasks), per backend"),
    Curve(
        "persist_size", "benchmarks.scaling.curves.persist:run",
        "array size (MB)",
        {"full": (1, 10, 100, 1000, 4096), "quick": (1, 10, 100),
         "tiny": (1, 2)},
        (Series("dump", "s", "joblib.dump of a float64 array (page cache)"),
         Series("load", "s", "joblib.load of that file"),
         Series("dump_peak", "MB", "peak memory allocated during the dump"
                " (tracemalloc)"),
         Series("load_peak", "MB", "peak memory allocated during the load,"
                " the loaded array itself included")),
        "dump/load time and peak memory vs array size"),
    Curve(
        "hash_array_size", "benchmarks.scaling.curves.hashing:run_array",
        "array size (MB)",
        {"full": (0.001, 0.01, 0.1, 1, 10, 100, 1000),
         "quick": (0.001, 0.1, 10, 100), "tiny": (0.001, 0.01)},
        (Series("md5", "s", "joblib.hash of a float64 array (md5)"),
         Series("xxh3", "s", "the same with hash_name='xxh3' (project"
                " only: joblib 1.6 has md5 and sha1)")),
        "joblib.hash time vs array size"),
    Curve(
        "hash_nested_size", "benchmarks.scaling.curves.hashing:run_nested",
        "leaves of the nested structure",
        {"full": (10, 100, 1000, 10_000, 100_000, 1_000_000),
         "quick": (10, 1000, 100_000), "tiny": (10, 100)},
        (Series("md5", "s", "joblib.hash of a dict of lists of tuples and"
                " small dicts"),),
        "joblib.hash time vs size of a nested Python structure"),
)


def curve(name: str) -> Curve:
    """Return the curve called ``name`` (KeyError if unknown)."""
    for entry in CURVES:
        if entry.name == name:
            return entry
    raise KeyError(f"unknown curve {name!r}")


def select_curves(pattern: str | None) -> list:
    """Curves whose name matches the regular expression ``pattern``."""
    import re

    if pattern is None:
        return list(CURVES)
    regex = re.compile(pattern)
    return [c for c in CURVES if regex.search(c.name)]

"""What the suite measures: every group, every metric, their units.

This module is pure data so that the orchestrator (which must not need numpy)
can list, filter and report metrics without importing any workload.  Sizes
are those at ``--scale 1``; the workload modules hold the actual numbers.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Metric", "GROUPS", "METRICS", "metric", "select_groups",
           "wanted_metrics"]


class Metric(NamedTuple):
    """One reported number: its name, group, unit and direction."""

    name: str
    group: str
    unit: str
    better: str  # "higher" or "lower"
    what: str
    # Values below this count as this much in ratios: for quantities whose
    # small values are noise (a few MB of allocator jitter), not a result.
    floor: float = 0.0


# group name -> "module:function" run by the child (benchmarks._child).
GROUPS: dict[str, str] = {
    "import": "benchmarks.workloads.startup:run_import",
    "par_first_call": "benchmarks.workloads.startup:run_first_call",
    "par_tiny": "benchmarks.workloads.dispatch:run_tiny",
    "par_reuse": "benchmarks.workloads.dispatch:run_reuse",
    "par_generator": "benchmarks.workloads.dispatch:run_generator",
    "par_bigarray": "benchmarks.workloads.bigarray:run_bigarray",
    "persist_raw": "benchmarks.workloads.persist:run_raw",
    "persist_compressed": "benchmarks.workloads.persist:run_compressed",
    "persist_objects": "benchmarks.workloads.persist:run_objects",
    "hashing": "benchmarks.workloads.hashing:run_hashing",
    "memory": "benchmarks.workloads.memory:run_memory",
}

_H, _L = "higher", "lower"

METRICS: tuple[Metric, ...] = (
    Metric("import_joblib", "import", "s", _L,
           "`python -c 'import joblib'` (interpreter start-up included)"),
    Metric("import_joblib_api", "import", "s", _L,
           "`from joblib import Parallel, delayed, Memory, dump, load, hash`"
           " in a fresh interpreter: what a user pays to get the public API"),
    Metric("par_first_call", "par_first_call", "s", _L,
           "first Parallel(n_jobs=2) call of a fresh process (16 tiny tasks):"
           " worker start-up included"),
    Metric("par_tiny_seq", "par_tiny", "tasks/s", _H,
           "Parallel(n_jobs=1) over 10000 tiny tasks"),
    Metric("par_tiny_threading", "par_tiny", "tasks/s", _H,
           "Parallel(n_jobs=2, backend='threading') over 10000 tiny tasks"),
    Metric("par_tiny_loky", "par_tiny", "tasks/s", _H,
           "Parallel(n_jobs=2) (loky, warm workers) over 10000 tiny tasks:"
           " auto-batching and dispatch overhead"),
    Metric("par_tiny_mp", "par_tiny", "tasks/s", _H,
           "Parallel(n_jobs=2, backend='multiprocessing') over 10000 tiny"
           " tasks (a pool per call)"),
    Metric("par_reuse", "par_reuse", "calls/s", _H,
           "100 consecutive 10-task calls inside one"
           " `with Parallel(n_jobs=2) as p:` block"),
    Metric("par_generator", "par_generator", "s", _L,
           "1000 tasks of 1 ms sleep through return_as='generator',"
           " fully consumed in order"),
    Metric("par_generator_unordered", "par_generator", "s", _L,
           "the same through return_as='generator_unordered'"),
    Metric("par_generator_first", "par_generator", "s", _L,
           "time until a return_as='generator' call of 40 x 20 ms tasks"
           " yields its first result (warm workers)"),
    Metric("par_bigarray", "par_bigarray", "s", _L,
           "8 tasks on 2 loky workers that each receive the same 200 MB"
           " float64 array and return its sum (automatic memmapping)"),
    Metric("par_bigarray_parent_mb", "par_bigarray", "MB", _L,
           "rise of the parent's peak RSS during that call (Linux only;"
           " under 16 MB counts as 16 MB in ratios)", floor=16.0),
    Metric("dump_raw", "persist_raw", "MB/s", _H,
           "joblib.dump of a 256 MB float64 array, no compression"),
    Metric("load_raw", "persist_raw", "MB/s", _H,
           "joblib.load of that file"),
    Metric("load_mmap", "persist_raw", "MB/s", _H,
           "joblib.load(mmap_mode='r') of that file plus a full sum"),
    Metric("dump_zlib3", "persist_compressed", "MB/s", _H,
           "joblib.dump(compress=('zlib', 3)) of a 48 MB compressible array"),
    Metric("load_zlib3", "persist_compressed", "MB/s", _H,
           "joblib.load of that zlib file"),
    Metric("zlib3_ratio", "persist_compressed", "x", _H,
           "array bytes / zlib file bytes"),
    Metric("dump_lz4", "persist_compressed", "MB/s", _H,
           "joblib.dump(compress='lz4') of the same array"),
    Metric("load_lz4", "persist_compressed", "MB/s", _H,
           "joblib.load of that lz4 file"),
    Metric("lz4_ratio", "persist_compressed", "x", _H,
           "array bytes / lz4 file bytes"),
    Metric("dump_zstd3", "persist_compressed", "MB/s", _H,
           "joblib.dump(compress=('zstd', 3)) of the same array (not in 1.6)"),
    Metric("load_zstd3", "persist_compressed", "MB/s", _H,
           "joblib.load of that zstd file"),
    Metric("zstd3_ratio", "persist_compressed", "x", _H,
           "array bytes / zstd file bytes"),
    Metric("dump_objects", "persist_objects", "s", _L,
           "joblib.dump of a list of 100k small dicts and short strings"),
    Metric("load_objects", "persist_objects", "s", _L,
           "joblib.load of that file"),
    Metric("hash_array", "hashing", "MB/s", _H,
           "joblib.hash of a 256 MB float64 array"),
    Metric("hash_array_xxh3", "hashing", "MB/s", _H,
           "joblib.hash(hash_name='xxh3') of the same array (joblib 1.6 has"
           " no xxh3: an error on its side)"),
    Metric("hash_objects", "hashing", "s", _L,
           "joblib.hash of a dict of lists with 100k tuples and small dicts"),
    Metric("mem_hit_small", "memory", "calls/s", _H,
           "Memory.cache hits: 1000 calls cycling over 50 cached int"
           " arguments"),
    Metric("mem_hit_array", "memory", "s", _L,
           "one Memory.cache hit whose argument is a 64 MB array"),
    Metric("mem_miss", "memory", "s", _L,
           "one Memory.cache miss that computes and stores a 32 MB array"),
    Metric("mem_store_small", "memory", "calls/s", _H,
           "1000 Memory.cache misses with small results into a fresh cache"),
    Metric("mem_reduce_size", "memory", "s", _L,
           "Memory.reduce_size(bytes_limit=half) on that 1000-entry cache"),
    Metric("mem_hit_small_limits", "memory", "calls/s", _H,
           "mem_hit_small with Memory(bytes_limit=, items_limit=) kept on"
           " write and statistics (not in 1.6)"),
    Metric("mem_compute_once_8", "memory", "x", _L,
           "8 processes call one uncached 1 s function with"
           " Memory(compute_once=True): time until all have the value / 1 s"
           " (not in 1.6)"),
)


def metric(name: str) -> Metric:
    """Return the catalog entry called ``name`` (KeyError if unknown)."""
    for entry in METRICS:
        if entry.name == name:
            return entry
    raise KeyError(f"unknown metric {name!r}")


def select_groups(pattern: str | None) -> list[str]:
    """Groups whose name, or one of whose metric names, matches ``pattern``.

    ``pattern`` is a regular expression searched (``re.search``) in the
    names; ``None`` selects every group, in catalog order.
    """
    import re

    if pattern is None:
        return list(GROUPS)
    regex = re.compile(pattern)
    chosen = []
    for group in GROUPS:
        names = [group] + [m.name for m in METRICS if m.group == group]
        if any(regex.search(name) for name in names):
            chosen.append(group)
    return chosen


def wanted_metrics(group: str, pattern: str | None) -> list[str]:
    """Names of the metrics of ``group`` that a run with ``--only pattern``
    reports: all of them when the group name matches, else those whose
    own name matches (the same rule as ``Bench.wants`` in the child)."""
    import re

    names = [m.name for m in METRICS if m.group == group]
    if pattern is None:
        return names
    regex = re.compile(pattern)
    return [name for name in names
            if regex.search(name) or regex.search(group)]

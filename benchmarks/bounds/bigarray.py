"""Bound of ``par_bigarray``: sending a large array to worker processes.

joblib 1.6 sends an array larger than ``max_nbytes`` to process workers by
writing it once per call to a file of its temporary folder (``/dev/shm``
when it can), which the workers map read-only; the file is removed at the
end of the call.  The limit forks two workers that share the array in
memory: no file at all.

The bounds keep that part of the contract and nothing else: the write of
the array to a file of the same folder alone, then the same write followed
by the 8 sums in two warm forked workers mapping the file with
``numpy.memmap`` and the file's removal, no joblib code.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import tempfile

from joblib import Parallel, delayed

from .core import Options, Row, best_of, rows_of
from .dispatch import N_JOBS

__all__ = ["BOUNDS"]

ARRAY_ITEMS = 50_000_000  # 400 MB of float64, as in compare.sh
TASKS = 8
_SHARED = None  # the limit's array, inherited by its forked workers


def _sum_shared(_: int) -> float:
    return float(_SHARED.sum())


_MAPPED: dict = {}  # worker side: the mapping of the current call's file


def _sum_file(path: str, items: int) -> float:
    """Map the call's file once per worker (as joblib does), then sum."""
    import numpy as np

    if path not in _MAPPED:
        _MAPPED.clear()  # the previous call's file is gone
        _MAPPED[path] = np.memmap(path, dtype="float64", mode="r", shape=(items,))
    return float(_MAPPED[path].sum())


def reduce_array(array) -> float:
    """The workload's task."""
    return float(array.sum())


def _folder() -> str:
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK):
        return shm
    return tempfile.gettempdir()


def bigarray(options: Options) -> list[Row]:
    """``par_bigarray``: 8 tasks that each get the same array, one call."""
    global _SHARED
    try:
        import numpy as np
    except ImportError:
        return []  # reported as missing by the caller's table
    items, repeat = options.size(ARRAY_ITEMS, 200_000), max(3, options.repeat // 2)
    array = np.arange(items, dtype="float64")
    expected = [float(array.sum())] * TASKS
    calls = iter(range(10**9))

    def write() -> str:
        # A new name per call: workers keep the previous call's mapping.
        path = os.path.join(_folder(), f"joblib-bounds-{os.getpid()}-{next(calls)}.bin")
        with open(path, "wb") as out:
            out.write(memoryview(array).cast("B"))
        return path

    def write_map_sum(pool) -> None:
        path = write()
        try:
            sums = list(pool.map(_sum_file, [path] * TASKS, [items] * TASKS))
        finally:
            os.unlink(path)
        if sums != expected:
            raise AssertionError("wrong sums")

    def ours() -> None:
        if Parallel(n_jobs=N_JOBS)(delayed(reduce_array)(array) for _ in range(TASKS)) != expected:
            raise AssertionError("wrong sums")

    fork = multiprocessing.get_context("fork")
    _SHARED = array
    try:
        with cf.ProcessPoolExecutor(N_JOBS, mp_context=fork) as pool:
            list(pool.map(_sum_shared, range(N_JOBS)))
            ours()
            timings = {
                "limit": best_of(lambda: list(pool.map(_sum_shared, range(TASKS))), repeat),
                "ours": best_of(ours, repeat),
                "write": best_of(lambda: os.unlink(write()), repeat),
                "file": best_of(lambda: write_map_sum(pool), repeat),
            }
    finally:
        _SHARED = None
    mb = array.nbytes / 2**20
    what = {
        "limit": f"{TASKS} sums of a {mb:.0f} MB array by {N_JOBS} forked workers sharing it",
        "ours": f"Parallel(n_jobs={N_JOBS}), {TASKS} tasks getting the array (memmapped)",
        "write": f"writing the array to a file in {_folder()} (and removing it)",
        "file": "that write, the sums by the warm forked workers mapping the file once each, removal",
    }
    return rows_of("par_bigarray", timings, what, target=40.0)


BOUNDS = [("par_bigarray", bigarray)]

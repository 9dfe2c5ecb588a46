"""Shared ``n_jobs`` normalisation and the checks that downgrade nested
process pools to one job."""

from __future__ import annotations

import sys
import warnings

from ..._multiprocessing_helpers import MULTIPROCESSING_USABLE
from ..cpu import cpu_count

__all__ = ["normalize_n_jobs", "check_not_zero", "process_pool_guard",
           "inside_dask_worker"]

_DASK_DAEMON_MSG = (
    "Inside a Dask worker with daemon=True, setting n_jobs=1.\n"
    "Possible work-arounds:\n"
    "- dask.config.set({'distributed.worker.daemon': False})\n"
    "- set the environment variable DASK_DISTRIBUTED__WORKER__DAEMON=False\n"
    "before creating your Dask cluster."
)


def check_not_zero(n_jobs) -> None:
    """Raise ValueError for ``n_jobs == 0``."""
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 in Parallel has no meaning")


def normalize_n_jobs(n_jobs) -> int:
    """Map ``None`` to 1 and negative values to ``cpu_count() + 1 + n_jobs``."""
    check_not_zero(n_jobs)
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        return max(cpu_count() + 1 + n_jobs, 1)
    return n_jobs


def inside_dask_worker() -> bool:
    """True when running inside a dask.distributed worker."""
    try:
        from distributed import get_worker  # optional dependency
    except ImportError:
        return False
    try:
        get_worker()
    except ValueError:
        return False
    return True


def process_pool_guard(n_jobs, *, kind: str, nesting_level, in_main_thread: bool,
                       check_loky_depth: bool = False) -> int | None:
    """Return 1 (after a warning) when a process pool cannot start here.

    ``kind`` is ``'Loky'`` or ``'Multiprocessing'``.  Returns None when
    nothing prevents starting a pool.
    """
    if not MULTIPROCESSING_USABLE:
        return 1
    # A daemonic multiprocessing child has imported multiprocessing; a process
    # that has not cannot be one (and need not pay for that import here).
    mp_process = sys.modules.get("multiprocessing.process")
    if mp_process is not None and mp_process.current_process().daemon:
        # Daemonic processes cannot have children.
        if n_jobs != 1:
            msg = _DASK_DAEMON_MSG if inside_dask_worker() else (
                "Loky-backed parallel loops cannot be called in a "
                "multiprocessing, setting n_jobs=1" if kind == "Loky" else
                "Multiprocessing-backed parallel loops cannot be nested, "
                "setting n_jobs=1"
            )
            warnings.warn(msg, stacklevel=4)
        return 1
    if check_loky_depth and _inside_loky_worker():
        if n_jobs != 1:
            warnings.warn(
                "Multiprocessing-backed parallel loops cannot be nested, "
                "below loky, setting n_jobs=1", stacklevel=4,
            )
        return 1
    if not (in_main_thread or nesting_level == 0):
        # Forking from a non-main thread is unsafe with POSIX fork.
        if n_jobs != 1:
            warnings.warn(
                f"{kind}-backed parallel loops cannot be nested below "
                "threads, setting n_jobs=1", stacklevel=4,
            )
        return 1
    return None


def _inside_loky_worker() -> bool:
    process_executor = sys.modules.get("loky.process_executor")
    return process_executor is not None and process_executor._CURRENT_DEPTH > 0

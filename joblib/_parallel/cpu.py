"""Counting usable CPUs as loky does (affinity, cgroup quotas and
``LOKY_MAX_CPU_COUNT``): logical CPUs are counted here without importing
loky, physical cores and non-Linux platforms are left to loky."""

from __future__ import annotations

import os
import time

from .._multiprocessing_helpers import MULTIPROCESSING_USABLE

__all__ = ["cpu_count"]


def cpu_count(only_physical_cores: bool = False) -> int:
    """Return the number of CPUs this process may use.

    Counts as :func:`loky.cpu_count` does: the minimum of ``os.cpu_count()``,
    the CPU affinity mask, Linux cgroup (v1 and v2) CPU quotas and the
    ``LOKY_MAX_CPU_COUNT`` environment variable.

    Parameters
    ----------
    only_physical_cores : bool, default=False
        If True, do not count hyperthreading / SMT logical cores.

    Returns
    -------
    int
        At least 1.  Always 1 when multiprocessing is disabled or unusable
        (``JOBLIB_MULTIPROCESSING=0``).

    Examples
    --------
    >>> from joblib import cpu_count
    >>> cpu_count() >= 1
    True
    """
    if not MULTIPROCESSING_USABLE:
        return 1
    if not only_physical_cores and hasattr(os, "sched_getaffinity"):
        # The common case, answered without importing loky: the first call
        # of a program counts CPUs before it starts its workers (loky_boot).
        return _usable_logical_cpus()
    import loky  # deferred: loky is only needed once CPUs are counted

    return loky.cpu_count(only_physical_cores=only_physical_cores)


# cgroup files holding a CPU bandwidth quota (v2, then v1).
CGROUP_V2_CPU_MAX = "/sys/fs/cgroup/cpu.max"
CGROUP_V1_QUOTA = "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"
CGROUP_V1_PERIOD = "/sys/fs/cgroup/cpu/cpu.cfs_period_us"


def _usable_logical_cpus() -> int:
    """Logical CPUs, capped as loky caps them: affinity, cgroup quota and
    ``LOKY_MAX_CPU_COUNT``."""
    counts = [os.cpu_count() or 1]
    try:
        counts.append(len(os.sched_getaffinity(0)))
    except (NotImplementedError, OSError):
        pass
    quota = _cached_cgroup_cpu_quota()
    if quota is not None:
        counts.append(quota)
    if "LOKY_MAX_CPU_COUNT" in os.environ:
        counts.append(int(os.environ["LOKY_MAX_CPU_COUNT"]))
    return max(1, min(counts))


def _read_words(path: str) -> list[str] | None:
    try:
        with open(path) as f:
            return f.read().split()
    except OSError:
        return None


# [files read, monotonic time of the reading, quota]: every Parallel call
# counts CPUs, and reading the cgroup files cost 10% of a short call.  A
# quota changed at run time is seen within _QUOTA_TTL seconds.  Read as one
# snapshot and replaced as a whole (single list operations, atomic with or
# without the GIL), so that threads never mix the parts of two readings.
_QUOTA_CACHE: list = [None, float("-inf"), None]
_QUOTA_TTL = 1.0


def _cached_cgroup_cpu_quota() -> int | None:
    """:func:`_cgroup_cpu_quota`, read again at most once per second."""
    now = time.monotonic()
    files = (CGROUP_V2_CPU_MAX, CGROUP_V1_QUOTA, CGROUP_V1_PERIOD)
    cached_files, read_at, quota = tuple(_QUOTA_CACHE)
    if files != cached_files or now - read_at > _QUOTA_TTL:
        quota = _cgroup_cpu_quota()
        _QUOTA_CACHE[:] = files, now, quota
    return quota


def _cgroup_cpu_quota() -> int | None:
    """CPUs allowed by a cgroup bandwidth quota (rounded up), if one is set."""
    words = _read_words(CGROUP_V2_CPU_MAX)
    if words is None or len(words) != 2:
        quota, period = _read_words(CGROUP_V1_QUOTA), _read_words(CGROUP_V1_PERIOD)
        if not quota or not period:
            return None
        words = [quota[0], period[0]]
    if words[0] == "max":
        return None
    quota_us, period_us = int(words[0]), int(words[1])
    if quota_us <= 0 or period_us <= 0:
        return None  # a negative quota disables the limit
    return -(-quota_us // period_us)

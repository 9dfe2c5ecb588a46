"""Counting usable CPUs (delegates to loky, which honours affinity, cgroups
and ``LOKY_MAX_CPU_COUNT``)."""

from __future__ import annotations

from .._multiprocessing_helpers import mp

__all__ = ["cpu_count"]


def cpu_count(only_physical_cores: bool = False) -> int:
    """Return the number of CPUs this process may use.

    Delegates to :func:`loky.cpu_count`, which takes the minimum of
    ``os.cpu_count()``, the CPU affinity mask, Linux cgroup (v1 and v2) CPU
    quotas and the ``LOKY_MAX_CPU_COUNT`` environment variable.

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
    if mp is None:
        return 1
    import loky  # deferred: loky is only needed once CPUs are counted

    return loky.cpu_count(only_physical_cores=only_physical_cores)

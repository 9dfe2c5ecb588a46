"""dump/load: time and peak memory vs array size."""

from __future__ import annotations

import os
import shutil

import numpy as np
import joblib

from benchmarks.scaling.probe import Probe, best_time, check, peak_rise_mb

__all__ = ["run", "fits"]

MB = 2**20


def fits(size_mb: float, folder: str) -> str | None:
    """Why ``size_mb`` cannot be measured here, or None if it can.

    The array, the loaded copy and the file in the page cache must fit in
    RAM with room to spare; the file must fit on the disk.
    """
    needed = size_mb * MB
    free_disk = shutil.disk_usage(folder).free
    if free_disk < 2 * needed + (2 << 30):
        return f"{free_disk // MB} MB free on disk, need {2 * needed // MB}"
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    if available < 4 * needed + (1 << 30):
        return f"{available // MB} MB of RAM available, need {4 * needed // MB}"
    return None


def _measure(probe: Probe, size_mb: int, path: str) -> None:
    array = np.arange(size_mb * MB // 8, dtype=np.float64)
    expected = float(array[-1])
    with probe.guard("dump", size_mb):
        probe.point("dump", size_mb, best_time(lambda: joblib.dump(array, path), 2.0, 3))
    with probe.guard("load", size_mb):
        def load() -> None:
            loaded = joblib.load(path)
            check(loaded.shape == array.shape and float(loaded[-1]) == expected,
                  "loaded array differs")

        probe.point("load", size_mb, best_time(load, 2.0, 3))
    with probe.guard("dump_peak", size_mb):
        probe.point("dump_peak", size_mb,
                    peak_rise_mb(lambda: joblib.dump(array, path))[1])
    del array
    with probe.guard("load_peak", size_mb):
        loaded, rise = peak_rise_mb(lambda: joblib.load(path))
        check(float(loaded[-1]) == expected, "loaded array differs")
        del loaded
        probe.point("load_peak", size_mb, rise)


def run(probe: Probe) -> None:
    """Dump, load and their peak memory for each array size."""
    path = os.path.join(probe.tmpdir, "array.pkl")
    for size_mb in probe.sizes:
        reason = fits(size_mb, probe.tmpdir)
        if reason is not None:
            for series in ("dump", "load", "dump_peak", "load_peak"):
                probe.point(series, size_mb, float("nan"), skipped=reason)
            continue
        _measure(probe, size_mb, path)
        if os.path.exists(path):
            os.unlink(path)

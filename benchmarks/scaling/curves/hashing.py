"""joblib.hash: time vs size, for arrays and for nested Python objects."""

from __future__ import annotations

import numpy as np
import joblib

from benchmarks.scaling.probe import Probe, best_time, check
from benchmarks.workloads.hashing import nested_structure

__all__ = ["run_array", "run_nested"]

MB = 2**20


def _time_hash(value, hash_name: str) -> float:
    digest = joblib.hash(value, hash_name=hash_name)
    check(isinstance(digest, str) and len(digest) >= 16,
          f"hash returned {digest!r}")

    def once() -> None:
        check(joblib.hash(value, hash_name=hash_name) == digest,
              "hash is not stable across calls")

    return best_time(once)


def _supports(hash_name: str) -> str | None:
    """Why this joblib cannot hash with ``hash_name``, or None."""
    try:
        joblib.hash(b"", hash_name=hash_name)
    except ValueError as exc:  # joblib 1.6 knows md5 and sha1 only
        return str(exc)
    return None


def run_array(probe: Probe) -> None:
    """md5 (and xxh3 where available) of float64 arrays of each size."""
    missing = {name: _supports(name) for name in ("md5", "xxh3")}
    for size_mb in probe.sizes:
        array = np.linspace(0.0, 1.0, max(1, int(size_mb * MB) // 8))
        for name, reason in missing.items():
            if reason is not None:
                probe.point(name, size_mb, float("nan"), skipped=reason)
                continue
            with probe.guard(name, size_mb):
                probe.point(name, size_mb, _time_hash(array, name))
        del array


def run_nested(probe: Probe) -> None:
    """md5 of a dict of lists holding tuples and small dicts."""
    for leaves in probe.sizes:
        with probe.guard("md5", leaves):
            probe.point("md5", leaves, _time_hash(nested_structure(leaves), "md5"))

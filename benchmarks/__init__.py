"""The project's own benchmark suite for joblib.

Run it with ``python -m benchmarks --help`` from the repository root.  The
orchestrating process only needs the standard library; each workload group
runs in a fresh child interpreter that needs numpy (and lz4 for the lz4
workloads).  See ``benchmarks/README.rst`` and ``docs/benchmarks.rst``.
"""

from __future__ import annotations

__all__: list[str] = []

"""Workload groups, one module per area; each ``run_*`` takes a Bench.

These modules run only in child interpreters (they import numpy and joblib
at module level); the orchestrator reads ``benchmarks.catalog`` instead.
"""

from __future__ import annotations

__all__: list[str] = []

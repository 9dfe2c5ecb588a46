"""How far the design allows: bounds for the workloads below their limit.

``python -m benchmarks.bounds`` measures, in one process and interleaved,
three things for each workload of ``../shared/bench/compare.sh`` whose
target (a percentage of a physical or stdlib limit) is out of reach:

* the **limit** the benchmark compares with (e.g. a warm
  ``ProcessPoolExecutor`` mapping with the best chunk size);
* **ours**, the workload itself;
* **bounds**: the cheapest code that keeps the part of joblib 1.6's
  contract that costs the time (e.g. the same batches, on the bare
  executor, with no joblib code at all).

When a bound is below the target, no implementation of that contract on
those parts reaches the target: the table says so, and which design change
would.  Each area is a module (``dispatch``, ...) exposing ``BOUNDS``, a
list of ``(name, function)``; a function takes the :class:`Options` and
returns :class:`Row` objects.
"""

from __future__ import annotations

__all__: list[str] = []

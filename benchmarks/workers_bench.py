"""Costs of the worker features of issue #16, measured on this package:

- ``forward_logs=True``: cost per forwarded log record (a task logging
  N records at INFO, forwarded vs handled by a no-op handler in the
  worker), and effect on a ``par_tiny_loky``-like call (20,000 tiny tasks
  that do not log);

Run: ``python benchmarks/workers_bench.py`` (best of 5 of each).
"""

from __future__ import annotations

import logging
import math
import sys
import time

from joblib import Parallel, delayed

N_RECORDS = 20_000


def log_many(n, forwarded):
    logger = logging.getLogger("bench_workers")
    if not forwarded:
        root = logging.getLogger()
        if not root.handlers:
            root.addHandler(logging.NullHandler())
        root.setLevel(logging.INFO)
    start = time.perf_counter()
    for i in range(n):
        logger.info("record %d", i)
    return time.perf_counter() - start


def best(f, rounds=5):
    return min(f() for _ in range(rounds))


def main() -> int:
    logging.getLogger("bench_workers").addHandler(logging.NullHandler())
    logging.getLogger("bench_workers").setLevel(logging.INFO)
    logging.getLogger("bench_workers").propagate = False
    forwarded = best(lambda: Parallel(n_jobs=2, forward_logs=True)(
        delayed(log_many)(N_RECORDS, True) for _ in range(2))[0])
    local = best(lambda: Parallel(n_jobs=2)(
        delayed(log_many)(N_RECORDS, False) for _ in range(2))[0])
    print(f"log record in a worker: {local / N_RECORDS * 1e6:.1f} us handled locally, "
          f"{forwarded / N_RECORDS * 1e6:.1f} us forwarded "
          f"(+{(forwarded - local) / N_RECORDS * 1e6:.1f} us per record)")
    tasks = 20_000

    def tiny(forward):
        start = time.perf_counter()
        Parallel(n_jobs=2, forward_logs=forward)(delayed(math.sqrt)(i) for i in range(tasks))
        return time.perf_counter() - start

    results = {False: [], True: []}
    for _ in range(3):
        for forward in (False, True):
            tiny(forward)  # switching the setting starts new workers: warm up
            results[forward].append(best(lambda: tiny(forward)))
    off, on = min(results[False]), min(results[True])
    print(f"par_tiny_loky-like ({tasks} tasks): {tasks / off:,.0f} tasks/s off, "
          f"{tasks / on:,.0f} tasks/s with forward_logs (ratio {off / on:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Cost of failures in a fault-tolerant call.

``python -m benchmarks.fault_tolerance [--tasks N] [--rounds K] [--backend B]``

Runs ``Parallel(n_jobs=2, retries=1, on_error="return")`` over N tiny tasks
(default 100,000) twice per round, interleaved: once where no task fails
and once where 1% of them raise (``ValueError``, not in ``retry_on``, so
each failure is final and returned in place).  Reports the best time of
each over the rounds and the overhead of the failures (target: <= 10%).
Also reports the same call without fault tolerance (``Parallel(n_jobs=2)``)
for scale.  This project only: joblib 1.6 has no fault-tolerant mode, so
this is not part of the side-by-side suite.
"""

from __future__ import annotations

import argparse
import sys
import time

from joblib import Parallel, delayed

__all__ = ["main", "tiny"]


def tiny(i: int, fail_every: int) -> int:
    """The tiny task; raises for one task in ``fail_every``."""
    if fail_every and i % fail_every == 7:
        raise ValueError(i)
    return i


def _once(n_tasks: int, fail_every: int, backend: str, **options) -> float:
    start = time.perf_counter()
    out = Parallel(n_jobs=2, backend=backend, **options)(
        delayed(tiny)(i, fail_every) for i in range(n_tasks))
    seconds = time.perf_counter() - start
    n_failed = sum(isinstance(x, ValueError) for x in out)
    expected = n_tasks // fail_every if fail_every else 0
    if len(out) != n_tasks or n_failed != expected:
        raise AssertionError(
            f"wrong output: {len(out)} results, {n_failed} errors "
            f"(expected {n_tasks} and {expected})")
    return seconds


def measure(n_tasks: int, rounds: int, backend: str) -> dict:
    """Best seconds of each variant over ``rounds`` interleaved rounds."""
    fault = dict(retries=1, on_error="return")
    variants = {
        "plain (no fault tolerance)": lambda: _once(n_tasks, 0, backend),
        "retries=1, on_error='return', no failure":
            lambda: _once(n_tasks, 0, backend, **fault),
        "retries=1, on_error='return', 1% failing":
            lambda: _once(n_tasks, 100, backend, **fault),
    }
    best = {name: float("inf") for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            best[name] = min(best[name], run())
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fault_tolerance",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", default="loky",
                        choices=["loky", "multiprocessing", "threading"])
    args = parser.parse_args(argv)
    best = measure(args.tasks, args.rounds, args.backend)
    print(f"{args.tasks} tiny tasks, n_jobs=2, backend={args.backend}, "
          f"best of {args.rounds} rounds")
    for name, seconds in best.items():
        print(f"  {name:<45} {seconds:8.3f} s  {args.tasks / seconds:>10,.0f} tasks/s")
    names = list(best)
    overhead = best[names[2]] / best[names[1]] - 1
    print(f"overhead of 1% failing tasks: {overhead:+.1%} (target <= +10%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Task dispatch: tiny tasks per backend, reuse of a pool, generators."""

from __future__ import annotations

import time

from joblib import Parallel, delayed

from benchmarks.harness import Bench, check, timed

__all__ = ["run_tiny", "run_reuse", "run_generator", "square", "nap"]


def square(i: int) -> int:
    """The tiny task: cheap, so the overhead of dispatching it dominates."""
    return i * i


def nap(i: int, seconds: float) -> int:
    """Sleep ``seconds`` and return ``i`` (tasks of a known duration)."""
    time.sleep(seconds)
    return i


def _tiny_once(n_tasks: int, **parallel_kwargs) -> float:
    # A new Parallel per call, as most user code does.
    expected = (n_tasks - 1) * n_tasks * (2 * n_tasks - 1) // 6
    seconds, out = timed(
        lambda: Parallel(**parallel_kwargs)(delayed(square)(i)
                                            for i in range(n_tasks)))
    check(isinstance(out, list) and len(out) == n_tasks,
          f"expected a list of {n_tasks} results, got {type(out).__name__}")
    check(sum(out) == expected and out[-1] == (n_tasks - 1) ** 2,
          "wrong results from Parallel")
    return seconds


def run_tiny(bench: Bench) -> None:
    """``par_tiny_*``: throughput of tiny tasks for each backend."""
    n_tasks = bench.n(10_000, minimum=50)
    cases = [
        ("par_tiny_seq", {"n_jobs": 1}, 5),
        ("par_tiny_threading", {"n_jobs": 2, "backend": "threading"}, 5),
        ("par_tiny_loky", {"n_jobs": 2}, 5),
        ("par_tiny_mp", {"n_jobs": 2, "backend": "multiprocessing"}, 5),
    ]
    for name, kwargs, k in cases:
        bench.measure(name, lambda kw=kwargs: _tiny_once(n_tasks, **kw),
                      k=k, warmup=1, amount=n_tasks)


def run_reuse(bench: Bench) -> None:
    """``par_reuse``: many small calls on one managed ``Parallel``."""
    n_calls = bench.n(100, minimum=5)

    def once() -> float:
        with Parallel(n_jobs=2) as parallel:
            for j in range(3):  # start the workers outside the timing
                parallel(delayed(square)(i) for i in range(10))
            start = time.perf_counter()
            for j in range(n_calls):
                out = parallel(delayed(square)(i + j) for i in range(10))
                check(out == [(i + j) ** 2 for i in range(10)],
                      f"wrong results in call {j}: {out!r}")
            return time.perf_counter() - start

    bench.measure("par_reuse", once, k=3, amount=n_calls)


def _generator_once(n_tasks: int, return_as: str) -> float:
    parallel = Parallel(n_jobs=2, return_as=return_as)
    start = time.perf_counter()
    out = parallel(delayed(nap)(i, 0.001) for i in range(n_tasks))
    check(not isinstance(out, list), f"{return_as!r} returned a list")
    items = list(out)
    seconds = time.perf_counter() - start
    if return_as == "generator":
        check(items == list(range(n_tasks)), "generator results out of order")
    else:
        check(sorted(items) == list(range(n_tasks)),
              "generator_unordered lost or duplicated results")
    return seconds


def _first_item_once(n_tasks: int) -> float:
    start = time.perf_counter()
    out = Parallel(n_jobs=2, return_as="generator")(
        delayed(nap)(i, 0.02) for i in range(n_tasks))
    first = next(iter(out))
    seconds = time.perf_counter() - start
    rest = list(out)  # drain so the next repetition starts on idle workers
    check(first == 0 and rest == list(range(1, n_tasks)),
          "generator yielded wrong results")
    return seconds


def run_generator(bench: Bench) -> None:
    """``par_generator*``: results streamed back while tasks run."""
    n_tasks = bench.n(1000, minimum=20)
    for name, return_as in (("par_generator", "generator"),
                            ("par_generator_unordered",
                             "generator_unordered")):
        bench.measure(name, lambda r=return_as: _generator_once(n_tasks, r),
                      k=3, warmup=1)
    bench.measure("par_generator_first",
                  lambda: _first_item_once(bench.n(40, minimum=4)),
                  k=5, warmup=1)

"""Bounds of ``par_tiny_loky`` and ``par_reuse``: joblib 1.6's batching on
the bare executors.

``Parallel`` with ``batch_size='auto'`` decides how tasks are cut into
batches: a new ``Parallel`` starts at one task per batch and doubles while
batches are fast; only ``pre_dispatch`` tasks are taken from the input up
front; the input's tail is cut ten times finer than the workers' share.
That policy is joblib 1.6's and ours (the same batches, see
:func:`record_batches`); each batch is one round trip to a worker.

The bound runs exactly those batches on the bare executor, all submitted
at once (no joblib code, no waiting for completions before submitting),
with the user's generator of ``delayed`` tuples consumed as it goes, the
part of the workload the limit does not pay.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from joblib import Parallel, delayed

from .core import Options, Row, best_of, rows_of

__all__ = ["BOUNDS", "record_batches", "run_batches"]

TINY_TASKS = 20_000  # as in compare.sh (Options.size shrinks them in --tiny)
REUSE_TASKS = 10
REUSE_CALLS = 200
N_JOBS = 2


def _run_calls(calls: list) -> list:
    """Worker side of one batch: call each ``(function, args, kwargs)``."""
    return [function(*args, **kwargs) for function, args, kwargs in calls]


def record_batches(run: Callable[[Callable], object]) -> list[int]:
    """Sizes of the batches one call made, in input order.

    ``run(progress)`` makes the call with ``Parallel(progress=progress)``;
    every event names its task and the size of the batch that ran it, and
    batches are consecutive slices of the input.
    """
    sizes: dict[int, int] = {}

    def progress(event: Any) -> None:
        sizes[event.index] = event.batch_size

    run(progress)
    pattern, start = [], 0
    while start in sizes:
        pattern.append(sizes[start])
        start += sizes[start]
    if start != len(sizes):
        raise RuntimeError(f"batches are not consecutive slices: {sizes}")
    return pattern


def run_batches(executor: Any, tasks: Iterable, pattern: list[int]) -> list:
    """Submit ``pattern``'s batches of ``tasks`` at once; return the results."""
    tasks = iter(tasks)
    futures = [executor.submit(_run_calls, list(itertools.islice(tasks, size)))
               for size in pattern]
    return [value for future in futures for value in future.result()]


def run_batches_lazily(executor: Any, tasks: Iterable, pattern: list[int],
                       pre_dispatch: int = 2 * N_JOBS) -> list:
    """Submit ``pattern``'s batches as joblib 1.6 does: those covering the
    first ``pre_dispatch`` tasks at once, then one more each time a batch
    completes (from the executor's callback thread); return the results."""
    tasks = iter(tasks)
    sizes = iter(pattern)
    futures: list = []
    # Reentrant: add_done_callback runs the callback at once (in the
    # submitting thread, lock held) when the batch already finished.
    lock = threading.RLock()
    done = threading.Event()
    remaining = [len(pattern)]

    def submit_next() -> None:
        size = next(sizes, None)
        if size is not None:
            future = executor.submit(_run_calls, list(itertools.islice(tasks, size)))
            futures.append(future)
            future.add_done_callback(completed)

    def completed(_future: Any) -> None:
        with lock:
            remaining[0] -= 1
            submit_next()
            if remaining[0] == 0:
                done.set()

    with lock:
        covered = 0
        for size in pattern:
            if covered >= pre_dispatch:
                break
            covered += size
            submit_next()
    done.wait()
    return [value for future in futures for value in future.result()]


def _bare_loky() -> Any:
    """A warm loky executor of our own (joblib's reusable one would be
    replaced whenever Parallel asks for it with other settings)."""
    from loky import ProcessPoolExecutor

    executor = ProcessPoolExecutor(N_JOBS)
    list(executor.map(math.sqrt, range(100), chunksize=10))
    return executor


def _tiny_tasks(n: int) -> Iterable:
    return (delayed(math.sqrt)(i) for i in range(n))


def _checked(out: list, n_tasks: int) -> None:
    if len(out) != n_tasks or out[-1] != math.sqrt(n_tasks - 1):
        raise AssertionError("wrong results")


def tiny(options: Options) -> list[Row]:
    """``par_tiny_loky``: 20000 ``math.sqrt`` tasks, a new Parallel per call."""
    n, repeat = options.size(TINY_TASKS, 200), options.repeat
    pattern = record_batches(
        lambda progress: Parallel(n_jobs=N_JOBS, progress=progress)(_tiny_tasks(n)))
    with _bare_loky() as loky, cf.ProcessPoolExecutor(N_JOBS) as pool:
        list(pool.map(math.sqrt, range(100), chunksize=10))
        chunk = min((100, 1000, 5000, n // N_JOBS), key=lambda c: best_of(
            lambda: list(pool.map(math.sqrt, range(n), chunksize=c)), 3))
        timings = {
            "limit": best_of(lambda: list(pool.map(math.sqrt, range(n), chunksize=chunk)), repeat),
            "ours": best_of(lambda: _checked(Parallel(n_jobs=N_JOBS)(_tiny_tasks(n)), n), repeat),
            "loky": best_of(lambda: _checked(run_batches(loky, _tiny_tasks(n), pattern), n), repeat),
            "lazy": best_of(lambda: _checked(run_batches_lazily(loky, _tiny_tasks(n), pattern), n),
                            repeat),
            "prebuilt": _prebuilt(loky, pattern, n, repeat),
            "ppe": best_of(lambda: _checked(run_batches(pool, _tiny_tasks(n), pattern), n), repeat),
            "generator": best_of(lambda: list(_tiny_tasks(n)), repeat),
        }
    what = {
        "limit": f"warm ProcessPoolExecutor({N_JOBS}).map, chunksize {chunk}",
        "ours": f"Parallel(n_jobs={N_JOBS}) per call ({len(pattern)} batches)",
        "loky": "the same batches on the bare loky executor, all submitted at once, with the generator",
        "lazy": "the same, submitted as 1.6 does (pre_dispatch, then one per completion)",
        "prebuilt": "the same, tasks built beforehand (generator not timed)",
        "ppe": "the same batches on the warm ProcessPoolExecutor, with the generator",
        "generator": "the user's generator of delayed tuples alone",
    }
    return rows_of("par_tiny_loky", timings, what, target=45.0, amount=n, unit="tasks/s")


def _prebuilt(executor: Any, pattern: list[int], n: int, repeat: int) -> float:
    tasks = [(math.sqrt, (i,), {}) for i in range(n)]
    return best_of(lambda: _checked(run_batches(executor, tasks, pattern), n), repeat)


def _reuse_tasks() -> Iterable:
    return (delayed(math.sqrt)(i) for i in range(REUSE_TASKS))


def reuse(options: Options) -> list[Row]:
    """``par_reuse``: 200 calls of 10 tasks in one ``with Parallel`` block."""
    repeat = max(3, options.repeat // 2) if not options.tiny else 1
    n_calls = options.size(REUSE_CALLS, 5)
    # Every task of the last call overwrites the warm-up calls' events.
    pattern = record_batches(lambda progress: _reuse_block(1, progress))

    def calls(executor: Any, batches: list[int]) -> Callable[[], None]:
        return lambda: [run_batches(executor, _reuse_tasks(), batches)
                        for _ in range(n_calls)]

    half = math.ceil(REUSE_TASKS / N_JOBS)
    with _bare_loky() as loky, cf.ProcessPoolExecutor(N_JOBS) as pool:
        list(pool.map(math.sqrt, range(100), chunksize=10))
        timings = {
            "limit": best_of(lambda: [list(pool.map(math.sqrt, range(REUSE_TASKS), chunksize=half))
                                      for _ in range(n_calls)], repeat),
            "ours": min(_reuse_block(n_calls) for _ in range(repeat)),
            "loky": best_of(calls(loky, pattern), repeat),
            "lazy": best_of(lambda: [run_batches_lazily(loky, _reuse_tasks(), pattern)
                                     for _ in range(n_calls)], repeat),
            "ppe": best_of(calls(pool, pattern), repeat),
            "loky2": best_of(calls(loky, [half] * N_JOBS), repeat),
        }
    what = {
        "limit": f"{n_calls} maps of {REUSE_TASKS} tasks on a warm ProcessPoolExecutor",
        "ours": f"{n_calls} calls in one `with Parallel` block (batches {pattern})",
        "loky": "the same batches on the bare loky executor, all submitted at once",
        "lazy": "the same, submitted as 1.6 does (pre_dispatch, then one per completion)",
        "ppe": "the same batches on the warm ProcessPoolExecutor, all at once",
        "loky2": f"bare loky with {N_JOBS} batches of {half} (not 1.6's policy)",
    }
    return rows_of("par_reuse", timings, what, target=40.0, amount=n_calls, unit="calls/s")


def _reuse_block(n_calls: int, progress: Callable | None = None) -> float:
    """Seconds of ``n_calls`` calls in a ``with Parallel`` block, after 3
    warm-up calls (as the benchmark does)."""
    expected = [math.sqrt(i) for i in range(REUSE_TASKS)]
    with Parallel(n_jobs=N_JOBS, progress=progress) as parallel:
        for _ in range(3):
            parallel(_reuse_tasks())
        start = time.perf_counter()
        for _ in range(n_calls):
            out = parallel(_reuse_tasks())
        seconds = time.perf_counter() - start
    if out != expected:
        raise AssertionError("wrong results")
    return seconds


BOUNDS = [("par_tiny_loky", tiny), ("par_reuse", reuse)]

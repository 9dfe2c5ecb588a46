"""Nested parallelism and caching together.

An outer ``Parallel`` loop over datasets runs in worker processes; each task
runs an inner ``Parallel`` loop (which joblib turns into threads inside a
process worker, to avoid starting n_jobs * n_jobs processes) over cached
function calls.  Running the outer loop a second time finds every inner
result in the shared on-disk cache.

    python examples/nested_parallel_memory.py
"""

import shutil
import tempfile
import time

import numpy as np

from joblib import Memory, Parallel, delayed
from joblib.parallel import get_active_backend


def column_stats(data, j):
    """A 'slow' per-column statistic, cached on disk."""
    time.sleep(0.05)
    column = data[:, j]
    return float(column.mean()), float(column.std())


def summarize(cached_stats, seed):
    """One outer task: build a dataset and summarize its columns in parallel."""
    data = np.random.default_rng(seed).normal(loc=seed, size=(1_000, 4))
    inner_backend = type(get_active_backend()[0]).__name__
    stats = Parallel(n_jobs=2)(delayed(cached_stats)(data, j) for j in range(data.shape[1]))
    return seed, inner_backend, stats


def main():
    location = tempfile.mkdtemp(prefix="joblib_nested_example_")
    try:
        memory = Memory(location, verbose=0)
        cached_stats = memory.cache(column_stats)

        for run in ("first", "second"):
            start = time.perf_counter()
            results = Parallel(n_jobs=2)(delayed(summarize)(cached_stats, seed) for seed in range(4))
            elapsed = time.perf_counter() - start
            print("%s run: %.2f s" % (run, elapsed))

        for seed, inner_backend, stats in results:
            means = ", ".join("%.2f" % mean for mean, _ in stats)
            print("dataset %d: inner loop ran on %s; column means %s" % (seed, inner_backend, means))
            assert inner_backend == "ThreadingBackend"

        # Every inner call is now a cache hit, also from this process.
        data = np.random.default_rng(0).normal(loc=0, size=(1_000, 4))
        assert all(cached_stats.check_call_in_cache(data, j) for j in range(4))
        print("all inner results are in the cache at", location)
    finally:
        shutil.rmtree(location)


if __name__ == "__main__":
    main()

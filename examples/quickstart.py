"""Quick start: cache a computation with Memory, run it in Parallel, then
dump and load the results.

Run it twice: the second run finds every result in the cache.

    python examples/quickstart.py
"""

import math
import os
import tempfile
import time

from joblib import Memory, Parallel, delayed, dump, load

CACHE_DIR = os.path.join(tempfile.gettempdir(), "joblib_quickstart_cache")
memory = Memory(CACHE_DIR, verbose=0)


@memory.cache
def slow_square_root(x):
    """Pretend to be expensive, so that caching it pays off."""
    time.sleep(0.05)
    return math.sqrt(x)


def main():
    inputs = list(range(16))

    start = time.perf_counter()
    cached_before = sum(slow_square_root.check_call_in_cache(x) for x in inputs)
    results = Parallel(n_jobs=2)(delayed(slow_square_root)(x) for x in inputs)
    elapsed = time.perf_counter() - start
    print(
        "Parallel(n_jobs=2) computed %d square roots in %.2f s "
        "(%d of them were already cached in %s)"
        % (len(results), elapsed, cached_before, CACHE_DIR)
    )

    path = os.path.join(tempfile.gettempdir(), "joblib_quickstart_results.joblib")
    dump({"inputs": inputs, "roots": results}, path, compress=3)
    loaded = load(path)
    assert loaded["roots"] == results
    print(
        "dump/load round trip of the results through %s (%d bytes, zlib level 3): OK"
        % (path, os.path.getsize(path))
    )
    print("Run this script again: every call is now a cache hit.")


if __name__ == "__main__":
    main()

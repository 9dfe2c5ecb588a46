"""Memory basics: cache a slow function on disk, see hits and misses, use a
shelved result, and keep the cache small.

    python examples/memory_basic_usage.py
"""

import shutil
import tempfile
import time

import numpy as np

from joblib import Memory


def main():
    location = tempfile.mkdtemp(prefix="joblib_memory_example_")
    try:
        memory = Memory(location, verbose=0)

        @memory.cache
        def smooth(signal, width):
            """A deliberately slow moving average."""
            time.sleep(0.2)
            kernel = np.ones(width) / width
            return np.convolve(signal, kernel, mode="same")

        signal = np.random.default_rng(0).normal(size=100_000)

        start = time.perf_counter()
        first = smooth(signal, 25)
        miss = time.perf_counter() - start

        start = time.perf_counter()
        again = smooth(signal, 25)
        hit = time.perf_counter() - start
        assert np.array_equal(first, again)
        print("first call (computed): %.3f s; second call (cache hit): %.3f s" % (miss, hit))

        # Different arguments are a different cache entry.
        print("width=25 cached:", smooth.check_call_in_cache(signal, 25))
        print("width=50 cached:", smooth.check_call_in_cache(signal, 50))

        # call_and_shelve returns a reference to the stored result; the value
        # is read from disk only when get() is called.
        ref = smooth.call_and_shelve(signal, 50)
        print("shelved:", ref)
        print("shelved result has %d values" % len(ref.get()))

        # Keep at most one result in the cache (least recently used go first).
        memory.reduce_size(items_limit=1)
        kept = [w for w in (25, 50) if smooth.check_call_in_cache(signal, w)]
        print("after reduce_size(items_limit=1), cached widths:", kept)

        # Caching can be switched off without changing the code.
        no_cache = Memory(None).cache(smooth.func)
        assert np.allclose(no_cache(signal, 25), first)
        print("Memory(None) runs the function every time: OK")
    finally:
        shutil.rmtree(location)


if __name__ == "__main__":
    main()

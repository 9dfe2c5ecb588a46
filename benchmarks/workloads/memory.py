"""joblib.Memory: cache hits, misses, stores and reduce_size."""

from __future__ import annotations

import os
import time

import numpy as np
import joblib

from benchmarks.harness import Bench, check

__all__ = ["run_memory", "small_result", "array_checksum", "big_result"]

MB = 2**20

# Calls of the cached functions in this process: a hit must not call the
# function again and a miss must call it exactly once.
CALLS = {"small": 0, "checksum": 0, "big": 0}


def small_result(x: int) -> dict:
    """Cached body with a small argument and a small result."""
    CALLS["small"] += 1
    return {"x": x, "square": x * x}


def array_checksum(array: "np.ndarray") -> float:
    """Cached body whose argument is large (hashing it dominates a hit)."""
    CALLS["checksum"] += 1
    return float(array[:: max(1, array.size // 1000)].sum())


def big_result(seed: int, n_items: int) -> "np.ndarray":
    """Cached body that returns a large array (storing it dominates)."""
    CALLS["big"] += 1
    return np.full(n_items, float(seed))


def _memory(bench: Bench, name: str):
    return joblib.Memory(os.path.join(bench.cachedir, name), verbose=0)


def _hits(bench: Bench) -> None:
    n_args, n_calls = bench.n(50, minimum=5), bench.n(1000, minimum=20)
    state: dict = {}

    def setup() -> None:
        cached = state["cached"] = _memory(bench, "hits").cache(small_result)
        for x in range(n_args):  # store every entry once, then hit it once
            cached(x)
            cached(x)
        check(CALLS["small"] == n_args, f"{CALLS['small']} calls for "
              f"{n_args} distinct arguments (misses or hits are wrong)")

    def once() -> float:
        cached, before = state["cached"], CALLS["small"]
        start = time.perf_counter()
        for j in range(n_calls):
            out = cached(j % n_args)
        seconds = time.perf_counter() - start
        check(CALLS["small"] == before, "a cache hit called the function")
        last = (n_calls - 1) % n_args
        check(out == {"x": last, "square": last * last},
              f"wrong cached value {out!r}")
        return seconds

    bench.measure("mem_hit_small", once, k=3, amount=n_calls, setup=setup)


def _hit_array(bench: Bench) -> None:
    state: dict = {}

    def setup() -> None:
        state["cached"] = _memory(bench, "hit_array").cache(array_checksum)
        state["array"] = np.linspace(0.0, 1.0,
                                     bench.n(64 * MB // 8, minimum=1024))
        state["expected"] = state["cached"](state["array"])

    def once() -> float:
        before = CALLS["checksum"]
        start = time.perf_counter()
        out = state["cached"](state["array"])
        seconds = time.perf_counter() - start
        check(CALLS["checksum"] == before and out == state["expected"],
              "array argument was not a cache hit")
        return seconds

    bench.measure("mem_hit_array", once, k=5, setup=setup)


def _miss(bench: Bench) -> None:
    n_items = bench.n(32 * MB // 8, minimum=1024)
    seeds = iter(range(10**6))
    state: dict = {}

    def setup() -> None:
        state["cached"] = _memory(bench, "miss").cache(big_result)

    def once() -> float:
        seed, before = next(seeds), CALLS["big"]
        bench.sync()
        start = time.perf_counter()
        out = state["cached"](seed, n_items)
        seconds = time.perf_counter() - start
        check(CALLS["big"] == before + 1, "a new argument was not a miss")
        check(out.shape == (n_items,) and out[0] == seed and out[-1] == seed,
              "wrong result from a miss")
        return seconds

    bench.measure("mem_miss", once, k=5, warmup=1, setup=setup)


def _fill(bench: Bench, tag: str, n_entries: int):
    memory = _memory(bench, tag)
    cached = memory.cache(small_result)
    before = CALLS["small"]
    start = time.perf_counter()
    for x in range(n_entries):
        cached(x)
    seconds = time.perf_counter() - start
    check(CALLS["small"] == before + n_entries,
          "distinct arguments in a fresh cache were not all misses")
    return memory, seconds


def _entries(memory_dir: str) -> int:
    # Each cached call is a folder holding output.pkl; count those.
    return sum("output.pkl" in files for _, _, files in os.walk(memory_dir))


def _store_and_reduce(bench: Bench) -> None:
    # Each repetition fills a fresh cache with the implementation itself:
    # copying a prepared one would cost more than the fill for small files.
    n_entries = bench.n(1000, minimum=20)
    fills = iter(range(10**6))
    bench.measure("mem_store_small",
                  lambda: _fill(bench, f"store{next(fills)}", n_entries)[1],
                  k=3, amount=n_entries)

    def reduce_once() -> float:
        tag = f"reduce{next(fills)}"
        memory, _ = _fill(bench, tag, n_entries)
        folder = os.path.join(bench.cachedir, tag)
        total = sum(os.path.getsize(os.path.join(root, name))
                    for root, _, files in os.walk(folder) for name in files)
        start = time.perf_counter()
        memory.reduce_size(bytes_limit=total // 2)
        seconds = time.perf_counter() - start
        left = _entries(folder)
        check(0 < left < n_entries,
              f"reduce_size kept {left} of {n_entries} entries")
        return seconds

    bench.measure("mem_reduce_size", reduce_once, k=3)


def _hits_with_limits(bench: Bench) -> None:
    """mem_hit_small with limits kept on write (statistics are always on)."""
    n_args, n_calls = bench.n(50, minimum=5), bench.n(1000, minimum=20)
    state: dict = {}

    def setup() -> None:
        memory = joblib.Memory(os.path.join(bench.cachedir, "hits_limits"),
                               verbose=0, bytes_limit="10G", items_limit=10**6)
        cached = state["cached"] = memory.cache(small_result)
        for x in range(n_args):
            cached(x)

    def once() -> float:
        cached, before = state["cached"], CALLS["small"]
        start = time.perf_counter()
        for j in range(n_calls):
            cached(j % n_args)
        seconds = time.perf_counter() - start
        check(CALLS["small"] == before, "a cache hit called the function")
        return seconds

    bench.measure("mem_hit_small_limits", once, k=3, amount=n_calls, setup=setup)


# The computation shared by the compute-once processes: it only waits, so
# that the 2 cores of a small machine do not limit the measurement.
COMPUTE_ONCE_SECONDS = 1.0
_CALLER = """
import os, sys, time
sys.path[:0] = {path!r}
import joblib
from benchmarks.workloads.memory import slow_constant
f = joblib.Memory({location!r}, verbose=0, compute_once=True).cache(slow_constant)
open({ready!r} + str(os.getpid()), "w").close()
while not os.path.exists({go!r}):
    time.sleep(0.001)
assert f(7) == 7
with open({ready!r} + "done" + str(os.getpid()), "w") as out:
    out.write(repr(time.time()))
"""


def slow_constant(x: int) -> int:
    """The slow function of mem_compute_once_8 (one computation expected)."""
    time.sleep(COMPUTE_ONCE_SECONDS)
    return x


def _compute_once(bench: Bench) -> None:
    import subprocess
    import sys

    def once() -> float:
        folder = os.path.join(bench.cachedir, f"once{time.monotonic_ns()}")
        os.makedirs(folder)
        ready, go = os.path.join(folder, "ready-"), os.path.join(folder, "go")
        code = _CALLER.format(path=sys.path, location=os.path.join(folder, "c"),
                              ready=ready, go=go)
        procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(8)]
        deadline = time.monotonic() + 120
        while sum(n.startswith("ready-") for n in os.listdir(folder)) < 8:
            check(time.monotonic() < deadline and all(p.poll() is None for p in procs),
                  "a compute-once process failed to start")
            time.sleep(0.005)
        start = time.time()  # wall clock: compared with the callers' clocks
        open(go, "w").close()
        codes = [p.wait(120) for p in procs]
        check(codes == [0] * 8, f"compute-once processes exited with {codes}")
        # Until the last caller has its value (not until the processes have
        # exited: interpreter shut-down is not part of compute-once).
        done = [os.path.join(folder, n) for n in os.listdir(folder)
                if n.startswith("ready-done")]
        check(len(done) == 8, f"{len(done)} of 8 callers got the value")
        last = max(float(open(path).read()) for path in done)
        return (last - start) / COMPUTE_ONCE_SECONDS

    bench.measure("mem_compute_once_8", once, k=3)


def run_memory(bench: Bench) -> None:
    """All ``mem_*`` metrics, each in its own cache folder."""
    _hits(bench)
    _hit_array(bench)
    _miss(bench)
    _store_and_reduce(bench)
    _hits_with_limits(bench)
    _compute_once(bench)

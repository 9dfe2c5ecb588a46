"""Memory.cache: hit and miss latency, reduce_size time vs entries."""

from __future__ import annotations

import random
import time

import joblib

from benchmarks.scaling.probe import Probe, check

__all__ = ["run", "identity"]

_CALLS = [0]  # computations of ``identity`` in this process
_HITS_PER_POINT = 300
_MISSES_PER_PASS = 50
_PASSES = 3


def identity(x: int) -> int:
    """The cached function: trivial, so a call measures the cache itself."""
    _CALLS[0] += 1
    return x


class _Cache:
    """One function's cache grown to each size in turn."""

    def __init__(self, location: str) -> None:
        self.memory = joblib.Memory(location, verbose=0)
        self.func = self.memory.cache(identity)
        self.next_key = 0  # keys 0 .. next_key-1 were stored at some point
        self.entries = 0

    def grow_to(self, entries: int) -> None:
        while self.entries < entries:
            self.func(self.next_key)
            self.next_key += 1
            self.entries += 1

    def cached_keys(self, count: int, rng: random.Random) -> list:
        """Up to ``count`` keys that are in the cache (checked, untimed)."""
        candidates = rng.sample(range(self.next_key),
                                min(self.next_key, 3 * count))
        present = [k for k in candidates
                   if self.func.check_call_in_cache(k)]
        return present[:count]


def _hit(probe: Probe, cache: _Cache, size: int, rng: random.Random) -> None:
    keys = cache.cached_keys(_HITS_PER_POINT, rng)
    wanted = min(_HITS_PER_POINT, cache.entries) // 2
    check(len(keys) >= wanted, f"only {len(keys)} of {wanted} keys cached")
    keys = (keys * (_HITS_PER_POINT // len(keys) + 1))[:_HITS_PER_POINT]
    calls = _CALLS[0]
    func = cache.func
    best = float("inf")
    for _ in range(_PASSES):  # the least disturbed pass counts
        start = time.perf_counter()
        results = [func(k) for k in keys]
        best = min(best, time.perf_counter() - start)
        check(results == keys, "a hit returned a wrong value")
    check(_CALLS[0] == calls, "a hit called the function")
    probe.point("hit", size, best / len(keys))


def _miss(probe: Probe, cache: _Cache, size: int) -> None:
    func = cache.func
    best = float("inf")
    for _ in range(_PASSES):  # each pass stores new keys
        keys = list(range(cache.next_key, cache.next_key + _MISSES_PER_PASS))
        calls = _CALLS[0]
        start = time.perf_counter()
        results = [func(k) for k in keys]
        best = min(best, time.perf_counter() - start)
        cache.next_key += len(keys)
        cache.entries += len(keys)
        check(results == keys, "a miss returned a wrong value")
        check(_CALLS[0] == calls + len(keys), "a miss did not compute")
    probe.point("miss", size, best / _MISSES_PER_PASS)


def _reduce(probe: Probe, cache: _Cache, size: int) -> None:
    keep = int(cache.entries * 0.9)
    start = time.perf_counter()
    cache.memory.reduce_size(items_limit=keep)
    elapsed = time.perf_counter() - start
    cache.entries = keep
    probe.point("reduce_size", size, elapsed)


def run(probe: Probe) -> None:
    """Grow one cache through ``probe.sizes``; at each size time hits,
    misses (which add entries) and a reduce_size that evicts a tenth."""
    rng = random.Random(0)
    cache = _Cache(probe.cachedir)
    for size in probe.sizes:
        cache.grow_to(size)
        with probe.guard("hit", size):
            _hit(probe, cache, size, rng)
        with probe.guard("miss", size):
            _miss(probe, cache, size)
        with probe.guard("reduce_size", size):
            _reduce(probe, cache, size)

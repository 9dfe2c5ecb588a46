"""joblib.hash of a large array and of a nested Python structure."""

from __future__ import annotations

import numpy as np
import joblib

from benchmarks.harness import Bench, check, timed

__all__ = ["run_hashing", "nested_structure"]

MB = 2**20


def nested_structure(n_leaves: int) -> dict:
    """A dict of lists holding tuples and small dicts (``n_leaves`` total)."""
    n_keys = max(1, n_leaves // 1000)
    per_key = max(1, n_leaves // n_keys)
    return {f"key{k}": [(k, i, f"v{i}") if i % 2 else {"i": i, "k": k}
                        for i in range(per_key)] for k in range(n_keys)}


def _hash_metric(bench: Bench, name: str, make, k: int,
                 amount: float | None, hash_name: str = "md5") -> None:
    state: dict = {"digests": []}
    size = {"md5": 32, "xxh3": 16}[hash_name]

    def setup() -> None:
        state["value"] = make()
        state["twin"] = make()  # equal but distinct: must hash the same

    def once() -> float:
        seconds, digest = timed(joblib.hash, state["value"], hash_name=hash_name)
        check(isinstance(digest, str) and len(digest) == size,
              f"hash returned {digest!r}, expected {size} {hash_name} hex digits")
        state["digests"].append(digest)
        return seconds

    def extra() -> dict:
        digests = state["digests"]
        check(len(set(digests)) == 1, "hash is not stable across calls")
        check(joblib.hash(state["twin"], hash_name=hash_name) == digests[0],
              "equal objects hash differently")
        # The orchestrator compares this digest between the two sides:
        # cache keys must match the reference's for caches to be shared.
        state.pop("value"), state.pop("twin")  # free before the next metric
        return {"digest": digests[0]}

    bench.measure(name, once, k=k, warmup=0, amount=amount, extra=extra,
                  setup=setup)


def run_hashing(bench: Bench) -> None:
    """``hash_array`` and ``hash_array_xxh3`` (MB/s), ``hash_objects`` (s)."""
    n_items = bench.n(256 * MB // 8, minimum=1024)

    def make_array() -> "np.ndarray":
        return np.linspace(0.0, 1.0, n_items)

    _hash_metric(bench, "hash_array", make_array, 3, n_items * 8 / MB)
    # joblib 1.6 has no xxh3: an error on its side, by design.
    _hash_metric(bench, "hash_array_xxh3", make_array, 3, n_items * 8 / MB,
                 hash_name="xxh3")
    n_leaves = bench.n(100_000, minimum=100)
    _hash_metric(bench, "hash_objects", lambda: nested_structure(n_leaves),
                 3, None)

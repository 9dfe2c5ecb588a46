"""Memory on an object store: hit and miss latency, requests per call.

Starts a local S3 API server (moto, on 127.0.0.1, as the tests do) and
times cached calls on three stores: the local disk store, ``file://``
through fsspec, and ``s3://`` on that server; for a small result and for a
large array (100 MB by default). The S3 server's request log gives the
requests of one hit and one miss. Needs ``joblib[s3]`` and ``moto[server]``.

    python -m benchmarks.object_store            # 100 MB array
    python -m benchmarks.object_store --mb 10 --repeat 3

The server runs in this process and keeps objects in memory, so the S3
times measure the client's work and the HTTP round trips, not a network.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

import joblib

_TESTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "tests")


def small(x):
    return {"x": x, "square": x * x}


def big(seed, n_items):
    return np.full(n_items, float(seed))


def _median_ms(times):
    return 1000 * statistics.median(times)


def _time_calls(func, args_list):
    times = []
    for args in args_list:
        start = time.perf_counter()
        func(*args)
        times.append(time.perf_counter() - start)
    return times


def measure(memory, n_small, repeat, n_items):
    """{metric: median ms} of one store."""
    cached_small, cached_big = memory.cache(small), memory.cache(big)
    cached_small(-1), cached_big(-1, 10)  # function folders, code checks
    keys = list(range(n_small))
    out = {"small miss": _median_ms(_time_calls(cached_small, [(k,) for k in keys]))}
    out["small hit"] = _median_ms(_time_calls(cached_small, [(k,) for k in keys]))
    seeds = [(s, n_items) for s in range(repeat)]
    out["big miss"] = _median_ms(_time_calls(cached_big, seeds))
    out["big hit"] = _median_ms(_time_calls(cached_big, seeds))
    memory.clear(warn=False)
    return out


def requests_per_call(server, memory):
    """Requests of one small miss and one small hit, from the server log."""
    cached = memory.cache(small)
    cached(-2)
    server.log.clear()
    cached(10**6)
    miss = server.log.counts()
    server.log.clear()
    cached(10**6)
    hit = server.log.counts()
    return miss, hit


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100, help="size of the array")
    parser.add_argument("--repeat", type=int, default=3, help="large calls per case")
    parser.add_argument("--small", type=int, default=50, help="small calls per case")
    args = parser.parse_args(argv)
    sys.path.insert(0, _TESTS)
    from _s3_server import start_server

    server = start_server()
    n_items = int(args.mb * 2**20 / 8)
    tmp = tempfile.mkdtemp()
    stores = {
        "local disk": lambda: joblib.Memory(os.path.join(tmp, "local"), verbose=0),
        "file://": lambda: joblib.Memory("file://" + tmp + "/fsspec", verbose=0),
        "s3 (local moto)": lambda: joblib.Memory(
            server.new_url(), verbose=0, storage_options=server.storage_options()
        ),
    }
    try:
        results = {name: measure(make(), args.small, args.repeat, n_items)
                   for name, make in stores.items()}
        miss, hit = requests_per_call(server, stores["s3 (local moto)"]())
    finally:
        server.stop()
    metrics = ["small hit", "small miss", "big hit", "big miss"]
    print("median ms per call (big = %g MB array)" % args.mb)
    print("%-16s" % "store" + "".join("%12s" % m for m in metrics))
    for name, row in results.items():
        print("%-16s" % name + "".join("%12.2f" % row[m] for m in metrics))
    print("S3 requests, small miss:", miss)
    print("S3 requests, small hit: ", hit)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Memory's features beyond joblib 1.6 on object stores (fsspec URLs).

Limits kept on write, statistics and compute-once need, on a local store,
files next to the cache (a size index, a stats file, file locks). An object
store offers no lock: limits are kept by listing the store after a write
that stores, statistics list it when asked, and compute-once falls back to
every caller computing. These tests pin that on ``memory://`` and on the
session's S3 server, and that no local folder is ever created for them.
"""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from joblib import Memory

pytest.importorskip("fsspec")


def double(x, log):
    log.append(x)
    return 2 * x


@pytest.fixture(params=["memory", "s3"])
def make_memory(request, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may appear here
    if request.param == "s3":
        server = request.getfixturevalue("s3_server")
        url, options = server.new_url(), server.storage_options()
    else:
        url, options = "memory://beyond-%s" % uuid.uuid4().hex[:8], {}

    def make(**kwargs):
        return Memory(url, verbose=0, storage_options=options, **kwargs)

    yield make
    make().clear(warn=False)
    assert os.listdir(tmp_path) == []


def test_limits_are_kept_on_write(make_memory):
    memory = make_memory(items_limit=3)
    f = memory.cache(double, ignore=["log"])
    log = []
    for x in range(6):
        f(x, log)
    assert len(memory.store_backend.get_items()) == 3
    assert [f.check_call_in_cache(x, log) for x in range(6)] == [False] * 3 + [True] * 3


def test_stats_count_calls_and_list_the_store(make_memory):
    memory = make_memory()
    f = memory.cache(double, ignore=["log"])
    log = []
    f(1, log), f(1, log), f(2, log)
    stats = f.stats()
    assert (stats["hits"], stats["misses"], stats["stores"]) == (1, 2, 2)
    assert stats["entries"] == 2 and stats["bytes"] > 0
    assert memory.stats()["entries"] == 2


def test_compute_once_falls_back_to_every_caller_computing(make_memory):
    # No lock on an object store: concurrent callers all compute, and each
    # gets the right value; the entry stays one complete entry.
    memory = make_memory(compute_once=True)
    f = memory.cache(double, ignore=["log"])
    f(0, [])
    barrier = threading.Barrier(3)
    log, results = [], []

    def call():
        barrier.wait(timeout=30)
        results.append(f(7, log))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [14, 14, 14] and 1 <= len(log) <= 3
    assert f(7, log) == 14 and f.check_call_in_cache(7, log)


def test_limits_cost_a_listing_per_store_and_nothing_per_hit(s3_server):
    memory = Memory(s3_server.new_url(), verbose=0, items_limit=10,
                    storage_options=s3_server.storage_options())
    f = memory.cache(double, ignore=["log"])
    log = []
    f(1, log)
    s3_server.log.clear()
    f(1, log)
    assert s3_server.log.counts() == {"GET": 1, "LIST": 0, "PUT": 0, "DELETE": 0}
    s3_server.log.clear()
    f(2, log)
    assert s3_server.log.counts() == {"GET": 1, "LIST": 1, "PUT": 2, "DELETE": 0}
    memory.clear(warn=False)

"""One behaviour matrix for Memory on every kind of store.

The same tests run on the local store, on ``memory://`` and ``file://``
(fsspec) and on ``s3://`` served by a real S3 API server (moto) started on
127.0.0.1 by the session fixture ``s3_server``. Nothing of fsspec or s3fs
is mocked.
"""

from __future__ import annotations

import os
import pickle
import threading
import time
import uuid

import pytest

from joblib import Memory, MemorizedResult, expires_after
from joblib._store_backends import CacheWarning

np = pytest.importorskip("numpy")
pytest.importorskip("fsspec")

KINDS = ["local", "memory", "file", "s3"]


def double(x, log):
    log.append(x)
    return 2 * x


def as_array(n, log):
    log.append(n)
    return np.arange(n, dtype=np.float64)


class Store:
    """Make Memory objects of one kind on one fresh location."""

    def __init__(self, kind, tmp_path, server):
        self.kind = kind
        self.server = server
        self.tmp_path = tmp_path
        if kind == "local":
            self.location = str(tmp_path / "cache")
        elif kind == "memory":
            self.location = "memory://joblib-%s" % uuid.uuid4().hex[:12]
        elif kind == "file":
            self.location = "file://%s" % (tmp_path / "cache")
        else:
            self.location = server.new_url()

    def memory(self, **kwargs) -> Memory:
        kwargs.setdefault("verbose", 0)
        if self.kind == "s3":
            kwargs.setdefault("storage_options", self.server.storage_options())
        if self.kind != "local":
            options = kwargs.setdefault("backend_options", {})
            options.setdefault("access_resolution", 0)
        return Memory(self.location, **kwargs)

    def files(self) -> set:
        """Relative paths of the files of the cache, as the local store names them."""
        if self.kind == "local":
            root = os.path.join(self.location, "joblib")
            return {
                os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
                for d, _, names in os.walk(root)
                for f in names
            }
        store = self.memory().store_backend
        fs, root = store._ready(), store._root
        return {p[len(root) + 1 :] for p in fs.find(root)}

    def cleanup(self) -> None:
        if self.kind in ("memory", "s3"):
            try:
                self.memory().clear(warn=False)
            except OSError:
                pass  # a test stopped the server; its prefix is unique anyway


@pytest.fixture(params=KINDS)
def store(request, tmp_path):
    server = request.getfixturevalue("s3_server") if request.param == "s3" else None
    store = Store(request.param, tmp_path, server)
    yield store
    store.cleanup()


def wait_next_second(store) -> None:
    """Wait until the wall clock enters a new second.

    S3 keeps modification times to the second, and the local store updates
    an access time at most once a second; fsspec's local and memory file
    systems keep finer times.
    """
    if store.kind not in ("s3", "local"):
        return
    start = int(time.time())
    deadline = time.monotonic() + 5
    while int(time.time()) == start:
        assert time.monotonic() < deadline
        time.sleep(0.01)


# --- caching -----------------------------------------------------------------


def test_hit_and_miss(store):
    log = []
    f = store.memory().cache(double, ignore=["log"])
    assert [f(1, log), f(1, log), f(2, log), f(1, log)] == [2, 2, 4, 2]
    assert log == [1, 2]
    # A new Memory on the same location (another process would do the same).
    g = store.memory().cache(double, ignore=["log"])
    assert g(2, log) == 4 and log == [1, 2]


def test_numpy_results_and_compression(store):
    log = []
    for compress in (False, 3):
        memory = store.memory(compress=compress)
        f = memory.cache(as_array, ignore=["log"])
        np.testing.assert_array_equal(f(1000, log), np.arange(1000.0))
        np.testing.assert_array_equal(f(1000, log), np.arange(1000.0))
        memory.clear(warn=False)
    assert log == [1000, 1000]


def test_call_and_shelve_and_check_call_in_cache(store):
    log = []
    f = store.memory().cache(double, ignore=["log"])
    assert not f.check_call_in_cache(3, log)
    result = f.call_and_shelve(3, log)
    assert isinstance(result, MemorizedResult)
    assert f.check_call_in_cache(3, log)
    # A shelved result travels by pickle (to another process) and loads there.
    assert pickle.loads(pickle.dumps(result)).get() == 6
    result.clear()
    assert not f.check_call_in_cache(3, log)
    with pytest.raises(KeyError):
        result.get()
    assert log == [3]


def test_clear_function_and_whole_cache(store):
    log = []
    memory = store.memory()
    f = memory.cache(double, ignore=["log"])
    g = memory.cache(as_array, ignore=["log"])
    f(1, log), g(2, log)
    f.clear(warn=False)
    assert not f.check_call_in_cache(1, log) and g.check_call_in_cache(2, log)
    memory.clear(warn=False)
    assert not g.check_call_in_cache(2, log)
    assert f(1, log) == 2 and log == [1, 2, 1]


def test_validation_callback_and_metadata(store):
    log = []
    memory = store.memory()
    f = memory.cache(double, ignore=["log"], cache_validation_callback=lambda m: True)
    f(5, log)
    call_id = (f.func_id, f._get_args_id(5, log))
    metadata = f.store_backend.get_metadata(call_id)
    assert metadata["input_args"] == {"x": "5"} and "duration" in metadata
    refuse = memory.cache(
        double, ignore=["log"], cache_validation_callback=lambda m: "time" not in m
    )
    assert refuse(5, log) == 10 and refuse(5, log) == 10
    assert log == [5, 5, 5]
    fresh = memory.cache(
        double, ignore=["log"], cache_validation_callback=expires_after(hours=1)
    )
    expired = memory.cache(
        double, ignore=["log"], cache_validation_callback=expires_after(seconds=-1)
    )
    assert fresh(5, log) == 10 and log == [5, 5, 5]
    assert expired(5, log) == 10 and log == [5, 5, 5, 5]


def test_reduce_size_evicts_least_recently_accessed(store):
    log = []
    memory = store.memory()
    f = memory.cache(double, ignore=["log"])
    for x in (1, 2, 3):
        f(x, log)
        wait_next_second(store)
    f(1, log)  # a hit: 1 becomes the most recently used
    items = memory.store_backend.get_items()
    location = memory.store_backend.location
    assert len(items) == 3 and all(
        i.path.startswith(location + os.sep + f.func_id) for i in items
    )
    memory.reduce_size(items_limit=2)
    assert [f.check_call_in_cache(x, log) for x in (1, 2, 3)] == [True, False, True]
    memory.reduce_size(bytes_limit=0)
    assert not any(f.check_call_in_cache(x, log) for x in (1, 2, 3))
    assert log == [1, 2, 3]


def test_same_layout_as_the_local_store(store, tmp_path):
    log = []
    f = store.memory().cache(double, ignore=["log"])
    f(1, log), f(2, log)
    local = Store("local", tmp_path / "reference", None)
    g = local.memory().cache(double, ignore=["log"])
    g(1, log), g(2, log)
    ignored = {".gitignore"}
    files = {p for p in store.files() if p.rpartition("/")[2] != "last_access"}
    assert files == local.files() - ignored
    names = sorted(p.rpartition("/")[2] for p in files)
    assert names == ["func_code.py"] + ["metadata.json"] * 2 + ["output.pkl"] * 2


def test_concurrent_writers_of_one_entry_leave_one_complete_entry(store):
    memory = store.memory()
    f = memory.cache(as_array, ignore=["log"])
    f(1, [])  # the function folder exists: the race is on the entry only
    barrier = threading.Barrier(4)
    results, log = [], []

    def call():
        barrier.wait(timeout=30)
        results.append(f(200_000, log))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 4
    for r in results:
        np.testing.assert_array_equal(r, np.arange(200_000.0))
    fresh = store.memory().cache(as_array, ignore=["log"])
    computed = len(log)
    np.testing.assert_array_equal(fresh(200_000, log), np.arange(200_000.0))
    assert len(log) == computed  # the entry that stayed is complete


def test_memory_pickles_with_its_store(store):
    log = []
    memory = store.memory()
    f = memory.cache(double, ignore=["log"])
    f(4, log)
    clone = pickle.loads(pickle.dumps(f))
    assert clone(4, log) == 8 and log == [4]
    clone = pickle.loads(pickle.dumps(f))  # first use: a deletion
    clone.clear(warn=False)
    assert not f.check_call_in_cache(4, log)
    assert repr(pickle.loads(pickle.dumps(memory))) == repr(memory)


@pytest.mark.parametrize("kind", ["memory", "file", "s3"])
def test_folder_names_with_glob_characters(kind, tmp_path, request):
    # Functions defined in doctests live in "<doctest page[2]>" folders.
    server = request.getfixturevalue("s3_server") if kind == "s3" else None
    memory = Store(kind, tmp_path, server).memory()
    store = memory.store_backend
    call_id = ("mod-<doctest page[2]>/f*?", "0" * 32)
    store.store_cached_func_code([call_id[0]], "# first line: 1\n")
    assert store.dump_item(call_id, [1, 2])
    assert store.contains_item(call_id) and store.fetch_item(call_id) == [1, 2]
    assert len(store.get_items()) == 1
    memory.reduce_size(items_limit=0)
    assert not store.contains_item(call_id) and store.get_items() == []
    assert store.dump_item(call_id, 3)
    memory.clear(warn=False)
    assert not store.contains_item(call_id)


@pytest.mark.parametrize("kind", ["memory", "file", "s3"])
def test_reduce_size_keeps_the_entries_just_written(kind, tmp_path, request):
    # S3 keeps times to the second: entries written within one second must
    # still be evicted oldest first, never the one just written. (The local
    # store orders by access times as joblib 1.6 does.)
    server = request.getfixturevalue("s3_server") if kind == "s3" else None
    store = Store(kind, tmp_path, server)
    log = []
    memory = store.memory()
    f = memory.cache(double, ignore=["log"])
    for x in range(6):
        f(x, log)
    memory.reduce_size(items_limit=3)
    assert [f.check_call_in_cache(x, log) for x in range(6)] == [False] * 3 + [True] * 3
    store.cleanup()

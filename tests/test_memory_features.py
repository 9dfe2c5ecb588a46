"""Memory beyond joblib 1.6: hashing choice, invalidation controls,
statistics, limits kept on write, read-only caches and full disks."""

from __future__ import annotations

import datetime
import json
import os
import pickle
import subprocess
import sys
import warnings

import pytest

import joblib
from joblib import Memory
from joblib._store_backends import CacheWarning

from test_memory_state import BytesStore


def _counted(calls):
    def f(x):
        calls.append(x)
        return [x] * 3

    return f


def _entries(memory, func):
    folder = memory.store_backend.get_cached_func_info([func.func_id])["location"]
    return sorted(n for n in os.listdir(folder) if os.path.isdir(os.path.join(folder, n)))


# --- hash_name ----------------------------------------------------------------


@pytest.mark.parametrize("hash_name", ["sha1", "blake2b"])
def test_hash_name_keys_entries_apart(tmp_path, hash_name):
    calls = []
    f = _counted(calls)
    md5 = Memory(tmp_path, verbose=0).cache(f)
    other = Memory(tmp_path, verbose=0, hash_name=hash_name).cache(f)
    assert md5(1) == other(1) == [1, 1, 1]
    assert calls == [1, 1]  # never the entry of another algorithm
    digest = joblib.hash({"x": 1}, hash_name=hash_name)
    assert hash_name + "-" + digest in _entries(Memory(tmp_path, verbose=0), other)
    assert other.stats()["entries"] == 2
    assert md5._get_args_id(1) == joblib.hash({"x": 1})  # 1.6's key unchanged


def test_hash_name_per_function_and_reduce_size(tmp_path):
    memory = Memory(tmp_path, verbose=0)
    f = memory.cache(_counted([]), hash_name="sha1")
    f(1), f(2)
    memory.reduce_size(items_limit=1)  # the listing sees the named entries
    assert sum(f.check_call_in_cache(i) for i in (1, 2)) == 1


def test_bad_options_fail_at_construction(tmp_path):
    with pytest.raises(ValueError, match="Valid options for 'hash_name' are"):
        Memory(tmp_path, hash_name="nope")
    with pytest.raises(TypeError, match="items_limit should be an int, got '3'"):
        Memory(tmp_path, items_limit="3")
    with pytest.raises(ValueError, match="bytes_limit should be >= 0"):
        Memory(tmp_path, bytes_limit=-1)
    with pytest.raises(TypeError, match="age_limit should be a datetime.timedelta"):
        Memory(tmp_path, age_limit=3600)
    with pytest.raises(TypeError, match="compute_once should be True or False"):
        Memory(tmp_path, compute_once="yes")
    with pytest.raises(ValueError, match="compute_once_timeout should be >= 0"):
        Memory(tmp_path, compute_once_timeout=-1)
    memory = Memory(tmp_path, verbose=0)
    with pytest.raises(TypeError, match=r"write depends=\[helper\]"):
        memory.cache(abs, depends=abs)
    with pytest.raises(TypeError, match="check_code should be True or False"):
        memory.cache(check_code=None)
    with pytest.raises(TypeError, match="version should be a str or a number"):
        memory.cache(abs, version=[1])


def test_default_memory_pickles_as_16_and_options_survive_pickling(tmp_path):
    plain = Memory(tmp_path, verbose=0)
    assert "_options" not in plain.__getstate__()
    memory = Memory(tmp_path, verbose=0, hash_name="sha1", items_limit=5)
    clone = pickle.loads(pickle.dumps(memory))
    assert clone._options.hash_name == "sha1" and clone._limits.items_limit == 5
    f = memory.cache(abs, version="2")
    f_clone = pickle.loads(pickle.dumps(f))
    assert f_clone._jl_state.options.version == "2"
    assert f_clone._jl_state.limits.items_limit == 5


# --- invalidation controls ----------------------------------------------------

_HELPER_SRC = "def helper(x):\n    return x + {n}\n"


def _load_module(tmp_path, name, src):
    path = tmp_path / (name + ".py")
    path.write_text(src)
    sys.path.insert(0, str(tmp_path))
    try:
        import importlib

        sys.modules.pop(name, None)
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))


def test_depends_invalidates_on_helper_change(tmp_path):
    memory = Memory(tmp_path / "cache", verbose=0)
    helpers = _load_module(tmp_path, "dep_helpers_a", _HELPER_SRC.format(n=1))
    calls = []

    def compute(x):
        calls.append(x)
        return x

    f = memory.cache(compute, depends=[helpers.helper])
    f(1), f(1)
    assert calls == [1]
    helpers = _load_module(tmp_path, "dep_helpers_a", _HELPER_SRC.format(n=2))
    g = memory.cache(compute, depends=[helpers.helper])
    g(1)
    assert calls == [1, 1]
    # The helper unchanged (the same source): the entry stays valid.
    h = memory.cache(compute, depends=[helpers.helper])
    h(1)
    assert calls == [1, 1]


def test_version_and_check_code(tmp_path):
    memory = Memory(tmp_path / "cache", verbose=0)
    v1 = _load_module(tmp_path, "versioned_mod", "def f(x):\n    return x\n")
    f = memory.cache(v1.f, version="1", check_code=False)
    assert f(3) == 3
    v2 = _load_module(tmp_path, "versioned_mod", "def f(x):\n    return -x\n")
    f2 = memory.cache(v2.f, version="1", check_code=False)
    assert f2(3) == 3  # same version, code not checked: the old entry stands
    f3 = memory.cache(v2.f, version="2", check_code=False)
    assert f3(3) == -3  # new version: recomputed
    f4 = memory.cache(v2.f, version="2")  # code checked again: same code
    assert f4(3) == -3


@pytest.mark.parametrize(
    "garbage",
    [b"\xff\xfe\x00binary", b"# first line: 1", b"# first l", b"# first line: x\n"],
    ids=["binary", "truncated-after-header", "truncated-header", "bad-number"],
)
def test_garbage_func_code_is_a_code_change_with_a_warning(tmp_path, garbage):
    calls = []
    memory = Memory(tmp_path, verbose=0)
    f = memory.cache(_counted(calls))
    f(1)
    folder = memory.store_backend.get_cached_func_info([f.func_id])["location"]
    with open(os.path.join(folder, "func_code.py"), "wb") as fh:
        fh.write(garbage)
    joblib.memory._FUNCTION_HASHES.clear()
    g = Memory(tmp_path, verbose=0).cache(_counted(calls))
    with pytest.warns(CacheWarning, match="cannot be read"):
        assert g(1) == [1, 1, 1]
    assert calls == [1, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert g(1) == [1, 1, 1]  # rewritten: a hit, no warning
    assert calls == [1, 1]


# --- statistics ---------------------------------------------------------------


def test_stats_per_function_and_total(tmp_path):
    memory = Memory(tmp_path, verbose=0)
    f = memory.cache(_counted([]))
    g = memory.cache(abs)
    f(1), f(1), f(1), f(2), g(-1)
    stats = f.stats()
    assert {k: stats[k] for k in ("hits", "misses", "stores", "failed_loads")} == {
        "hits": 2, "misses": 2, "stores": 2, "failed_loads": 0}
    assert stats["entries"] == 2 and stats["bytes"] > 0
    assert stats["time_saved"] >= 0
    total = memory.stats()
    assert total["hits"] == 2 and total["misses"] == 3 and total["entries"] == 3
    assert set(total["functions"]) == {f.func_id, g.func_id}
    assert total["bytes"] == sum(r["bytes"] for r in total["functions"].values())


def test_stats_time_saved_and_failed_loads(tmp_path):
    memory = Memory(tmp_path, verbose=0)
    f = memory.cache(_counted([]))
    f(1)
    path = os.path.join(
        memory.store_backend.get_item_info([f.func_id, f._get_args_id(1)])["location"],
        "metadata.json",
    )
    with open(path) as fh:
        metadata = json.load(fh)
    metadata["duration"] = 2.5
    with open(path, "w") as fh:
        json.dump(metadata, fh)
    f(1), f(1)
    assert f.stats()["time_saved"] == pytest.approx(5.0)
    out = os.path.join(os.path.dirname(path), "output.pkl")
    with open(out, "wb") as fh:
        fh.write(b"not a pickle")
    with pytest.warns(CacheWarning):
        f(1)
    assert f.stats()["failed_loads"] == 1


def test_stats_of_past_processes_are_recorded(tmp_path):
    code = (
        "import joblib\n"
        "m = joblib.Memory(%r, verbose=0, record_stats=RECORD)\n"
        "f = m.cache(abs)\n"
        "f(-1); f(-1); f(-1)\n" % str(tmp_path)
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    from joblib._memory.stats import STATS_FILE, read_recorded

    location = os.path.join(str(tmp_path), "joblib")
    run = [sys.executable, "-c", code.replace("RECORD", "False")]
    subprocess.run(run, check=True, env=env, timeout=120)
    # Off by default: the cache's files stay joblib 1.6's.
    assert not [n for n in os.listdir(location) if n.startswith(STATS_FILE)]
    run = [sys.executable, "-c", code.replace("RECORD", "True")]
    subprocess.run(run, check=True, env=env, timeout=120)
    recorded = read_recorded(location)
    (row,) = recorded.values()
    # Only the second process recorded: three hits of the first one's entry.
    assert (row["hits"], row["misses"], row["stores"]) == (3, 0, 0)


# --- limits kept on write -----------------------------------------------------


def test_items_limit_enforced_on_write(tmp_path):
    memory = Memory(tmp_path, verbose=0, items_limit=3)
    f = memory.cache(_counted([]))
    for i in range(8):
        f(i)
        assert memory.stats()["entries"] <= 3
    assert f.check_call_in_cache(7)  # the newest results are kept


def test_bytes_limit_enforced_on_write_lru_first(tmp_path):
    memory = Memory(tmp_path, verbose=0, bytes_limit="4K")
    f = memory.cache(lambda x: b"x" * 900)
    for i in range(12):
        f(i)
    assert memory.stats()["bytes"] <= 4096
    assert f.check_call_in_cache(11) and not f.check_call_in_cache(0)


def test_size_index_avoids_a_listing_per_miss(tmp_path, monkeypatch):
    memory = Memory(tmp_path, verbose=0, items_limit=1000)
    f = memory.cache(abs)
    f(-1)  # builds the index
    listings = []
    real = type(memory.store_backend).get_items
    monkeypatch.setattr(
        type(memory.store_backend),
        "get_items",
        lambda self: listings.append(1) or real(self),
    )
    for i in range(20):
        f(i)
    assert listings == []
    index = os.path.join(memory.store_backend.location, ".joblib_size_index.json")
    with open(index) as fh:
        assert json.load(fh)["items"] == 21
    os.remove(index)  # a missing index is rebuilt by a listing
    f(100)
    assert listings == [1]


def test_age_limit_enforced_on_write(tmp_path):
    memory = Memory(tmp_path, verbose=0, age_limit=datetime.timedelta(hours=1))
    f = memory.cache(abs)
    f(-1)
    item = memory.store_backend.get_item_info([f.func_id, f._get_args_id(-1)])
    old = 1_000_000_000
    for name in os.listdir(item["location"]):
        os.utime(os.path.join(item["location"], name), (old, old))
    os.remove(os.path.join(memory.store_backend.location, ".joblib_size_index.json"))
    f(-2)
    assert not f.check_call_in_cache(-1) and f.check_call_in_cache(-2)


def test_limits_on_a_store_without_local_files(tmp_path):
    store = BytesStore()
    store.configure(str(tmp_path / "c"))
    memory = Memory(store, verbose=0)
    f = memory.cache(abs)
    f._jl_state.limits = joblib.memory.Limits(items_limit=2)
    for i in range(5):
        f(-i)
    assert len(store.get_items()) == 2


def test_reduce_size_still_works_as_16(tmp_path):
    memory = Memory(tmp_path, verbose=0)
    f = memory.cache(abs)
    for i in range(4):
        f(-i)
    memory.reduce_size(items_limit=1)
    assert memory.stats()["entries"] == 1


# --- faults -------------------------------------------------------------------


@pytest.fixture
def small_mount(mount_tmpfs):
    """A 256 kB RAM file system."""
    return mount_tmpfs("256k")


def test_disk_full_leaves_no_partial_entry(small_mount):
    memory = Memory(small_mount, verbose=0)
    f = memory.cache(lambda n: b"z" * n)
    assert f(10) == b"z" * 10
    with pytest.warns(CacheWarning, match="Unable to cache to disk"):
        assert f(1 << 20) == b"z" * (1 << 20)
    folder = memory.store_backend.get_cached_func_info([f.func_id])["location"]
    leftovers = [n for n in os.listdir(folder) if n != "func_code.py"]
    assert leftovers == [f._get_args_id(10)]
    assert f.stats()["entries"] == 1


def test_read_only_cache_serves_hits_and_warns_once(small_mount):
    calls = []
    memory = Memory(small_mount, verbose=0)
    f = memory.cache(_counted(calls))
    f(1)
    subprocess.run(["mount", "-o", "remount,ro", small_mount], check=True)
    joblib.memory._FUNCTION_HASHES.clear()
    ro = Memory(small_mount, verbose=0).cache(_counted(calls))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ro(1) == [1, 1, 1]  # a hit
        assert ro(2) == [2, 2, 2] and ro(3) == [3, 3, 3]  # computed, not stored
    assert calls == [1, 2, 3]
    read_only = [w for w in caught if "read-only" in str(w.message)]
    assert len(read_only) == 1 and len(caught) == 1, [str(w.message) for w in caught]
    assert not ro.check_call_in_cache(2)


def _fifty(x):
    return [x] * 50


def _boxed(x):
    return {"x": x}


@pytest.mark.timeout(120)
def test_limits_with_concurrent_writers_and_a_reader(tmp_path):
    import threading

    memory = Memory(tmp_path, verbose=0, items_limit=6)
    writer = memory.cache(_fifty)
    reader = memory.cache(_boxed)
    errors, stop = [], threading.Event()

    def write(start):
        try:
            for i in range(start, start + 40):
                assert writer(i) == [i] * 50
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    def read():
        try:
            while not stop.is_set():  # may be evicted: recomputed, never half
                assert reader(1) == {"x": 1}
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k * 100,)) for k in range(4)]
    threads.append(threading.Thread(target=read))
    for t in threads:
        t.start()
    for t in threads[:-1]:
        t.join(60)
    stop.set()
    threads[-1].join(60)
    assert errors == []
    writer(10_000)  # one more write settles the limit after the race
    assert memory.stats()["entries"] <= 6

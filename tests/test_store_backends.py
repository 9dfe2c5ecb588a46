"""Store backends: the plug-in API, the file-system store and eviction policy."""

from __future__ import annotations

import datetime
import io
import os
import pickle
import warnings

import pytest

from joblib import Memory, register_store_backend
from joblib._store.eviction import items_to_delete
from joblib._store_backends import (
    CacheItemInfo,
    CacheWarning,
    FileSystemStoreBackend,
    StoreBackendBase,
    StoreBackendMixin,
    concurrency_safe_write,
)
from joblib.memory import _STORE_BACKENDS

# --- eviction policy (pure) ---------------------------------------------------

T0 = datetime.datetime(2024, 1, 1)


def _items(*specs):
    return [
        CacheItemInfo(name, size, T0 + datetime.timedelta(hours=h))
        for name, size, h in specs
    ]


def _names(items):
    return [item.path for item in items]


def test_eviction_least_recently_accessed_first():
    items = _items(("new", 10, 3), ("old", 10, 1), ("mid", 10, 2))
    assert _names(items_to_delete(items, items_limit=1)) == ["old", "mid"]
    assert _names(items_to_delete(items, bytes_limit=15)) == ["old", "mid"]
    assert _names(items_to_delete(items, bytes_limit="1K")) == []
    assert items_to_delete(items, items_limit=3) == []
    assert items_to_delete([], items_limit=0) == []


def test_eviction_by_age():
    items = _items(("a", 1, 0), ("b", 1, 5), ("c", 1, 10))
    now = T0 + datetime.timedelta(hours=10)
    assert _names(
        items_to_delete(items, age_limit=datetime.timedelta(hours=6), now=now)
    ) == ["a"]
    assert _names(items_to_delete(items, age_limit=datetime.timedelta(0), now=now)) == [
        "a",
        "b",
        "c",
    ]


def test_eviction_limits_combine():
    items = _items(("a", 100, 0), ("b", 1, 1), ("c", 1, 2), ("d", 1, 3))
    assert _names(items_to_delete(items, bytes_limit=50, items_limit=1)) == [
        "a",
        "b",
        "c",
    ]


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"age_limit": datetime.timedelta(seconds=-1)}, ValueError),
        ({"age_limit": 5}, TypeError),
        ({"items_limit": -1}, ValueError),
        ({"items_limit": "3"}, TypeError),
        ({"bytes_limit": 1.5}, TypeError),
        ({"bytes_limit": "12Q"}, ValueError),
    ],
)
def test_eviction_rejects_bad_limits(kwargs, error):
    with pytest.raises(error):
        items_to_delete([], **kwargs)


# --- file-system store --------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    store = FileSystemStoreBackend()
    store.configure(str(tmp_path / "joblib"), verbose=0, backend_options={})
    return store


def test_filesystem_store_item_roundtrip(store):
    call_id = ("mod/f", "0" * 32)
    assert not store.contains_item(call_id)
    with pytest.raises(KeyError, match="Non-existing item"):
        store.load_item(call_id)
    assert store.dump_item(call_id, {"a": [1, 2]}) is True
    assert store.contains_item(call_id) and store.contains_path(["mod/f"])
    assert store.load_item(call_id) == {"a": [1, 2]}
    store.store_metadata(call_id, {"time": 1.0, "duration": 2.0, "input_args": {}})
    assert store.get_metadata(call_id)["duration"] == 2.0
    assert store.get_metadata(("mod/f", "1" * 32)) == {}
    assert store.get_item_info(call_id) == {
        "location": os.path.join(store.location, *call_id)
    }
    (item,) = store.get_items()
    assert item.path == os.path.join(store.location, *call_id) and item.size > 0
    assert isinstance(item.last_access, datetime.datetime)
    store.clear_item(call_id)
    assert not store.contains_item(call_id) and store.get_items() == []


def test_filesystem_store_func_code(store):
    store.store_cached_func_code(["mod/f"])
    with pytest.raises(OSError):
        store.get_cached_func_code(["mod/f"])
    store.store_cached_func_code(["mod/f"], "# first line: 3\ndef f():\n    pass\n")
    assert store.get_cached_func_code(["mod/f"]).startswith("# first line: 3\n")
    assert store.get_cached_func_info(["mod/f"])["location"].endswith(
        os.path.join("mod", "f")
    )
    store.clear_path(["mod/f"])
    assert not store.contains_path(["mod/f"])


def test_filesystem_store_clear_keeps_root_files(store, tmp_path):
    store.dump_item(("m/f", "a" * 32), 1)
    with open(os.path.join(store.location, "keep.txt"), "w") as f:
        f.write("x")
    store.clear()
    assert os.listdir(store.location) == ["keep.txt"]


def test_filesystem_store_enforce_limits(store):
    for i in range(3):
        store.dump_item(("m/f", str(i) * 32), list(range(100)))
        path = os.path.join(store.location, "m", "f", str(i) * 32, "output.pkl")
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))
    store.enforce_store_limits(None, items_limit=1)
    assert [os.path.basename(i.path) for i in store.get_items()] == ["2" * 32]


def test_filesystem_store_pickles_with_joblib16_state(store):
    assert sorted(store.__dict__) == ["compress", "location", "mmap_mode", "verbose"]
    again = pickle.loads(pickle.dumps(store))
    assert again.location == store.location
    legacy = FileSystemStoreBackend.__new__(FileSystemStoreBackend)
    legacy.__dict__.update(location=store.location)  # minimal 1.6-era state
    legacy.dump_item(("m/f", "b" * 32), 7)
    assert legacy.load_item(("m/f", "b" * 32)) == 7


def test_filesystem_store_rejects_escaping_call_ids(store):
    with pytest.raises(ValueError, match="outside of the cache location"):
        store.load_item(("../outside", "a" * 32))
    with pytest.raises(ValueError):
        store.dump_item(("/abs/path", "a" * 32), 1)


def test_compress_and_mmap_mode_warns(tmp_path):
    store = FileSystemStoreBackend()
    with pytest.warns(UserWarning, match="Compressed items cannot be memmapped"):
        store.configure(
            str(tmp_path), backend_options={"compress": 3, "mmap_mode": "r"}
        )


def test_dump_failure_is_a_cache_warning(store, tmp_path):
    with pytest.warns(CacheWarning, match="failed to pickle"):
        assert store.dump_item(("m/f", "c" * 32), lambda: 0) is False
    assert not store.contains_item(("m/f", "c" * 32))


def test_concurrency_safe_write(tmp_path):
    target = str(tmp_path / "out.bin")

    def write(obj, name):
        with open(name, "wb") as f:
            f.write(obj)

    tmp = concurrency_safe_write(b"data", target, write)
    assert tmp != target and tmp.startswith(target) and str(os.getpid()) in tmp
    assert open(tmp, "rb").read() == b"data" and not os.path.exists(target)


# --- a third-party store written against the 1.6 API --------------------------


class _CommitOnClose(io.BytesIO):
    def __init__(self, files, key):
        super().__init__()
        self._files, self._key = files, key

    def close(self):
        self._files[self._key] = self.getvalue()
        super().close()


class DictStoreBackend(StoreBackendBase, StoreBackendMixin):
    """An in-memory store, as a plug-in author would write it."""

    def _open_item(self, f, mode):
        if mode == "rb":
            return io.BytesIO(self.files[f])
        return _CommitOnClose(self.files, f)

    def _item_exists(self, location):
        prefix = location.rstrip("/") + "/"
        return location in self.files or any(k.startswith(prefix) for k in self.files)

    def _move_item(self, src, dst):
        self.files[dst] = self.files.pop(src)

    def create_location(self, location):
        pass

    def clear_location(self, location):
        prefix = location.rstrip("/") + "/"
        for key in [k for k in self.files if k == location or k.startswith(prefix)]:
            del self.files[key]

    def get_items(self):
        items = {}
        for key, data in self.files.items():
            item_dir = os.path.dirname(key)
            if len(os.path.basename(item_dir)) == 32:
                size = items.get(item_dir, (0,))[0] + len(data)
                items[item_dir] = (size, T0)
        return [CacheItemInfo(path, size, when) for path, (size, when) in items.items()]

    def configure(self, location, verbose=0, backend_options=dict()):
        self.location = location
        self.verbose = verbose
        self.options = dict(backend_options)
        self.compress = backend_options.get("compress", False)
        self.mmap_mode = None
        self.files = {}


@pytest.fixture
def dict_backend():
    register_store_backend("dict", DictStoreBackend)
    yield
    _STORE_BACKENDS.pop("dict", None)


def test_third_party_store_plugs_into_memory(dict_backend):
    calls = []

    def f(x):
        calls.append(x)
        return [x] * 3

    memory = Memory(
        "mem://cache", backend="dict", verbose=0, backend_options={"token": "t"}
    )
    store = memory.store_backend
    assert isinstance(store, DictStoreBackend) and store.options["token"] == "t"
    assert store.location == os.path.join("mem://cache", "joblib")
    cached = memory.cache(f)
    assert cached(1) == [1, 1, 1] and cached(1) == [1, 1, 1] and calls == [1]
    assert cached.check_call_in_cache(1)
    result = cached.call_and_shelve(2)
    assert result.get() == [2, 2, 2] and result.metadata["input_args"] == {"x": "2"}
    assert any(k.endswith("func_code.py") for k in store.files)
    memory.reduce_size(items_limit=1)
    assert len(store.get_items()) == 1
    cached.clear(warn=False)
    assert cached(1) == [1, 1, 1] and calls == [1, 2, 1]
    memory.clear(warn=False)
    assert store.files == {}


def test_third_party_store_with_compression(dict_backend):
    memory = Memory("mem://z", backend="dict", compress=("zlib", 3), verbose=0)
    cached = memory.cache(abs)
    assert cached(-3) == 3 and cached(-3) == 3


def test_store_instance_as_location(store):
    memory = Memory(store, verbose=0)
    assert memory.store_backend is store
    assert memory.cache(abs)(-2) == 2


def test_register_store_backend_errors():
    with pytest.raises(ValueError, match="name should be a string"):
        register_store_backend(1, DictStoreBackend)
    with pytest.raises(ValueError, match="should inherit StoreBackendBase"):
        register_store_backend("x", object)
    with pytest.raises(ValueError, match="should inherit StoreBackendBase"):
        register_store_backend("x", None)
    assert "x" not in _STORE_BACKENDS


def test_store_backend_base_is_abstract():
    with pytest.raises(TypeError):
        StoreBackendBase()


class LegacyLoadStore(FileSystemStoreBackend):
    """A subclass written for joblib 1.6: load_item with the 1.6 signature."""

    loads = 0

    def load_item(self, call_id, verbose=1, timestamp=None, metadata=None):
        LegacyLoadStore.loads += 1
        return super().load_item(call_id, verbose, timestamp, metadata)


def test_subclass_with_joblib16_load_item(tmp_path):
    store = LegacyLoadStore()
    store.configure(str(tmp_path), verbose=0)
    f = Memory(store, verbose=0).cache(abs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(-5) == 5 and f(-5) == 5
    assert LegacyLoadStore.loads == 1

"""One store path and one owner of a cached function's state.

Every store is read through ``StoreBackendMixin.fetch_item``; the code check
returns a verdict that the function's state acts on.
"""

from __future__ import annotations

import datetime
import io
import os
import pickle

import pytest

from joblib import Memory
from joblib._memory import func_code
from joblib._store_backends import (
    CacheItemInfo,
    FileSystemStoreBackend,
    StoreBackendBase,
    StoreBackendMixin,
)


class _Commit(io.BytesIO):
    def __init__(self, files, key):
        super().__init__()
        self.files, self.key = files, key

    def close(self):
        if not self.closed:
            self.files[self.key] = self.getvalue()
        super().close()


class BytesStore(StoreBackendBase, StoreBackendMixin):
    """A store written only against the abstract primitives; counts calls."""

    def configure(self, location, verbose=0, backend_options=dict()):
        self.location, self.verbose = location, verbose
        self.compress = backend_options.get("compress", False)
        self.mmap_mode = None
        self.files, self.calls = {}, []

    def _open_item(self, path, mode):
        self.calls.append(("open", mode))
        if mode == "wb":
            return _Commit(self.files, path)
        if path not in self.files:
            raise FileNotFoundError(path)
        return io.BytesIO(self.files[path])

    def _item_exists(self, path):
        self.calls.append(("exists", path))
        prefix = path + os.sep
        return path in self.files or any(k.startswith(prefix) for k in self.files)

    def _move_item(self, src, dst):
        self.files[dst] = self.files.pop(src)

    def create_location(self, path):
        pass

    def clear_location(self, path):
        prefix = path + os.sep
        for key in [k for k in self.files if k == path or k.startswith(prefix)]:
            del self.files[key]

    def get_items(self):
        return [
            CacheItemInfo(os.path.dirname(k), len(v), datetime.datetime.now())
            for k, v in self.files.items()
            if k.endswith("output.pkl")
        ]


class NeverContains(BytesStore):
    """A joblib 1.6-style store that overrides contains_item: it is asked."""

    def contains_item(self, call_id):
        return False


class OldLoadItem(FileSystemStoreBackend):
    """load_item with joblib 1.6's signature and no mmap_mode."""

    def load_item(self, call_id, verbose=1, timestamp=None, metadata=None):
        return ("old", super().load_item(call_id, verbose, timestamp, metadata))


def _store(cls, location):
    store = cls()
    store.configure(str(location), verbose=0)
    return store


def _add(x, y=1):
    return x + y


def test_plain_store_hit_needs_no_existence_check(tmp_path):
    store = _store(BytesStore, tmp_path / "c")
    f = Memory(store, verbose=0).cache(abs)
    assert f(-3) == 3
    store.calls.clear()
    assert f(-3) == 3
    # The hit opens output.pkl; only the default _read_result's own check
    # runs, not a contains_item before it.
    exists = [c for c in store.calls if c[0] == "exists"]
    assert len(exists) == 1 and exists[0][1].endswith("output.pkl")


def test_store_overriding_contains_item_is_asked_first(tmp_path):
    store = _store(NeverContains, tmp_path / "c")
    calls = []

    def g(x):
        calls.append(x)
        return x

    f = Memory(store, verbose=0).cache(g)
    assert f(1) == 1 and f(1) == 1
    assert calls == [1, 1]


def test_load_item_with_16_signature_gets_no_mmap_argument(tmp_path):
    store = _store(OldLoadItem, tmp_path)
    f = Memory(store, verbose=0).cache(abs, mmap_mode="r")
    f(-2)
    assert f(-2) == ("old", 2)


def test_third_party_store_honours_per_function_mmap_mode_argument(tmp_path):
    """mmap_mode reaches every store's load_item; the local one maps files."""
    np = pytest.importorskip("numpy")
    memory = Memory(tmp_path, verbose=0)

    def ones(n):
        return np.ones(n)

    mapped = memory.cache(ones, mmap_mode="r")
    mapped(3)
    assert isinstance(mapped(3), np.memmap)


def test_validation_callback_sees_only_existing_entries(tmp_path):
    seen = []

    def callback(metadata):
        seen.append(metadata)
        return True

    f = Memory(tmp_path, verbose=0).cache(_add, cache_validation_callback=callback)
    assert f(1) == 2 and f(1) == 2
    assert len(seen) == 1 and seen[0]["input_args"]["x"] == "1"
    assert f(2) == 3  # a miss of a known function: nothing to validate
    assert len(seen) == 1


def _func_dir(f):
    return f.store_backend.get_cached_func_info([f.func_id])["location"]


def test_code_check_returns_a_verdict_and_does_not_clear(tmp_path):
    f = Memory(tmp_path, verbose=0).cache(_add)
    state = f._jl_state
    f(1)
    func_code_path = os.path.join(_func_dir(f), "func_code.py")
    with open(func_code_path) as fh:
        text = fh.read()
    with open(func_code_path, "w") as fh:
        fh.write(text.replace("x + y", "x - y"))
    from joblib.memory import _FUNCTION_HASHES

    _FUNCTION_HASHES.clear()
    assert func_code.check(state) is func_code.CHANGED
    assert f.check_call_in_cache.__self__ is f
    # The verdict alone changed nothing on disk: the entry is still there.
    assert len(os.listdir(os.path.dirname(func_code_path))) == 2
    assert not state.code_is_current()  # acting on it clears the results
    assert os.listdir(os.path.dirname(func_code_path)) == ["func_code.py"]
    assert func_code.check(state) is func_code.CURRENT


def test_new_function_verdict(tmp_path):
    f = Memory(tmp_path, verbose=0).cache(_add)
    # Decorating creates the folder only; the first call writes the code.
    assert func_code.check(f._jl_state) is func_code.NEW
    assert not os.path.exists(os.path.join(_func_dir(f), "func_code.py"))
    f(1)
    assert os.path.exists(os.path.join(_func_dir(f), "func_code.py"))


def test_attributes_are_views_of_the_state(tmp_path):
    f = Memory(tmp_path, verbose=0).cache(_add)
    f.mmap_mode = "r"
    assert f._jl_state.mmap_mode == "r"
    f._verbose = 0
    assert f._jl_state.verbose == 0
    clone = pickle.loads(pickle.dumps(f))
    assert clone._jl_state is not f._jl_state
    assert clone.mmap_mode == "r" and clone(2) == 3
    assert clone._jl_state.reporter is clone


# --- the local store's fast primitives agree with the mixin's plain ones ----

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text() | st.binary(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4)
    | st.tuples(children, children),
    max_leaves=12,
)


class PlainLocalStore(FileSystemStoreBackend):
    """The local store through the mixin's default primitives only."""

    _read_result = StoreBackendMixin._read_result
    _write_result = StoreBackendMixin._write_result
    _write_bytes = StoreBackendMixin._write_bytes


@settings(max_examples=40, deadline=None)
@given(value=_values, compress=st.sampled_from([False, 3]))
def test_fast_and_plain_primitives_agree(tmp_path_factory, value, compress):
    folder = str(tmp_path_factory.mktemp("twin"))
    fast, plain = FileSystemStoreBackend(), PlainLocalStore()
    for store in (fast, plain):
        store.configure(folder, verbose=0, backend_options={"compress": compress})
    fast.dump_item(("m/f", "a" * 32), value)
    plain.dump_item(("m/f", "b" * 32), value)
    for call_id in (("m/f", "a" * 32), ("m/f", "b" * 32)):
        assert fast.load_item(call_id) == value == plain.load_item(call_id)
    fast.store_metadata(("m/f", "a" * 32), {"v": repr(value)})
    assert plain.get_metadata(("m/f", "a" * 32)) == {"v": repr(value)}
    with pytest.raises(KeyError):
        plain.fetch_item(("m/f", "c" * 32))
    with pytest.raises(KeyError):
        fast.fetch_item(("m/f", "c" * 32))

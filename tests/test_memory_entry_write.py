"""How the local store writes a new cache entry: one temporary folder holding
``metadata.json`` and ``output.pkl``, renamed into place at once.

Its plain twin is the two-step write of joblib 1.6's store API
(``store_metadata`` then ``dump_item``), which subclasses of the local store
that change how entries are written still get: both must leave the same
files. Readers must see no entry or a whole one.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import select
import shutil
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joblib import Memory
from joblib._store import item_io
from joblib._store_backends import FileSystemStoreBackend, StoreBackendMixin

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=8) | st.binary(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4)
    | st.tuples(children, children),
    max_leaves=10,
)


def _maybe_array(draw_value, with_array):
    if not with_array:
        return draw_value
    np = pytest.importorskip("numpy")
    return [draw_value, np.arange(7.0), np.array(["a", "bc"])]


class TwoStepStore(FileSystemStoreBackend):
    """The local store as a 1.6-style subclass: overrides ``store_metadata``."""

    written = []

    def store_metadata(self, call_id, metadata):
        self.written.append(call_id)
        super().store_metadata(call_id, metadata)


def _files(folder):
    return {name: open(os.path.join(folder, name), "rb").read()
            for name in sorted(os.listdir(folder))}


@SETTINGS
@given(value=_values, with_array=st.booleans(), compress=st.sampled_from([False, 3]))
def test_whole_entry_write_leaves_the_two_step_writes_files(tmp_path_factory, value,
                                                            with_array, compress):
    value = _maybe_array(value, with_array)
    folder = str(tmp_path_factory.mktemp("twin"))
    whole, two_step = FileSystemStoreBackend(), TwoStepStore()
    for store in (whole, two_step):
        store.configure(folder, verbose=0, backend_options={"compress": compress})
    assert whole._jl_writes_entries and not two_step._jl_writes_entries
    metadata = {"duration": 0.25, "input_args": {"x": repr(value)}, "time": 1e9}
    assert whole._jl_dump_entry(("m/f", "a" * 32), value, metadata) is True
    two_step.store_metadata(("m/f", "b" * 32), metadata)
    assert two_step.dump_item(("m/f", "b" * 32), value) is True
    a, b = (os.path.join(folder, "m", "f", c * 32) for c in "ab")
    assert _files(a) == _files(b)
    assert sorted(os.listdir(os.path.join(folder, "m", "f"))) == ["a" * 32, "b" * 32]
    assert json.loads(_files(a)["metadata.json"]) == metadata


_json_floats = st.floats() | st.integers(-5, 5)
_metadata = st.fixed_dictionaries(
    {"duration": _json_floats, "input_args": st.dictionaries(st.text(), st.text()),
     "time": _json_floats},
    optional={"extra": st.text()},
) | st.lists(st.sampled_from(["duration", "input_args", "time"]), unique=True).map(
    lambda keys: {k: 1.5 if k != "input_args" else {"a": "b"} for k in keys})


@settings(max_examples=300, deadline=None)
@given(metadata=_metadata)
def test_metadata_bytes_are_jsons(metadata):
    assert item_io.metadata_bytes(metadata) == json.dumps(metadata).encode("utf-8")


def entry_fn(i):
    return ("entry", i)


def _function_dir(root):
    (func_dir,) = [d for d, _, _ in os.walk(root) if os.path.basename(d) == "entry_fn"]
    return func_dir


def test_subclass_that_changes_writes_gets_the_two_steps(tmp_path):
    TwoStepStore.written.clear()
    store = TwoStepStore()
    store.configure(str(tmp_path / "joblib"), verbose=0)
    f = Memory(store, verbose=0).cache(entry_fn)
    assert f(1) == ("entry", 1) and f(1) == ("entry", 1)
    assert len(TwoStepStore.written) == 1
    # Patched on the instance: the same.
    whole = Memory(str(tmp_path / "other"), verbose=0).cache(entry_fn)
    seen = []
    whole.store_backend.store_metadata = lambda call_id, meta: seen.append(call_id)
    whole(2)
    assert len(seen) == 1


def test_existing_entry_folder_is_replaced_file_by_file(tmp_path):
    memory = Memory(str(tmp_path), verbose=0)
    f = memory.cache(entry_fn)
    f(1)
    func_dir = _function_dir(str(tmp_path))
    (entry,) = [d for d in os.listdir(func_dir) if d != "func_code.py"]
    before = json.loads(open(os.path.join(func_dir, entry, "metadata.json")).read())
    output, metadata = f.call(1)  # recomputes into the existing folder
    assert output == ("entry", 1)
    after = json.loads(open(os.path.join(func_dir, entry, "metadata.json")).read())
    assert after["time"] == metadata["time"] >= before["time"]
    assert sorted(os.listdir(func_dir)) == sorted(["func_code.py", entry])
    assert sorted(os.listdir(os.path.join(func_dir, entry))) == ["metadata.json",
                                                                 "output.pkl"]
    # An empty folder, as joblib 1.6 leaves it just before writing, is replaced.
    shutil.rmtree(os.path.join(func_dir, entry))
    os.mkdir(os.path.join(func_dir, entry))
    assert not f.check_call_in_cache(1)
    assert f(1) == ("entry", 1) and f.check_call_in_cache(1)
    assert sorted(os.listdir(func_dir)) == sorted(["func_code.py", entry])


def test_function_folder_removed_meanwhile_is_created_again(tmp_path):
    memory = Memory(str(tmp_path), verbose=0)
    f = memory.cache(entry_fn)
    shutil.rmtree(_function_dir(str(tmp_path)))
    assert f(3) == ("entry", 3) and f.check_call_in_cache(3)


def test_folder_left_by_a_killed_writer_is_evicted(tmp_path):
    memory = Memory(str(tmp_path), verbose=0)
    f = memory.cache(entry_fn)
    f(1)
    func_dir = _function_dir(str(tmp_path))
    leftover = os.path.join(func_dir, "c" * 32 + ".host.name-12-ab12-3-4.tmp")
    os.mkdir(leftover)
    with open(os.path.join(leftover, "output.pkl"), "wb") as out:
        out.write(b"\x80\x04 half a pickle")
    os.utime(os.path.join(leftover, "output.pkl"), (1e9, 1e9))  # long ago
    assert leftover in [item.path for item in memory.store_backend.get_items()]
    memory.reduce_size(items_limit=1)
    assert not os.path.exists(leftover) and f.check_call_in_cache(1)


def _write_entries(location, count, done_w):
    f = Memory(location, verbose=0).cache(entry_fn)
    for i in range(count):
        f(i)
    os.write(done_w, b"x")
    os._exit(0)


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
@pytest.mark.timeout(120)
def test_concurrent_reader_sees_no_entry_or_a_whole_one(tmp_path):
    location = str(tmp_path)
    Memory(location, verbose=0).cache(entry_fn)  # creates the function folder
    func_dir = _function_dir(location)
    done_r, done_w = os.pipe()
    writer = multiprocessing.get_context("fork").Process(
        target=_write_entries, args=(location, 400, done_w))
    writer.start()
    seen, finished = set(), False
    try:
        while not finished:
            finished = bool(select.select([done_r], [], [], 0)[0])
            for name in os.listdir(func_dir):
                if len(name) != 32 or name in seen:
                    continue
                files = sorted(os.listdir(os.path.join(func_dir, name)))
                assert files == ["metadata.json", "output.pkl"], (name, files)
                seen.add(name)
    finally:
        writer.join(60)
        os.close(done_r)
        os.close(done_w)
    assert writer.exitcode == 0 and len(seen) == 400

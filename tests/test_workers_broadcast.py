"""``joblib.broadcast``: the task receives the object itself on every
backend; process workers load it once per call (not once per batch), large
arrays in it are memory-mapped, errors name the object, files are removed."""

from __future__ import annotations

import gc
import os

import pytest

from joblib import Parallel, broadcast, delayed

BACKENDS = ["loky", "multiprocessing", "threading", "sequential"]


def _count_load(log_path, payload):
    with open(log_path, "a") as f:
        f.write(f"{os.getpid()}\n")
    return Counted(log_path, payload)


class Counted:
    """Writes one line to ``log_path`` each time it is unpickled."""

    def __init__(self, log_path, payload):
        self.log_path, self.payload = log_path, payload

    def __reduce__(self):
        return _count_load, (self.log_path, self.payload)


def describe(shared, nested, i, key=None):
    return (type(shared).__name__, shared.payload, type(nested[0]["x"]).__name__,
            key.payload, os.getpid(), id(shared))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", BACKENDS)
def test_task_receives_the_object_at_any_depth(backend, tmp_path):
    obj = Counted(str(tmp_path / "loads"), payload=[1, 2, 3])
    handle = broadcast(obj)
    out = Parallel(n_jobs=2, backend=backend, batch_size=1)(
        delayed(describe)(handle, [{"x": handle}], i, key=handle) for i in range(12))
    assert all(o[0] == "Counted" and o[1] == [1, 2, 3] and o[2] == "Counted"
               and o[3] == [1, 2, 3] for o in out)
    if backend in ("threading", "sequential"):
        assert {o[5] for o in out} == {id(obj)}  # no copy at all


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["loky", "multiprocessing"])
def test_loaded_once_per_worker_not_per_batch(backend, tmp_path):
    log = tmp_path / "loads"
    obj = Counted(str(log), payload="big")
    handle = broadcast(obj)
    out = Parallel(n_jobs=2, backend=backend, batch_size=1)(
        delayed(describe)(handle, [{"x": handle}], i, key=handle) for i in range(20))
    loads = log.read_text().split()
    workers = {o[4] for o in out}
    assert sorted(map(int, loads)) == sorted(workers)  # one load per worker that ran tasks
    # one object per worker: every task of a worker saw the same instance
    assert len({(o[4], o[5]) for o in out}) == len(workers)
    # without the handle: loaded again for each batch (20 batches)
    log.write_text("")
    Parallel(n_jobs=2, backend=backend, batch_size=1)(
        delayed(describe)(obj, [{"x": obj}], i, key=obj) for i in range(20))
    assert len(log.read_text().split()) == 20


def cache_size(shared):
    from joblib._parallel.workers import broadcast as module

    return len(module._cache)


@pytest.mark.timeout(120)
def test_worker_keeps_only_the_current_call_objects():
    first, second = broadcast(list(range(10))), broadcast(list(range(20)))
    with Parallel(n_jobs=2, batch_size=1) as parallel:
        parallel(delayed(cache_size)(first) for _ in range(6))
        sizes = parallel(delayed(cache_size)(second) for _ in range(6))
    assert set(sizes) == {1}


def array_info(shared):
    from joblib._parallel.memmapping.reducers import has_shareable_memory

    return has_shareable_memory(shared["big"]), has_shareable_memory(shared["small"])


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["loky", "multiprocessing"])
def test_large_arrays_in_the_object_are_memmapped(backend, tmp_path):
    np = pytest.importorskip("numpy")
    handle = broadcast({"big": np.ones(100_000), "small": np.ones(3)})
    out = Parallel(n_jobs=2, backend=backend, max_nbytes="100K",
                   temp_folder=str(tmp_path))(delayed(array_info)(handle) for _ in range(4))
    assert set(out) == {(True, False)}
    out = Parallel(n_jobs=2, backend=backend, max_nbytes=None)(
        delayed(array_info)(handle) for _ in range(4))
    assert set(out) == {(False, False)}


class Unpicklable:
    def __reduce__(self):
        raise TypeError("this object refuses pickling")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["loky", "multiprocessing"])
def test_unpicklable_object_error_names_it(backend):
    import pickle

    handle = broadcast({"model": Unpicklable()})
    with pytest.raises(pickle.PicklingError) as info:
        Parallel(n_jobs=2, backend=backend)(delayed(len)(handle) for _ in range(4))
    chain, exc = [], info.value
    while exc is not None:
        chain.append(str(exc))
        exc = exc.__cause__
    text = "\n".join(chain)
    assert "joblib.broadcast could not pickle the shared object" in text
    assert "Unpicklable" in text and "refuses pickling" in text


def die_holding(shared, i):
    if i == 3:
        os._exit(1)
    return len(shared)


@pytest.mark.timeout(120)
def test_worker_dying_while_holding_the_object_is_reported():
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    handle = broadcast(list(range(1000)))
    with pytest.raises(TerminatedWorkerError):
        Parallel(n_jobs=2, batch_size=1)(delayed(die_holding)(handle, i) for i in range(8))
    # the next call works and loads the object again
    assert Parallel(n_jobs=2)(delayed(len)(handle) for _ in range(3)) == [1000] * 3


@pytest.mark.timeout(120)
def test_folder_removed_with_the_handle(tmp_path):
    handle = broadcast(list(range(100)))
    Parallel(n_jobs=2, temp_folder=str(tmp_path))(delayed(len)(handle) for _ in range(3))
    assert [p.name for p in tmp_path.iterdir() if "broadcast" in p.name]
    del handle
    gc.collect()
    assert not [p.name for p in tmp_path.iterdir() if "broadcast" in p.name]


def test_handle_repr_and_value():
    handle = broadcast({"a": 1})
    assert handle.value == {"a": 1}
    assert repr(handle) == "joblib.broadcast(<dict object>)"


def test_pickled_outside_parallel_is_the_object():
    import pickle

    assert pickle.loads(pickle.dumps(broadcast([1, 2]))) == [1, 2]


def die_once_holding(shared, flag, i):
    if i == 2 and not os.path.exists(flag):
        open(flag, "w").close()
        os._exit(1)
    return len(shared)


@pytest.mark.timeout(120)
def test_worker_death_while_holding_the_object_is_retried(tmp_path):
    handle = broadcast(list(range(1000)))
    flag = str(tmp_path / "died")
    out = Parallel(n_jobs=2, retries=1)(
        delayed(die_once_holding)(handle, flag, i) for i in range(6))
    assert out == [1000] * 6 and os.path.exists(flag)

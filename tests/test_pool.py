"""``joblib.pool``: multiprocessing pools with custom pickling and memmapping."""

from __future__ import annotations

import io
import multiprocessing
import os
import pickle

import pytest

from joblib.pool import CustomizablePickler, MemmappingPool, PicklingPool


class Point:
    def __init__(self, x):
        self.x = x


def reduce_point_forward(p):
    return Point, (p.x + 1000,)


def reduce_point_backward(p):
    return Point, (-p.x,)


def point_x(p):
    return p.x


def make_point(x):
    return Point(x)


def test_customizable_pickler_uses_its_reducers_only():
    buf = io.BytesIO()
    CustomizablePickler(buf, {Point: reduce_point_forward}).dump([Point(1), Point(2)])
    assert [p.x for p in pickle.loads(buf.getvalue())] == [1001, 1002]
    plain = pickle.loads(pickle.dumps(Point(1)))
    assert plain.x == 1  # the global dispatch table is untouched


def test_pickling_pool_forward_and_backward_reducers():
    with PicklingPool(
        2,
        forward_reducers={Point: reduce_point_forward},
        backward_reducers={Point: reduce_point_backward},
    ) as pool:
        assert pool.map(point_x, [Point(1), Point(2)]) == [1001, 1002]
        assert pool.apply_async(make_point, (5,)).get().x == -5
        pool.close()
        pool.join()


def test_pickling_pool_subclass_like_ray():
    # Ray's joblib backend subclasses PicklingPool and passes only kwargs.
    class RayLikePool(PicklingPool):
        def __init__(self, processes=None, **kwargs):
            super().__init__(processes=processes, **kwargs)

    pool = RayLikePool(processes=1, initializer=os.getpid)
    try:
        assert pool.apply_async(os.getpid).get() != os.getpid()
    finally:
        pool.terminate()


np = pytest.importorskip("numpy")


def describe(a):
    return type(a).__name__, getattr(a, "filename", None), getattr(a, "mode", None), float(a.sum())


def fill(out, start, stop, value):
    out[start:stop] = value


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "memmaps"
    root.mkdir()
    yield str(root)
    assert os.listdir(root) == []


def test_memmapping_pool_memmaps_large_arrays(root):
    a = np.arange(500_000, dtype=np.float64)
    pool = MemmappingPool(2, temp_folder=root, max_nbytes=1e6 / 2)
    try:
        results = pool.map(describe, [a, a, a[::2], np.arange(10.0)])
        assert [r[0] for r in results] == ["memmap", "memmap", "memmap", "ndarray"]
        assert results[0][1] == results[1][1] != results[2][1]
        assert results[2][3] == float(a[::2].sum())
        assert os.path.dirname(pool._temp_folder) == root
        assert len(os.listdir(pool._temp_folder)) == 2
        assert pool.apply_async(describe, (a,)).get()[1] == results[0][1]
    finally:
        pool.terminate()
    assert not os.path.exists(pool._temp_folder)


def test_memmapping_pool_shared_output_and_modes(root, tmp_path):
    out = np.memmap(str(tmp_path / "out.mmap"), dtype=np.int64, mode="w+", shape=(400,))
    with MemmappingPool(2, temp_folder=root, mmap_mode="c", max_nbytes=100) as pool:
        pool.starmap(fill, [(out, i * 100, (i + 1) * 100, i + 1) for i in range(4)])
        np.testing.assert_array_equal(out, np.repeat(np.arange(1, 5), 100))
        assert pool.apply_async(describe, (np.ones(1000),)).get()[2] == "c"
    # ``with`` calls terminate(), which removes the folder (checked by ``root``).


def test_memmapping_pool_settings_disable(root):
    a = np.ones(300_000)
    pool = MemmappingPool(1, temp_folder=root, max_nbytes=None, context_id="fixed-id")
    try:
        assert pool.apply_async(describe, (a,)).get()[0] == "ndarray"
        assert pool._temp_folder.endswith("fixed-id")
    finally:
        pool.terminate()


def test_memmapping_pool_with_spawn_context(root):
    context = multiprocessing.get_context("spawn")
    pool = MemmappingPool(1, temp_folder=root, max_nbytes=100, context=context)
    try:
        assert pool.apply_async(describe, (np.arange(1000.0),)).get()[0] == "memmap"
    finally:
        pool.terminate()


@pytest.mark.parametrize("kwargs", [{"mmap_mode": "rw"}, {"max_nbytes": "lots"}])
def test_memmapping_pool_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError, match="mmap_mode|max_nbytes"):
        MemmappingPool(2, **kwargs)


def test_terminate_does_not_hang_on_a_result_lock_left_taken():
    # A worker killed by terminate() while sending a result dies holding the
    # result queue's write lock; the pool's stop sentinels must still go
    # through (this hung the multiprocessing backend's abort before).
    import threading

    from joblib.pool import MemmappingPool

    pool = MemmappingPool(2, max_nbytes=None)
    assert pool.apply_async(abs, (-3,)).get(timeout=30) == 3
    pool._outqueue._wlock.acquire()  # stands for the dead worker's hold
    stopper = threading.Thread(target=pool.terminate, daemon=True)
    stopper.start()
    stopper.join(timeout=60)
    assert not stopper.is_alive(), "terminate() hung on the result queue lock"

"""Workers keep a temporary memmap open between tasks, but never for long."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time

import pytest

np = pytest.importorskip("numpy")

import joblib  # noqa: E402
from joblib._parallel.memmapping.mapping_cache import RecentMappings, recent_mappings  # noqa: E402
from joblib.pool import MemmappingPool  # noqa: E402

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(joblib.__file__)))


class Opener:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return object()


def wait_for(predicate, deadline_s=10.0):
    end = time.monotonic() + deadline_s
    while not predicate() and time.monotonic() < end:
        time.sleep(0.01)
    return predicate()


def test_get_reuses_the_mapping_and_bounds_the_entries():
    cache = RecentMappings(linger=60, max_entries=2)
    opener = Opener()
    first = cache.get("a", opener)
    assert cache.get("a", opener) is first and opener.calls == 1
    cache.get("b", opener)
    cache.get("c", opener)
    assert len(cache) == 2
    assert cache.get("a", opener) is not first and opener.calls == 4
    cache.clear()
    assert len(cache) == 0


def test_mappings_expire_after_linger():
    cache = RecentMappings(linger=0.05)
    cache.get("a", Opener())
    assert wait_for(lambda: len(cache) == 0)


def test_full_garbage_collection_releases_mappings():
    recent_mappings.get(("test-key",), Opener())
    assert len(recent_mappings) >= 1
    gc.collect()
    assert len(recent_mappings) == 0


def base_id(a):
    return id(a.base)


def write_then_read(a, value):
    old = float(a[0])
    a[0] = value
    return old


def test_worker_reuses_mapping_except_copy_on_write(tmp_path):
    a = np.arange(100_000, dtype=np.float64)
    with MemmappingPool(1, temp_folder=str(tmp_path), max_nbytes=100) as pool:
        ids = [pool.apply_async(base_id, (a,)).get() for _ in range(3)]
        assert ids[0] == ids[1] == ids[2]
    with MemmappingPool(1, temp_folder=str(tmp_path), max_nbytes=100, mmap_mode="c") as pool:
        # Each task gets its own private copy-on-write map.
        assert [pool.apply_async(write_then_read, (a, 99.0)).get() for _ in range(2)] == [0.0, 0.0]
    assert os.listdir(tmp_path) == []


def test_kept_mappings_do_not_look_like_a_memory_leak_to_loky(tmp_path):
    # loky restarts a worker whose resident size grew by more than
    # LOKY_MAX_MEMORY_LEAK_SIZE (checked at most once a second, after a full
    # garbage collection): an 80 MB array kept mapped would exceed 50 MB.
    code = (
        "import os, time, numpy as np\n"
        "from joblib import Parallel, delayed\n"
        "def task(a):\n"
        "    time.sleep(0.02); return float(a[::4096].sum()), os.getpid()\n"
        "if __name__ == '__main__':\n"
        "    a = np.ones(10_000_000)\n"
        "    pids, end = set(), time.monotonic() + 2.5\n"
        "    while time.monotonic() < end:\n"
        "        out = Parallel(n_jobs=2)(delayed(task)(a) for _ in range(10))\n"
        "        pids |= {p for _, p in out}\n"
        "    print(len(pids), *pids)\n"
    )
    env = dict(
        os.environ,
        PYTHONPATH=_REPO,
        JOBLIB_TEMP_FOLDER=str(tmp_path),
        LOKY_MAX_MEMORY_LEAK_SIZE=str(50 * 2**20),
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "memory" not in proc.stderr, proc.stderr
    count, *pids = proc.stdout.split()
    assert count == "2"
    assert os.listdir(tmp_path) == []
    # The workers exit with their parent: none hangs in its shutdown.
    assert wait_for(lambda: not any(_alive(int(pid)) for pid in pids), deadline_s=60)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_clear_gives_up_when_the_lock_is_stuck():
    # A daemon thread frozen at interpreter exit while holding the lock
    # must not hang a garbage collection forever.
    import threading

    cache = RecentMappings(linger=60)
    cache.get("a", Opener())
    holding, release = threading.Event(), threading.Event()

    def hold():
        with cache._lock:
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    holding.wait(30)
    start = time.monotonic()
    cache.clear(timeout=0.05)
    assert time.monotonic() - start < 5 and len(cache) == 1
    release.set()
    thread.join(30)
    cache.clear()
    assert len(cache) == 0


def test_collector_callback_is_inactive_during_shutdown(monkeypatch):
    from joblib._parallel.memmapping import mapping_cache

    recent_mappings.get(("shutdown-key",), Opener())
    monkeypatch.setattr(sys, "is_finalizing", lambda: True)
    mapping_cache._on_gc("start", {"generation": 2})
    assert len(recent_mappings) == 1
    monkeypatch.undo()
    mapping_cache._on_gc("start", {"generation": 2})
    assert len(recent_mappings) == 0

"""Memory under concurrency and crashes: processes, threads, kills, eviction.

Worker processes receive the pickled ``MemorizedFunc`` (as joblib.Parallel
would send it). Synchronisation uses pipes and futures, never sleeps.
"""

from __future__ import annotations

import concurrent.futures as cf
import glob
import multiprocessing
import os
import select
import signal
import sys
import warnings

import pytest

from joblib import Memory
from joblib._store_backends import CacheWarning

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX only")
FORK = multiprocessing.get_context("fork")


def expected(n: int) -> list:
    return [n] * (2000 + 37 * n)  # results of a few KB: writes take a while


def payload(n, log_dir):
    """The cached function: logs each computation as a file, returns a list."""
    fd, _ = __import__("tempfile").mkstemp(dir=log_dir, prefix="n%d-" % n)
    os.close(fd)
    return expected(n)


def run_calls(mf, numbers, log_dir):
    """Call ``mf`` for each number; any warning about a bad entry fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        return [mf(n, log_dir) == expected(n) for n in numbers]


def _computations(log_dir, n):
    return len(glob.glob(os.path.join(log_dir, "n%d-*" % n)))


@pytest.fixture
def cached(tmp_path):
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    memory = Memory(str(tmp_path / "cache"), verbose=0)
    return memory, memory.cache(payload, ignore=["log_dir"]), str(log_dir)


def _workloads():
    same = [list(range(6))] * 4  # four workers race on the same arguments
    different = [[10 + 6 * w + i for i in range(6)] for w in range(4)]
    return [x for pair in zip(same, different) for x in pair]


def test_processes_share_one_location(cached):
    memory, f, log_dir = cached
    workloads = _workloads()
    with cf.ProcessPoolExecutor(8, mp_context=FORK) as pool:
        results = list(pool.map(run_calls, [f] * 8, workloads, [log_dir] * 8))
    assert all(all(r) for r in results)
    for n in sorted({n for w in workloads for n in w}):
        assert f.check_call_in_cache(n, log_dir)
        assert _computations(log_dir, n) >= 1
    before = len(os.listdir(log_dir))
    assert run_calls(f, range(6), log_dir) == [True] * 6
    assert len(os.listdir(log_dir)) == before  # all hits now


def test_threads_share_one_location(cached):
    memory, f, log_dir = cached
    workloads = _workloads()
    with cf.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run_calls, [f] * 8, workloads, [log_dir] * 8))
    assert all(all(r) for r in results)
    assert not glob.glob(
        os.path.join(memory.store_backend.location, "**", "*.tmp"), recursive=True
    )


def test_memorized_func_in_spawned_interpreter(cached):
    # A fresh interpreter cannot introspect the function: the code info
    # travels with the pickle, so the cache written here is reused there.
    memory, f, log_dir = cached
    f(1, log_dir)
    with cf.ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        assert pool.submit(run_calls, f, [1, 2], log_dir).result() == [True, True]
    assert _computations(log_dir, 1) == 1 and _computations(log_dir, 2) == 1
    assert f.check_call_in_cache(2, log_dir)


# --- a writer killed in the middle of a write ---------------------------------

_BLOCK = {}


class Blocker:
    """Pickles normally, except in the child where it signals then hangs."""

    def __reduce__(self):
        if _BLOCK:
            os.write(_BLOCK["signal"], b"x")
            os.read(_BLOCK["wait"], 1)  # never written: hangs until killed
        return (Blocker, ())


def blocking_result(n, with_array):
    items = [list(range(n))]
    if with_array:
        import numpy as np

        items.append(np.arange(50_000.0))
    return items + [Blocker()]


def _killed_writer(f, n, with_array, signal_w, wait_r):
    _BLOCK.update(signal=signal_w, wait=wait_r)
    f(n, with_array)


@pytest.mark.parametrize("with_array", [False, True])
def test_writer_killed_mid_write_leaves_no_entry(tmp_path, with_array):
    if with_array:
        pytest.importorskip("numpy")
    memory = Memory(str(tmp_path), verbose=0)
    f = memory.cache(blocking_result)
    signal_r, signal_w = os.pipe()
    wait_r, wait_w = os.pipe()
    child = FORK.Process(
        target=_killed_writer, args=(f, 5, with_array, signal_w, wait_r)
    )
    child.start()
    try:
        ready, _, _ = select.select([signal_r], [], [], 60)
        assert ready, "the child never reached the write"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.join(60)
        for fd in (signal_r, signal_w, wait_r, wait_w):
            os.close(fd)
    assert child.exitcode == -signal.SIGKILL
    assert not f.check_call_in_cache(5, with_array)
    outputs = glob.glob(
        os.path.join(memory.store_backend.location, "**", "output.pkl"), recursive=True
    )
    # Only in the writer's temporary folder, which no reader looks into.
    assert all(os.path.dirname(p).endswith(".tmp") for p in outputs)
    leftovers = glob.glob(
        os.path.join(memory.store_backend.location, "**", "*.tmp"), recursive=True
    )
    if with_array:
        # The array was being streamed to a temporary file.
        assert leftovers
        # Listed with the entries, so that reduce_size can evict it.
        listed = [item.path for item in memory.store_backend.get_items()]
        assert set(leftovers) <= set(listed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        out = f(5, with_array)
    assert out[0] == list(range(5)) and isinstance(out[-1], Blocker)
    assert f.check_call_in_cache(5, with_array)


# --- eviction while others read and write -------------------------------------


def churn(f, worker, log_dir):
    ok = True
    for i in range(40):
        n = (worker * 7 + i) % 9
        ok &= f(n, log_dir) == expected(n)
    return ok


def test_reduce_size_while_processes_use_the_cache(cached):
    memory, f, log_dir = cached
    with cf.ProcessPoolExecutor(3, mp_context=FORK) as pool:
        futures = [pool.submit(churn, f, w, log_dir) for w in range(3)]
        while not all(fut.done() for fut in futures):
            memory.reduce_size(items_limit=2)
            memory.reduce_size(bytes_limit="10K")
        assert all(fut.result() for fut in futures)
    memory.reduce_size(items_limit=2)
    assert len(memory.store_backend.get_items()) <= 2
    assert run_calls(f, range(9), log_dir) == [True] * 9


def test_memory_clear_while_processes_use_the_cache(cached):
    memory, f, log_dir = cached
    with cf.ProcessPoolExecutor(2, mp_context=FORK) as pool:
        futures = [pool.submit(churn, f, w, log_dir) for w in range(2)]
        while not all(fut.done() for fut in futures):
            memory.clear(warn=False)
        assert all(fut.result() for fut in futures)
    assert run_calls(f, range(9), log_dir) == [True] * 9


def test_entry_folder_creation_survives_a_concurrent_clear(tmp_path, monkeypatch):
    # Memory.clear in another process can remove a folder between makedirs'
    # own mkdir (EEXIST) and its "is it a directory" check: makedirs then
    # raises FileExistsError although nothing is in the way. Replay that
    # interleaving once: the creation retries instead of failing the call.
    from joblib._store import layout

    real_makedirs = os.makedirs
    raced = []

    def makedirs_losing_one_race(path, exist_ok=False):
        if not raced:
            raced.append(path)
            raise FileExistsError(17, "File exists", path)
        return real_makedirs(path, exist_ok=exist_ok)

    monkeypatch.setattr(layout.os, "makedirs", makedirs_losing_one_race)
    target = str(tmp_path / "joblib" / "f" / "entry")
    layout.create_directory(target)
    assert raced == [target] and os.path.isdir(target)

"""compute_once: one computation among processes and threads, and locks that
die with their holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from joblib import Memory

# The cached function lives in a module of its own so that every process
# gives it the same identifier. It appends one line per computation to
# COUNT, and blocks until RELEASE exists when BLOCK is set in the process.
SLOW_MODULE = textwrap.dedent('''
    import os, time

    def slow(x):
        with open(os.environ["COUNT"], "a") as f:
            f.write("%d %.6f\\n" % (os.getpid(), time.time()))
        if os.environ.get("BLOCK"):
            deadline = time.time() + 120
            while not os.path.exists(os.environ["RELEASE"]):
                if time.time() > deadline:
                    raise RuntimeError("never released")
                time.sleep(0.005)
        return x * 2
''')

CALLER = textwrap.dedent('''
    import os, sys
    sys.path.insert(0, sys.argv[1])
    from joblib import Memory
    import slowmod
    f = Memory(sys.argv[2], verbose=0, compute_once=True).cache(slowmod.slow)
    open(os.environ["STARTED"] + str(os.getpid()), "w").close()
    print(f(21))
''')


@pytest.fixture
def setup(tmp_path, monkeypatch):
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "slowmod.py").write_text(SLOW_MODULE)
    env = dict(
        os.environ,
        COUNT=str(tmp_path / "count"),
        RELEASE=str(tmp_path / "release"),
        STARTED=str(tmp_path / "started-"),
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    for key in ("COUNT", "RELEASE", "STARTED"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.syspath_prepend(str(tmp_path / "mod"))
    return tmp_path, env


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in %.0fs" % timeout)
        time.sleep(0.01)


def _spawn(tmp_path, env, **extra):
    return subprocess.Popen(
        [sys.executable, "-c", CALLER, str(tmp_path / "mod"), str(tmp_path / "cache")],
        env=dict(env, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _count_lines(tmp_path):
    try:
        return (tmp_path / "count").read_text().splitlines()
    except FileNotFoundError:
        return []


@pytest.mark.timeout(180)
def test_one_computation_for_8_processes_and_8_threads(setup):
    tmp_path, env = setup
    import slowmod

    procs = [_spawn(tmp_path, env, BLOCK="1") for _ in range(8)]
    os.environ["BLOCK"] = "1"
    try:
        f = Memory(str(tmp_path / "cache"), verbose=0, compute_once=True)
        f = f.cache(slowmod.slow)
        results = []
        threads = [
            threading.Thread(target=lambda: results.append(f(21))) for _ in range(8)
        ]
        for t in threads:
            t.start()
        # Everyone is started and one computation is under way: release it.
        _wait_for(lambda: len(list(tmp_path.glob("started-*"))) == 8)
        _wait_for(lambda: len(_count_lines(tmp_path)) >= 1)
        (tmp_path / "release").touch()
        for t in threads:
            t.join(120)
    finally:
        del os.environ["BLOCK"]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    assert [out.strip() for out, _ in outputs] == ["42"] * 8
    assert results == [42] * 8
    assert len(_count_lines(tmp_path)) == 1


@pytest.mark.timeout(180)
def test_killed_computer_does_not_block_the_waiters(setup):
    tmp_path, env = setup
    computer = _spawn(tmp_path, env, BLOCK="1")
    _wait_for(lambda: len(_count_lines(tmp_path)) == 1)
    waiter = _spawn(tmp_path, env)  # does not block when it computes
    _wait_for(lambda: len(list(tmp_path.glob("started-*"))) == 2)
    computer.send_signal(signal.SIGKILL)
    killed_at = time.time()
    computer.communicate(timeout=60)
    out, err = waiter.communicate(timeout=120)
    assert waiter.returncode == 0, err
    assert out.strip() == "42"
    lines = _count_lines(tmp_path)
    assert len(lines) == 2
    pid, when = lines[1].split()
    assert int(pid) == waiter.pid and float(when) >= killed_at - 1.0
    # The lock file left by the killed process does not block a new caller.
    late = _spawn(tmp_path, env, BLOCK="1")
    out, err = late.communicate(timeout=60)
    assert late.returncode == 0 and out.strip() == "42", err
    assert len(_count_lines(tmp_path)) == 2  # a hit


def test_timeout_makes_the_waiter_compute(tmp_path):
    from joblib._store.file_lock import FileLock

    calls = []

    def f(x):
        calls.append(x)
        return x

    memory = Memory(tmp_path, verbose=0, compute_once=True, compute_once_timeout=0.05)
    cached = memory.cache(f)
    cached(0)  # creates the function folder and code
    lock_path = memory.store_backend.get_item_info(
        [cached.func_id, cached._get_args_id(1)]
    )["location"] + ".lock"
    with FileLock(lock_path) as held:  # another holder that never finishes
        assert held
        assert cached(1) == 1
    assert calls == [0, 1]


def test_without_compute_once_every_caller_computes(tmp_path):
    """The default is joblib 1.6's: no lock files are made."""
    memory = Memory(tmp_path, verbose=0)
    f = memory.cache(abs)
    f(-1)
    folder = memory.store_backend.get_cached_func_info([f.func_id])["location"]
    assert not [n for n in os.listdir(folder) if n.endswith(".lock")]


def test_store_without_locks_computes(tmp_path):
    from test_memory_state import BytesStore

    store = BytesStore()
    store.configure(str(tmp_path / "c"))
    f = Memory(store, verbose=0, compute_once=True).cache(abs)
    assert f(-4) == 4 and f(-4) == 4

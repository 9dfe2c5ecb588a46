"""No orphans: when the parent of loky/multiprocessing workers is killed
(SIGKILL: no clean-up code runs in it), busy and idle workers exit within
2 s, and their memory-mapping temp folders (arrays and ``broadcast``
objects) and semaphores are removed within 5 s."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX parent watch")

PARENT = """
import os, sys, time
import numpy as np
from joblib import Parallel, broadcast, delayed

flag = sys.argv[2]

def work(a, shared, i):
    if i == 0:
        open(flag, "w").close()
        time.sleep(300)  # busy until killed
    return float(a.sum())

big = np.ones(200_000)
shared = broadcast({"table": list(range(1000)), "array": np.ones(100_000)})
with Parallel(n_jobs=2, backend=sys.argv[1], max_nbytes=100,
              temp_folder=sys.argv[3], batch_size=1) as parallel:
    parallel(delayed(work)(big, shared, i) for i in range(1, 5))  # start both workers
    parallel(delayed(work)(big, shared, i) for i in range(2))     # one busy, one idle
"""

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _alive(procs):
    out = []
    for p in procs:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _wait_until(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["loky", "multiprocessing"])
def test_sigkilled_parent_leaves_no_workers_nor_files(backend, tmp_path):
    flag, temp = tmp_path / "busy", tmp_path / "temp"
    temp.mkdir()
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen([sys.executable, "-c", PARENT, backend, str(flag), str(temp)],
                            env=env, stderr=subprocess.DEVNULL)
    try:
        assert _wait_until(flag.exists, 60), "the busy task never started"
        parent = psutil.Process(proc.pid)
        children = parent.children(recursive=True)
        workers = [p for p in children if "resource_tracker" not in " ".join(p.cmdline())]
        assert len(workers) >= 2
        assert len(os.listdir(temp)) == 2  # the call's folder, the broadcast one
        sems = f"/dev/shm/sem.loky-{proc.pid}-*"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed_at = time.monotonic()
    try:
        assert _wait_until(lambda: not _alive(workers), 2), _alive(workers)
        assert _wait_until(lambda: not _alive(children) and not os.listdir(temp)
                           and not glob.glob(sems), 5 - (time.monotonic() - killed_at))
    finally:
        for p in _alive(children):
            p.kill()

"""Bounds of ``par_tiny_mp`` and ``par_first_call``: starting worker processes.

``backend="multiprocessing"`` starts a fresh ``multiprocessing.Pool`` for
each call and stops it at the end (joblib 1.6's contract: no worker outlives
the call), while the limit maps on a warm executor.  The bounds keep that
part of the contract and nothing else: a bare forked ``Pool`` per call fed
the user's generator in the limit's best chunks, its start and stop alone,
and the generator alone.

The first ``Parallel`` call of a program imports joblib and loky in the
parent, and its workers are fresh interpreters that import loky before they
can run a task (the limit's workers import only ``concurrent.futures``).
In fresh processes, the bounds time loky's own first call, and these
imports alone, overlapped as well as they can be: the parent imports loky
while two interpreters (one per worker, the design of loky and of this
package) or a single one (a design forking the workers from it) import what
a loky worker needs.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import math
import multiprocessing
import os
import subprocess
import sys

from joblib import Parallel

from .core import Options, Row, best_of, rows_of
from .dispatch import N_JOBS, TINY_TASKS, _checked, _run_calls, _tiny_tasks

__all__ = ["BOUNDS"]

FIRST_CALL_TASKS = 16
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _fork_context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _pool_per_call(n: int) -> list:
    """A fresh pool fed the user's generator in one chunk per worker."""
    tasks = _tiny_tasks(n)
    chunks = [list(itertools.islice(tasks, -(-n // N_JOBS))) for _ in range(N_JOBS)]
    pool = _fork_context().Pool(N_JOBS)
    try:
        out = pool.map(_run_calls, chunks, chunksize=1)
    finally:
        pool.close()
        pool.join()  # no worker outlives the call
    return [value for chunk in out for value in chunk]


def _bare_forks(n: int) -> None:
    """The user's generator, and as many forked children as workers, reaped:
    what any design forking its workers at each call pays at least."""
    list(_tiny_tasks(n))
    pids = []
    for _ in range(N_JOBS):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)


def _pool_start_stop() -> None:
    pool = _fork_context().Pool(N_JOBS)
    pool.close()
    pool.join()


def tiny_mp(options: Options) -> list[Row]:
    """``par_tiny_mp``: 20000 ``math.sqrt`` tasks, a new pool per call."""
    n, repeat = options.size(TINY_TASKS, 200), options.repeat

    def ours() -> None:
        _checked(Parallel(n_jobs=N_JOBS, backend="multiprocessing")(_tiny_tasks(n)), n)

    with cf.ProcessPoolExecutor(N_JOBS) as pool:
        list(pool.map(math.sqrt, range(100), chunksize=10))
        chunk = min((100, 1000, 5000, n // N_JOBS), key=lambda c: best_of(
            lambda: list(pool.map(math.sqrt, range(n), chunksize=c)), 3))
        timings = {
            "limit": best_of(lambda: list(pool.map(math.sqrt, range(n), chunksize=chunk)), repeat),
            "ours": best_of(ours, repeat),
            "bare": best_of(lambda: _checked(_pool_per_call(n), n), repeat),
            "start": best_of(_pool_start_stop, repeat),
            "forks": best_of(lambda: _bare_forks(n), repeat) if hasattr(os, "fork") else None,
            "generator": best_of(lambda: list(_tiny_tasks(n)), repeat),
        }
    what = {
        "limit": f"warm ProcessPoolExecutor({N_JOBS}).map, chunksize {chunk}",
        "ours": f"Parallel(n_jobs={N_JOBS}, backend='multiprocessing') per call",
        "bare": f"a forked Pool({N_JOBS}) per call, the generator in {N_JOBS} chunks, close+join",
        "start": f"a forked Pool({N_JOBS}) started and stopped (close+join), no task",
        "forks": f"the generator, then {N_JOBS} bare os.fork() children exiting at once, reaped",
        "generator": "the user's generator of delayed tuples alone",
    }
    return rows_of("par_tiny_mp", timings, what, target=45.0, amount=n, unit="tasks/s")


# Each snippet runs in a fresh interpreter and prints its seconds.
_LIMIT = """
import concurrent.futures as cf, math, multiprocessing, time
if __name__ == "__main__":
    t = time.perf_counter()
    with cf.ProcessPoolExecutor(%d, mp_context=multiprocessing.get_context("spawn")) as ex:
        out = list(ex.map(math.sqrt, range(%d)))
        print(time.perf_counter() - t)
"""
_OURS = """
import math, time
import joblib
t = time.perf_counter()
out = joblib.Parallel(n_jobs=%d)(joblib.delayed(math.sqrt)(i) for i in range(%d))
print(time.perf_counter() - t)
"""
_LOKY = """
import math, time
t = time.perf_counter()
import loky
out = list(loky.get_reusable_executor(%d).map(math.sqrt, range(%d)))
print(time.perf_counter() - t)
"""
# Worker interpreters import what a loky worker needs before its first task
# while the parent imports what it needs to start them.
_IMPORTS = """
import os, sys, time
t = time.perf_counter()
import joblib
joblib.Parallel
code = "import loky.backend.popen_loky_posix, loky.process_executor, joblib._parallel.tasks"
pids = [os.posix_spawn(sys.executable, [sys.executable, "-c", code], os.environ)
        for _ in range(%d)]
import loky.reusable_executor, joblib._parallel.memmapping.executor
for pid in pids:
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
print(time.perf_counter() - t)
"""


def _fresh(code: str) -> float:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p))
    # As an installed package is: byte-compiled once, not at every start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                          timeout=120, env=env, cwd=_ROOT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-500:])
    return float(done.stdout.split()[-1])


def first_call(options: Options) -> list[Row]:
    """``par_first_call``: the first ``Parallel(n_jobs=2)`` of a process."""
    snippets = {
        "limit": _LIMIT % (N_JOBS, FIRST_CALL_TASKS),
        "ours": _OURS % (N_JOBS, FIRST_CALL_TASKS),
        "loky": _LOKY % (N_JOBS, FIRST_CALL_TASKS),
        "imports2": _IMPORTS % N_JOBS,
        "imports1": _IMPORTS % 1,
    }
    if not hasattr(os, "posix_spawn"):
        del snippets["imports2"], snippets["imports1"]
    timings = {key: float("inf") for key in snippets}
    for code in snippets.values():
        _fresh(code)  # writes the byte code the timed runs then use
    for _ in range(options.repeat):  # interleaved: the machine's load drifts
        for key, code in snippets.items():
            timings[key] = min(timings[key], _fresh(code))
    what = {
        "limit": f"first map of a fresh spawn ProcessPoolExecutor({N_JOBS})",
        "ours": f"first Parallel(n_jobs={N_JOBS}) call, {FIRST_CALL_TASKS} tasks",
        "loky": f"loky alone: import loky, first map of get_reusable_executor({N_JOBS})",
        "imports2": f"imports only: the parent's, while {N_JOBS} interpreters import a loky worker's",
        "imports1": "imports only: the parent's, while 1 interpreter imports a loky worker's",
    }
    return rows_of("par_first_call", timings, what, target=60.0)


BOUNDS = [("par_tiny_mp", tiny_mp), ("par_first_call", first_call)]

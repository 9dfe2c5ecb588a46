"""Benchmark of ``joblib.broadcast``: N tasks that all receive the same
large dict of Python objects (issue #16: 2,000 tasks, 50 MB).

Runs each side in a fresh interpreter and prints one line per side::

    python benchmarks/broadcast_bench.py --ref /work/refvenv/bin/python

Sides: joblib 1.6 (``--ref`` interpreter: the dict is an argument of every
task), this package without the feature (same code) and with
``joblib.broadcast`` (the handle is the argument).  Reports wall time and
the peak resident memory of the worker processes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, os, pickle, sys, threading, time
import psutil
from joblib import Parallel, delayed
n_tasks, megabytes, use_broadcast = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"

def make_dict(megabytes):
    n = int(megabytes * 1e6 / 47)  # about 47 pickled bytes per item
    return {f"key-{i:09d}": ("value-%d" % i, i, i / 3.0) for i in range(n)}

def task(d, i):
    return len(d) + i

d = make_dict(megabytes)
size = len(pickle.dumps(d, protocol=pickle.HIGHEST_PROTOCOL)) / 1e6
arg = d
if use_broadcast:
    from joblib import broadcast
    arg = broadcast(d)
me = psutil.Process()
peak = {}
stop = threading.Event()
def sample():
    while not stop.wait(0.05):
        for c in me.children(recursive=True):
            try:
                peak[c.pid] = max(peak.get(c.pid, 0), c.memory_info().rss)
            except psutil.Error:
                pass
Parallel(n_jobs=2)(delayed(abs)(i) for i in range(4))  # start the workers
threading.Thread(target=sample, daemon=True).start()
t0 = time.perf_counter()
out = Parallel(n_jobs=2)(delayed(task)(arg, i) for i in range(n_tasks))
elapsed = time.perf_counter() - t0
stop.set()
assert out == [len(d) + i for i in range(n_tasks)]
print(json.dumps({"seconds": elapsed, "pickled_mb": size,
                  "worker_peak_rss_mb": sorted(v / 1e6 for v in peak.values())[-2:]}))
"""

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_side(python: str, n_tasks: int, megabytes: float, use_broadcast: bool,
             project: bool) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if project:
        env["PYTHONPATH"] = ROOT
    out = subprocess.run(
        [python, "-c", CHILD, str(n_tasks), str(megabytes), "1" if use_broadcast else "0"],
        env=env, capture_output=True, text=True, check=True, cwd="/")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", required=True, help="python of joblib 1.6")
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--sides", default="ref,plain,broadcast",
                        help="comma-separated subset of ref,plain,broadcast")
    args = parser.parse_args(argv)
    sides = [("joblib 1.6.0", args.ref, False, False, "ref"),
             ("project, plain argument", sys.executable, False, True, "plain"),
             ("project, joblib.broadcast", sys.executable, True, True, "broadcast")]
    wanted = set(args.sides.split(","))
    results = {}
    for name, python, use_broadcast, project, key in sides:
        if key not in wanted:
            continue
        results[name] = res = run_side(python, args.tasks, args.megabytes,
                                       use_broadcast, project)
        print(f"{name:28s} {res['seconds']:8.2f} s   dict {res['pickled_mb']:.1f} MB "
              f"pickled   worker peak RSS {res['worker_peak_rss_mb']} MB", flush=True)
    ref = results.get("joblib 1.6.0", {}).get("seconds")
    for name, res in results.items() if ref else ():
        print(f"speed-up over joblib 1.6.0, {name}: {ref / res['seconds']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

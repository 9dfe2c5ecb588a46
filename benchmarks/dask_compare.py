"""Dask backend: this package against joblib 1.6.0 on the same cluster setup.

Each side runs in a fresh interpreter (from an empty working directory, so
that a checkout's ``joblib/`` cannot shadow the reference) and starts its
own ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``.
Workloads:

- ``tiny``: 2,000 tasks of a trivial function (auto batching);
- ``shared``: 20 tasks reading slices of one 200 MB array (scattered to the
  cluster once per call by both implementations).

The parent alternates the sides ``--rounds`` times and keeps each side's
best time per workload (the machine is shared: the minimum is the least
noisy estimate).  Usage, from the repository root::

    python benchmarks/dask_compare.py [--rounds 2] [--reference /work/refvenv]

Needs ``dask[distributed]`` and numpy in both interpreters.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

__all__ = ["main"]

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = ("tiny", "shared")


# ------------------------------------------------------------------ child
def _square(x):
    return x * x


def _slice_sum(data, i, n):
    return float(data[i::n].sum())


def _time_calls(func, repeats):
    func()  # warm-up: imports and connections on the workers
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times


def _child(repeats: int) -> None:
    import warnings

    import numpy as np
    from distributed import Client, LocalCluster

    import joblib
    from joblib import Parallel, delayed, parallel_config

    data = np.random.default_rng(0).random(25_000_000)  # 200 MB of float64
    expected = sum(float(data[i::20].sum()) for i in range(20))

    def tiny():
        out = Parallel()(delayed(_square)(i) for i in range(2000))
        assert out[-1] == 1999 * 1999

    def shared():
        out = Parallel()(delayed(_slice_sum)(data, i, 20) for i in range(20))
        assert abs(sum(out) - expected) < 1e-6 * abs(expected)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, memory_limit="6GiB")
    with cluster, Client(cluster), parallel_config(backend="dask"):
        results = {"joblib_file": joblib.__file__,
                   "joblib_version": joblib.__version__,
                   "tiny": _time_calls(tiny, repeats),
                   "shared": _time_calls(shared, max(1, repeats // 2))}
    print("RESULT " + json.dumps(results), flush=True)


# ------------------------------------------------------------------ parent
def _run_side(python: str, pythonpath: str | None, repeats: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    with tempfile.TemporaryDirectory() as empty:
        proc = subprocess.run(
            [python, os.path.abspath(__file__), "--child", "--repeats", str(repeats)],
            cwd=empty, env=env, capture_output=True, text=True, timeout=900)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"{python} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def main(argv=None) -> None:
    """Run both sides and print the best times and their ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--reference", default="/work/refvenv",
                        help="virtualenv with joblib 1.6.0 and dask installed")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter for this package's side")
    args = parser.parse_args(argv)
    if args.child:
        _child(args.repeats)
        return
    sides = {"project": (args.python, REPO_ROOT),
             "joblib 1.6.0": (os.path.join(args.reference, "bin", "python"), None)}
    best: dict = {name: {w: float("inf") for w in WORKLOADS} for name in sides}
    for _ in range(args.rounds):
        for name, (python, path) in sides.items():
            res = _run_side(python, path, args.repeats)
            print(f"# {name}: joblib {res['joblib_version']} from {res['joblib_file']}")
            for w in WORKLOADS:
                best[name][w] = min(best[name][w], min(res[w]))
    project, reference = best["project"], best["joblib 1.6.0"]
    print(f"{'workload':<10} {'project (s)':>12} {'1.6.0 (s)':>12} {'ratio':>8}")
    for w in WORKLOADS:
        print(f"{w:<10} {project[w]:12.3f} {reference[w]:12.3f} "
              f"{project[w] / reference[w]:8.2f}")
    print("ratio = project / joblib 1.6.0 (below 1: this package is faster)")


if __name__ == "__main__":
    main()

"""Child entry point: ``python -m benchmarks._child GROUP [options]``.

Runs one workload group in this (fresh) interpreter against whichever
``joblib`` it imports, and writes JSON lines on stdout: first a ``meta``
line describing the interpreter and the joblib in use, then one line per
metric.  Progress and tracebacks go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys

from benchmarks.catalog import GROUPS
from benchmarks.harness import Bench

__all__ = ["main"]


def _meta() -> dict:
    info = {"python": platform.python_version(), "executable": sys.executable}
    try:
        import joblib
    except ImportError as exc:  # reported, and every metric will fail too
        info["joblib_error"] = f"{type(exc).__name__}: {exc}"
    else:
        info["joblib_version"] = getattr(joblib, "__version__", "?")
        info["joblib_file"] = getattr(joblib, "__file__", "?")
    for name in ("numpy", "lz4", "cloudpickle", "loky"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            info[name] = None
        else:
            info[name] = getattr(module, "__version__", "?")
    return info


def _private_stdout():
    # Keep the JSON channel to ourselves: whatever the code under test or
    # its worker processes (which inherit fd 1) print goes to stderr, so it
    # can never be glued to, or interleaved with, a JSON line.
    channel = os.fdopen(os.dup(1), "w")
    sys.stdout.flush()
    os.dup2(2, 1)
    return channel


def main(argv: list[str] | None = None) -> int:
    """Run one group; the exit status is 0 even when metrics failed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks._child")
    parser.add_argument("group", choices=sorted(GROUPS))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", default=None)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)

    out = _private_stdout()
    out.write(json.dumps({"meta": _meta()}) + "\n")
    out.flush()
    module_name, func_name = GROUPS[args.group].split(":")
    run_group = getattr(importlib.import_module(module_name), func_name)
    bench = Bench(args.scale, args.only, args.timeout, out=out)
    try:
        run_group(bench)
    finally:
        bench.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Child entry point: ``python -m benchmarks.scaling._child CURVE --mode M``.

Measures one curve in this fresh interpreter against whichever ``joblib``
it imports.  stdout carries JSON lines only: a ``meta`` line (reused from
the table's child), then one line per point; everything else goes to
stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from benchmarks._child import _meta, _private_stdout
from benchmarks.scaling.catalog import CURVES, MODES, curve
from benchmarks.scaling.probe import Probe

__all__ = ["main"]


def main(argv: list | None = None) -> int:
    """Measure one curve; the exit status is 0 even when points failed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling._child")
    parser.add_argument("curve", choices=[c.name for c in CURVES])
    parser.add_argument("--mode", choices=MODES, default="full")
    args = parser.parse_args(argv)

    out = _private_stdout()
    out.write(json.dumps({"meta": _meta()}) + "\n")
    out.flush()
    entry = curve(args.curve)
    module_name, func_name = entry.target.split(":")
    run = getattr(importlib.import_module(module_name), func_name)
    probe = Probe(entry.name, entry.sizes[args.mode], out)
    try:
        run(probe)
    finally:
        probe.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m benchmarks.bounds``: limits, ours and the design's bounds."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict

from .core import Options, format_table

__all__: list[str] = []

AREAS = ("dispatch", "pools", "bigarray")


def _bounds() -> list:
    import importlib

    found = []
    for area in AREAS:
        found += importlib.import_module(f"benchmarks.bounds.{area}").BOUNDS
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bounds",
        description="Measure each out-of-reach workload's limit, our time and "
                    "the bounds the design allows, in one process.")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--tiny", action="store_true",
                        help="a smoke test at tiny sizes (the numbers mean nothing)")
    parser.add_argument("--only", default="", help="regex on workload names")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    options = Options(quick=args.quick, tiny=args.tiny)
    rows = []
    for name, measure in _bounds():
        if re.search(args.only, name):
            print(f"bounds: {name} ...", file=sys.stderr, flush=True)
            rows += measure(options)
    if not rows:
        parser.error(f"--only {args.only!r} matches no workload")
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as out:
            json.dump([asdict(row) for row in rows], out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

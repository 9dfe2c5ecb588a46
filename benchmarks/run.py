"""The one command: ``python -m benchmarks [options]``.

Runs every selected workload group in a fresh child interpreter against the
project's joblib and, with ``--compare``/``--compare-version``, against a
reference joblib too, interleaved: in each round every group runs on both
sides back to back, the reference first in even rounds and the project
first in odd ones, so slow drifts of the machine's load hit both sides.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time

from benchmarks.catalog import GROUPS, METRICS, select_groups
from benchmarks.compare import combine, format_table, summarize
from benchmarks.sides import (Side, Workspace, add_side_options, make_sides,
                              run_group)

__all__ = ["main", "build_parser", "run_suite"]


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``python -m benchmarks``."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark this joblib, optionally against a reference "
                    "joblib in another virtualenv.")
    p.add_argument("--only", metavar="REGEX",
                   help="run the groups/metrics whose name matches")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply every data size and task count (default 1;"
                        " 0.05 for a quick check of the harness)")
    p.add_argument("--rounds", type=int, default=3,
                   help="interleaved rounds; each side keeps its best round")
    p.add_argument("--quick", action="store_true",
                   help="a quick look (under 2 minutes on 2 cores): the same"
                        " as --scale 0.1 --rounds 1")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds one metric may take (default 120)")
    p.add_argument("--json", metavar="OUT", help="save the results as JSON")
    p.add_argument("--chart", metavar="PNG",
                   help="draw the results (needs matplotlib)")
    add_side_options(p)
    p.add_argument("--tolerance", type=float, default=0.05,
                   help="ratio >= 1 - tolerance counts as on par (0.05)")
    p.add_argument("--list", action="store_true",
                   help="list groups and metrics, then exit")
    return p


def _list() -> str:
    lines = []
    for group in GROUPS:
        lines.append(group)
        for m in METRICS:
            if m.group == group:
                lines.append(f"  {m.name:<24} {m.unit:<8} {m.what}")
    return "\n".join(lines)


def _loadavg() -> list[float] | None:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def run_suite(args: argparse.Namespace, sides: list[Side],
              workspace: Workspace) -> dict:
    """Run every round and group; return the result document."""
    groups = select_groups(args.only)
    raw: dict[str, dict[str, list[dict]]] = {s.key: {} for s in sides}
    load_start, started = _loadavg(), time.time()
    for round_index in range(args.rounds):
        order = sides if round_index % 2 == 0 else sides[::-1]
        for group in groups:
            for side in order:
                print(f"[round {round_index + 1}/{args.rounds}] {group} on "
                      f"{side.key}", file=sys.stderr, flush=True)
                result = run_group(side, workspace, group, args.scale,
                                   args.only, args.timeout)
                side.meta = side.meta or result.meta
                for name, report in result.metrics.items():
                    raw[side.key].setdefault(name, []).append(report)
    _check_version(args, sides)
    entries = combine(raw, [s.key for s in sides])
    return {
        "suite": "joblib-benchmarks", "format": 1,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "settings": {"scale": args.scale, "rounds": args.rounds,
                     "only": args.only, "timeout": args.timeout},
        "machine": {"platform": platform.platform(),
                    "cpu_count": os.cpu_count(), "loadavg_start": load_start,
                    "loadavg_end": _loadavg(),
                    "seconds": round(time.time() - started, 1)},
        "sides": {s.key: {**s.meta, "label": s.label, "interpreter": s.python}
                  for s in sides},
        "metrics": entries,
        "summary": summarize(entries, args.tolerance),
    }


def _check_version(args: argparse.Namespace, sides: list[Side]) -> None:
    for side in sides:
        found = side.meta.get("joblib_version")
        if (side.key == "reference" and args.compare_version
                and found != args.compare_version):
            print(f"warning: asked for joblib {args.compare_version}, the "
                  f"reference side runs {found}", file=sys.stderr)


def _draw(doc: dict, path: str) -> int:
    from benchmarks.chart import MissingMatplotlib, draw

    try:
        draw(doc, path)
    except MissingMatplotlib as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    print(f"chart written to {path}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status.

    0 when every metric of the project side worked, 1 when one reported an
    error or a hash that differs from the reference's, 2 for bad options,
    3 when the chart could not be drawn (matplotlib missing).
    """
    args = build_parser().parse_args(argv)
    if args.quick:
        args.scale, args.rounds = 0.1, 1
    if args.list:
        print(_list())
        return 0
    if args.make_ref_venv and not args.compare_version:
        print("error: --make-ref-venv needs --compare-version", file=sys.stderr)
        return 2
    if args.compare_repo and args.compare_version:
        print("error: --compare-repo and --compare-version exclude each "
              "other", file=sys.stderr)
        return 2
    if not select_groups(args.only):
        print(f"error: --only {args.only!r} matches no group or metric",
              file=sys.stderr)
        return 2
    if args.scale <= 0 or args.rounds < 1:
        print("error: --scale must be > 0 and --rounds >= 1", file=sys.stderr)
        return 2
    workspace = Workspace(args.repo)
    try:
        sides = make_sides(args, workspace)
        doc = run_suite(args, sides, workspace)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        workspace.close()
    print(format_table(doc))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(doc, handle, indent=1)
        print(f"results written to {args.json}", file=sys.stderr)
    status = _draw(doc, args.chart) if args.chart else 0
    failures = doc["summary"]["project_failures"]
    if failures:
        # Fail the command (for CI) once everything is printed and saved.
        print(f"error: {failures} metric(s) failed on the project side",
              file=sys.stderr)
        return 1
    return status

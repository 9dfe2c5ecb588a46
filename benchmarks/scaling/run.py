"""``python -m benchmarks.scaling [options]``: measure the curves.

Each selected curve runs in one fresh child interpreter per side, the sides
alternating which goes first from one curve to the next.  The points of
every curve go to ``OUT/<curve>.csv`` and, with matplotlib, to
``OUT/<curve>.png`` (log-log); the table of growth exponents is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from benchmarks.scaling.catalog import CURVES, select_curves
from benchmarks.scaling.report import format_table, write_csv
from benchmarks.sides import (Workspace, _check_joblib_location,
                              add_side_options, make_sides, run_child)

__all__ = ["main", "build_parser", "measure"]

# Seconds one curve may take on one side before its child is killed.
_TIMEOUTS = {"full": 1800.0, "quick": 600.0, "tiny": 180.0}


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``python -m benchmarks.scaling``."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.scaling",
        description="Measure how joblib's costs grow with the size of the "
                    "work: one CSV and one log-log PNG per curve.")
    p.add_argument("--only", metavar="REGEX", help="curves whose name matches")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="mode", action="store_const",
                      const="quick", help="fewer, smaller sizes (minutes)")
    size.add_argument("--tiny", dest="mode", action="store_const",
                      const="tiny", help="two tiny sizes (a smoke test)")
    p.set_defaults(mode="full")
    p.add_argument("--out", default="scaling-results",
                   help="folder for the CSV and PNG files")
    p.add_argument("--no-charts", action="store_true",
                   help="write the CSV files only")
    p.add_argument("--list", action="store_true",
                   help="list the curves and their series, then exit")
    add_side_options(p)
    return p


def _list() -> str:
    lines = []
    for entry in CURVES:
        lines.append(f"{entry.name}: {entry.what}")
        lines.append(f"  x: {entry.x_label}, sizes {entry.sizes['full']}")
        lines += [f"  {s.name:<26} {s.unit:<7} {s.what}" for s in entry.series]
    return "\n".join(lines)


def _parse(stdout: str, side: str) -> tuple:
    meta, points = {}, []
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        try:
            payload = json.loads(line)
        except ValueError:
            continue
        if "meta" in payload:
            meta = payload["meta"]
        elif "series" in payload:
            points.append({**payload, "side": side})
    return meta, points


def measure(args: argparse.Namespace, sides: list, workspace: Workspace) -> dict:
    """Run every selected curve on every side; return the result document."""
    curves = select_curves(args.only)
    points: list = []
    for index, entry in enumerate(curves):
        order = sides if index % 2 == 0 else sides[::-1]
        for side in order:
            print(f"{entry.name} on {side.key} ({args.mode})", file=sys.stderr,
                  flush=True)
            stdout, stderr, failure = run_child(
                side, workspace,
                ["benchmarks.scaling._child", entry.name, "--mode", args.mode],
                _TIMEOUTS[args.mode])
            meta, found = _parse(stdout, side.key)
            side.meta = side.meta or meta
            problem = failure or (_check_joblib_location(side, meta)
                                  if meta else "no output")
            if problem:
                tail = " | ".join(stderr.strip().splitlines()[-3:])
                found.append({"curve": entry.name, "series": "(child)",
                              "side": side.key, "x": 0, "y": None,
                              "error": f"{problem}: {tail[-300:]}"})
            points += found
    return {"suite": "joblib-scaling", "format": 1, "mode": args.mode,
            "curves": [c.name for c in curves],
            "sides": {s.key: {**s.meta, "label": s.label} for s in sides},
            "points": points}


def _merge_previous(doc: dict, path: str) -> dict:
    """Add the curves of an earlier run in the same folder (same mode and
    sides) that this run did not measure: ``--only`` re-measures a few."""
    try:
        with open(path) as handle:
            old = json.load(handle)
    except (OSError, ValueError):
        return doc
    if old.get("mode") != doc["mode"] or set(old.get("sides", ())) != set(doc["sides"]):
        return doc
    kept = [name for name in old["curves"] if name not in doc["curves"]]
    order = [c.name for c in CURVES]
    curves = sorted(doc["curves"] + kept, key=order.index)
    points = [p for p in old["points"] if p["curve"] in kept] + doc["points"]
    return {**doc, "curves": curves, "points": points}


def _write(doc: dict, out: str, charts: bool) -> int:
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "scaling.json")
    doc = _merge_previous(doc, path)
    with open(path, "w") as handle:
        json.dump(doc, handle, indent=1)
    status = 0
    for name in doc["curves"]:
        if not any(p["curve"] == name for p in doc["points"]):
            continue
        write_csv(doc, os.path.join(out, f"{name}.csv"), name)
        if charts and status == 0:
            from benchmarks.chart import MissingMatplotlib
            from benchmarks.scaling.draw import draw_curve

            try:
                draw_curve(doc, name, os.path.join(out, f"{name}.png"))
            except MissingMatplotlib as exc:
                print(f"error: {exc}", file=sys.stderr)
                status = 3
    print(f"results written to {out}", file=sys.stderr)
    return status


def main(argv: list | None = None) -> int:
    """Entry point: 0 when every point was measured, 1 when a point of the
    project side failed, 2 for bad options, 3 without matplotlib (the CSV
    files are written all the same)."""
    args = build_parser().parse_args(argv)
    if args.list:
        print(_list())
        return 0
    if not select_curves(args.only):
        print(f"error: --only {args.only!r} matches no curve", file=sys.stderr)
        return 2
    workspace = Workspace(args.repo)
    try:
        doc = measure(args, make_sides(args, workspace), workspace)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        workspace.close()
    print(format_table(doc))
    status = _write(doc, args.out, not args.no_charts)
    failed = [p for p in doc["points"]
              if p["side"] == "project" and p.get("error")]
    if failed:
        print(f"error: {len(failed)} point(s) failed on the project side",
              file=sys.stderr)
        return 1
    return status

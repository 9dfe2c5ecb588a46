"""Combine rounds into one entry per metric, compute ratios, print tables.

Also a small command: ``python -m benchmarks.compare results.json`` prints
the table of a saved run again.

Ratios are oriented so that **> 1 means the project is better**: project /
reference for higher-is-better units, reference / project for times and
sizes.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys

from benchmarks.catalog import METRICS

__all__ = ["combine_side", "combine", "ratio", "summarize", "format_table",
           "main"]


def combine_side(rounds: list[dict], better: str) -> dict:
    """Merge one side's per-round reports of a metric.

    The value is the best round's value (highest throughput, lowest time);
    ``median`` is over every repetition of every round; errors of any round
    are kept, so a flaky failure is visible even when another round worked.
    """
    good = [r for r in rounds if "value" in r]
    errors = [r["error"] for r in rounds if "error" in r]
    out: dict = {"rounds": [r.get("value") for r in rounds],
                 "errors": errors}
    if not good:
        out["value"] = None
        return out
    pick = max if better == "higher" else min
    out["value"] = pick(r["value"] for r in good)
    runs = [x for r in good for x in r.get("runs", [r["value"]])]
    out["runs"] = runs
    out["median"] = statistics.median(runs)
    digests = {r["digest"] for r in good if "digest" in r}
    if digests:
        out["digest"] = sorted(digests)[0] if len(digests) == 1 else None
    return out


def ratio(ours: float | None, ref: float | None, better: str,
          floor: float = 0.0) -> float | None:
    """``ours`` against ``ref`` oriented so that > 1 means ours is better.

    Values below ``floor`` count as ``floor`` (see ``Metric.floor``).
    """
    if ours is None or ref is None:
        return None
    ours, ref = max(ours, floor), max(ref, floor)
    if better == "higher":
        return ours / ref if ref > 0 else None
    if ours <= 0:
        return None
    return ref / ours


def combine(raw: dict[str, dict[str, list[dict]]], sides: list[str]) -> list[dict]:
    """One entry per catalog metric that any side reported.

    ``raw[side][metric]`` is the list of that side's per-round reports.
    """
    entries = []
    for spec in METRICS:
        if not any(spec.name in raw.get(side, {}) for side in sides):
            continue
        entry = {"name": spec.name, "group": spec.group, "unit": spec.unit,
                 "better": spec.better, "what": spec.what}
        for side in sides:
            entry[side] = combine_side(raw.get(side, {}).get(spec.name, []),
                                       spec.better)
        if "reference" in sides:
            ours, ref = entry["project"], entry["reference"]
            entry["ratio"] = ratio(ours["value"], ref["value"], spec.better,
                                   spec.floor)
            entry["median_ratio"] = ratio(ours.get("median"),
                                          ref.get("median"), spec.better,
                                          spec.floor)
            if "digest" in ours and "digest" in ref:
                entry["digest_match"] = (ours["digest"] is not None
                                         and ours["digest"] == ref["digest"])
                if not entry["digest_match"]:
                    # A different hash is a wrong result, however fast.
                    entry["ratio"] = entry["median_ratio"] = None
        entries.append(entry)
    return entries


def summarize(entries: list[dict], tolerance: float) -> dict:
    """Counts and geometric mean of the ratios of a comparison, and the
    number of metrics with an error or a hash mismatch on the project side.
    """
    ratios = [e["ratio"] for e in entries if e.get("ratio")]
    at_or_above = sum(r >= 1 - tolerance for r in ratios)
    geomean = (math.exp(sum(math.log(r) for r in ratios) / len(ratios))
               if ratios else None)
    failed = sum(bool(e["project"]["errors"]) or e.get("digest_match") is False
                 for e in entries if "project" in e)
    return {"compared": len(ratios), "metrics": len(entries),
            "at_or_above": at_or_above, "tolerance": tolerance,
            "geomean_ratio": geomean, "project_failures": failed}


def _fmt(value: float | None) -> str:
    if value is None:
        return "error"
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _render(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_table(doc: dict) -> str:
    """The human-readable report of a result document (see ``run``)."""
    sides = list(doc["sides"])
    labels = [doc["sides"][s].get("label", s) for s in sides]
    compared = "reference" in sides
    header = ["metric", "unit"] + labels
    if compared:
        header += ["ratio", "median ratio"]
    rows = [header]
    for e in doc["metrics"]:
        unit = e["unit"] + (" (lower=better)" if e["better"] == "lower"
                            else "")
        row = [e["name"], unit] + [_fmt(e[s]["value"]) for s in sides]
        if compared:
            row += [_fmt(e.get("ratio")) if e.get("ratio") else "-",
                    _fmt(e.get("median_ratio")) if e.get("median_ratio")
                    else "-"]
        rows.append(row)
    parts = [_render(rows)]
    parts += _notes(doc, sides, labels)
    return "\n".join(parts)


def _notes(doc: dict, sides: list[str], labels: list[str]) -> list[str]:
    notes = []
    for side, label in zip(sides, labels):
        for e in doc["metrics"]:
            for error in dict.fromkeys(e[side]["errors"]):
                notes.append(f"error [{label}] {e['name']}: {error}")
    for e in doc["metrics"]:
        if e.get("digest_match") is False:
            notes.append(f"MISMATCH {e['name']}: joblib.hash digests differ "
                         "between the two sides")
    notes += _spread_lines(doc, sides, labels)
    machine = doc.get("machine", {})
    if machine.get("loadavg_start") and machine.get("loadavg_end"):
        notes.append(
            f"load average (1 min): {machine['loadavg_start'][0]:.1f} at the "
            f"start, {machine['loadavg_end'][0]:.1f} at the end, on "
            f"{machine.get('cpu_count')} CPUs (a load above the CPU count "
            f"makes every timing noisy)")
    summary = doc.get("summary")
    if summary and summary.get("compared"):
        notes.append(
            f"ratio > 1: project better (project/reference for throughput, "
            f"reference/project for s and MB); geometric mean "
            f"{summary['geomean_ratio']:.3f}")
        notes.append(
            f"bench: {summary['at_or_above']} of {summary['metrics']} "
            f"metrics at or above reference (ratio >= "
            f"{1 - summary['tolerance']:.2f})")
    return [""] + notes if notes else []


def _spread_lines(doc: dict, sides: list[str], labels: list[str]) -> list[str]:
    # How much each metric's best value moved between rounds on one side:
    # a ratio closer to 1 than that spread is within the noise.
    lines = []
    for side, label in zip(sides, labels):
        spreads = []
        for e in doc["metrics"]:
            values = [v for v in e[side]["rounds"] if v]
            if len(values) > 1:
                spreads.append((max(values) / min(values) - 1, e["name"]))
        if spreads:
            spreads.sort()
            median = spreads[len(spreads) // 2][0]
            worst, name = spreads[-1]
            lines.append(f"round-to-round spread [{label}]: median "
                         f"{median:.1%}, worst {worst:.1%} ({name})")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the table of a saved result file."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare",
                                     description=main.__doc__)
    parser.add_argument("results", help="JSON written by --json")
    args = parser.parse_args(argv)
    with open(args.results) as handle:
        print(format_table(json.load(handle)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

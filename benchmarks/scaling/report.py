"""Points to CSV, growth exponents and the printed table.

A curve's growth is read from its log-log slope: ``y ~ x**k`` has slope
``k``.  The slope of the last step (the two largest sizes) is the growth
that matters at scale, once fixed costs no longer hide it; the slope over
all points is shown next to it.
"""

from __future__ import annotations

import csv
import math

from benchmarks.compare import _render
from benchmarks.scaling.catalog import curve as catalog_curve

__all__ = ["points_of", "slope", "growth", "write_csv", "format_table",
           "CSV_FIELDS"]

CSV_FIELDS = ("curve", "series", "unit", "side", "label", "x", "y", "error")


def points_of(doc: dict, name: str, series: str, side: str) -> list:
    """``[(x, y), ...]`` of measured (finite, positive) points, by x."""
    pts = [(p["x"], p["y"]) for p in doc["points"]
           if p["curve"] == name and p["series"] == series
           and p["side"] == side and p.get("y") is not None
           and math.isfinite(p["y"]) and p["y"] > 0 and p["x"] > 0]
    return sorted(pts)


def slope(points: list) -> float | None:
    """Least-squares slope of log y against log x (None below 2 points)."""
    if len(points) < 2:
        return None
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var


def growth(k: float | None) -> str:
    """``O(1)``, ``O(n)`` ... for a log-log slope ``k``."""
    if k is None:
        return "-"
    for target, label in ((0.0, "O(1)"), (0.5, "O(sqrt n)"), (1.0, "O(n)"),
                          (2.0, "O(n^2)")):
        if abs(k - target) <= 0.2:
            return label
    return f"O(n^{k:.1f})"


def write_csv(doc: dict, path: str, name: str) -> None:
    """Write the points of curve ``name`` (both sides) to ``path``."""
    units = {s.name: s.unit for s in catalog_curve(name).series}
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, CSV_FIELDS)
        writer.writeheader()
        for p in doc["points"]:
            if p["curve"] != name:
                continue
            y = p.get("y")
            writer.writerow({
                "curve": name, "series": p["series"],
                "unit": units.get(p["series"], ""), "side": p["side"],
                "label": doc["sides"][p["side"]]["label"], "x": p["x"],
                "y": "" if y is None or not math.isfinite(y) else repr(y),
                "error": p.get("error") or p.get("skipped") or ""})


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def format_table(doc: dict) -> str:
    """One row per curve, series and side: smallest and largest point,
    log-log slopes and the growth they mean."""
    header = ["curve", "series", "unit", "side", "x range", "y at min x",
              "y at max x", "slope", "last-step slope", "grows"]
    rows = [header]
    for name in doc["curves"]:
        for series in catalog_curve(name).series:
            for side in doc["sides"]:
                pts = points_of(doc, name, series.name, side)
                if not pts:
                    continue
                tail = slope(pts[-2:])
                rows.append([
                    name, series.name, series.unit,
                    doc["sides"][side]["label"],
                    f"{pts[0][0]:g}..{pts[-1][0]:g}", _fmt(pts[0][1]),
                    _fmt(pts[-1][1]), _fmt(slope(pts)), _fmt(tail),
                    growth(tail)])
    lines = [_render(rows)]
    errors = [p for p in doc["points"] if p.get("error")]
    lines += [f"error [{doc['sides'][p['side']]['label']}] {p['curve']}."
              f"{p['series']} at {p['x']:g}: {p['error']}" for p in errors]
    return "\n".join(lines)

"""Draw a result document as a PNG (``python -m benchmarks.chart``).

With a comparison, one horizontal bar per metric shows the ratio on a log
scale (right of 1: the project is better).  Without one, each unit gets its
own panel of raw values.  matplotlib is imported only here, lazily: it is
not a dependency of the package nor of the rest of the suite.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["MissingMatplotlib", "draw", "main"]


class MissingMatplotlib(RuntimeError):
    """matplotlib is needed to draw charts and is not installed."""


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise MissingMatplotlib(
            "drawing charts needs matplotlib: pip install matplotlib "
            f"(into {sys.executable})") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def _title(doc: dict) -> str:
    settings, machine = doc.get("settings", {}), doc.get("machine", {})
    labels = " vs ".join(s.get("label", k) for k, s in doc["sides"].items())
    parts = [f"scale {settings.get('scale')}",
             f"{settings.get('rounds')} rounds", doc.get("created", "")[:10]]
    if machine.get("loadavg_end"):
        parts.append(f"{machine.get('cpu_count')} CPUs, load "
                     f"{machine['loadavg_end'][0]:.1f} at the end")
    return f"{labels}  ({', '.join(parts)})"


def _plain_log_ticks(ax) -> None:
    # Ratios read better as 0.5, 1, 2, 5 than as powers of ten.
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter

    low, high = ax.get_xlim()
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200)
             if low <= t <= high]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _draw_ratios(plt, doc: dict):
    entries = [e for e in doc["metrics"]][::-1]
    names = [e["name"] for e in entries]
    values = [e.get("ratio") or 0.0 for e in entries]
    colours = ["#bbbbbb" if not v else "#2a9d8f" if v >= 1 else "#e76f51"
               for v in values]
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(entries) + 1.5))
    shown = [v if v else 1.0 for v in values]
    # Bars start at 1 so that worse (left) and better (right) read apart.
    ax.barh(names, [v - 1 for v in shown], left=1, color=colours)
    ax.set_xscale("log")
    ax.set_xlim(min(0.5, min(shown) / 1.3), max(2.0, max(shown) * 1.6))
    ax.axvline(1.0, color="black", linewidth=0.8)
    _plain_log_ticks(ax)
    sides = list(doc["sides"])
    for y, (v, e) in enumerate(zip(values, entries)):
        failed = any(e[side]["value"] is None for side in sides)
        text = f"{v:.2f}" if v else ("error" if failed else "n/a")
        ax.text(max(shown[y], 1.0) * 1.03, y, text, va="center", fontsize=7)
    ax.set_xlabel("ratio (> 1: project better; log scale)")
    ax.set_title(_title(doc), fontsize=9)
    return fig


def _draw_values(plt, doc: dict):
    side = next(iter(doc["sides"]))
    units = list(dict.fromkeys(e["unit"] for e in doc["metrics"]))
    heights = [1.5 + sum(e["unit"] == u for e in doc["metrics"])
               for u in units]  # panels sized by their number of bars
    fig, axes = plt.subplots(len(units), 1, squeeze=False,
                             gridspec_kw={"height_ratios": heights},
                             figsize=(8, 0.25 * sum(heights) + 0.5))
    for ax, unit in zip(axes[:, 0], units):
        rows = [e for e in doc["metrics"] if e["unit"] == unit][::-1]
        ax.barh([e["name"] for e in rows],
                [e[side]["value"] or 0.0 for e in rows], color="#457b9d")
        better = "lower" if rows[0]["better"] == "lower" else "higher"
        ax.set_xlabel(f"{unit} ({better} is better)", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(_title(doc), fontsize=9)
    return fig


def draw(doc: dict, path: str) -> None:
    """Write the chart of result document ``doc`` to ``path`` (PNG).

    Raises
    ------
    MissingMatplotlib
        If matplotlib cannot be imported.
    """
    plt = _pyplot()
    compared = "reference" in doc["sides"]
    fig = _draw_ratios(plt, doc) if compared else _draw_values(plt, doc)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Draw the chart of a saved result file."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chart",
                                     description=main.__doc__)
    parser.add_argument("results", help="JSON written by --json")
    parser.add_argument("png", help="output file")
    args = parser.parse_args(argv)
    with open(args.results) as handle:
        doc = json.load(handle)
    try:
        draw(doc, args.png)
    except MissingMatplotlib as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())

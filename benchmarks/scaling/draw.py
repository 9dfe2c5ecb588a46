"""One log-log PNG per curve (matplotlib, imported lazily)."""

from __future__ import annotations

from benchmarks.chart import _pyplot
from benchmarks.scaling.catalog import curve as catalog_curve
from benchmarks.scaling.report import points_of

__all__ = ["draw_curve"]

_STYLES = {"project": "-", "reference": "--"}


def draw_curve(doc: dict, name: str, path: str) -> None:
    """Draw curve ``name`` of ``doc`` into ``path``: one panel per unit,
    one colour per series, solid for the project and dashed for the
    reference.  Raises ``MissingMatplotlib`` without matplotlib."""
    plt = _pyplot()
    spec = catalog_curve(name)
    units = list(dict.fromkeys(s.unit for s in spec.series))
    fig, axes = plt.subplots(1, len(units), figsize=(5.5 * len(units), 4.2),
                             squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, unit in zip(axes[0], units):
        # Colours by position within the panel: the n-th series of each
        # panel (e.g. one backend's total and per-task time) match.
        panel = [series for series in spec.series if series.unit == unit]
        for index, series in enumerate(panel):
            for side, info in doc["sides"].items():
                pts = points_of(doc, name, series.name, side)
                if not pts:
                    continue
                ax.plot([x for x, _ in pts], [y for _, y in pts],
                        _STYLES.get(side, ":"), marker="o", markersize=3,
                        color=colours[index % len(colours)],
                        label=f"{series.name} ({info['label']})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(spec.x_label)
        ax.set_ylabel(unit)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(spec.what, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list | None = None) -> int:
    """Redraw the PNGs of a saved run: ``python -m benchmarks.scaling.draw
    OUT/scaling.json [OUT]``."""
    import argparse
    import json
    import os
    import sys

    from benchmarks.chart import MissingMatplotlib

    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling.draw")
    parser.add_argument("results", help="scaling.json written by a run")
    parser.add_argument("out", nargs="?", help="folder (default: the JSON's)")
    args = parser.parse_args(argv)
    with open(args.results) as handle:
        doc = json.load(handle)
    out = args.out or os.path.dirname(os.path.abspath(args.results))
    try:
        for name in doc["curves"]:
            draw_curve(doc, name, os.path.join(out, f"{name}.png"))
    except MissingMatplotlib as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Rows, timing and the table of ``python -m benchmarks.bounds``."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Options", "Row", "best_of", "format_table", "rows_of"]


@dataclass
class Options:
    """Settings of one run: ``quick`` trades precision for time."""

    quick: bool = False
    tiny: bool = False
    repeat: int = 7

    def __post_init__(self) -> None:
        if self.quick:
            self.repeat = min(self.repeat, 3)
        if self.tiny:  # a smoke test of the tool: numbers mean nothing
            self.repeat = 1

    def size(self, full: int, tiny: int) -> int:
        """``full`` normally, ``tiny`` in a smoke test."""
        return tiny if self.tiny else full


@dataclass
class Row:
    """One measured line: ``value`` in ``unit`` (higher or lower better).

    ``kind`` is ``"limit"``, ``"ours"`` or ``"bound"``; ``percent`` is the
    share of the workload's limit (filled in by :func:`format_table`).
    """

    workload: str
    kind: str
    what: str
    value: float
    unit: str
    higher_is_better: bool
    target: float | None = None
    percent: float | None = field(default=None)


def rows_of(workload: str, timings: dict, what: dict, target: float,
            amount: float | None = None, unit: str = "s") -> list[Row]:
    """Rows of one workload from ``{key: seconds}`` and ``{key: label}``.

    Keys ``"limit"`` and ``"ours"`` keep their kind, every other key is a
    bound; a ``None`` time (not measurable here) is left out.  With
    ``amount``, values are rates (``amount / seconds`` in ``unit``, higher
    is better), otherwise seconds (lower is better).
    """
    rows = []
    for key, seconds in timings.items():
        if seconds is None:
            continue
        kind = key if key in ("limit", "ours") else "bound"
        if amount is None:
            rows.append(Row(workload, kind, what[key], seconds, "s", False, target=target))
        else:
            rows.append(Row(workload, kind, what[key], amount / seconds, unit, True,
                            target=target))
    return rows


def best_of(func: Callable[[], object], repeat: int) -> float:
    """Smallest wall time of ``repeat`` calls (after a collection each)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def _percent(row: Row, limit: Row) -> float:
    if row.higher_is_better:
        return 100.0 * row.value / limit.value
    return 100.0 * limit.value / row.value


def format_table(rows: list[Row]) -> str:
    """Fill each row's ``percent`` of its workload's limit; return the table."""
    limits = {row.workload: row for row in rows if row.kind == "limit"}
    lines = ["| workload | kind | what | value | % of limit | target |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        limit = limits.get(row.workload)
        row.percent = _percent(row, limit) if limit is not None else None
        shown = f"{row.percent:.0f}%" if row.percent is not None else "-"
        target = f"{row.target:.0f}%" if row.target is not None else "-"
        value = f"{row.value:,.4g} {row.unit}"
        lines.append(f"| {row.workload} | {row.kind} | {row.what} | {value} "
                     f"| {shown} | {target} |")
    return "\n".join(lines)

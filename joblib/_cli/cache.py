"""List a Memory cache's functions, entries, sizes and statistics; shrink or clear it."""

from __future__ import annotations

import datetime
import json
import os
import sys

from ..disk import memstr_to_bytes

__all__ = ["add_arguments", "run"]

_COLUMNS = ("entries", "bytes", "last_access", "hits", "misses", "stores",
            "failed_loads", "time_saved")


def add_arguments(parser) -> None:
    parser.add_argument(
        "location", metavar="LOCATION",
        help="the cache: the folder given to Memory (or its 'joblib' folder)")
    parser.add_argument(
        "--reduce-size", metavar="SIZE",
        help="delete least recently used results until the cache fits SIZE "
             "(e.g. 500M, 1G), then list it")
    parser.add_argument(
        "--clear", metavar="FUNC", action="append", default=[],
        help="delete the results of function FUNC (its identifier, e.g. "
             "'mymodule/f', or a unique last part, e.g. 'f'); repeatable")
    parser.add_argument("--json", action="store_true",
                        help="print the listing as one JSON document")


def _store_root(location: str) -> str | None:
    """The store folder: ``LOCATION/joblib`` (Memory(str)) or LOCATION itself."""
    nested = os.path.join(location, "joblib")
    if os.path.isdir(nested):
        return nested
    return location if os.path.isdir(location) else None


def _function_ids(root: str) -> list:
    """Identifiers of the functions that have a folder (with func_code.py)."""
    found = []
    for folder, _, files in os.walk(root):
        if "func_code.py" in files:
            found.append(os.path.relpath(folder, root).replace(os.sep, "/"))
    return sorted(found)


def _store(root: str):
    # lazy: keeps `python -m joblib --help` light
    from .._store_backends import FileSystemStoreBackend

    store = FileSystemStoreBackend()
    store.configure(root, verbose=0)
    return store


def _resolve(name: str, func_ids: list) -> str:
    if name in func_ids:
        return name
    matches = [f for f in func_ids if f.rsplit("/", 1)[-1] == name]
    if len(matches) == 1:
        return matches[0]
    raise ValueError(
        "--clear %s: %s; the functions of this cache are: %s"
        % (name, "ambiguous" if matches else "no such function",
           ", ".join(matches or func_ids) or "(none)"))


def _listing(root: str) -> dict:
    """func_id -> row of the columns; plus the total under None."""
    from .._memory.stats import read_recorded  # lazy: keeps `python -m joblib --help` light
    from .._store_backends import CacheItemInfo  # lazy: keeps `python -m joblib --help` light
    from .._store.scan import scan_items  # lazy: keeps `python -m joblib --help` light

    items = scan_items(root, CacheItemInfo)
    recorded = read_recorded(root)
    rows = {}
    for func_id in sorted(set(_function_ids(root)) | set(recorded)):
        rows[func_id] = dict.fromkeys(_COLUMNS, 0)
        rows[func_id]["last_access"] = None
        rows[func_id].update({k: v for k, v in recorded.get(func_id, {}).items()
                              if k in _COLUMNS})
    prefix = len(root) + 1
    for item in items:
        func_id = os.path.dirname(item.path[prefix:]).replace(os.sep, "/")
        row = rows.setdefault(func_id, dict.fromkeys(_COLUMNS, 0))
        row["entries"] += 1
        row["bytes"] += item.size
        if not row["last_access"] or item.last_access > row["last_access"]:
            row["last_access"] = item.last_access
    return rows


def _human(n: float) -> str:
    for unit in ("B", "K", "M", "G", "T"):
        if n < 1024 or unit == "T":
            return "%d%s" % (n, unit) if unit == "B" else "%.1f%s" % (n, unit)
        n /= 1024.0
    return str(n)  # pragma: no cover


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _print_table(root: str, rows: dict, out) -> None:
    print("cache %s: %d functions, %d results, %s" % (
        root, len(rows), sum(r["entries"] for r in rows.values()),
        _human(sum(r["bytes"] for r in rows.values()))), file=out)
    header = ("function", "entries", "size", "last access", "hits", "misses",
              "stores", "failed", "saved")
    lines = [header]
    for func_id, r in rows.items():
        lines.append((func_id, str(r["entries"]), _human(r["bytes"]),
                      _when(r["last_access"]), str(r["hits"]), str(r["misses"]),
                      str(r["stores"]), str(r["failed_loads"]),
                      "%.1fs" % r["time_saved"]))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        cells = [line[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(line[1:], widths[1:])]
        print("  ".join(cells).rstrip(), file=out)
    print("(hits, misses, stores, failed and saved: counts of the processes "
          "that used the cache and exited normally)", file=out)


def _json_default(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def run(args) -> int:
    root = _store_root(args.location)
    if root is None:
        print("error: no cache at %r (not a folder)" % args.location, file=sys.stderr)
        return 2
    try:
        if args.clear:
            func_ids = _function_ids(root)
            names = [_resolve(name, func_ids) for name in args.clear]
            store = _store(root)
            for func_id in names:
                store.clear_path([func_id])
                print("cleared %s" % func_id, file=sys.stderr)
        if args.reduce_size:
            size = args.reduce_size.strip()
            limit = int(size) if size.isdigit() else memstr_to_bytes(size)
            _store(root).enforce_store_limits(limit)
    except ValueError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    rows = _listing(root)
    if args.json:
        json.dump({"location": root, "functions": rows}, sys.stdout,
                  default=_json_default, indent=1)
        print()
    else:
        _print_table(root, rows, sys.stdout)
    return 0

"""Describe joblib/pickle files without loading them (compressor, globals, arrays)."""

from __future__ import annotations

import json
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="joblib or pickle file(s) to describe")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document (a list of reports)")


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else "%.1f %s" % (n, unit)
        n /= 1024.0
    return str(n)  # pragma: no cover


def _print_report(report: dict, out) -> None:
    print("%s:" % report["filename"], file=out)
    print("  size:        %s (%d bytes)" % (_human(report["size"]), report["size"]),
          file=out)
    print("  compressor:  %s" % report["compressor"], file=out)
    print("  format:      %s, pickle protocol %d"
          % (report["format"], report["protocol"]), file=out)
    print("  globals:     %d" % len(report["globals"]), file=out)
    needs_trust = set(report["needs_trust"])
    for name, count in report["globals"].items():
        mark = "  (needs trusted=)" if name in needs_trust else ""
        print("    %-50s x%d%s" % (name, count, mark), file=out)
    arrays = report["arrays"]
    print("  arrays:      %d (%s)" % (len(arrays), _human(report["array_bytes"])),
          file=out)
    for a in arrays:
        where = a.get("companion") or "offset %s" % a.get("offset")
        print("    %-12s shape=%s order=%s bytes=%s %s"
              % (a.get("dtype"), tuple(a.get("shape", ())), a.get("order"),
                 a.get("bytes"), where), file=out)


def run(args) -> int:
    from .._persist.inspect import inspect_file  # lazy: keeps `python -m joblib --help` light

    reports, status = [], 0
    for name in args.files:
        try:
            reports.append(inspect_file(name))
        except Exception as exc:  # one bad file does not hide the others
            print("python -m joblib info: %s: %s" % (name, exc), file=sys.stderr)
            status = 1
    if args.json:
        json.dump(reports, sys.stdout, indent=2)
        print()
    else:
        for report in reports:
            _print_report(report, sys.stdout)
    return status

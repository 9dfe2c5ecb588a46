"""The ``python -m joblib`` command line: a small dispatcher.

Each sub-command lives in its own module of this package and provides two
functions:

- ``add_arguments(parser)``: declares its options on an
  :class:`argparse.ArgumentParser` made for it;
- ``run(args) -> int``: does the work and returns the process exit code
  (0 success, 1 a negative answer such as "file not trusted", 2 bad usage).

A sub-command module is imported only when it is the one being run (``--help``
imports them all for their one-line summaries, taken from the module
docstring's first line).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

# sub-command name -> module of this package that implements it
SUBCOMMANDS: dict = {
    "info": "joblib._cli.info",
    "check": "joblib._cli.check",
    "cache": "joblib._cli.cache",
}


def _summary(module) -> str:
    doc = (module.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with one sub-parser per sub-command."""
    parser = argparse.ArgumentParser(
        prog="python -m joblib",
        description="joblib command line: inspect files and caches.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in sorted(SUBCOMMANDS.items()):
        module = importlib.import_module(module_name)
        summary = _summary(module)
        cmd = sub.add_parser(name, help=summary, description=summary)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``).

    Returns the exit code: 0 on success, 1 for a negative answer, 2 for bad
    usage (argparse's convention).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args))
    except BrokenPipeError:  # e.g. ``python -m joblib info f | head``
        return 0

"""Check that a file loads in restricted mode with the given trusted names."""

from __future__ import annotations

import pickle
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser) -> None:
    parser.add_argument("file", metavar="FILE", help="joblib or pickle file")
    parser.add_argument(
        "--trusted", nargs="+", action="extend", default=[], metavar="NAME",
        help="dotted names ('pkg.mod.Class', 'pkg.*') or presets ('numpy', "
             "'sklearn') to trust besides numpy arrays and builtin data",
    )
    parser.add_argument(
        "--load", action="store_true",
        help="also load the file (restricted) instead of only scanning it",
    )


def run(args) -> int:
    """Exit 0 when the file is loadable under the restricted mode, 1 if not."""
    from .._persist.inspect import scan_file  # lazy: keeps `python -m joblib --help` light
    # lazy: keeps `python -m joblib --help` light
    from .._persist.trust import TrustPolicy, UntrustedTypesError

    try:
        policy = TrustPolicy(args.trusted)
    except (TypeError, ValueError) as exc:
        print("python -m joblib check: %s" % exc, file=sys.stderr)
        return 2
    try:
        _, result = scan_file(args.file)
        untrusted = policy.untrusted(result.globals)
        if untrusted:
            raise UntrustedTypesError(repr(args.file), untrusted)
        if args.load:
            from ..numpy_pickle import load  # lazy: keeps `python -m joblib --help` light

            load(args.file, trusted=policy)
    except UntrustedTypesError as exc:
        print("%s: NOT loadable with these trusted names; untrusted globals:"
              % args.file)
        for name in exc.untrusted:
            print("  %s" % name)
        return 1
    except OSError as exc:  # no such file: a usage error
        print("python -m joblib check: %s" % exc, file=sys.stderr)
        return 2
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        print("python -m joblib check: %s" % exc, file=sys.stderr)
        return 1
    print("%s: OK (loadable with trusted=%r)" % (args.file, list(args.trusted)))
    return 0

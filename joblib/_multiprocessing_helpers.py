"""Compatibility path ``joblib._multiprocessing_helpers`` (joblib 1.6).

Home of ``mp``: the :mod:`multiprocessing` module when process-based
parallelism is usable here, or ``None`` when it is not (for instance under
Pyodide, on systems without working POSIX semaphores, or when the user set
``JOBLIB_MULTIPROCESSING=0``).  Many projects import ``mp`` from this path.
"""

from __future__ import annotations

import os
import warnings

__all__ = ["mp", "assert_spawning"]


def _multiprocessing_disabled_by_env() -> bool:
    """True when ``JOBLIB_MULTIPROCESSING`` is set to ``0``."""
    value = os.environ.get("JOBLIB_MULTIPROCESSING", "1").strip() or "1"
    try:
        return int(value) == 0
    except ValueError:
        # joblib 1.6 crashes on a non-integer value; a warning is kinder.
        warnings.warn(
            "JOBLIB_MULTIPROCESSING=%r is not an integer; expected 0 (disable) "
            "or 1 (enable). Multiprocessing stays enabled." % value
        )
        return False


def _probe_semaphores() -> None:
    """Create and drop one named semaphore (raises OSError when unsupported)."""
    # deferred: probing semaphores is only needed when multiprocessing is asked for
    from _multiprocessing import SemLock

    for _ in range(100):
        name = "/joblib-%d-%s" % (os.getpid(), os.urandom(6).hex())
        try:
            SemLock(0, 0, 1, name=name, unlink=True)
            return
        except FileExistsError:
            continue
    raise FileExistsError("cannot find a free name for a probe semaphore")


def _multiprocessing_usable() -> bool:
    """True when process-based parallelism works here.

    Decided without importing :mod:`multiprocessing` (about 20 ms), which
    only happens once ``mp`` is asked for: ``import joblib.parallel`` stays
    light, and a first loky call starts its workers sooner (``loky_boot``).
    """
    if _multiprocessing_disabled_by_env():
        return False
    try:
        import _multiprocessing  # noqa: F401  (missing on some platforms)
    except ImportError:
        return False
    try:
        _probe_semaphores()
    except (FileExistsError, AttributeError, ImportError, OSError) as exc:
        warnings.warn("%s.  joblib will operate in serial mode" % (exc,))
        return False
    return True


MULTIPROCESSING_USABLE = _multiprocessing_usable()


def __getattr__(name: str):
    # ``mp`` and ``assert_spawning`` are resolved on first use, then cached.
    if name == "mp":
        if MULTIPROCESSING_USABLE:
            import multiprocessing as value  # lazy: import joblib loads no multiprocessing
        else:
            value = None
    elif name == "assert_spawning":
        if MULTIPROCESSING_USABLE:
            # deferred: multiprocessing is heavy and not needed at import joblib
            from multiprocessing.context import assert_spawning as value
        else:
            value = None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value

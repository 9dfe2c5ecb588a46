"""Every message that ``Memory`` prints or logs, in one place.

The text of the printed lines is joblib 1.6's, byte for byte (users grep
their logs for ``[Memory] Calling``). Messages that 1.6 sends through
``logging`` go to the ``joblib`` logger; this module never configures
logging itself.
"""

from __future__ import annotations

import logging
import textwrap

from .._store.messages import (  # noqa: F401  (the store's lines, re-exported)
    VERBOSE_DETAILS,
    VERBOSE_LOAD_LINE,
    loading,
    persisting,
    user_stacklevel,
)
from ..func_inspect import format_call, format_signature, get_func_name
from ..logger import format_time

__all__ = [
    "VERBOSE_CALLS",
    "VERBOSE_LOADS",
    "VERBOSE_DETAILS",
    "VERBOSE_QUERIES",
    "calling",
    "computed",
    "loaded",
    "loading",
    "persisting",
    "computing",
    "querying",
    "user_stacklevel",
    "warn",
]

# Verbosity thresholds (a message is shown when verbose is strictly above,
# except VERBOSE_QUERIES which is inclusive, as in joblib 1.6); the store's
# own lines and thresholds are in _store/messages.py.
VERBOSE_CALLS = 0  # "[Memory] Calling f..." and the duration banner
VERBOSE_LOADS = 4  # "f cache loaded - 0.0s, 0.0min" on a hit
VERBOSE_QUERIES = 20  # the lookup of every call

LOGGER = logging.getLogger("joblib")


def warn(source: object, message: str) -> None:
    """Log a warning tagged with the object that emits it (joblib 1.6 format)."""
    LOGGER.warning("[%s]: %s" % (source, message))


def _format_time(duration: float) -> str:
    return format_time(duration)


def calling(verbose: int, func, args, kwargs) -> None:
    """Banner printed before a result is computed."""
    if verbose > VERBOSE_CALLS:
        print(format_call(func, args, kwargs))


def computed(verbose: int, func_name: str, duration: float, context: str = "") -> None:
    """Right-aligned duration line after a computation (or a load)."""
    if verbose > VERBOSE_CALLS:
        msg = f"{func_name} {context}- {_format_time(duration)}"
        print(max(0, (80 - len(msg))) * "_" + msg)


def loaded(verbose: int, func_name: str, duration: float) -> None:
    """Duration line of a cache hit."""
    if verbose > VERBOSE_LOADS:
        computed(verbose, func_name, duration, context="cache loaded ")


def computing(verbose: int, source, func_name, args_id, location) -> None:
    if verbose > VERBOSE_DETAILS:
        warn(
            source,
            f"Computing func {func_name}, argument hash {args_id} "
            f"in location {location}",
        )


def querying(verbose: int, func, args, kwargs, args_id, location, source) -> None:
    """Detailed description of each lookup, at the highest verbosity."""
    if verbose < VERBOSE_QUERIES:
        return
    _, func_name = get_func_name(func)
    _, signature = format_signature(func, *args, **kwargs)
    LOGGER.info(
        "[%s]: %s"
        % (
            source,
            textwrap.dedent(f"""
                Querying {func_name} with signature
                {signature}.

                (argument hash {args_id})

                The store location is {location}.
                """),
        )
    )


def function_changed(verbose: int, source, func_name: str, func_id: str) -> None:
    if verbose > VERBOSE_DETAILS:
        warn(
            source,
            "Function {0} (identified by {1}) has changed.".format(func_name, func_id),
        )


def clearing_function(verbose: int, source, func_id: str) -> None:
    if verbose > 0:
        warn(source, "Clearing function cache identified by %s" % func_id)

"""Helpers around a cached function: its docstring and result-expiry callbacks."""

from __future__ import annotations

import datetime
import inspect
import re
import time
from typing import Callable

__all__ = ["expires_after", "memoized_doc"]


def memoized_doc(func) -> str:
    """``__doc__`` of a MemorizedFunc: 'Memoized version of' + pydoc's text."""
    if not inspect.isfunction(func):
        return "Memoized version of %s" % func.__doc__
    # deferred: pydoc is heavy; only docstrings of memoized functions need it
    import pydoc

    doc = pydoc.TextDoc().document(func).replace("\n", "\n\n", 1)
    # Strip the backspace overprinting that pydoc uses for bold text.
    return "Memoized version of %s" % re.sub("\x08.", "", doc)


def expires_after(
    days=0, seconds=0, microseconds=0, milliseconds=0, minutes=0, hours=0, weeks=0
) -> Callable[[dict], bool]:
    """Return a ``cache_validation_callback`` that expires results after a delay.

    Parameters
    ----------
    days, seconds, microseconds, milliseconds, minutes, hours, weeks : float
        The delay, as for :class:`datetime.timedelta`.

    Returns
    -------
    callable
        ``callback(metadata) -> bool``, True while the result is younger than
        the delay.

    Examples
    --------
    >>> import tempfile
    >>> from joblib import Memory, expires_after
    >>> memory = Memory(tempfile.mkdtemp(), verbose=0)
    >>> @memory.cache(cache_validation_callback=expires_after(minutes=5))
    ... def now(x):
    ...     return x
    """
    delta = datetime.timedelta(
        days=days,
        seconds=seconds,
        microseconds=microseconds,
        milliseconds=milliseconds,
        minutes=minutes,
        hours=hours,
        weeks=weeks,
    )
    max_age = delta.total_seconds()

    def cache_validation_callback(metadata):
        computed_at = metadata.get("time")
        # No time recorded (e.g. metadata lost): treat the result as expired.
        return computed_at is not None and time.time() - computed_at < max_age

    return cache_validation_callback

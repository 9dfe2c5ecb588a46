"""Validation of ``Parallel``'s fault-tolerance arguments.

Imported only when one of them differs from its default, so that plain
``Parallel`` calls never pay for it.
"""

from __future__ import annotations

from numbers import Integral, Real

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FaultOptions", "ON_ERROR"]

ON_ERROR = ("raise", "return", "skip")


class FaultOptions:
    """The checked fault-tolerance settings of one ``Parallel`` object."""

    __slots__ = ("retries", "retry_on", "retry_delay", "task_timeout", "on_error")

    def __init__(self, retries: Any, retry_on: Any, retry_delay: Any,
                 task_timeout: Any, on_error: Any):
        self.retries = _check_retries(retries)
        self.retry_on = _check_retry_on(retry_on)
        self.retry_delay = _check_seconds("retry_delay", retry_delay, allow_zero=True)
        self.task_timeout = (None if task_timeout is None else
                             _check_seconds("task_timeout", task_timeout,
                                            allow_zero=False))
        if on_error not in ON_ERROR:
            raise ValueError(
                'Expected `on_error` parameter to be a string equal to "raise", '
                f'"return" or "skip", but got {on_error!r} instead.')
        self.on_error = on_error

    def delay(self, failures: int) -> float:
        """Seconds to wait before attempt ``failures + 1`` (doubling)."""
        return self.retry_delay * (2 ** (failures - 1)) if self.retry_delay else 0.0


def _check_retries(retries: Any) -> int:
    if isinstance(retries, bool) or not isinstance(retries, Integral):
        raise TypeError(
            f"retries must be an int >= 0 (the number of extra attempts per "
            f"task), got {retries!r} (type {type(retries).__name__})")
    if retries < 0:
        raise ValueError(
            f"retries must be an int >= 0 (the number of extra attempts per "
            f"task), got {retries!r}")
    return int(retries)


def _check_retry_on(retry_on: Any) -> tuple:
    if isinstance(retry_on, type):
        retry_on = (retry_on,)
    try:
        if isinstance(retry_on, (str, bytes)):
            raise TypeError
        types = tuple(retry_on)
    except TypeError:
        raise TypeError(
            "retry_on must be an exception class or a tuple of exception "
            f"classes, got {retry_on!r}") from None
    for exc_type in types:
        if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
            raise TypeError(
                "retry_on must be an exception class or a tuple of exception "
                f"classes, got {exc_type!r} (type {type(exc_type).__name__}) "
                "in it")
    return types


def _check_seconds(name: str, value: Any, allow_zero: bool) -> float:
    expected = "a number of seconds >= 0" if allow_zero else "a number of seconds > 0"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be {expected}, got {value!r} "
                        f"(type {type(value).__name__})")
    if value < 0 or (value == 0 and not allow_zero) or value != value:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return float(value)

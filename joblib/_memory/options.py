"""The options of ``Memory`` and ``Memory.cache`` that joblib 1.6 does not have.

They are checked where the user gives them (``Memory(...)``,
``memory.cache(...)``), so that a wrong type fails there and not at the
first call. Every default reproduces joblib 1.6: the same keys, files and
behaviour.
"""

from __future__ import annotations

import dataclasses
import datetime
import numbers
from typing import Any, Callable

from .._hashing.algorithms import hash_factory
from .._store.eviction import check_limits

__all__ = ["FunctionOptions", "Limits", "DEFAULT_OPTIONS", "check_limits_args"]

class _Unset:
    """Default of ``memory.cache``'s options: take the Memory's value."""

    def __repr__(self) -> str:
        return "<the Memory's>"


_UNSET: Any = _Unset()


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(
            "%s should be True or False, got %r (type %s)"
            % (name, value, type(value).__name__)
        )
    return value


def _check_timeout(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            "compute_once_timeout should be a number of seconds or None, got "
            "%r (type %s)" % (value, type(value).__name__)
        )
    if not value >= 0:
        raise ValueError(
            "compute_once_timeout should be >= 0 seconds, got %r" % (value,)
        )
    return float(value)


def _check_hash_name(value) -> str:
    hash_factory(value)  # ValueError listing the choices (1.6's wording first)
    return value


def _check_depends(value) -> tuple:
    if value is None:
        return ()
    if callable(value) or isinstance(value, (str, bytes)):
        raise TypeError(
            "depends should be a list of functions, got %r (type %s); write "
            "depends=[helper]" % (value, type(value).__name__)
        )
    try:
        helpers = tuple(value)
    except TypeError:
        raise TypeError(
            "depends should be a list of functions, got %r (type %s)"
            % (value, type(value).__name__)
        ) from None
    for helper in helpers:
        if not callable(helper):
            raise TypeError(
                "depends should list functions, got %r (type %s) in it"
                % (helper, type(helper).__name__)
            )
    return helpers


def _check_version(value):
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise TypeError(
        "version should be a str or a number, got %r (type %s)"
        % (value, type(value).__name__)
    )


@dataclasses.dataclass(frozen=True)
class FunctionOptions:
    """Per-function options (a Memory gives the defaults of its functions)."""

    hash_name: str = "md5"
    compute_once: bool = False
    compute_once_timeout: float | None = None
    depends: tuple = ()
    version: Any = None
    check_code: bool = True
    record_stats: bool = False
    # True when the code check is joblib 1.6's (the hit path tests this).
    plain_code_check: bool = dataclasses.field(
        init=False, compare=False, repr=False, default=True
    )

    def __post_init__(self) -> None:
        plain = self.check_code and not self.depends and self.version is None
        object.__setattr__(self, "plain_code_check", plain)

    @classmethod
    def checked(cls, **kwargs) -> "FunctionOptions":
        """Build from user input; TypeError/ValueError name the bad argument."""
        checkers: dict[str, Callable] = {
            "hash_name": _check_hash_name,
            "compute_once": lambda v: _check_bool("compute_once", v),
            "compute_once_timeout": _check_timeout,
            "depends": _check_depends,
            "version": _check_version,
            "check_code": lambda v: _check_bool("check_code", v),
            "record_stats": lambda v: _check_bool("record_stats", v),
        }
        return cls(**{k: checkers[k](v) for k, v in kwargs.items()})

    def updated(self, **kwargs) -> "FunctionOptions":
        """These options with the given (already checked) ones replaced."""
        given = {k: v for k, v in kwargs.items() if v is not _UNSET}
        if not given:
            return self
        checked = FunctionOptions.checked(**given)
        return dataclasses.replace(self, **{k: getattr(checked, k) for k in given})


DEFAULT_OPTIONS = FunctionOptions()
UNSET = _UNSET


@dataclasses.dataclass(frozen=True)
class Limits:
    """``bytes_limit`` (bytes), ``items_limit`` and ``age_limit`` of a Memory."""

    bytes_limit: int | None = None
    items_limit: int | None = None
    age_limit: datetime.timedelta | None = None

    def __bool__(self) -> bool:
        return not (
            self.bytes_limit is None
            and self.items_limit is None
            and self.age_limit is None
        )


def check_limits_args(bytes_limit, items_limit, age_limit) -> Limits:
    """Validate the limits given to ``Memory(...)``.

    Raises
    ------
    TypeError, ValueError
        For a limit of the wrong type or a negative one.
    """
    return Limits(*check_limits(bytes_limit, items_limit, age_limit))

"""Types seen by type checkers only (never imported at run time).

``Memory.cache`` returns a ``MemorizedFunc`` (or ``NotMemorizedFunc``) at run
time; for mypy and pyright it returns a :class:`CachedFunction` that keeps the
wrapped function's parameters and return type, so a call with a wrong
argument type is flagged and the result keeps its type.
"""

from __future__ import annotations

from typing import Any, Callable, ParamSpec, Protocol, TypeVar

__all__ = ["P", "R", "CachedFunction"]

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class CachedFunction(Protocol[P, R_co]):
    """A cached function: called like the function it wraps."""

    func: Callable[..., Any]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def call(self, *args: P.args, **kwargs: P.kwargs) -> tuple[R_co, dict]: ...

    def call_and_shelve(self, *args: P.args, **kwargs: P.kwargs) -> Any: ...

    def check_call_in_cache(self, *args: P.args, **kwargs: P.kwargs) -> bool: ...

    def clear(self, warn: bool = True) -> None: ...

    def stats(self) -> dict: ...



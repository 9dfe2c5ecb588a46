"""Exception notes saying which task of a fault-tolerant call raised:
``joblib: raised by task 3: f(3, x=1)``.

Only fault-tolerant calls add them: a plain call raises exactly what joblib
1.6 raises (a note changes the printed traceback, and doctests compare it).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["describe_call", "describe_task", "add_task_note"]

# Longest repr of a task's function and arguments put in a note.
_REPR_LIMIT = 120
_ARG_LIMIT = 40


def _short_repr(obj: Any, limit: int) -> str:
    try:
        text = repr(obj)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the error
        text = f"<{type(obj).__name__} object>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def describe_call(func: Any, args: tuple, kwargs: dict) -> str:
    """``f(1, x=2)``, each part and the whole truncated to a short line."""
    name = getattr(func, "__qualname__", None)
    if not isinstance(name, str):
        name = _short_repr(func, _ARG_LIMIT)
    parts = [_short_repr(a, _ARG_LIMIT) for a in args]
    parts += [f"{k}={_short_repr(v, _ARG_LIMIT)}" for k, v in kwargs.items()]
    text = f"{name}({', '.join(parts)})"
    return text if len(text) <= _REPR_LIMIT else text[:_REPR_LIMIT - 4] + "...)"


def describe_task(index: int, func: Any, args: tuple, kwargs: dict) -> str:
    """``task 3: f(1, x=2)``."""
    return f"task {index}: {describe_call(func, args, kwargs)}"


def add_task_note(exc: BaseException, note: str) -> BaseException:
    """Attach ``note`` to ``exc`` (``add_note`` from Python 3.11 on).

    Before 3.11 tracebacks do not show ``__notes__``: the note is also
    appended to the worker's traceback text (the exception's cause), which
    they do show.
    """
    if sys.version_info >= (3, 11):
        exc.add_note(note)
        return exc
    try:  # pragma: no cover - Python < 3.11
        notes = exc.__dict__.setdefault("__notes__", [])
        notes.append(note)
    except (AttributeError, TypeError):  # pragma: no cover
        return exc
    cause = exc.__cause__  # pragma: no cover
    if cause is not None and isinstance(getattr(cause, "tb", None), str):
        cause.tb += f"\n{note}"  # pragma: no cover
    return exc  # pragma: no cover

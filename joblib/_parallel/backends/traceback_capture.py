"""Carry a worker's exception and its formatted traceback back to the
parent through a ``multiprocessing.Pool``, which would otherwise drop the
traceback (and could choke on an unpicklable exception)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["capture_traceback", "unwrap_outcome", "RemoteTraceback"]


class RemoteTraceback(Exception):
    """Holds the traceback text of an exception raised in a worker."""

    def __init__(self, tb: str):
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return self.tb


def _rebuild(exc: BaseException, tb: str) -> BaseException:
    exc.__cause__ = RemoteTraceback(tb)
    return exc


class _ExceptionWithTraceback:
    """Pickles as the exception, with the remote traceback as its cause."""

    def __init__(self, exc: BaseException):
        import traceback  # only on the error path

        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.exc = exc
        self.tb = '\n"""\n%s"""' % text

    def __reduce__(self):
        return _rebuild, (self.exc, self.tb)


class _TracebackCapturingCall:
    """Picklable wrapper returning the exception (with traceback) on error."""

    def __init__(self, func: Callable[[], Any]):
        self.func = func

    def __call__(self, **kwargs):
        try:
            return self.func(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - shipped back to the parent
            return _ExceptionWithTraceback(exc)


def capture_traceback(func: Callable[[], Any]) -> _TracebackCapturingCall:
    """Wrap ``func`` so that exceptions come back as values."""
    return _TracebackCapturingCall(func)


def unwrap_outcome(out: Any) -> Any:
    """Return ``out``, or raise it when it is an exception."""
    if isinstance(out, _ExceptionWithTraceback):
        out = _rebuild(out.exc, out.tb)
    if isinstance(out, BaseException):
        raise out
    return out

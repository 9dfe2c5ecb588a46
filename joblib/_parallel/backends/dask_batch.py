"""The callable a dask worker runs for one batch of ``Parallel`` tasks.

The batch travels as a small callable plus a ``tasks`` keyword argument, so
that dask finds the futures of scattered arguments inside ``tasks`` and
replaces them by their values on the worker before the call.
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["Batch", "DaskBatch", "summarize_tasks"]


def _callable_name(func: Any) -> str:
    """Short printable name of ``func`` (dask's own helper when available)."""
    try:
        from dask.utils import funcname  # optional dependency
    except ImportError:
        return getattr(func, "__name__", type(func).__name__)
    return funcname(func)


def summarize_tasks(tasks: Sequence[Sequence[Any]]) -> tuple[int, bool, str]:
    """Return ``(n_tasks, mixed, name)`` describing a list of calls.

    ``mixed`` is True when the batch calls more than one function; ``name``
    is the name of the first one.
    """
    funcs = {id(task[0]) for task in tasks}
    name = _callable_name(tasks[0][0]) if tasks else "nothing"
    return len(tasks), len(funcs) > 1, name


class DaskBatch:
    """Run ``tasks`` (a list of ``[func, args, kwargs]``) on a dask worker.

    The calls run under ``parallel_config(backend=nested_backend)`` so that
    a ``Parallel`` call inside a task is sent back to the cluster instead of
    starting local workers inside the dask worker.

    Parameters
    ----------
    summary : tuple
        ``summarize_tasks(tasks)``; only used for the repr, which dask shows
        in its dashboard as the task key prefix.
    nested_backend : ParallelBackendBase or None
        Backend of nested ``Parallel`` calls (None: leave the config alone).
    """

    def __init__(self, summary: tuple[int, bool, str], nested_backend: Any = None):
        self._num_tasks, self._mixed, self._funcname = summary
        self._nested_backend = nested_backend

    def __call__(self, tasks: Sequence[Sequence[Any]] = ()) -> list:
        if self._nested_backend is None:
            return [func(*args, **kwargs) for func, args, kwargs in tasks]
        # Deferred import: this module is imported before joblib.parallel is
        # fully initialised (the shim joblib._dask is imported lazily).
        from ..config import parallel_config

        with parallel_config(backend=self._nested_backend):
            return [func(*args, **kwargs) for func, args, kwargs in tasks]

    def __repr__(self) -> str:
        descr = f"batch_of_{self._funcname}_{self._num_tasks}_calls"
        return "mixed_" + descr if self._mixed else descr


class Batch(DaskBatch):
    """joblib 1.6's ``joblib._dask.Batch``: built from the tasks themselves.

    Its calls run under ``parallel_config(backend="dask")``, as in 1.6.
    """

    def __init__(self, tasks: Sequence[Sequence[Any]]):
        super().__init__(summarize_tasks(tasks), nested_backend="dask")

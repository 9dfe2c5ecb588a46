"""``delayed`` and ``BatchedCalls``, the unit of work sent to workers."""

from __future__ import annotations

import functools
from typing import Any, Callable, Iterable

from .config import current_config, set_config

__all__ = ["delayed", "BatchedCalls"]

_WRAPPER_ASSIGNMENTS = functools.WRAPPER_ASSIGNMENTS


def delayed(function: Callable) -> Callable[..., tuple]:
    """Capture a function and its arguments for :class:`~joblib.Parallel`.

    Parameters
    ----------
    function : callable
        The function to run later.

    Returns
    -------
    callable
        ``F`` such that ``F(*args, **kwargs) == (function, args, kwargs)``.

    Notes
    -----
    ``delayed(memory.cache(f))`` caches ``f``'s results, whereas
    ``memory.cache(delayed(f))`` would cache the ``(f, args, kwargs)`` tuples.

    Examples
    --------
    >>> from math import sqrt
    >>> delayed(sqrt)(4)
    (<built-in function sqrt>, (4,), {})

    A common mistake is to call the function instead of ``delayed``'s result:

    >>> from joblib import Parallel
    >>> Parallel(n_jobs=1)([sqrt(4)])
    Traceback (most recent call last):
    ...
    TypeError: cannot unpack non-iterable float object
    """

    def delayed_function(*args, **kwargs):
        return function, args, kwargs

    # What functools.wraps does, at half the cost: delayed() runs once per
    # task, so for tiny tasks its overhead shows in the total.
    for name in _WRAPPER_ASSIGNMENTS:
        try:
            setattr(delayed_function, name, getattr(function, name))
        except (AttributeError, TypeError):
            pass
    attributes = getattr(function, "__dict__", None)
    if attributes:
        delayed_function.__dict__.update(attributes)
    delayed_function.__wrapped__ = function
    return delayed_function


class BatchedCalls:
    """A list of ``(func, args, kwargs)`` run in one go by a worker.

    The calls run under the nested configuration ``backend_and_jobs`` so
    that ``Parallel`` calls inside the tasks use the nested backend.
    ``reducer_callback`` runs whenever the batch is pickled (loky uses it to
    select the temp folder of the call that owns the batch).
    """

    def __init__(self, iterator_slice: Iterable, backend_and_jobs: Any,
                 reducer_callback: Callable | None = None,
                 pickle_cache: dict | None = None):
        self.items = list(iterator_slice)
        self._size = len(self.items)
        self._reducer_callback = reducer_callback
        if isinstance(backend_and_jobs, tuple):
            self._backend, self._n_jobs = backend_and_jobs
        else:
            self._backend, self._n_jobs = backend_and_jobs, None
        self._pickle_cache = pickle_cache if pickle_cache is not None else {}

    def __call__(self) -> list:
        previous = current_config()
        # A plain dict swap: a full parallel_config per batch costs too much
        # for tiny tasks, and the nested backend is already resolved.
        set_config({**previous, "backend": self._backend, "n_jobs": self._n_jobs})
        try:
            return [func(*args, **kwargs) for func, args, kwargs in self.items]
        finally:
            set_config(previous)

    def __reduce__(self):
        if self._reducer_callback is not None:
            self._reducer_callback()
        return (BatchedCalls,
                (self.items, (self._backend, self._n_jobs), None, self._pickle_cache))

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return f"<BatchedCalls of {self._size} tasks>"

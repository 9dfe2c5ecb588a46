"""``delayed`` and ``BatchedCalls``, the unit of work sent to workers."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable

from .config import current_config, set_config
from .workers.broadcast import LIVE_HANDLES, resolve_handles, set_pickling_context
from .workers.state import check_initialized

__all__ = ["delayed", "BatchedCalls", "DelayedFunction"]

# True in the worker processes that joblib's initializer set up: batches then
# check that the user's initializer succeeded (see ``workers.state``).
WORKER_SETUP = False
# Set in workers that forward their logs: sends the batch's buffered records
# before its result leaves the worker.
AFTER_BATCH = None


def delayed(function: Callable) -> "DelayedFunction":
    """Capture a function and its arguments for :class:`~joblib.Parallel`.

    Parameters
    ----------
    function : callable
        The function to run later.

    Returns
    -------
    callable
        ``F`` such that ``F(*args, **kwargs) == (function, args, kwargs)``.
        Like a ``functools.wraps`` wrapper, ``F`` exposes the function's
        ``__name__``, ``__qualname__``, ``__module__``, ``__doc__``,
        ``__wrapped__`` and attributes.

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
    global _last_delayed
    last = _last_delayed
    if last[0] is function:
        return last[1]
    wrapper = DelayedFunction(function)
    if _keeps_nothing_alive(function):
        _last_delayed = (function, wrapper)
    return wrapper


# ``delayed(f)(x) for x in ...`` wraps the same function once per task:
# remembering the last wrapper saves about 20% of that loop.  Only for functions
# whose reference keeps nothing else alive (builtins of modules, functions
# without a closure), since the last one stays referenced here.
_last_delayed: tuple = (None, None)
_BUILTIN_TYPE = type(len)
_FUNCTION_TYPE = type(lambda: None)
_MODULE_TYPE = type(sys)


def _keeps_nothing_alive(function: Any) -> bool:
    kind = type(function)
    if kind is _FUNCTION_TYPE:
        return function.__closure__ is None and not function.__defaults__ \
            and not function.__kwdefaults__
    if kind is _BUILTIN_TYPE:
        owner = function.__self__
        return owner is None or type(owner) is _MODULE_TYPE
    return False


def _wrapped_attribute(name: str) -> property:
    def get(self):
        return getattr(self.__wrapped__, name)

    return property(get)


class DelayedFunction:
    # A slotted object rather than a functools.wraps closure: ``delayed`` is
    # called once per task, and copying the metadata eagerly cost more than
    # running a tiny task.  Metadata is read from the function on access.
    # Read-only: ``delayed`` may hand the same wrapper out again.
    __slots__ = ("_function", "__weakref__")

    __doc__ = _wrapped_attribute("__doc__")
    __module__ = _wrapped_attribute("__module__")

    def __init__(self, function: Callable):
        object.__setattr__(self, "_function", function)

    @property
    def __wrapped__(self) -> Callable:
        return self._function

    def __call__(self, *args, **kwargs) -> tuple:
        return self._function, args, kwargs

    def __getattr__(self, name: str) -> Any:
        # __name__, __qualname__ and the function's own attributes.
        if name == "_function":
            raise AttributeError(name)
        return getattr(self._function, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self!r} is read-only: cannot set {name!r}")

    def __reduce__(self):
        return delayed, (self._function,)

    def __repr__(self) -> str:
        return f"delayed({self._function!r})"


class BatchedCalls:
    """A list of ``(func, args, kwargs)`` run in one go by a worker.

    The calls run under the nested configuration ``backend_and_jobs`` so
    that ``Parallel`` calls inside the tasks use the nested backend.
    ``reducer_callback`` runs whenever the batch is pickled (loky uses it to
    select the temp folder of the call that owns the batch).
    ``broadcast_context`` (set by the call for backends that send
    :func:`joblib.broadcast` objects as files) holds the settings its
    handles use when pickled.
    """

    broadcast_context = None

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
        if WORKER_SETUP:
            check_initialized()
        previous = current_config()
        # A plain dict swap: a full parallel_config per batch costs too much
        # for tiny tasks, and the nested backend is already resolved.
        set_config({**previous, "backend": self._backend, "n_jobs": self._n_jobs})
        items = self.items
        if LIVE_HANDLES[0]:  # broadcast handles exist: not pickled, so unwrap
            items = [(f, resolve_handles(a), resolve_handles(k)) for f, a, k in items]
        try:
            return [func(*args, **kwargs) for func, args, kwargs in items]
        finally:
            set_config(previous)
            if AFTER_BATCH is not None:
                AFTER_BATCH()

    def __reduce__(self):
        if self._reducer_callback is not None:
            self._reducer_callback()
        if self.broadcast_context is not None:
            set_pickling_context(self.broadcast_context)
        return (BatchedCalls,
                (self.items, (self._backend, self._n_jobs), None, self._pickle_cache))

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return f"<BatchedCalls of {self._size} tasks>"

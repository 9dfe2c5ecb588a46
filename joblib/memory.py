"""Transparent on-disk caching of function results: :class:`Memory`.

The classes of this module are pickled by users (for example inside a
scikit-learn ``Pipeline(memory=...)`` saved with ``joblib.dump``), so their
module path, class names and attribute names are those of joblib 1.6. They
are thin: the cached-call logic lives in ``joblib._memory``.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import os
import time
import warnings
import weakref
from typing import Any, Callable, overload

TYPE_CHECKING = False  # the typing-only module is never imported at run time
if TYPE_CHECKING:
    from ._typing import P as _P
    from ._typing import R as _R
    from ._typing import CachedFunction

from ._memory import cached_call, func_code, store_factory
from ._memory.cached_call import MISS
from ._memory.call_identity import func_identifier
from ._memory.function_state import PICKLED_FIELDS, FunctionState
from ._memory.func_code import extract_first_line
from ._memory.reporting import user_stacklevel
from ._memory.reporting import warn as _log_warning
from ._memory.store_factory import store_backend_factory
from ._persist.file_io import check_mmap_mode
from ._store.eviction import check_limits
from ._memory.validation import expires_after, memoized_doc
from ._store_backends import (  # noqa: F401 (CacheWarning: 1.6 import path)
    CacheWarning,
    FileSystemStoreBackend,
    StoreBackendBase,
)
from ._memory.results import (
    AsyncNotMemorizedFunc,
    MemorizedResult,
    NotMemorizedFunc,
    NotMemorizedResult,
)
from ._store.fsspec_backend import FsspecStoreBackend
from .func_inspect import get_func_name
from .logger import Logger

__all__ = [
    "AsyncMemorizedFunc",
    "AsyncNotMemorizedFunc",
    "JobLibCollisionWarning",
    "MemorizedFunc",
    "MemorizedResult",
    "Memory",
    "NotMemorizedFunc",
    "NotMemorizedResult",
    "expires_after",
    "extract_first_line",
    "register_store_backend",
]

FIRST_LINE_TEXT = func_code.FIRST_LINE_TEXT


class JobLibCollisionWarning(UserWarning):
    """Two different functions may be sharing one cache identifier."""


# Registry of store backend classes by name; read at each use, so that
# register_store_backend and direct patches take effect immediately.
_STORE_BACKENDS = {"local": FileSystemStoreBackend, "fsspec": FsspecStoreBackend}

# Functions whose code was verified against the disk in this process
# (function -> token). Clearing it forces the next call to re-check.
_FUNCTION_HASHES = weakref.WeakKeyDictionary()


register_store_backend = store_factory.register_store_backend


def _state_attribute(name: str) -> property:
    """A joblib 1.6 attribute of MemorizedFunc, kept in its FunctionState."""
    own = PICKLED_FIELDS[name]

    def get(self):
        return getattr(self._jl_state, own)

    def set(self, value):
        setattr(self._jl_state, own, value)

    return property(get, set, doc="joblib 1.6 attribute (see FunctionState).")


class MemorizedFunc(Logger):
    """A function whose results are cached (returned by ``Memory.cache``).

    Parameters
    ----------
    func : callable
        The function to cache.
    location : str or store backend
        Where to store results.
    backend : str, default='local'
        Store backend used when ``location`` is a path.
    ignore : list of str, optional
        Names of the arguments that do not affect the result.
    mmap_mode : {None, 'r+', 'r', 'w+', 'c'}
        Memory-map cached numpy arrays when loading them.
    compress : bool, int, str or tuple
        Compression of stored results (see ``joblib.dump``).
    verbose : int, default=1
        Verbosity of the messages.
    timestamp : float, optional
        Reference time of the messages.
    cache_validation_callback : callable, optional
        ``callback(metadata) -> bool``; a cached result for which it returns
        False is deleted and computed again.
    """

    def __init__(
        self,
        func,
        location,
        backend="local",
        ignore=None,
        mmap_mode=None,
        compress=False,
        verbose=1,
        timestamp=None,
        cache_validation_callback=None,
    ):
        Logger.__init__(self)
        self.compress = compress
        func_id = func_identifier(func)
        store = store_backend_factory(
            backend,
            location,
            verbose=verbose,
            backend_options=dict(compress=compress, mmap_mode=mmap_mode),
        )
        self._jl_state = FunctionState(
            func,
            store,
            reporter=self,
            func_id=func_id,
            ignore=ignore,
            mmap_mode=mmap_mode,
            verbose=verbose,
            timestamp=timestamp if timestamp is not None else time.time(),
            validation=cache_validation_callback,
        )
        if store is not None:
            # joblib 1.6 creates the function's directory when decorating.
            store.store_cached_func_code([self.func_id])
        self._wrap(func)

    # joblib 1.6's attributes, owned by the FunctionState.
    mmap_mode = _state_attribute("mmap_mode")
    func = _state_attribute("func")
    cache_validation_callback = _state_attribute("cache_validation_callback")
    func_id = _state_attribute("func_id")
    ignore = _state_attribute("ignore")
    _verbose = _state_attribute("_verbose")
    store_backend = _state_attribute("store_backend")
    timestamp = _state_attribute("timestamp")
    _func_code_info = _state_attribute("_func_code_info")
    _func_code_id = _state_attribute("_func_code_id")

    def _wrap(self, func) -> None:
        try:
            functools.update_wrapper(self, func)
        except (AttributeError, TypeError):
            pass  # objects such as numpy ufuncs lack the wrapper attributes
        self.__doc__ = memoized_doc(func)

    def __call__(self, *args, **kwargs):
        key, value = self._lookup(args, kwargs, shelving=False)
        if value is not MISS:
            return value
        return self._compute(key, args, kwargs, shelving=False)[0]

    def call_and_shelve(self, *args, **kwargs) -> MemorizedResult | NotMemorizedResult:
        """Compute or look up the result, and return a :class:`MemorizedResult`.

        The reference is small and picklable; ``.get()`` loads the value.

        Parameters
        ----------
        *args, **kwargs
            The arguments of the call, as for the function itself.

        Returns
        -------
        MemorizedResult or NotMemorizedResult
            A reference to the stored result (a ``NotMemorizedResult``
            holding the value when it could not be stored).
        """
        key, value = self._lookup(args, kwargs, shelving=True)
        if value is not MISS:
            return value
        return self._compute(key, args, kwargs, shelving=True)[0]

    def call(self, *args, **kwargs) -> tuple[Any, dict]:
        """Compute the result even if it is cached; return ``(output, metadata)``.

        The new result replaces the cached one.

        Parameters
        ----------
        *args, **kwargs
            The arguments of the call, as for the function itself.

        Returns
        -------
        output : object
            The function's return value.
        metadata : dict
            ``duration``, ``input_args`` and ``time`` of this call.
        """
        key = cached_call.prepare(self._jl_state, args, kwargs)
        self._jl_state.code_is_current()
        return self._compute(key, args, kwargs, shelving=False)

    def check_call_in_cache(self, *args, **kwargs) -> bool:
        """Return True if a valid result is cached for these arguments.

        Checks that the code did not change, that the entry exists and that
        the ``cache_validation_callback`` accepts it; computes nothing.

        Parameters
        ----------
        *args, **kwargs
            The arguments of the call, as for the function itself.

        Returns
        -------
        bool
            Whether a call with these arguments would be a cache hit.
        """
        key = cached_call.prepare(self._jl_state, args, kwargs)
        return cached_call.is_in_cache(self._jl_state, key.call_id)

    def clear(self, warn: bool = True) -> None:
        """Delete every cached result of this function.

        Parameters
        ----------
        warn : bool, default=True
            Report the deletion when the function is verbose.
        """
        self._jl_state.clear(warn=warn)

    def warn(self, msg: str) -> None:
        """Report a problem with the cache as a :class:`CacheWarning`.

        The ``Logger`` method of joblib 1.6, which code patches to intercept
        messages such as "Exception while loading results ..."; here it
        emits a warning (pointed at the user's call) instead of logging.
        """
        warnings.warn(msg, CacheWarning, stacklevel=user_stacklevel())

    @property
    def func_code_info(self) -> tuple:
        """``(source, source file, first line)`` of the function, computed once.

        Computed in the process that defined the function and pickled with
        this object, because child processes often cannot read the source.
        """
        return self._jl_state.code_info()

    def _get_args_id(self, *args, **kwargs) -> str:
        # Private in 1.6 but used by third-party code to locate entries.
        return cached_call.prepare(self._jl_state, args, kwargs).call_id[1]

    def _lookup(self, args, kwargs, shelving):
        state = self._jl_state
        key = cached_call.prepare(state, args, kwargs)
        return key, cached_call.lookup(state, key, shelving, args, kwargs)

    def _compute(self, key, args, kwargs, shelving):
        state = self._jl_state
        cached_call.announce_call(state, key, args, kwargs)
        start_time = time.time()
        output = state.func(*args, **kwargs)
        return cached_call.store_result(state, key, output, start_time, shelving)

    def __getstate__(self):
        # Read the source now: child processes often cannot.
        _ = self.func_code_info
        own = {k: v for k, v in self.__dict__.items() if not k.startswith("_jl_")}
        state = {}
        # joblib 1.6's order of the attributes (it is that of their first
        # assignment), so that the pickle, and joblib.hash of it, match.
        for name in ("depth", "_name", "mmap_mode", "compress", "func",
                     "cache_validation_callback", "func_id", "ignore", "_verbose",
                     "store_backend", "timestamp"):
            state[name] = own.pop(name) if name in own else getattr(self, name)
        state.update(own)
        state["_func_code_info"] = self._func_code_info
        state["_func_code_id"] = None  # ids differ in the receiving process
        state["timestamp"] = None  # keeps the pickle (and its hash) stable
        return state

    def __setstate__(self, state):
        state = dict(state)
        fields = {k: state.pop(k) for k in PICKLED_FIELDS if k in state}
        self.__dict__.update(state)
        self._jl_state = FunctionState.from_fields(fields, reporter=self)

    def __repr__(self):
        return "{class_name}(func={func}, location={location})".format(
            class_name=self.__class__.__name__,
            func=self.func,
            location=self.store_backend.location,
        )


class AsyncMemorizedFunc(MemorizedFunc):
    """:class:`MemorizedFunc` for coroutine functions: calls are awaited."""

    async def __call__(self, *args, **kwargs):
        key, value = self._lookup(args, kwargs, shelving=False)
        if value is MISS:
            value = (await self._acompute(key, args, kwargs, shelving=False))[0]
        return value

    async def call_and_shelve(self, *args, **kwargs):
        key, value = self._lookup(args, kwargs, shelving=True)
        if value is MISS:
            value = (await self._acompute(key, args, kwargs, shelving=True))[0]
        return value

    async def call(self, *args, **kwargs):
        key = cached_call.prepare(self._jl_state, args, kwargs)
        self._jl_state.code_is_current()
        return await self._acompute(key, args, kwargs, shelving=False)

    async def _acompute(self, key, args, kwargs, shelving):
        state = self._jl_state
        cached_call.announce_call(state, key, args, kwargs)
        start_time = time.time()
        output = await state.func(*args, **kwargs)
        return cached_call.store_result(state, key, output, start_time, shelving)


class Memory(Logger):
    """Cache the results of functions on disk, keyed by their arguments.

    Parameters
    ----------
    location : str, os.PathLike or None
        Directory of the cache. With a str, results are stored under
        ``<location>/joblib``. None disables caching: ``cache`` then returns
        the function wrapped in a transparent :class:`NotMemorizedFunc`.
    backend : str, default='local'
        Name of the store backend (see :func:`register_store_backend`).
    mmap_mode : {None, 'r+', 'r', 'w+', 'c'}, default=None
        Memory-map cached numpy arrays when loading them.
    compress : bool, int, str or tuple, default=False
        Compression of stored results, as in :func:`joblib.dump`.
        Compressed results cannot be memory-mapped.
    verbose : int, default=1
        Verbosity: 0 is silent, above 0 prints each computation, above 4
        each load, above 10 details.
    backend_options : dict, optional
        Extra options given to the store backend's ``configure``.
    storage_options : dict, optional
        For a URL ``location`` (``'s3://bucket/prefix'``, ``'gs://...'``,
        ``'memory://...'``): options of the fsspec file system, such as
        credentials or ``endpoint_url`` (see :doc:`object_stores`). Needs
        ``pip install "joblib[fsspec]"`` (``"joblib[s3]"`` for S3).

    Raises
    ------
    ValueError, TypeError
        For an invalid ``compress`` or ``mmap_mode``.

    Examples
    --------
    >>> import tempfile
    >>> from joblib import Memory
    >>> memory = Memory(tempfile.mkdtemp(), verbose=0)
    >>> @memory.cache
    ... def square(x):
    ...     print("computing")
    ...     return x * x
    >>> square(3)
    computing
    9
    >>> square(3)
    9
    >>> Memory(tempfile.mkdtemp(), compress=12)
    Traceback (most recent call last):
    ...
    ValueError: Non valid compress level given: 12 (type int); expected an int from 0 to 9.
    """

    def __init__(
        self,
        location: str | os.PathLike | StoreBackendBase | None = None,
        backend: str = "local",
        mmap_mode: str | None = None,
        compress: bool | int | str | tuple = False,
        verbose: int = 1,
        backend_options: dict | None = None,
        storage_options: dict | None = None,
    ) -> None:
        Logger.__init__(self)
        options = store_factory.memory_store_options(
            compress, mmap_mode, backend_options, storage_options
        )
        self._verbose = verbose
        self.mmap_mode = mmap_mode
        self.timestamp = time.time()
        self.backend = backend
        self.compress = compress
        self.backend_options = {} if backend_options is None else backend_options
        if compress and mmap_mode is not None:
            warnings.warn("Compressed results cannot be memmapped", stacklevel=2)
        self.location = location
        if isinstance(location, str):
            location = os.path.join(location, "joblib")
        self.store_backend = store_backend_factory(
            backend, location, verbose=self._verbose, backend_options=options
        )

    # For type checkers: the cached function keeps the signature of ``func``.
    @overload
    def cache(
        self,
        func: Callable[_P, _R],
        ignore: list[str] | None = None,
        verbose: int | None = None,
        mmap_mode: str | None | bool = False,
        cache_validation_callback: Callable[[dict], bool] | None = None,
    ) -> CachedFunction[_P, _R]: ...

    @overload
    def cache(
        self,
        func: None = None,
        ignore: list[str] | None = None,
        verbose: int | None = None,
        mmap_mode: str | None | bool = False,
        cache_validation_callback: Callable[[dict], bool] | None = None,
    ) -> Callable[[Callable[_P, _R]], CachedFunction[_P, _R]]: ...

    def cache(
        self,
        func: Callable | None = None,
        ignore: list[str] | None = None,
        verbose: int | None = None,
        mmap_mode: str | None | bool = False,
        cache_validation_callback: Callable[[dict], bool] | None = None,
    ) -> Any:
        """Wrap ``func`` so that its results are cached.

        Use as ``@memory.cache`` or ``@memory.cache(ignore=[...], ...)``.

        Parameters
        ----------
        func : callable, optional
            The function to cache; omitted when used as ``@memory.cache(...)``.
        ignore : list of str, optional
            Arguments that do not change the result (e.g. ``['verbose']``,
            ``['self']`` for methods).
        verbose : int, optional
            Verbosity for this function (default: the Memory's).
        mmap_mode : {None, 'r+', 'r', 'w+', 'c'} or False
            Memory-map mode for this function; False uses the Memory's.
        cache_validation_callback : callable, optional
            ``callback(metadata) -> bool`` run on each hit; False makes the
            result be computed again (see :func:`expires_after`).

        Returns
        -------
        MemorizedFunc, AsyncMemorizedFunc or NotMemorizedFunc
        """
        if cache_validation_callback is not None and not callable(
            cache_validation_callback
        ):
            raise ValueError(
                "cache_validation_callback needs to be callable. "
                f"Got {cache_validation_callback!r} "
                f"(type {type(cache_validation_callback).__name__})."
            )
        if func is None:
            return functools.partial(
                self.cache,
                ignore=ignore,
                mmap_mode=mmap_mode,
                verbose=verbose,
                cache_validation_callback=cache_validation_callback,
            )
        return self._wrap(func, ignore, verbose, mmap_mode, cache_validation_callback)

    def _wrap(self, func, ignore, verbose, mmap_mode, cache_validation_callback):
        is_async = inspect.iscoroutinefunction(func)
        if self.store_backend is None:
            return (AsyncNotMemorizedFunc if is_async else NotMemorizedFunc)(func)
        verbose = self._verbose if verbose is None else verbose
        mmap_mode = self.mmap_mode if mmap_mode is False else mmap_mode
        check_mmap_mode(mmap_mode)
        if isinstance(func, MemorizedFunc):
            func = func.func
            is_async = inspect.iscoroutinefunction(func)
        cls = AsyncMemorizedFunc if is_async else MemorizedFunc
        return cls(
            func,
            location=self.store_backend,
            backend=self.backend,
            ignore=ignore,
            mmap_mode=mmap_mode,
            compress=self.compress,
            verbose=verbose,
            timestamp=self.timestamp,
            cache_validation_callback=cache_validation_callback,
        )

    def clear(self, warn: bool = True) -> None:
        """Delete every result of the cache.

        Parameters
        ----------
        warn : bool, default=True
            Warn that the whole cache is being flushed.
        """
        if warn:
            _log_warning(self, "Flushing completely the cache")
        if self.store_backend is not None:
            self.store_backend.clear()
            # Without this, functions verified before the wipe would not
            # rewrite their func_code.py, and every later call would miss.
            _FUNCTION_HASHES.clear()

    def reduce_size(
        self,
        bytes_limit: int | str | None = None,
        items_limit: int | None = None,
        age_limit: datetime.timedelta | None = None,
    ) -> None:
        """Delete the least recently accessed results until the cache fits.

        Parameters
        ----------
        bytes_limit : int or str, optional
            Maximum size of the cache, in bytes or as ``'10M'``/``'1G'``.
        items_limit : int, optional
            Maximum number of cached results.
        age_limit : datetime.timedelta, optional
            Results last accessed longer ago than this are deleted.

        Raises
        ------
        ValueError
            For a negative limit (e.g. a negative ``age_limit``).
        """
        check_limits(bytes_limit, items_limit, age_limit)
        if self.store_backend is None:
            return
        if bytes_limit is None and items_limit is None and age_limit is None:
            return
        self.store_backend.enforce_store_limits(bytes_limit, items_limit, age_limit)

    def eval(self, func: Callable, *args, **kwargs) -> Any:
        """Call ``func(*args, **kwargs)`` through the cache.

        Parameters
        ----------
        func : callable
            The function to call (cached as by :meth:`cache`).
        *args, **kwargs
            Its arguments.

        Returns
        -------
        object
            ``func(*args, **kwargs)``, loaded from the cache when present.
        """
        if self.store_backend is None:
            return func(*args, **kwargs)
        return self.cache(func)(*args, **kwargs)

    def __repr__(self):
        location = None if self.store_backend is None else self.store_backend.location
        return "{class_name}(location={location})".format(
            class_name=self.__class__.__name__, location=location
        )

    def __getstate__(self):
        # Without the timestamp, equal Memory objects pickle (and hash) equally.
        state = self.__dict__.copy()
        state["timestamp"] = None
        return state

# Names joblib 1.6 imported into this module, still imported from here.
from . import hashing  # noqa: E402,F401
from .func_inspect import (  # noqa: E402,F401
    filter_args, format_call, format_signature, get_func_code,
)
from .logger import format_time, pformat  # noqa: E402,F401

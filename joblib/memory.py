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

from ._memory import func_code, stats, store_factory
from ._memory.memorized import AsyncMemorizedFunc, MemorizedFunc
from ._memory.options import (
    DEFAULT_OPTIONS,
    UNSET,
    FunctionOptions,
    Limits,
    check_limits_args,
)
from ._memory.func_code import extract_first_line
from ._memory.reporting import warn as _log_warning
from ._memory.store_factory import store_backend_factory
from ._persist.file_io import check_mmap_mode
from ._store.eviction import check_limits
from ._memory.validation import expires_after
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
from .func_inspect import get_func_name  # noqa: F401 (1.6 name in this module)
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


def _check_validation_callback(callback) -> None:
    if callback is not None and not callable(callback):
        raise ValueError(
            "cache_validation_callback needs to be callable. "
            f"Got {callback}. Expected a callable, got type {type(callback).__name__}."
        )


class Memory(Logger):
    """Cache the results of functions on disk, keyed by their arguments.

    (Options after ``storage_options`` are keyword-only and new in this
    package; their defaults are joblib 1.6's behaviour.)

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
    hash_name : str, default='md5'
        Hash of the arguments (see :func:`joblib.hash`); results made with
        one algorithm are never returned for another.
    compute_once : bool, default=False
        When several threads or processes call a function with the same
        arguments and the result is not cached yet, one computes it and the
        others wait for it and load it.
    compute_once_timeout : float, optional
        Seconds a caller waits for another to compute (None: as long as the
        computing process lives); then it computes itself.
    bytes_limit, items_limit, age_limit : optional
        Limits kept on write: a write that takes the cache over one deletes
        the least recently used results before the call returns. As for
        :meth:`reduce_size`.
    record_stats : bool, default=False
        At exit, add this process' counts of :meth:`stats` to the cache's
        ``.joblib_stats.json``, which ``python -m joblib cache`` shows.

    Raises
    ------
    ValueError, TypeError
        For an invalid ``compress``, ``mmap_mode``, ``hash_name``,
        ``compute_once_timeout`` or limit.

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
    ValueError: Non valid compress level given: "12". Possible values are [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]. Expected an int from 0 to 9, got 12 (type int).
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
        *,
        hash_name: str = "md5",
        compute_once: bool = False,
        compute_once_timeout: float | None = None,
        bytes_limit: int | str | None = None,
        items_limit: int | None = None,
        age_limit: datetime.timedelta | None = None,
        record_stats: bool = False,
    ) -> None:
        Logger.__init__(self)
        options = store_factory.memory_store_options(
            compress, mmap_mode, backend_options, storage_options
        )
        function_options = FunctionOptions.checked(
            hash_name=hash_name,
            compute_once=compute_once,
            compute_once_timeout=compute_once_timeout,
            record_stats=record_stats,
        )
        limits = check_limits_args(bytes_limit, items_limit, age_limit)
        # Only set when not the defaults: the state pickled is 1.6's otherwise.
        if function_options != DEFAULT_OPTIONS:
            self._options = function_options
        if limits:
            self._limits = limits
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
        *,
        hash_name: str = ...,
        compute_once: bool = ...,
        compute_once_timeout: float | None = ...,
        depends: list[Callable] | None = ...,
        version: str | int | float | None = ...,
        check_code: bool = ...,
    ) -> CachedFunction[_P, _R]: ...

    @overload
    def cache(
        self,
        func: None = None,
        ignore: list[str] | None = None,
        verbose: int | None = None,
        mmap_mode: str | None | bool = False,
        cache_validation_callback: Callable[[dict], bool] | None = None,
        *,
        hash_name: str = ...,
        compute_once: bool = ...,
        compute_once_timeout: float | None = ...,
        depends: list[Callable] | None = ...,
        version: str | int | float | None = ...,
        check_code: bool = ...,
    ) -> Callable[[Callable[_P, _R]], CachedFunction[_P, _R]]: ...

    def cache(
        self,
        func: Callable | None = None,
        ignore: list[str] | None = None,
        verbose: int | None = None,
        mmap_mode: str | None | bool = False,
        cache_validation_callback: Callable[[dict], bool] | None = None,
        *,
        hash_name: str = UNSET,
        compute_once: bool = UNSET,
        compute_once_timeout: float | None = UNSET,
        depends: list[Callable] | None = UNSET,
        version: str | int | float | None = UNSET,
        check_code: bool = UNSET,
    ) -> Any:
        """Wrap ``func`` so that its results are cached (``@memory.cache(...)``).

        Parameters
        ----------
        func : callable, optional
            The function to cache; omitted when used as ``@memory.cache(...)``.
        ignore : list of str, optional
            Arguments that do not change the result (``['self']`` for methods).
        verbose : int, optional
            Verbosity for this function (default: the Memory's).
        mmap_mode : {None, 'r+', 'r', 'w+', 'c'} or False
            Memory-map mode for this function; False uses the Memory's.
        cache_validation_callback : callable, optional
            ``callback(metadata) -> bool`` run on each hit; False makes the
            result be computed again (see :func:`expires_after`).
        hash_name, compute_once, compute_once_timeout : optional
            This function's values of the Memory's options of these names.
        depends : list of callables, optional
            Helpers whose code changes invalidate the results too.
        version : str or number, optional
            A label: changing it invalidates the results.
        check_code : bool, default=True
            False: a change of the function's own code keeps its results.

        Returns
        -------
        MemorizedFunc, AsyncMemorizedFunc or NotMemorizedFunc

        Raises
        ------
        TypeError, ValueError
            For an option of the wrong type or value.
        """
        options = self._options.updated(
            hash_name=hash_name, compute_once=compute_once,
            compute_once_timeout=compute_once_timeout, depends=depends,
            version=version, check_code=check_code,
        )
        _check_validation_callback(cache_validation_callback)
        wrap = functools.partial(
            self._wrap, ignore=ignore, verbose=verbose, mmap_mode=mmap_mode,
            cache_validation_callback=cache_validation_callback, options=options,
        )
        return wrap if func is None else wrap(func)

    def _wrap(
        self, func, *, ignore, verbose, mmap_mode, cache_validation_callback, options
    ):
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
            options=options,
            limits=self._limits or None,
        )

    def stats(self) -> dict:
        """Statistics of the cache, in total and per function.

        Returns
        -------
        dict
            ``hits``, ``misses``, ``stores``, ``failed_loads`` and
            ``time_saved`` count the calls made in this process;
            ``entries`` and ``bytes`` describe what the cache holds now.
            ``functions`` maps each function's identifier to the same keys
            for that function (plus ``last_access``). Listing the cache
            costs a walk over its folders.
        """
        if self.store_backend is None:
            total = dict.fromkeys(stats.KEYS, 0)
            total["functions"] = {}
            return total
        return stats.memory_stats(self.store_backend)

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

    # Defaults of the options beyond 1.6 (also for Memory objects unpickled
    # from joblib 1.6); set on the instance only when given.
    _options = DEFAULT_OPTIONS
    _limits = Limits()

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

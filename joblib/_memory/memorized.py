"""``MemorizedFunc``: what ``Memory.cache`` returns (and its async variant).

Users pickle these objects, so they are joblib 1.6's classes at the path
``joblib.memory`` (their ``__module__``), which re-exports them; their
joblib 1.6 attributes are views of a ``FunctionState``.
"""

from __future__ import annotations

import functools
import time
import warnings
from typing import Any

from .._store_backends import CacheWarning
from ..logger import Logger
from . import cached_call, compute_once, stats
from .cached_call import MISS
from .call_identity import func_identifier
from .function_state import PICKLED_FIELDS, FunctionState
from .options import DEFAULT_OPTIONS, FunctionOptions, Limits
from .reporting import user_stacklevel
from .results import MemorizedResult, NotMemorizedResult
from .store_factory import store_backend_factory
from .validation import memoized_doc

__all__ = ["AsyncMemorizedFunc", "MemorizedFunc"]

_PUBLIC_MODULE = "joblib.memory"


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
        *,
        options: FunctionOptions | None = None,
        limits: Limits | None = None,
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
            options=DEFAULT_OPTIONS if options is None else options,
            limits=limits,
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
        return self._miss(key, args, kwargs, shelving=False)

    def _miss(self, key, args, kwargs, shelving):
        if self._jl_state.options.compute_once:
            return compute_once.run(
                self._jl_state,
                key,
                shelving,
                lambda: self._compute(key, args, kwargs, shelving)[0],
            )
        return self._compute(key, args, kwargs, shelving)[0]

    def stats(self) -> dict:
        """Statistics of this function in its cache.

        Returns
        -------
        dict
            ``hits``, ``misses``, ``stores``, ``failed_loads`` and
            ``time_saved`` (seconds: the recorded durations of the results
            that were hits) count the calls of this process; ``entries``,
            ``bytes`` and ``last_access`` describe the function's results
            on disk now.
        """
        return stats.function_stats(self._jl_state)

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
        return self._miss(key, args, kwargs, shelving=True)

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
        extra = self._jl_state.extra_fields()
        if extra is not None:  # options beyond 1.6 only: 1.6's state otherwise
            state["_cache_options"] = extra
        return state

    def __setstate__(self, state):
        state = dict(state)
        fields = {k: state.pop(k) for k in PICKLED_FIELDS if k in state}
        extra = state.pop("_cache_options", None)
        self.__dict__.update(state)
        self._jl_state = FunctionState.from_fields(fields, reporter=self, extra=extra)

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


for _cls in (MemorizedFunc, AsyncMemorizedFunc):
    # Pickles and reprs name the public path, as joblib 1.6's did.
    _cls.__module__ = _PUBLIC_MODULE
del _cls

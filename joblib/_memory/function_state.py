"""The state of one cached function, in one object.

``MemorizedFunc`` (``joblib.memory``) is the user-facing shell; its joblib
1.6 attributes (``func``, ``func_id``, ``store_backend``, ``mmap_mode``,
``_func_code_info``...) are views of a :class:`FunctionState`, which the
steps of a cached call (``cached_call``) and the code check
(``func_code``) use through the small interface below and nothing else:

- identity: ``func``, ``func_id``, ``identity_func``, ``name``;
- options: ``ignore``, ``mmap_mode``, ``verbose``, ``timestamp``,
  ``validation`` (the ``cache_validation_callback``), ``options`` (the
  options beyond 1.6: hash, compute-once, invalidation controls) and
  ``limits`` (the Memory's size limits, enforced on write, or None);
- ``counters``: the process' statistics of the function;
- the store handle: ``store`` (the public store API, see
  ``joblib._store_backends``);
- the code check: ``code_info()`` (what is compared) and
  ``code_is_current()``, which asks ``func_code.check`` for a verdict and
  acts on it (write the code of a new function, clear a changed one).
"""

from __future__ import annotations

from typing import Any, Callable

from ..func_inspect import get_func_name
from . import func_code, reporting, stats
from .call_identity import func_identifier, identity_target
from .options import DEFAULT_OPTIONS, FunctionOptions, Limits
from .results import MemorizedResult

__all__ = ["FunctionState", "PICKLED_FIELDS"]

# MemorizedFunc attribute -> FunctionState attribute. These are the names
# joblib 1.6 pickles, so MemorizedFunc exposes them as properties.
PICKLED_FIELDS = {
    "mmap_mode": "mmap_mode",
    "func": "func",
    "cache_validation_callback": "validation",
    "func_id": "func_id",
    "ignore": "ignore",
    "_verbose": "verbose",
    "store_backend": "store",
    "timestamp": "timestamp",
    "_func_code_info": "code_info_cache",
    "_func_code_id": "code_id",
}


class FunctionState:
    """Identity, options, store handle and code-check result of a cached function.

    ``reporter`` is the object named in log messages (the MemorizedFunc,
    whose repr users see in ``[MemorizedFunc(...)]: ...`` lines).
    """

    def __init__(
        self,
        func: Callable,
        store: Any,
        *,
        reporter: Any,
        func_id: str | None = None,
        ignore: list | None = None,
        mmap_mode: str | None = None,
        verbose: int = 1,
        timestamp: float | None = None,
        validation: Callable[[dict], bool] | None = None,
        options: FunctionOptions = DEFAULT_OPTIONS,
        limits: Limits | None = None,
    ) -> None:
        self.func = func
        self.func_id = func_identifier(func) if func_id is None else func_id
        self.store = store
        self.reporter = reporter
        self.ignore = [] if ignore is None else ignore
        self.mmap_mode = mmap_mode
        self.verbose = verbose
        self.timestamp = timestamp
        self.validation = validation
        # (source, file, first line): computed once and pickled, because
        # child processes often cannot read the source.
        self.code_info_cache = None
        self.code_id = None  # id of the __code__ code_info_cache was read from
        self._name = None
        self.options = options
        self.limits = limits if limits else None
        self.counters = stats.counters_for(store, self.func_id)
        self.counters.record |= options.record_stats

    @classmethod
    def from_fields(cls, fields: dict, reporter: Any, extra=None) -> "FunctionState":
        """Rebuild from the pickled attributes (``PICKLED_FIELDS`` names) and
        the ``extra`` ``(options, limits)`` pickled when not the defaults."""
        state = cls.__new__(cls)
        state.reporter = reporter
        state._name = None
        defaults = {"ignore": [], "verbose": 1, "func_id": None, "store": None}
        for public, own in PICKLED_FIELDS.items():
            setattr(state, own, fields.get(public, defaults.get(own)))
        if state.func_id is None and state.func is not None:
            state.func_id = func_identifier(state.func)
        state.options, state.limits = extra or (DEFAULT_OPTIONS, None)
        state.counters = stats.counters_for(state.store, state.func_id)
        state.counters.record |= state.options.record_stats
        return state

    def extra_fields(self):
        """``(options, limits)`` if they differ from joblib 1.6's, else None."""
        if self.options == DEFAULT_OPTIONS and self.limits is None:
            return None
        return self.options, self.limits

    # -- identity --------------------------------------------------------

    @property
    def identity_func(self) -> Callable:
        """The function whose code and name identify the cache (partials unwrapped)."""
        return identity_target(self.func)[0]

    @property
    def name(self) -> str:
        """The function's name, as printed in messages."""
        if self._name is None:
            self._name = get_func_name(self.identity_func)[1]
        return self._name

    # -- code check ------------------------------------------------------

    def code_info(self) -> tuple:
        """``(source, source file, first line)`` of the function, computed once."""
        code = getattr(self.identity_func, "__code__", None)
        if code is not None:
            if self.code_id is None:
                self.code_id = id(code)
            elif id(code) != self.code_id:
                self.code_info_cache = None  # __code__ was reassigned
                self.code_id = id(code)
        if self.code_info_cache is None:
            self.code_info_cache = func_code.read_code_info(self.identity_func)
        return self.code_info_cache

    def code_is_current(self) -> bool:
        """True if the stored results were computed by the current code.

        False means the call is a miss: the function was new to the cache
        (its code is now written) or its code changed (its results are now
        cleared).
        """
        verdict = func_code.check(self)
        if verdict is func_code.CURRENT:
            return True
        if verdict is func_code.CHANGED:
            _, name = get_func_name(self.identity_func, resolv_alias=False)
            reporting.function_changed(self.verbose, self.reporter, name, self.func_id)
            self.clear(warn=True)
        else:
            self.write_code()
        return False

    def write_code(self) -> None:
        """Write ``func_code.py`` for the current code and remember it."""
        func_code.write(self)

    def clear(self, warn: bool = True) -> None:
        """Delete every stored result of the function; keep its code."""
        reporting.clearing_function(
            self.verbose if warn else 0, self.reporter, self.func_id
        )
        self.store.clear_path([self.func_id])
        self.write_code()

    # -- results ---------------------------------------------------------

    def memorized_result(self, call_id, metadata=None):
        """A :class:`MemorizedResult` referencing the entry ``call_id``."""
        return MemorizedResult(
            self.store,
            call_id,
            metadata=metadata,
            timestamp=self.timestamp,
            verbose=self.verbose - 1,
        )

"""The steps of a cached call: look up, validate, load, or compute and store.

``MemorizedFunc`` (in ``joblib.memory``) is a thin shell over these
functions, which take its ``FunctionState`` and reach the store only
through the public store API (one path for every store). The asynchronous
variant reuses every step and only awaits the computation itself.

Order of the writes on a miss: ``metadata.json`` first, then
``output.pkl``. A result is "in the cache" when its ``output.pkl`` exists,
so a concurrent reader never finds a result without its metadata (which a
``cache_validation_callback`` needs). The local store writes a new entry
as one folder holding both, renamed into place (``_jl_dump_entry``).
"""

from __future__ import annotations

import time
import warnings
from typing import Any, NamedTuple

from . import reporting, stats
from .call_identity import hash_arguments
from .results import NotMemorizedResult

__all__ = ["CallKey", "MISS", "prepare", "lookup", "store_result", "is_in_cache"]

# Persisting the metadata should take milliseconds; beyond this the reprs
# of the arguments are probably huge, which the user should know about.
_SLOW_METADATA = 0.5


class CallKey(NamedTuple):
    """A call's ``(func_id, args_id)`` plus the arguments that were hashed."""

    call_id: tuple
    arg_dict: dict


class _Miss:
    """Sentinel returned by :func:`lookup` when the result must be computed."""

    def __repr__(self) -> str:
        return "MISS"


MISS = _Miss()


def prepare(state, args: tuple, kwargs: dict) -> CallKey:
    """Hash the arguments of a call of ``state``'s function."""
    args_id, arg_dict = hash_arguments(
        state.func,
        state.ignore,
        args,
        kwargs,
        coerce_mmap=state.mmap_mode is not None,
        hash_name=state.options.hash_name,
    )
    return CallKey((state.func_id, args_id), arg_dict)


def _passes_validation(state, call_id) -> bool:
    """Run the user's validation callback; a rejected entry is deleted."""
    callback = state.validation
    if callback is None:
        return True
    metadata = state.store.get_metadata(call_id)
    if callback(metadata):
        return True
    state.store.clear_item(call_id)
    return False


def _metadata_passes(state, call_id) -> bool:
    """Validate an entry from its metadata alone, before loading its result.

    Every stored entry has metadata, so missing metadata is a miss: the
    callback only sees existing entries, and a hit reads two objects (the
    metadata, then the result) instead of asking first whether the entry
    exists, which costs an object store a third request.
    """
    metadata = state.store.get_metadata(call_id)
    if not metadata:
        return False
    if state.validation(metadata):
        return True
    state.store.clear_item(call_id)
    return False


def is_in_cache(state, call_id) -> bool:
    """Code unchanged, entry present, and accepted by the validation callback."""
    if not state.code_is_current():
        return False
    if not state.store.contains_item(call_id):
        return False
    return _passes_validation(state, call_id)


def _warn_load_failure(state, call_id, exc: BaseException) -> None:
    # Through the MemorizedFunc's ``warn`` (1.6's Logger API), which code patches.
    location = state.store.get_item_info(call_id).get("location")
    state.reporter.warn(
        "Exception while loading results for %s from %s: %s: %s. The cache "
        "entry is ignored and the result computed again."
        % (state.func_id, location, type(exc).__name__, exc)
    )


def _load(state, call_id):
    """Load a cached result; MISS if it is absent or cannot be read."""
    start = time.time()
    try:
        output = state.store.fetch_item(
            call_id,
            mmap_mode=state.mmap_mode,
            verbose=state.verbose,
            timestamp=state.timestamp,
        )
    except KeyError:
        return MISS  # not cached, or deleted since (e.g. reduce_size elsewhere)
    except Exception as exc:  # corrupt or unreadable entry: warned, recomputed
        state.counters.failed_loads += 1
        _warn_load_failure(state, call_id, exc)
        return MISS
    if state.verbose > reporting.VERBOSE_LOADS:
        reporting.loaded(state.verbose, state.name, time.time() - start)
    return output


def lookup(state, key: CallKey, shelving: bool, args=(), kwargs=None) -> Any:
    """Return the cached value (or a MemorizedResult when shelving), or MISS."""
    if state.verbose >= reporting.VERBOSE_QUERIES:
        location = state.store.get_cached_func_info([state.func_id]).get("location")
        reporting.querying(
            state.verbose,
            state.func,
            args,
            kwargs or {},
            key.call_id[1],
            location,
            state.reporter,
        )
    if shelving:
        # Ask the store first, as joblib 1.6 does: a shelved result is not loaded.
        if not is_in_cache(state, key.call_id):
            return MISS
        return state.memorized_result(key.call_id)
    if not state.code_is_current():
        return MISS
    if state.validation is not None and not _metadata_passes(state, key.call_id):
        return MISS
    # fetch_item signals a missing entry by a KeyError.
    value = _load(state, key.call_id)
    if value is not MISS:
        # Counted inline: this is the hit path (see joblib._memory.stats).
        counters = state.counters
        counters.hits += 1
        counters.pending.append(key.call_id[1])
        if len(counters.pending) > stats.MAX_PENDING:
            stats.settle(state.store, state.func_id, counters)
    return value


def _metadata(key: CallKey, duration: float, start_time: float) -> dict:
    input_repr = {k: repr(v) for k, v in key.arg_dict.items()}
    return {"duration": duration, "input_args": input_repr, "time": start_time}


def _warn_if_slow(elapsed: float) -> None:
    if elapsed > _SLOW_METADATA:
        warnings.warn(
            "Persisting input arguments took %.2fs to run. If this happens "
            "often in your code, it can cause performance problems (results "
            "will be correct in all cases). The reason for this is probably "
            "some large input arguments for a wrapped function." % elapsed,
            stacklevel=reporting.user_stacklevel(),
        )


def _store_entry(state, key: CallKey, output, duration: float, start_time: float):
    """Write metadata and result; return ``(dump_item's answer, metadata)``.

    The local store writes a new entry at once (``_jl_dump_entry``);
    other stores get the metadata, then the result.
    """
    store = state.store
    at_once = getattr(store, "_jl_writes_entries", False)
    started = time.time()
    metadata = _metadata(key, duration, start_time)
    if not at_once:
        store.store_metadata(key.call_id, metadata)
    _warn_if_slow(time.time() - started)
    if at_once:
        return store._jl_dump_entry(key.call_id, output, metadata, state.verbose), metadata
    return store.dump_item(key.call_id, output, verbose=state.verbose), metadata


def store_result(state, key: CallKey, output, start_time: float, shelving: bool):
    """Persist a freshly computed result; return ``(value or reference, metadata)``."""
    duration = time.time() - start_time
    stored, metadata = _store_entry(state, key, output, duration, start_time)
    reporting.computed(state.verbose, state.name, time.time() - start_time)
    if stored is not False:
        state.counters.stores += 1
        if state.limits is not None:
            state.store.enforce_limits_after_write(key.call_id, state.limits)
    if stored is False:
        # Not cached (a CacheWarning said why): hand the value back as is.
        return (NotMemorizedResult(output) if shelving else output), metadata
    if shelving:
        return state.memorized_result(key.call_id, metadata), metadata
    if state.mmap_mode is not None:
        # Return the memory-mapped array from the first call on, as later
        # hits will.
        loaded = _load(state, key.call_id)
        output = output if loaded is MISS else loaded
    return output, metadata


def announce_call(state, key: CallKey, args, kwargs) -> None:
    """Messages printed before computing (and the count of misses)."""
    state.counters.misses += 1
    verbose = state.verbose
    if verbose > reporting.VERBOSE_DETAILS:
        location = state.store.get_cached_func_info([state.func_id]).get("location")
        reporting.computing(verbose, state.reporter, state.name, key.call_id[1], location)
    reporting.calling(verbose, state.func, args, kwargs)

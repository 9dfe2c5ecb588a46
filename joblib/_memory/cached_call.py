"""The steps of a cached call: look up, validate, load, or compute and store.

``MemorizedFunc`` (in ``joblib.memory``) is a thin shell over these
functions; the asynchronous variant reuses every step and only awaits the
computation itself.

Order of the writes on a miss: ``metadata.json`` first, then
``output.pkl``. A result is "in the cache" when its ``output.pkl`` exists,
so a concurrent reader never finds a result without its metadata (which a
``cache_validation_callback`` needs).
"""

from __future__ import annotations

import time
import warnings
from typing import Any, NamedTuple

from .._store_backends import FileSystemStoreBackend
from . import func_code, reporting
from .call_identity import hash_arguments

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


def prepare(mf, args: tuple, kwargs: dict) -> CallKey:
    """Hash the arguments of a call of ``mf``."""
    args_id, arg_dict = hash_arguments(
        mf.func, mf.ignore, args, kwargs, coerce_mmap=mf.mmap_mode is not None
    )
    return CallKey((mf.func_id, args_id), arg_dict)


def _passes_validation(mf, call_id) -> bool:
    """Run the user's validation callback; a rejected entry is deleted."""
    callback = mf.cache_validation_callback
    if callback is None:
        return True
    metadata = mf.store_backend.get_metadata(call_id)
    if callback(metadata):
        return True
    mf.store_backend.clear_item(call_id)
    return False


def is_in_cache(mf, call_id, need_contains: bool = True) -> bool:
    """Code unchanged, entry present, and accepted by the validation callback."""
    if not func_code.code_is_current(mf):
        return False
    if need_contains and not mf.store_backend.contains_item(call_id):
        return False
    return _passes_validation(mf, call_id)


def _warn_load_failure(mf, call_id, exc: BaseException) -> None:
    # Through the object's ``warn`` (1.6's Logger API), which code patches.
    location = mf.store_backend.get_item_info(call_id).get("location")
    mf.warn(
        "Exception while loading results for %s from %s: %s: %s. The cache "
        "entry is ignored and the result computed again."
        % (mf.func_id, location, type(exc).__name__, exc)
    )


def _is_fast(store) -> bool:
    """True for the local store, whose load_item has the faster contract.

    A subclass that overrides ``load_item`` or ``contains_item`` gets the
    joblib 1.6 sequence of calls instead.
    """
    cls = type(store)
    return (
        cls.load_item is FileSystemStoreBackend.load_item
        and cls.contains_item is FileSystemStoreBackend.contains_item
    )


def _load(mf, call_id):
    """Load a cached result; MISS if it vanished or cannot be read."""
    start = time.time()
    store = mf.store_backend
    # The local store honours each function's own mmap_mode (joblib 1.6
    # always used the Memory's); other stores get the 1.6 call.
    extra = {"mmap_mode": mf.mmap_mode} if _is_fast(store) else {}
    try:
        output = store.load_item(
            call_id, timestamp=mf.timestamp, verbose=mf._verbose, **extra
        )
    except KeyError:
        return MISS  # deleted since we looked (e.g. reduce_size elsewhere)
    except Exception as exc:  # corrupt or unreadable entry: warned, recomputed
        _warn_load_failure(mf, call_id, exc)
        return MISS
    if mf._verbose > reporting.VERBOSE_LOADS:
        reporting.loaded(mf._verbose, mf._func_name(), time.time() - start)
    return output


def lookup(mf, key: CallKey, shelving: bool, args=(), kwargs=None) -> Any:
    """Return the cached value (or a MemorizedResult when shelving), or MISS."""
    store = mf.store_backend
    if mf._verbose >= reporting.VERBOSE_QUERIES:
        location = store.get_cached_func_info([mf.func_id]).get("location")
        reporting.querying(
            mf._verbose, mf.func, args, kwargs or {}, key.call_id[1], location, mf
        )
    # The local store signals a missing entry by a KeyError from load_item,
    # which saves a stat() per hit; other stores are asked first, as in 1.6.
    # A validation callback needs the metadata of an existing entry, so the
    # entry is looked for first when there is one.
    fast = _is_fast(store) and not shelving and mf.cache_validation_callback is None
    if not is_in_cache(mf, key.call_id, need_contains=not fast):
        return MISS
    if shelving:
        return mf._memorized_result(key.call_id)
    return _load(mf, key.call_id)


def _metadata(key: CallKey, duration: float, start_time: float) -> dict:
    input_repr = {k: repr(v) for k, v in key.arg_dict.items()}
    return {"duration": duration, "input_args": input_repr, "time": start_time}


def _persist_metadata(mf, key: CallKey, duration: float, start_time: float) -> dict:
    started = time.time()
    metadata = _metadata(key, duration, start_time)
    mf.store_backend.store_metadata(key.call_id, metadata)
    elapsed = time.time() - started
    if elapsed > _SLOW_METADATA:
        warnings.warn(
            "Persisting input arguments took %.2fs to run. If this happens "
            "often in your code, it can cause performance problems (results "
            "will be correct in all cases). The reason for this is probably "
            "some large input arguments for a wrapped function." % elapsed,
            stacklevel=reporting.user_stacklevel(),
        )
    return metadata


def store_result(mf, key: CallKey, output, start_time: float, shelving: bool):
    """Persist a freshly computed result; return ``(value or reference, metadata)``."""
    duration = time.time() - start_time
    metadata = _persist_metadata(mf, key, duration, start_time)
    stored = mf.store_backend.dump_item(key.call_id, output, verbose=mf._verbose)
    reporting.computed(mf._verbose, mf._func_name(), time.time() - start_time)
    if stored is False:
        # Not cached (a CacheWarning said why): hand the value back as is.
        return (mf._not_memorized_result(output) if shelving else output), metadata
    if shelving:
        return mf._memorized_result(key.call_id, metadata), metadata
    if mf.mmap_mode is not None:
        # Return the memory-mapped array from the first call on, as later
        # hits will.
        loaded = _load(mf, key.call_id)
        output = output if loaded is MISS else loaded
    return output, metadata


def announce_call(mf, key: CallKey, args, kwargs) -> None:
    """Messages printed before computing."""
    location = mf.store_backend.get_cached_func_info([mf.func_id]).get("location")
    reporting.computing(mf._verbose, mf, mf._func_name(), key.call_id[1], location)
    reporting.calling(mf._verbose, mf.func, args, kwargs)

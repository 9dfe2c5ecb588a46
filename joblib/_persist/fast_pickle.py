"""C-speed first attempts at dump and load, for objects holding no array.

joblib's format for an object without numpy arrays is a plain pickle, so
the C ``pickle.Pickler``/``Unpickler`` produce and read it directly, many
times faster than the pure-Python pickler subclasses that inline array
bytes. Each attempt bails out with :class:`ArrayFound` at the first array
(dump) or array wrapper (load); the caller then rewinds and uses the
pure-Python path from the start.

The plain twin is always there: set ``JOBLIB_NO_FAST_PICKLE=1`` in the
environment (read at import) or ``ENABLED = False`` here, and ``dump``,
``load`` and Memory's local store use only joblib's pure-Python pickler,
which writes the same bytes (tests/test_fast_paths.py checks that).
"""

from __future__ import annotations

import os
import pickle
import sys

__all__ = ["ArrayFound", "ENABLED", "fast_dump", "fast_load", "WRAPPER_CLASS_NAMES"]

# False: every dump and load takes the pure-Python path (for bug reports).
ENABLED = os.environ.get("JOBLIB_NO_FAST_PICKLE", "") in ("", "0")

# Classes whose unpickling needs the joblib unpickler (they are followed by
# raw bytes or refer to companion files). Old files name the legacy
# wrappers under joblib.numpy_pickle, where they lived before 0.10.
WRAPPER_CLASS_NAMES = frozenset(
    [
        ("joblib.numpy_pickle", "NumpyArrayWrapper"),
        ("joblib.numpy_pickle", "NDArrayWrapper"),
        ("joblib.numpy_pickle", "ZNDArrayWrapper"),
        ("joblib.numpy_pickle_compat", "NDArrayWrapper"),
        ("joblib.numpy_pickle_compat", "ZNDArrayWrapper"),
    ]
)
# Markers that, seen in the first buffered bytes, make the attempt pointless.
_WRAPPER_MARKERS = (b"NumpyArrayWrapper", b"NDArrayWrapper")


class ArrayFound(Exception):
    """Internal signal: the object needs joblib's array handling."""


class _ArrayAwarePickler(pickle.Pickler):
    """C pickler that stops at the first numpy array."""

    # Set on each instance by fast_dump (no Python __init__: it would cost
    # more than pickling a small result).
    _array_types: tuple = ()

    def reducer_override(self, obj):
        # Only called for non-builtin types, so dicts/lists/str stay at C speed.
        if type(obj) in self._array_types:
            raise ArrayFound()
        return NotImplemented


def _array_types() -> tuple:
    """Exact array types joblib inlines; empty when numpy is not imported."""
    np = sys.modules.get("numpy")
    if np is None:
        # No ndarray can exist before numpy is imported.
        return ()
    return (np.ndarray, np.matrix, np.memmap)


def fast_dump(value, fileobj, protocol: int) -> None:
    """Pickle ``value`` with the C pickler; raise ArrayFound at an array."""
    types = _array_types()
    if types:
        pickler = _ArrayAwarePickler(fileobj, protocol=protocol)
        pickler._array_types = types
        pickler.dump(value)
    else:
        pickle.Pickler(fileobj, protocol=protocol).dump(value)


class _WrapperAwareUnpickler(pickle.Unpickler):
    """C unpickler that stops at the first joblib array wrapper."""

    def find_class(self, module, name):
        if (module, name) in WRAPPER_CLASS_NAMES:
            raise ArrayFound()
        return super().find_class(module, name)


def worth_trying(fileobj) -> bool:
    """False when an array wrapper is visible in the already buffered bytes."""
    peek = getattr(fileobj, "peek", None)
    if peek is None:
        return True
    head = peek(1 << 16)
    return not any(marker in head for marker in _WRAPPER_MARKERS)


def fast_load(fileobj):
    """Unpickle with the C unpickler; raise ArrayFound at an array wrapper."""
    return _WrapperAwareUnpickler(fileobj).load()

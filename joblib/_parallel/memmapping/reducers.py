"""Pickling reducers that send numpy arrays to workers as memory maps.

Forward (parent -> worker):

- an array that is (a view of) an ``np.memmap`` of a file is sent by
  reference: file name, offset, dtype, shape, strides and mode;
- an array larger than ``max_nbytes`` is written once per context to a raw
  file in the context's temporary folder and sent as a reference to it;
- anything else is pickled as usual.

Backward (worker -> parent): a result backed by a user's memmap comes back by
reference; one backed by a temporary file comes back by value, because that
file disappears when the call ends.
"""

from __future__ import annotations

from mmap import mmap
from typing import Any

from .array_files import is_temporary_memmap

__all__ = ["has_shareable_memory", "reduce_array_memmap_backward"]


def _get_backing_memmap(a: Any):
    """Return the array whose ``base`` is the ``mmap`` under ``a``, or None."""
    b = getattr(a, "base", None)
    while b is not None:
        if isinstance(b, mmap):
            return a
        a, b = b, getattr(b, "base", None)
    return None


def has_shareable_memory(a: Any) -> bool:
    """Return True if ``a`` is backed by a memory-mapped buffer.

    Examples
    --------
    >>> import numpy as np
    >>> has_shareable_memory(np.zeros(3))
    False
    """
    return _get_backing_memmap(a) is not None


def _byte_bounds(a: Any) -> tuple[int, int]:
    try:
        from numpy.lib.array_utils import byte_bounds  # numpy is optional at import (numpy >= 2)
    except ImportError:  # numpy < 2.0
        from numpy import byte_bounds  # numpy is optional at import (numpy < 2)
    return byte_bounds(a)


def _reduce_memmap_backed(a: Any, m: Any) -> tuple:
    """Reduce ``a``, a view of the ``np.memmap`` ``m``, to a file reference."""
    if a.size == 0:
        return _reduce_by_value(a)  # nothing to map (mmap refuses 0 bytes)
    low, high = _byte_bounds(a)
    file_offset = m.offset + (low - _byte_bounds(m)[0])
    if a.flags.c_contiguous or a.flags.f_contiguous:
        order = "F" if (a.ndim > 1 and not a.flags.c_contiguous) else "C"
        args = (m.filename, a.dtype, m.mode, file_offset, order, a.shape)
        return _memmap_from_file, args
    # A strided view: map the enclosing bytes, then rebuild the same view.
    first = a.__array_interface__["data"][0] - low
    args = (m.filename, a.dtype, m.mode, file_offset, high - low, first, a.shape, a.strides)
    return _strided_from_file, args


def _memmap_from_file(filename, dtype, mode, offset, order, shape):
    """Worker side: a contiguous memmap on a user's file."""
    import numpy as np  # numpy is optional at import

    mode = "r+" if mode == "w+" else mode
    return np.memmap(filename, dtype=dtype, mode=mode, offset=offset, shape=shape, order=order)


def _strided_from_file(filename, dtype, mode, offset, nbytes, first, shape, strides):
    """Worker side: a strided view on a memmap of a user's file."""
    import numpy as np  # numpy is optional at import

    mode = "r+" if mode == "w+" else mode
    base = np.memmap(filename, dtype=np.uint8, mode=mode, offset=offset, shape=(nbytes,))
    return np.ndarray(shape, dtype=dtype, buffer=base, offset=first, strides=strides)


def _reduce_by_value(a: Any) -> tuple:
    """Plain pickling of ``a`` as an in-memory ndarray (never a memmap)."""
    # numpy's own reduction depends on the pickler's protocol (out-of-band
    # buffers from protocol 5), which a dispatch-table reducer is not told:
    # a wrapper's __reduce_ex__ is, so numpy's reduction is made there.
    return _identity, (_ArrayByValue(a),)


def _identity(obj: Any) -> Any:
    return obj


class _ArrayByValue:
    """Pickles as the plain ndarray view of the wrapped array."""

    __slots__ = ("array",)

    def __init__(self, array: Any):
        self.array = array

    def __reduce_ex__(self, protocol: int):
        import numpy as np  # numpy is optional at import

        return np.asarray(self.array).__reduce_ex__(protocol)


def reduce_array_memmap_backward(a: Any) -> tuple:
    """Reduce an array returned by a worker to the parent.

    Memmaps of the user's files come back by reference; memmaps of joblib's
    temporary files, and ordinary arrays, come back by value.
    """
    import numpy as np  # numpy is optional at import

    m = _get_backing_memmap(a)
    if isinstance(m, np.memmap) and m.filename is not None and not is_temporary_memmap(m.filename):
        return _reduce_memmap_backed(a, m)
    return _reduce_by_value(a)

"""Feeding numpy array memory straight into a hash object.

Only called when numpy is already imported (the object is a numpy object).
The bytes fed are those of joblib 1.6: the array's elements in C order, read
from its own memory whenever the array is C- or F-contiguous (no copy).
"""

from __future__ import annotations

__all__ = ["feed_array", "array_key"]

# Non-contiguous arrays are copied to C order piecewise, so hashing a strided
# view of a huge array does not double the memory footprint.
_CHUNK_BYTES = 16 * 1024 * 1024


def feed_array(update, array, np) -> None:
    """Feed the C-order element bytes of a non-object ``array`` to ``update``.

    Parameters
    ----------
    update : callable
        The ``update`` method of a :mod:`hashlib` object.
    array : numpy.ndarray
        Array whose dtype holds no Python objects.
    np : module
        The numpy module.
    """
    if array.ndim == 0:
        update(memoryview(array.reshape(1).view(np.uint8)))
    elif array.flags.c_contiguous:
        update(memoryview(array.view(np.uint8)))
    elif array.flags.f_contiguous:
        # The transpose of an F-ordered array is C-ordered over the same
        # memory, which is what joblib 1.6 hashes.
        update(memoryview(array.T.view(np.uint8)))
    else:
        _feed_in_chunks(update, array, np)


def _feed_in_chunks(update, array, np) -> None:
    """Feed a strided array in C order, copying at most ~16 MiB at a time."""
    rows = array.shape[0]
    row_bytes = array.nbytes // rows if rows else 0
    step = max(1, _CHUNK_BYTES // row_bytes) if row_bytes else rows or 1
    for start in range(0, rows, step):
        chunk = np.ascontiguousarray(array[start : start + step])
        update(memoryview(chunk.view(np.uint8)))


def array_key(array, np, coerce_mmap: bool) -> tuple:
    """Return the picklable stand-in joblib 1.6 hashes after the raw bytes.

    ``(class, ("HASHED", dtype, shape, strides))``: the class tells
    ``np.memmap`` from ``np.ndarray`` (unless ``coerce_mmap``), the rest tells
    apart arrays with the same bytes but different views.
    """
    klass = type(array)
    if coerce_mmap and isinstance(array, np.memmap):
        klass = np.ndarray
    return klass, ("HASHED", array.dtype, array.shape, array.strides)

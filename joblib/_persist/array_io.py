"""Raw array payloads inside a joblib pickle: aligned write, read, memmap.

Layout after each ``NumpyArrayWrapper`` in the stream (joblib >= 1.2):
one byte ``p`` giving the padding length, ``p`` bytes of ``0xff``, then the
array's items in the wrapper's ``order``, so that the data starts on a
multiple of ``alignment`` bytes of the (uncompressed) stream and can be
memory-mapped. Files from joblib < 1.2 have no padding byte (the wrapper
has no alignment attribute). Object arrays are instead a nested pickle
stream (protocol 5) with no padding.

Everything streams in bounded blocks straight between the file and the
array's own memory: no full-size temporary copy is ever made.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
import warnings

__all__ = [
    "ALIGNMENT_BYTES",
    "write_array",
    "read_array",
    "read_memmap",
    "make_memmap",
    "ensure_native_byte_order",
    "restore_subclass",
]

ALIGNMENT_BYTES = 16
# Bytes moved per write/readinto call: large enough to hide the Python loop,
# small enough to bound the extra memory of compressed and strided writes.
CHUNK_BYTES = 16 * 1024**2
# Through a (de)compressor, blocks that stay in the CPU cache between the
# codec and the array copy are measurably faster (lz4: about 2x).
CODEC_CHUNK_BYTES = 1024**2


def _chunk_for(fileobj) -> int:
    raw = getattr(fileobj, "raw", fileobj)
    return CHUNK_BYTES if isinstance(raw, io.FileIO) else CODEC_CHUNK_BYTES


def _np():
    import numpy  # numpy is optional at import

    return numpy


def write_padding(fileobj, alignment: int | None) -> None:
    """Write the padding-length byte and the padding (none if unaligned)."""
    if alignment is None:
        return
    # +1 because the length byte itself precedes the data.
    length = alignment - (fileobj.tell() + 1) % alignment
    fileobj.write(bytes((length,)) + b"\xff" * length)


def write_array(array, fileobj, order: str, alignment: int | None) -> None:
    """Write ``array``'s payload at the current position of ``fileobj``."""
    if array.dtype.hasobject:
        # Python objects have no raw bytes: pickle them (protocol 5, as 1.6).
        pickle.dump(array, fileobj, protocol=5)
        return
    write_padding(fileobj, alignment)
    for block in _byte_blocks(array, order, _chunk_for(fileobj)):
        fileobj.write(block)


def _byte_blocks(array, order: str, chunk: int):
    """Yield the array's bytes in ``order`` as bounded memoryview blocks."""
    np = _np()
    array = np.asarray(array)  # subclasses (matrix) may reshape on ravel
    contiguous = array.flags.f_contiguous if order == "F" else array.flags.c_contiguous
    if array.size == 0 or array.dtype.itemsize == 0:
        return
    if contiguous:
        flat = array.ravel(order="K" if array.ndim else "C").view(np.uint8)
        view = memoryview(flat).cast("B")
        for start in range(0, len(view), chunk):
            yield view[start : start + chunk]
        return
    # Strided view: copy a bounded number of items at a time.
    per_block = max(chunk // array.dtype.itemsize, 1)
    for chunk in np.nditer(
        array,
        flags=["external_loop", "buffered", "zerosize_ok"],
        buffersize=per_block,
        order=order,
    ):
        yield memoryview(np.ascontiguousarray(chunk).view(np.uint8))


def skip_padding(fileobj, alignment: int | None) -> int:
    """Consume the padding before an array; return how many bytes it took."""
    if alignment is None:
        return 0
    length_byte = fileobj.read(1)
    if len(length_byte) != 1:
        raise _truncated(1, 0)
    if length_byte[0]:
        if len(fileobj.read(length_byte[0])) != length_byte[0]:
            raise _truncated(length_byte[0], 0)
    return 1 + length_byte[0]


def _truncated(expected: int, got: int) -> EOFError:
    return EOFError(
        "The file is truncated or corrupted: an array needed %d more bytes "
        "but only %d could be read." % (expected, got)
    )


def _count(shape) -> int:
    count = 1
    for dim in shape:
        count *= int(dim)  # Python ints: no overflow for huge shapes
    return count


def read_array(fileobj, shape, dtype, order: str, alignment: int | None):
    """Read a non-object array written by :func:`write_array`."""
    np = _np()
    skip_padding(fileobj, alignment)
    count = _count(shape)
    _check_available(fileobj, count * np.dtype(dtype).itemsize)
    try:
        array = np.empty(count, dtype=dtype)
    except MemoryError:
        # A stream of unknown length: a header claiming more bytes than
        # the stream holds is a corrupt file, not a memory shortage.
        _skip_exactly(fileobj, count * np.dtype(dtype).itemsize)
        raise
    if array.nbytes:
        _readinto_exactly(fileobj, memoryview(array.view(np.uint8)))
    if order == "F":
        return array.reshape(tuple(shape)[::-1]).transpose()
    return array.reshape(shape)


def _remaining_bytes(fileobj) -> int | None:
    """Bytes left in an uncompressed file or BytesIO; None for streams."""
    raw = getattr(fileobj, "raw", fileobj)
    if not isinstance(raw, (io.FileIO, io.BytesIO)):
        return None
    try:
        here = fileobj.tell()
        if isinstance(raw, io.FileIO):
            return os.fstat(raw.fileno()).st_size - here
        return len(raw.getbuffer()) - here
    except (OSError, ValueError):
        return None


def _check_available(fileobj, nbytes: int) -> None:
    """Refuse, before allocating, an array larger than what the file holds."""
    left = _remaining_bytes(fileobj)
    if left is not None and nbytes > left:
        raise _truncated(nbytes, max(left, 0))


def _skip_exactly(fileobj, nbytes: int) -> None:
    """Read and drop ``nbytes`` in bounded blocks, or raise EOFError."""
    done = 0
    while done < nbytes:
        block = fileobj.read(min(CODEC_CHUNK_BYTES, nbytes - done))
        if not block:
            raise _truncated(nbytes, done)
        done += len(block)


def _readinto_exactly(fileobj, view: memoryview) -> None:
    """Fill ``view`` from ``fileobj`` in bounded blocks, or raise EOFError."""
    readinto = getattr(fileobj, "readinto", None)
    chunk = _chunk_for(fileobj)
    done, total = 0, len(view)
    while done < total:
        block = view[done : done + chunk]
        if readinto is not None:
            n = readinto(block)
        else:
            data = fileobj.read(len(block))
            n = len(data)
            block[:n] = data
        if not n:
            raise _truncated(total, done)
        done += n


def make_memmap(
    filename,
    dtype="uint8",
    mode="r+",
    offset=0,
    shape=None,
    order="C",
    unlink_on_gc_collect=False,
):
    """Create a ``numpy.memmap`` (joblib 1.6 ``backports.make_memmap`` API).

    ``unlink_on_gc_collect`` is accepted for joblib 1.6 callers and has no
    effect: joblib's temporary array files live as long as their folder
    (see ``_parallel.memmapping.temp_folders``), not per memmap.
    """
    return _np().memmap(
        filename, dtype=dtype, mode=mode, offset=offset, shape=shape, order=order
    )


def read_memmap(fileobj, filename, shape, dtype, order, alignment, mmap_mode):
    """Map the array at the current position of ``fileobj`` and skip past it."""
    start = fileobj.tell()
    offset = start + skip_padding(fileobj, alignment)
    # np.memmap would extend the file ("r+") to fit a corrupt header.
    _check_available(fileobj, _count(shape) * _np().dtype(dtype).itemsize)
    # "w+" would truncate the very file we are reading from.
    mode = "r+" if mmap_mode == "w+" else mmap_mode
    marray = make_memmap(
        filename, dtype=dtype, shape=shape, order=order, mode=mode, offset=offset
    )
    fileobj.seek(offset + marray.nbytes)
    if alignment is None and start % ALIGNMENT_BYTES:
        _warn_unaligned(marray, filename)
    return marray


def _warn_unaligned(marray, filename) -> None:
    warnings.warn(
        "The memmapped array of shape %s loaded from the file %r is not "
        "byte aligned (the file was written by joblib < 1.2). Some libraries "
        "(BLAS, PyTorch) may crash on it; dump the object again with a recent "
        "joblib to get aligned arrays." % (marray.shape, filename),
        stacklevel=4,
    )


def _is_foreign_order(dtype) -> bool:
    """True when ``dtype`` (or all its fields) uses the non-native byte order."""
    foreign = ">" if sys.byteorder == "little" else "<"
    if dtype.byteorder == foreign:
        return True
    if dtype.byteorder == "|" and dtype.fields:
        return all(f[0].byteorder == foreign for f in dtype.fields.values())
    return False


def ensure_native_byte_order(array):
    """Return ``array`` with the host byte order, same values (copy if needed)."""
    if _is_foreign_order(array.dtype):
        return array.byteswap().view(array.dtype.newbyteorder("="))
    return array


def restore_subclass(array, subclass):
    """View ``array`` as the ndarray subclass it was dumped as (np.matrix...).

    ``numpy.memmap`` is never restored: the data now lives in memory or in
    the joblib file, not in the memmap's original file.
    """
    np = _np()
    if (
        isinstance(subclass, type)
        and issubclass(subclass, np.ndarray)
        and subclass not in (np.ndarray, np.memmap)
        and type(array) is not subclass
    ):
        return array.view(subclass)
    return array


def supports_tell(fileobj) -> bool:
    """Whether array alignment can be computed for this output file."""
    try:
        fileobj.tell()
    except (io.UnsupportedOperation, OSError, AttributeError):
        return False
    return True

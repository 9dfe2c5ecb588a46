"""Companion ``.npy`` files of joblib < 0.10: inspect and restricted load.

Files written before joblib 0.10 keep each array in a ``.npy`` file next to
the pickle (``NDArrayWrapper`` holds its name). An object array's ``.npy``
payload is itself a pickle: the scan reads it like any other stream, and a
restricted load reads it with the restricted unpickler instead of
``numpy.load(allow_pickle=True)``.
"""

from __future__ import annotations

import os
import pickle

from .scan import ScanError, scan_stream, stream_size

__all__ = ["scan_companions", "load_companion_restricted"]


def _companion_path(dirname: str, name) -> str:
    if (
        not isinstance(name, str)
        or os.path.basename(name) != name
        or name in ("", ".", "..")
    ):
        raise ScanError(
            "corrupted: companion array file %r is not a plain file name" % (name,)
        )
    return os.path.join(dirname, name)


def _read_npy_header(f):
    """Return (dtype, shape, fortran_order) of an open .npy file."""
    from numpy.lib import format as npy_format  # numpy is optional at import

    version = npy_format.read_magic(f)
    if version == (1, 0):
        return npy_format.read_array_header_1_0(f)
    return npy_format.read_array_header_2_0(f)


def scan_companions(result, dirname: str) -> None:
    """Fill in the companion entries of ``result.arrays`` from their headers."""
    from .scan_arrays import dtype_report  # lazy: numpy-dependent helpers

    for entry in result.arrays:
        if entry.get("format") != "npy":
            continue
        path = _companion_path(dirname, entry["companion"])
        try:
            with open(path, "rb") as f:
                shape, fortran, dtype = _read_npy_header(f)
                entry.update(
                    dtype=dtype_report(dtype),
                    shape=list(shape),
                    order="F" if fortran else "C",
                    offset=f.tell(),
                )
                if dtype.hasobject:
                    scan_stream(f, stream_size(f), result)
                    entry["bytes"] = f.tell() - entry["offset"]
                else:
                    entry["bytes"] = int(dtype.itemsize * _count(shape))
        except (OSError, ValueError) as exc:
            raise ScanError(
                "cannot read companion array file %r: %s" % (path, exc)
            ) from exc


def _count(shape) -> int:
    count = 1
    for dim in shape:
        count *= int(dim)
    return count


def load_companion_restricted(unpickler, wrapper, state):
    """Build the array of an ``NDArrayWrapper`` without unrestricted pickle."""
    # lazy: only when loading a companion
    from .array_io import ensure_native_byte_order, restore_subclass

    if not isinstance(state, dict):
        raise pickle.UnpicklingError("restricted load: invalid array wrapper state")
    np = unpickler.np
    path = _companion_path(unpickler._dirname, state.get("filename"))
    with open(path, "rb") as f:
        shape, fortran, dtype = _read_npy_header(f)
        if dtype.hasobject:
            array = type(unpickler)(path, f, False).load()
        else:
            array = None
    if array is None:
        mmap_mode = unpickler.mmap_mode if state.get("allow_mmap", True) else None
        array = np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    array = ensure_native_byte_order(array)
    return restore_subclass(array, state.get("subclass"))

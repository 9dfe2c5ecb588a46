"""Readers for the persistence formats of joblib < 0.10 (read-only).

This module is the home of ``NDArrayWrapper`` and ``ZNDArrayWrapper``,
whose paths are written in old files (``joblib.numpy_pickle_compat``, and
``joblib.numpy_pickle`` which re-exports them):

* joblib < 0.10 wrote the pickle plus one ``.npy`` companion file per
  array (``NDArrayWrapper`` holds the companion's name);
* joblib < 0.9.3 with compression wrote "zfiles": ``b"ZF"``, the payload
  length in hex, then a zlib stream; arrays went to companion zfiles
  (``ZNDArrayWrapper``).
"""

from __future__ import annotations

import os
import pickle
import zlib
from io import BytesIO

from ._persist.array_io import ensure_native_byte_order, restore_subclass
from .compressor import _ZFILE_PREFIX

__all__ = [
    "NDArrayWrapper",
    "ZNDArrayWrapper",
    "ZipNumpyUnpickler",
    "load_compatibility",
    "read_zfile",
    "write_zfile",
    "hex_str",
    "asbytes",
]

Unpickler = pickle._Unpickler


def hex_str(an_int: int) -> str:
    """Return ``an_int`` as a ``0x``-prefixed hexadecimal string."""
    return "{:#x}".format(an_int)


def asbytes(s) -> bytes:
    """Encode a str as latin-1 bytes; return bytes unchanged."""
    return s if isinstance(s, bytes) else s.encode("latin1")


# Width of the hexadecimal length field of a zfile header.
_MAX_LEN = len(hex_str(2**64))


def read_zfile(file_handle) -> bytes:
    """Return the decompressed payload of a zfile (joblib < 0.9.3 format)."""
    file_handle.seek(0)
    header_length = len(_ZFILE_PREFIX) + _MAX_LEN
    header = file_handle.read(header_length)
    length = int(header[len(_ZFILE_PREFIX) :], 16)
    # Some versions wrote a separator space after the header, some did not.
    if file_handle.read(1) != b" ":
        file_handle.seek(header_length)
    data = zlib.decompress(file_handle.read(), 15, length)
    if len(data) != length:
        raise ValueError(
            "Incorrect data length while decompressing %r: expected %d bytes, "
            "got %d. The file could be corrupted." % (file_handle, length, len(data))
        )
    return data


def write_zfile(file_handle, data, compress: int = 1) -> None:
    """Write ``data`` as a zfile (only used to build test fixtures)."""
    file_handle.write(_ZFILE_PREFIX)
    file_handle.write(asbytes(hex_str(len(data)).ljust(_MAX_LEN)))
    file_handle.write(zlib.compress(asbytes(data), compress))


def _companion_path(unpickler, name) -> str:
    """Path of a companion file, refusing names that leave the directory."""
    if (
        not isinstance(name, str)
        or os.path.basename(name) != name
        or name in ("", ".", "..")
    ):
        raise ValueError(
            "Refusing to read the companion array file %r: expected a plain "
            "file name in the directory of the pickle." % (name,)
        )
    return os.path.join(unpickler._dirname, name)


def _reconstruct(*args, **kwargs):
    """numpy's private ndarray reconstructor (moved in numpy 2)."""
    try:
        # numpy is optional at import (numpy >= 2)
        from numpy._core.multiarray import _reconstruct as reconstruct
    except ImportError:
        # numpy is optional at import (numpy < 2)
        from numpy.core.multiarray import _reconstruct as reconstruct
    return reconstruct(*args, **kwargs)


class NDArrayWrapper:
    """Placeholder for an array stored in a ``.npy`` companion file.

    Attributes
    ----------
    filename : str
        Companion file name, relative to the pickle's directory.
    subclass : type
        Array subclass to restore.
    allow_mmap : bool
        Whether the companion may be memory-mapped.
    """

    def __init__(self, filename, subclass, allow_mmap=True):
        self.filename = filename
        self.subclass = subclass
        self.allow_mmap = allow_mmap

    def read(self, unpickler):
        """Load the companion array."""
        kwargs = {"allow_pickle": True}
        if getattr(self, "allow_mmap", True):
            kwargs["mmap_mode"] = unpickler.mmap_mode
        array = unpickler.np.load(_companion_path(unpickler, self.filename), **kwargs)
        array = ensure_native_byte_order(array)
        return restore_subclass(array, self.subclass)


class ZNDArrayWrapper(NDArrayWrapper):
    """Placeholder for an array whose raw data sits in a companion zfile.

    Attributes
    ----------
    filename : str
        Companion zfile name, relative to the pickle's directory.
    init_args : tuple
        Arguments of numpy's ``_reconstruct``.
    state : tuple
        ``ndarray.__setstate__`` state without the data.
    """

    def __init__(self, filename, init_args, state):
        self.filename = filename
        self.state = state
        self.init_args = init_args

    def read(self, unpickler):
        """Rebuild the array from its metadata and the companion zfile."""
        array = _reconstruct(*self.init_args)
        with open(_companion_path(unpickler, self.filename), "rb") as f:
            data = read_zfile(f)
        array.__setstate__(self.state + (data,))
        return array


class ZipNumpyUnpickler(Unpickler):
    """Unpickler for zfile pickles whose arrays are in companion files."""

    dispatch = Unpickler.dispatch.copy()

    def __init__(self, filename, file_handle, mmap_mode=None):
        self._filename = os.path.basename(filename)
        self._dirname = os.path.dirname(filename)
        self.mmap_mode = mmap_mode
        self.file_handle = self._open_pickle(file_handle)
        Unpickler.__init__(self, self.file_handle)
        try:
            import numpy as np  # numpy is optional at import
        except ImportError:
            np = None
        self.np = np

    def _open_pickle(self, file_handle):
        return BytesIO(read_zfile(file_handle))

    def load_build(self):
        """Run BUILD, then replace an NDArrayWrapper by its array."""
        Unpickler.load_build(self)
        if isinstance(self.stack[-1], NDArrayWrapper):
            if self.np is None:
                raise ImportError(
                    "Trying to unpickle an ndarray, but numpy didn't import correctly"
                )
            self.stack.append(self.stack.pop().read(self))

    dispatch[pickle.BUILD[0]] = load_build


def load_compatibility(filename):
    """Load a file written by joblib < 0.10 in the zfile format.

    .. warning::
       This unpickles: only load files from sources you trust.

    Parameters
    ----------
    filename : str
        Path of the main file; companion files are looked up next to it.

    Returns
    -------
    object
        The stored object.
    """
    with open(filename, "rb") as file_handle:
        unpickler = ZipNumpyUnpickler(filename, file_handle=file_handle)
        try:
            return unpickler.load()
        except UnicodeDecodeError as exc:
            raise ValueError(
                "You may be trying to read with python 3 a joblib pickle "
                "generated with python 2. This feature is not supported by joblib."
            ) from exc
        finally:
            unpickler.file_handle.close()

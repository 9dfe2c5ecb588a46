"""Fast persistence of Python objects holding numpy arrays, in one file.

This module is the home of :class:`NumpyArrayWrapper`, whose module path and
attribute names are written into every joblib file (do not move or rename
them), of the :class:`NumpyPickler` / :class:`NumpyUnpickler` pair and of
:func:`dump` / :func:`load`. The machinery lives in ``joblib._persist``.

.. warning::
   :func:`load` runs pickle code: only load files you trust.
"""

from __future__ import annotations

import os
import pickle
import sys

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import IO, Any

    from ._persist.inspect import inspect_file
    from ._persist.trust import UntrustedTypesError

from ._persist import array_io, fast_pickle
from ._persist.dumping import dump_value
from ._persist.loading import check_load_options, load_value
from ._persist.file_io import check_mmap_mode, open_for_read
from .compressor import (  # noqa: F401  (1.6 names importable from here)
    _COMPRESSORS,
    LZ4_NOT_INSTALLED_ERROR,
    BinaryZlibFile,
    BZ2CompressorWrapper,
    GzipCompressorWrapper,
    LZ4CompressorWrapper,
    LZMACompressorWrapper,
    XZCompressorWrapper,
    ZlibCompressorWrapper,
    register_compressor,
)

# Files written before joblib 0.10 name the legacy wrappers in this module.
from .numpy_pickle_compat import (  # noqa: F401
    NDArrayWrapper,
    ZNDArrayWrapper,
    load_compatibility,
)

__all__ = [
    "NumpyArrayWrapper",
    "NumpyPickler",
    "NumpyUnpickler",
    "dump",
    "load",
    "load_temporary_memmap",
    "NUMPY_ARRAY_ALIGNMENT_BYTES",
]

# The pure-Python pickle classes: their per-object hooks (save, dispatch
# table) are what lets arrays be replaced by a wrapper plus raw bytes.
Pickler = pickle._Pickler
Unpickler = pickle._Unpickler

NUMPY_ARRAY_ALIGNMENT_BYTES = array_io.ALIGNMENT_BYTES


def _numpy_if_imported():
    # An ndarray cannot exist unless numpy was imported: do not import it.
    return sys.modules.get("numpy")


class NumpyArrayWrapper:
    """Stand-in pickled in place of a numpy array, followed by its raw bytes.

    Attributes
    ----------
    subclass : type
        ``type(array)`` (``numpy.ndarray``, ``numpy.matrix``, ``numpy.memmap``).
    shape : tuple of int
    order : {"C", "F"}
        Order in which the items are written.
    dtype : numpy.dtype
    allow_mmap : bool
        Whether the array may be memory-mapped on load.
    numpy_array_alignment_bytes : int or None
        Alignment of the data in the stream (16); None, or missing in files
        from joblib < 1.2, means no padding byte precedes the data.
    """

    def __init__(
        self,
        subclass,
        shape,
        order,
        dtype,
        allow_mmap=False,
        numpy_array_alignment_bytes=NUMPY_ARRAY_ALIGNMENT_BYTES,
    ):
        self.subclass = subclass
        self.shape = shape
        self.order = order
        self.dtype = dtype
        self.allow_mmap = allow_mmap
        self.numpy_array_alignment_bytes = numpy_array_alignment_bytes

    def safe_get_numpy_array_alignment_bytes(self):
        """Return the alignment, None for wrappers from joblib < 1.2 files."""
        return getattr(self, "numpy_array_alignment_bytes", None)

    def write_array(self, array, pickler):
        """Write the array's payload into ``pickler.file_handle``."""
        array_io.write_array(
            array,
            pickler.file_handle,
            self.order,
            self.safe_get_numpy_array_alignment_bytes(),
        )

    def read_array(self, unpickler, ensure_native_byte_order):
        """Read the payload into a new in-memory array."""
        if self.dtype.hasobject:
            array = _nested_unpickler(unpickler).load()
        else:
            array = array_io.read_array(
                unpickler.file_handle,
                self.shape,
                self.dtype,
                self.order,
                self.safe_get_numpy_array_alignment_bytes(),
            )
        if ensure_native_byte_order:
            array = array_io.ensure_native_byte_order(array)
        return array

    def read_mmap(self, unpickler):
        """Memory-map the payload from ``unpickler.filename``."""
        if unpickler.mmap_mode == "w+":
            # Later arrays of the same file must not truncate it again.
            unpickler.mmap_mode = "r+"
        return array_io.read_memmap(
            unpickler.file_handle,
            unpickler.filename,
            self.shape,
            self.dtype,
            self.order,
            self.safe_get_numpy_array_alignment_bytes(),
            unpickler.mmap_mode,
        )

    def read(self, unpickler, ensure_native_byte_order):
        """Return the array this wrapper stands for."""
        if unpickler.mmap_mode is not None and self.allow_mmap:
            array = self.read_mmap(unpickler)
        else:
            array = self.read_array(unpickler, ensure_native_byte_order)
        return array_io.restore_subclass(array, self.subclass)


def _nested_unpickler(unpickler):
    """Unpickler for an object array's nested stream, same restrictions.

    A fresh unpickler (the nested stream has its own stack and memo) whose
    ``find_class`` is the outer unpickler's own, bound to that instance: a
    subclass's override, its instance state, or a ``find_class`` assigned
    on the instance all apply to the objects inside the array (a security
    property joblib 1.6 has).
    """
    inner = Unpickler(unpickler.file_handle)
    inner.find_class = unpickler.find_class
    inner.dispatch = _OpcodeTable(Unpickler.dispatch)
    return inner


class NumpyPickler(Pickler):
    """Pickler writing numpy arrays inline as wrapper + raw bytes.

    Parameters
    ----------
    fp : file object
        Binary file to write to.
    protocol : int, optional
        Pickle protocol; defaults to ``pickle.DEFAULT_PROTOCOL``.
    """

    dispatch = Pickler.dispatch.copy()

    def __init__(self, fp, protocol=None):
        self.file_handle = fp
        self.buffered = isinstance(fp, BinaryZlibFile)
        if protocol is None:
            protocol = pickle.DEFAULT_PROTOCOL
        Pickler.__init__(self, fp, protocol=protocol)
        self.np = _numpy_if_imported()

    def _create_array_wrapper(self, array):
        """Describe ``array`` with a NumpyArrayWrapper."""
        order = (
            "F" if array.flags.f_contiguous and not array.flags.c_contiguous else "C"
        )
        kwargs = {}
        if not array_io.supports_tell(self.file_handle):
            kwargs["numpy_array_alignment_bytes"] = None
        return NumpyArrayWrapper(
            type(array),
            array.shape,
            order,
            array.dtype,
            allow_mmap=not self.buffered and not array.dtype.hasobject,
            **kwargs,
        )

    def save(self, obj, save_persistent_id=True):
        """Save ``obj``; numpy arrays become a wrapper followed by their bytes.

        Arrays bypass the memo: each reference is written (and loaded) as
        its own copy, exactly like joblib 1.6.
        """
        np = self.np
        if np is not None and type(obj) in (np.ndarray, np.matrix, np.memmap):
            wrapper = self._create_array_wrapper(obj)
            Pickler.save(self, wrapper)
            if self.proto >= 4:
                # The raw bytes must follow the wrapper's frame, not sit in it.
                self.framer.commit_frame(force=True)
            wrapper.write_array(obj, self)
            return
        return Pickler.save(self, obj, save_persistent_id)


class _OpcodeTable(dict):
    """Opcode dispatch table reporting unknown opcodes as UnpicklingError.

    The pure-Python unpickler would raise a bare KeyError on a corrupted
    stream; the C unpickler says "invalid load key".
    """

    def __missing__(self, key):
        raise pickle.UnpicklingError("invalid load key, %r." % (bytes([key]),))


class NumpyUnpickler(Unpickler):
    """Unpickler turning array wrappers back into arrays.

    Parameters
    ----------
    filename : str
        Path of the file (needed to memory-map arrays); "" for file objects.
    file_handle : file object
        Open binary file positioned at the start of the pickle.
    ensure_native_byte_order : bool
        Byte-swap arrays to the host byte order.
    mmap_mode : {None, "r+", "r", "w+", "c"}, optional
        Memory-map arrays instead of reading them.
    """

    dispatch = _OpcodeTable(Unpickler.dispatch)

    def __init__(self, filename, file_handle, ensure_native_byte_order, mmap_mode=None):
        # Legacy (< 0.10) files keep arrays in companion files next to it.
        self._dirname = os.path.dirname(filename)
        self.mmap_mode = mmap_mode
        self.file_handle = file_handle
        self.filename = filename
        self.compat_mode = False
        self.ensure_native_byte_order = ensure_native_byte_order
        Unpickler.__init__(self, file_handle)
        try:
            import numpy as np  # numpy is optional at import
        except ImportError:
            np = None
        self.np = np

    def load_build(self):
        """Run BUILD, then replace an array wrapper on the stack by its array."""
        Unpickler.load_build(self)
        top = self.stack[-1]
        if not isinstance(top, (NDArrayWrapper, NumpyArrayWrapper)):
            return
        if self.np is None:
            raise ImportError(
                "Trying to unpickle an ndarray, but numpy didn't import correctly"
            )
        self.stack.pop()
        if isinstance(top, NDArrayWrapper):
            self.compat_mode = True
            array = top.read(self)
        else:
            array = top.read(self, self.ensure_native_byte_order)
        self.stack.append(array)

    dispatch[pickle.BUILD[0]] = load_build


def dump(
    value: Any,
    filename: str | os.PathLike | IO[bytes],
    compress: bool | int | str | tuple = 0,
    protocol: int | None = None,
) -> list[str]:
    """Persist an arbitrary Python object into one file.

    Parameters
    ----------
    value : any Python object
        The object to store.
    filename : str, os.PathLike or file object
        Destination path, or a binary file object open for writing. For a
        path, an extension ``.z``, ``.gz``, ``.bz2``, ``.lzma``, ``.xz``,
        ``.lz4`` or ``.zst`` selects that compressor unless ``compress``
        names a method.
    compress : bool, int from 0 to 9, str or (str, int), default 0
        0/False: no compression; True: default level (3 for zlib); an int:
        that zlib level; a method name ("zlib", "gzip", "bz2", "lzma", "xz",
        "lz4", "zstd" or a registered one); or ``(method, level)``.
    protocol : int, optional
        Pickle protocol, ``pickle.DEFAULT_PROTOCOL`` by default.

    Returns
    -------
    list of str or None
        ``[filename]`` for a path, None for a file object.

    Raises
    ------
    ValueError
        Bad ``compress`` value or ``filename`` that is neither a path nor a
        writable file object.

    Notes
    -----
    Arrays are written in bounded chunks straight from their memory. A path
    is written to a temporary file renamed into place when complete.
    Compressed files cannot be memory-mapped on load.

    Examples
    --------
    >>> import os, tempfile
    >>> from joblib import dump, load
    >>> path = os.path.join(tempfile.mkdtemp(), "obj.pkl")
    >>> dump({"a": [1, 2]}, path)  # doctest: +ELLIPSIS
    ['.../obj.pkl']
    >>> load(path)
    {'a': [1, 2]}
    >>> dump({"a": 1}, 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Second argument should be a filename or a file-like object, ...
    """
    if protocol is None:
        protocol = pickle.DEFAULT_PROTOCOL
    return dump_value(value, filename, compress, protocol, NumpyPickler, fast_pickle.ENABLED)


def load(filename: str | os.PathLike | IO[bytes], mmap_mode: str | None = None,
         ensure_native_byte_order: bool | str = "auto", trusted: Any = None) -> Any:
    """Reconstruct a Python object from a file written by :func:`dump`.

    .. warning:: Unpickling can run arbitrary code: load a file from a
       source you do not trust only with ``trusted=[...]``.

    Parameters
    ----------
    filename : str, os.PathLike or file object
        Path, or a binary file object open for reading (a regular file,
        ``io.BytesIO``, ``gzip.GzipFile``, ...); compression is detected.
    mmap_mode : {None, "r+", "r", "w+", "c"}, optional
        Memory-map the arrays of an uncompressed file (see ``numpy.memmap``);
        ignored with a warning for compressed files and file objects.
    ensure_native_byte_order : bool or "auto", default "auto"
        Byte-swap arrays to the host's byte order; "auto" means
        ``mmap_mode is None``. True together with a ``mmap_mode`` is an error.
    trusted : list or None, default None
        A list (even empty) of trusted names: restricted mode, see
        :ref:`safe_loading`. None: full pickle, as joblib 1.6.

    Returns
    -------
    object
        The stored object.

    Raises
    ------
    ValueError
        Invalid ``mmap_mode``, or ``ensure_native_byte_order=True`` with one.
    FileNotFoundError, IsADirectoryError
        The path does not name a file.
    pickle.UnpicklingError, EOFError
        The file is corrupted, truncated or not a joblib file.
    UntrustedTypesError
        With ``trusted``: every global not allowed is listed; nothing ran.

    Examples
    --------
    >>> import os, tempfile
    >>> from joblib import dump, load
    >>> path = dump([1, 2, 3], os.path.join(tempfile.mkdtemp(), "obj.pkl"))[0]
    >>> load(path)
    [1, 2, 3]
    >>> load(path, mmap_mode="rw")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: mmap_mode should be one of None, 'r+', 'r', 'w+', 'c' (or ...), got 'rw' ...
    """
    mmap_mode = check_mmap_mode(mmap_mode)  # numpy's long names -> short ones
    native = check_load_options(mmap_mode, ensure_native_byte_order)
    if trusted is not None:
        return _load_restricted(filename, mmap_mode, native, trusted)
    return load_value(filename, mmap_mode, native, NumpyUnpickler,
                      load_compatibility, fast_pickle.ENABLED)


def _load_restricted(filename, mmap_mode, native, trusted):
    # Imported on use: the restricted mode's modules import this one.
    from ._persist.restricted import load_restricted

    return load_restricted(filename, mmap_mode, native, trusted)


def __getattr__(name):
    # Public names of the restricted mode and of inspection, imported lazily.
    if name == "UntrustedTypesError":
        from ._persist.trust import UntrustedTypesError  # lazy: safe loading only

        return UntrustedTypesError
    if name == "inspect_file":
        from ._persist.inspect import inspect_file  # lazy: inspection only

        return inspect_file
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def load_temporary_memmap(filename, mmap_mode, unlink_on_gc_collect):
    """Load a memmap dumped by the parallel auto-memmapping machinery.

    The object is registered in ``JOBLIB_MMAPS``. ``unlink_on_gc_collect``
    is accepted for joblib 1.6 callers: temporary array files live as long
    as their folder here.
    """
    # Deferred: the 1.6 entry point reaches up into the parallel layer,
    # which persistence must not load.
    from ._parallel.memmapping.array_files import JOBLIB_MMAPS

    with open(filename, "rb") as f:
        with open_for_read(f, filename, mmap_mode) as (fobj, usable_mmap):
            # Workers must see the bytes untouched: no byte swapping.
            obj = NumpyUnpickler(filename, fobj, False, mmap_mode=usable_mmap).load()
    JOBLIB_MMAPS.add(obj.filename)
    return obj

# Names joblib 1.6 imported into this module, still imported from here.
from ._persist.array_io import make_memmap  # noqa: E402,F401
from ._persist.file_io import BUFFER_SIZE  # noqa: E402,F401

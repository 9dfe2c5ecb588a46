"""Compressors usable by :func:`joblib.dump` and :class:`joblib.Memory`.

This module is the home of the compressor registry and of the
:class:`CompressorWrapper` plugin API (``joblib.compressor`` in joblib 1.6).
A compressor is a file-object factory plus the magic bytes that identify its
files and the file extension that selects it on dump.

Examples
--------
Register a third-party compressor: its factory is called as
``factory(fileobj, "wb", compresslevel=level)`` and ``factory(fileobj, "rb")``
(here joblib's own gzip file class under a new name and extension):

>>> from joblib.compressor import (BinaryGzipFile, CompressorWrapper,
...                                register_compressor)
>>> register_compressor(
...     "my_gzip", CompressorWrapper(BinaryGzipFile, prefix=b"\\x1f\\x8b",
...                                  extension=".mygz"), force=True)
>>> del _COMPRESSORS["my_gzip"]  # keep this example out of the registry
>>> register_compressor("zlib", CompressorWrapper(BinaryGzipFile))
Traceback (most recent call last):
...
ValueError: Compressor 'zlib' already registered. Pass force=True to replace it.
"""

from __future__ import annotations

import threading

from ._persist.zlib_file import BinaryGzipFile, BinaryZlibFile

__all__ = [
    "register_compressor",
    "CompressorWrapper",
    "ZlibCompressorWrapper",
    "GzipCompressorWrapper",
    "BZ2CompressorWrapper",
    "LZMACompressorWrapper",
    "XZCompressorWrapper",
    "LZ4CompressorWrapper",
    "ZstdCompressorWrapper",
    "BinaryZlibFile",
    "BinaryGzipFile",
    "LZ4_NOT_INSTALLED_ERROR",
]

LZ4_NOT_INSTALLED_ERROR = (
    "LZ4 is not installed. Install it with `pip install lz4` to use the "
    "'lz4' compressor (https://python-lz4.readthedocs.io/)."
)

ZSTD_NOT_INSTALLED_ERROR = (
    "zstd is not available: it is in the standard library from Python 3.14 "
    '(compression.zstd); on older Pythons install `pip install "joblib[zstd]"` '
    "(the backports.zstd package) to use the 'zstd' compressor."
)

# Magic bytes that start each kind of file (compressor detection on load).
_ZFILE_PREFIX = b"ZF"  # joblib < 0.9.3 "zfile" format (read-only)
_ZLIB_PREFIX = b"\x78"
_GZIP_PREFIX = b"\x1f\x8b"
_BZ2_PREFIX = b"BZ"
_XZ_PREFIX = b"\xfd\x37\x7a\x58\x5a"
_LZMA_PREFIX = b"\x5d\x00"
_LZ4_PREFIX = b"\x04\x22\x4d\x18"
_ZSTD_PREFIX = b"\x28\xb5\x2f\xfd"

# name -> CompressorWrapper; mutated in place by register_compressor, and
# read at call time by dump/load/Memory (never copied).
_COMPRESSORS: dict = {}
_REGISTRY_LOCK = threading.Lock()


class _RegistrationError(TypeError, ValueError):
    """Wrong argument type for register_compressor.

    Also a ValueError because joblib 1.6 raised ValueError here and callers
    may catch that.
    """


def register_compressor(compressor_name: str, compressor, force: bool = False) -> None:
    """Register a compressor under ``compressor_name``.

    Parameters
    ----------
    compressor_name : str
        Name used in ``compress=(name, level)``.
    compressor : CompressorWrapper
        The compressor description.
    force : bool, default False
        Replace an existing compressor of the same name instead of raising.

    Raises
    ------
    TypeError
        If the name is not a str, the compressor is not a CompressorWrapper
        or its factory lacks the file interface (also a ValueError).
    ValueError
        If the name is taken and ``force`` is False.
    """
    _check_registration(compressor_name, compressor)
    with _REGISTRY_LOCK:
        if compressor_name in _COMPRESSORS and not force:
            raise ValueError(
                "Compressor '%s' already registered. Pass force=True to "
                "replace it." % (compressor_name,)
            )
        _COMPRESSORS[compressor_name] = compressor


def _check_registration(name, compressor) -> None:
    """Validate the arguments of register_compressor."""
    if not isinstance(name, str):
        raise _RegistrationError(
            "Compressor name should be a string, '%s' given. Got type %s."
            % (name, type(name).__name__)
        )
    if not isinstance(compressor, CompressorWrapper):
        raise _RegistrationError(
            "Compressor should implement the CompressorWrapper interface, "
            "'%s' given. Got type %s; use a joblib.compressor.CompressorWrapper "
            "instance." % (compressor, type(compressor).__name__)
        )
    factory = compressor.fileobj_factory
    needed = ("read", "write", "seek", "tell")
    if factory is not None and not all(hasattr(factory, a) for a in needed):
        raise _RegistrationError(
            "Compressor 'fileobj_factory' attribute should implement the file "
            "object interface, '%s' given. It needs read, write, seek and "
            "tell methods." % (factory,)
        )


class CompressorWrapper:
    """Describe a compressor: a file-object factory, magic bytes, extension.

    Parameters
    ----------
    obj : callable
        File-object class called as ``obj(fileobj, "wb", compresslevel=...)``
        to compress and ``obj(fileobj, "rb")`` to decompress.
    prefix : bytes, default b""
        Magic bytes at the start of every compressed file.
    extension : str, default ""
        File-name extension (such as ``".gz"``) that selects this compressor
        when ``dump`` is given no explicit ``(method, level)``.
    """

    def __init__(self, obj, prefix: bytes = b"", extension: str = ""):
        self.fileobj_factory = obj
        self.prefix = prefix
        self.extension = extension

    def compressor_file(self, fileobj, compresslevel: int | None = None):
        """Return a file object compressing into ``fileobj``."""
        if compresslevel is None:
            return self.fileobj_factory(fileobj, "wb")
        return self.fileobj_factory(fileobj, "wb", compresslevel=compresslevel)

    def decompressor_file(self, fileobj):
        """Return a file object decompressing from ``fileobj``."""
        return self.fileobj_factory(fileobj, "rb")


class ZlibCompressorWrapper(CompressorWrapper):
    """The default compressor: a raw zlib stream (extension ``.z``)."""

    def __init__(self):
        super().__init__(BinaryZlibFile, prefix=_ZLIB_PREFIX, extension=".z")


class GzipCompressorWrapper(CompressorWrapper):
    """gzip container (extension ``.gz``)."""

    def __init__(self):
        super().__init__(BinaryGzipFile, prefix=_GZIP_PREFIX, extension=".gz")


class BZ2CompressorWrapper(CompressorWrapper):
    """bz2 (extension ``.bz2``)."""

    prefix = _BZ2_PREFIX
    extension = ".bz2"

    def __init__(self):
        import bz2  # optional: Python may be built without bz2

        self.fileobj_factory = bz2.BZ2File


class LZMACompressorWrapper(CompressorWrapper):
    """lzma "alone" format (extension ``.lzma``)."""

    prefix = _LZMA_PREFIX
    extension = ".lzma"
    _lzma_format_name = "FORMAT_ALONE"

    def __init__(self):
        import lzma  # optional: Python may be built without lzma

        self.fileobj_factory = lzma.LZMAFile
        self._lzma_format = getattr(lzma, self._lzma_format_name)

    def compressor_file(self, fileobj, compresslevel: int | None = None):
        """Return an LZMAFile writing this wrapper's format."""
        kwargs = {"format": self._lzma_format}
        if compresslevel is not None:
            kwargs["preset"] = compresslevel
        return self.fileobj_factory(fileobj, "wb", **kwargs)

    def decompressor_file(self, fileobj):
        """Return an LZMAFile reading any lzma/xz format."""
        return self.fileobj_factory(fileobj, "rb")


class XZCompressorWrapper(LZMACompressorWrapper):
    """xz container (extension ``.xz``)."""

    prefix = _XZ_PREFIX
    extension = ".xz"
    _lzma_format_name = "FORMAT_XZ"


class LZ4CompressorWrapper(CompressorWrapper):
    """lz4 frame format (extension ``.lz4``); needs the ``lz4`` package.

    The package is imported on first use so that registering the built-in
    compressors stays cheap and works without it.
    """

    prefix = _LZ4_PREFIX
    extension = ".lz4"

    def __init__(self):
        self._factory = None

    @property
    def fileobj_factory(self):
        if self._factory is None:
            self._factory = _import_lz4_frame_file()
        return self._factory

    def _check_versions(self) -> None:
        """Raise ValueError naming ``pip install lz4`` when lz4 is missing."""
        if self.fileobj_factory is None:
            raise ValueError(LZ4_NOT_INSTALLED_ERROR)

    def compressor_file(self, fileobj, compresslevel: int | None = None):
        """Return an LZ4FrameFile compressing into ``fileobj``."""
        self._check_versions()
        if compresslevel is None:
            return self.fileobj_factory(fileobj, "wb")
        return self.fileobj_factory(fileobj, "wb", compression_level=compresslevel)

    def decompressor_file(self, fileobj):
        """Return a reader decompressing ``fileobj``.

        A lean reader feeding the decompressor large blocks when the factory
        is lz4's own LZ4FrameFile (``load_lz4`` is about 1.2x faster);
        a factory set by a user is used as given.
        """
        self._check_versions()
        if self.fileobj_factory is _import_lz4_frame_file():
            from ._persist.lz4_reader import LZ4FrameReader  # lazy: only with lz4 installed

            return LZ4FrameReader(fileobj)
        return self.fileobj_factory(fileobj, "rb")


class ZstdCompressorWrapper(CompressorWrapper):
    """Zstandard frames (extension ``.zst``): ``compression.zstd`` (Python
    3.14+) or its backport ``backports.zstd`` (``pip install "joblib[zstd]"``),
    imported on first use.
    """

    prefix = _ZSTD_PREFIX
    extension = ".zst"

    def __init__(self):
        self._factory = None

    @property
    def fileobj_factory(self):
        if self._factory is None:
            self._factory = _import_zstd_file()
        return self._factory

    def _check_versions(self) -> None:
        """Raise ValueError naming the ``zstd`` extra when zstd is missing."""
        if self.fileobj_factory is None:
            raise ValueError(ZSTD_NOT_INSTALLED_ERROR)

    def compressor_file(self, fileobj, compresslevel: int | None = None):
        """Return a ZstdFile compressing into ``fileobj`` (default level 3)."""
        self._check_versions()
        return self.fileobj_factory(fileobj, "wb", level=compresslevel)

    def decompressor_file(self, fileobj):
        """Return a ZstdFile decompressing ``fileobj``."""
        self._check_versions()
        return self.fileobj_factory(fileobj, "rb")


def _import_zstd_file():
    """Return the ZstdFile class (stdlib, else backport), or None."""
    try:
        from compression.zstd import ZstdFile  # optional: stdlib from Python 3.14
    except ImportError:
        try:
            from backports.zstd import ZstdFile  # optional dependency (joblib[zstd])
        except ImportError:
            return None
    return ZstdFile


def _import_lz4_frame_file():
    """Return lz4.frame.LZ4FrameFile, or None if lz4 is not installed."""
    try:
        from lz4.frame import LZ4FrameFile  # optional dependency (lz4)
    except ImportError:
        return None
    return LZ4FrameFile


def _register_builtin_compressors() -> None:
    # Written directly: validation would import lz4 through the factory.
    for name, wrapper in (
        ("zlib", ZlibCompressorWrapper),
        ("gzip", GzipCompressorWrapper),
        ("bz2", BZ2CompressorWrapper),
        ("lzma", LZMACompressorWrapper),
        ("xz", XZCompressorWrapper),
        ("lz4", LZ4CompressorWrapper),
        ("zstd", ZstdCompressorWrapper),
    ):
        _COMPRESSORS[name] = wrapper()


_register_builtin_compressors()

# joblib 1.6 imported it here; downstream code reads it from this path.
from ._versions import LooseVersion  # noqa: E402,F401

"""Opening joblib files: compressor detection by magic bytes, mmap checks."""

from __future__ import annotations

import contextlib
import io
import sys
import warnings

from ..compressor import _COMPRESSORS, _ZFILE_PREFIX

__all__ = [
    "detect_compressor",
    "open_for_read",
    "open_for_write",
    "is_raw_file",
    "IO_BUFFER_SIZE",
    "MMAP_MODES",
    "check_mmap_mode",
]

IO_BUFFER_SIZE = 1024**2
BUFFER_SIZE = 2**18  # joblib 1.6's read block size, a public name of its numpy_pickle(_utils)
MMAP_MODES = (None, "r+", "r", "w+", "c")
# numpy.memmap's long names, accepted as joblib 1.6 accepts them.
_MMAP_LONG_NAMES = {"readonly": "r", "readwrite": "r+", "write": "w+", "copyonwrite": "c"}


def check_mmap_mode(mmap_mode):
    """The one validator of ``mmap_mode`` (load, Memory, Parallel's memmaps).

    Returns the short form (``'readonly'`` -> ``'r'``); raises ValueError
    for anything numpy.memmap would not accept.
    """
    if mmap_mode in MMAP_MODES:
        return mmap_mode
    if isinstance(mmap_mode, str) and mmap_mode in _MMAP_LONG_NAMES:
        return _MMAP_LONG_NAMES[mmap_mode]
    raise ValueError(
        "mmap_mode should be one of %s (or numpy's %s), got %r (type %s)"
        % (
            ", ".join(map(repr, MMAP_MODES)),
            ", ".join(map(repr, _MMAP_LONG_NAMES)),
            mmap_mode,
            type(mmap_mode).__name__,
        )
    )


def _compressors() -> dict:
    # register_compressor mutates this dict in place: it is always current.
    return _COMPRESSORS


def _zfile_prefix() -> bytes:
    return _ZFILE_PREFIX


def is_raw_file(fileobj) -> bool:
    """Whether ``fileobj`` is (a buffer over) an OS-level file."""
    return isinstance(getattr(fileobj, "raw", fileobj), io.FileIO)


def _first_bytes(fileobj, n: int) -> bytes:
    if hasattr(fileobj, "peek"):
        return fileobj.peek(n)[:n]
    start = fileobj.tell()
    data = fileobj.read(n)
    if not data and start:
        # At the end, as right after ``dump(obj, buf)``: joblib 1.6 reads
        # such a buffer from its start (code in the wild relies on it).
        start = 0
        fileobj.seek(0)
        data = fileobj.read(n)
    fileobj.seek(start)
    return data


def detect_compressor(fileobj) -> str:
    """Name the compressor of ``fileobj`` from its first bytes.

    Returns
    -------
    str
        A registered compressor name, ``"compat"`` for the joblib < 0.9.3
        zfile format, or ``"not-compressed"``.
    """
    registry = _compressors()
    width = max([len(_zfile_prefix())] + [len(c.prefix) for c in registry.values()])
    head = _first_bytes(fileobj, width)
    if head.startswith(_zfile_prefix()):
        return "compat"
    for name, wrapper in registry.items():
        if wrapper.prefix and head.startswith(wrapper.prefix):
            return name
    return "not-compressed"


def _check_mmap_target(fileobj, filename, compressor, mmap_mode):
    """Return the usable mmap_mode, warning when it has to be ignored.

    The warnings start with joblib 1.6's text, checked in this order.
    """
    if mmap_mode is None:
        return None
    if compressor != "not-compressed":
        reason = (
            'mmap_mode "%s" is not compatible with compressed file %s. '
            '"%s" flag will be ignored.' % (mmap_mode, filename, mmap_mode)
        )
    elif isinstance(fileobj, io.BytesIO):
        reason = (
            'In memory persistence is not compatible with mmap_mode "%s" flag '
            "passed. mmap_mode option will be ignored." % (mmap_mode,)
        )
    elif not is_raw_file(fileobj):
        reason = '"%r" is not a raw file, mmap_mode "%s" flag will be ignored.' % (
            fileobj,
            mmap_mode,
        )
    else:
        return mmap_mode
    warnings.warn(reason + " Arrays are loaded in memory.", stacklevel=_user_level())
    return None


def _user_level() -> int:
    """``stacklevel`` of the first frame outside joblib (and contextlib)."""
    frame, level = sys._getframe(2), 2
    while frame is not None and (
        frame.f_globals.get("__name__", "").startswith("joblib.")
        or frame.f_globals.get("__name__") == "contextlib"
    ):
        frame, level = frame.f_back, level + 1
    return level


@contextlib.contextmanager
def open_for_read(fileobj, filename, mmap_mode=None):
    """Yield ``(readable file object, usable mmap_mode)`` for a joblib file.

    For the zfile format of joblib < 0.9.3 the yielded object is the
    ``filename`` itself (a str), to be read by ``load_compatibility``.
    """
    compressor = detect_compressor(fileobj)
    if compressor == "compat":
        warnings.warn(
            "The file %r has been generated with a joblib version less than "
            "0.10. Please regenerate this pickle file." % (filename,),
            DeprecationWarning,
            stacklevel=5,  # the caller of joblib.load
        )
        yield filename, mmap_mode
        return
    usable_mmap = _check_mmap_target(fileobj, filename, compressor, mmap_mode)
    if compressor == "not-compressed":
        yield fileobj, usable_mmap
        return
    inner = _compressors()[compressor].decompressor_file(fileobj)
    with io.BufferedReader(inner, buffer_size=IO_BUFFER_SIZE) as buffered:
        yield buffered, usable_mmap


def open_for_write(fileobj, method: str, level: int | None):
    """Return a buffered file object compressing into ``fileobj``.

    Closing it finishes the compressed stream but leaves ``fileobj`` open.
    """
    wrapper = _compressors()[method]
    inner = wrapper.compressor_file(fileobj, compresslevel=level)
    return io.BufferedWriter(inner, buffer_size=IO_BUFFER_SIZE)

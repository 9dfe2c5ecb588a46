"""Binary file objects that (de)compress a zlib or gzip stream on the fly.

The on-disk format is a single zlib (``.z``) or gzip (``.gz``) stream, as
written by joblib since 0.10. We keep our own classes rather than
``gzip.GzipFile`` because they must accept ``compresslevel`` and expose
``tell()`` while writing (the array alignment padding depends on it), and
because reading must fill a caller's buffer with ``readinto`` in large
blocks so that arrays are decompressed without an intermediate copy of the
whole payload.
"""

from __future__ import annotations

import io
import os
import threading
import zlib

__all__ = ["BinaryZlibFile", "BinaryGzipFile"]

_CLOSED, _READ, _READ_EOF, _WRITE = 0, 1, 2, 3
# Compressed bytes pulled from the underlying file per refill.
_RAW_CHUNK = 1 << 20
# Upper bound on decompressed bytes produced per step: bounds memory for
# highly compressible data while keeping the Python loop overhead low.
_OUT_CHUNK = 4 << 20


class BinaryZlibFile(io.BufferedIOBase):
    """A binary file object reading or writing a zlib-compressed stream.

    Parameters
    ----------
    filename : str, os.PathLike or file object
        Path to open, or an already open binary file to wrap (it is not
        closed by :meth:`close`).
    mode : {"rb", "wb"}, default "rb"
        Read (decompress) or write (compress).
    compresslevel : int, default 3
        Compression level from 1 to 9, used when writing.

    Examples
    --------
    >>> import io
    >>> buf = io.BytesIO()
    >>> with BinaryZlibFile(buf, "wb", compresslevel=3) as f:
    ...     _ = f.write(b"abc" * 10)
    >>> BinaryZlibFile(io.BytesIO(buf.getvalue())).read()[:6]
    b'abcabc'
    >>> BinaryZlibFile(buf, "wb", compresslevel=11)
    Traceback (most recent call last):
    ...
    ValueError: 'compresslevel' must be an integer between 1 and 9. You provided 'compresslevel=11' (type int)
    """

    wbits = zlib.MAX_WBITS

    def __init__(self, filename, mode: str = "rb", compresslevel: int = 3):
        self._lock = threading.RLock()
        self._fp = None
        self._closefp = False
        self._mode = _CLOSED
        self._pos = 0
        self._size = -1
        self.compresslevel = compresslevel
        _check_level(compresslevel)
        if mode not in ("rb", "wb"):
            raise ValueError(
                "Invalid mode: %r. Expected 'rb' or 'wb', got type %s."
                % (mode, type(mode).__name__)
            )
        self._fp, self._closefp = _open_target(filename, mode)
        if mode == "rb":
            self._reset_reader()
        else:
            self._compressor = zlib.compressobj(
                compresslevel, zlib.DEFLATED, self.wbits, zlib.DEF_MEM_LEVEL, 0
            )
            self._mode = _WRITE

    # -- state -------------------------------------------------------------
    def _reset_reader(self) -> None:
        self._mode = _READ
        self._pos = 0
        self._decompressor = zlib.decompressobj(self.wbits)
        self._buffer = b""
        self._offset = 0

    @property
    def closed(self) -> bool:
        return self._mode == _CLOSED

    def close(self) -> None:
        """Flush the compressor (when writing) and release the file."""
        with self._lock:
            if self._mode == _CLOSED:
                return
            try:
                if self._mode == _WRITE:
                    self._fp.write(self._compressor.flush())
            finally:
                try:
                    if self._closefp:
                        self._fp.close()
                finally:
                    self._fp = None
                    self._closefp = False
                    self._mode = _CLOSED
                    self._buffer = b""
                    self._offset = 0

    def fileno(self) -> int:
        self._check_open()
        return self._fp.fileno()

    def readable(self) -> bool:
        self._check_open()
        return self._mode in (_READ, _READ_EOF)

    def writable(self) -> bool:
        self._check_open()
        return self._mode == _WRITE

    def seekable(self) -> bool:
        return self.readable() and self._fp.seekable()

    def _check_open(self) -> None:
        if self._mode == _CLOSED:
            raise ValueError("I/O operation on closed file.")

    def _check_mode(self, reading: bool) -> None:
        self._check_open()
        if reading and self._mode not in (_READ, _READ_EOF):
            raise io.UnsupportedOperation("File not open for reading")
        if not reading and self._mode != _WRITE:
            raise io.UnsupportedOperation("File not open for writing")

    # -- reading -----------------------------------------------------------
    def _fill(self) -> bool:
        """Make decompressed bytes available in the buffer; False at EOF."""
        while self._offset >= len(self._buffer):
            if self._mode == _READ_EOF:
                return False
            d = self._decompressor
            raw = d.unconsumed_tail or d.unused_data or self._fp.read(_RAW_CHUNK)
            if d.unused_data:
                # A second concatenated stream (e.g. appended gzip members).
                d = self._decompressor = zlib.decompressobj(self.wbits)
            if not raw:
                self._mode = _READ_EOF
                self._size = self._pos
                return False
            self._buffer = d.decompress(raw, _OUT_CHUNK)
            self._offset = 0
        return True

    def _take(self, n: int) -> memoryview:
        """Return up to ``n`` buffered bytes and advance."""
        start = self._offset
        view = memoryview(self._buffer)[start : start + n]
        self._offset = start + len(view)
        self._pos += len(view)
        return view

    def readinto(self, b) -> int:
        """Read up to ``len(b)`` decompressed bytes into ``b``."""
        with self._lock:
            self._check_mode(reading=True)
            out = memoryview(b).cast("B")
            done = 0
            while done < len(out) and self._fill():
                chunk = self._take(len(out) - done)
                out[done : done + len(chunk)] = chunk
                done += len(chunk)
            return done

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` decompressed bytes (all remaining if negative)."""
        with self._lock:
            self._check_mode(reading=True)
            if size is None or size < 0:
                return self._read_all()
            parts, left = [], size
            while left > 0 and self._fill():
                chunk = self._take(left)
                parts.append(chunk)
                left -= len(chunk)
            return b"".join(parts)

    def read1(self, size: int = -1) -> bytes:
        with self._lock:
            self._check_mode(reading=True)
            if not self._fill():
                return b""
            return bytes(self._take(size if size >= 0 else len(self._buffer)))

    def peek(self, size: int = 0) -> bytes:
        """Return buffered bytes without advancing (at least one unless EOF)."""
        with self._lock:
            self._check_mode(reading=True)
            if not self._fill():
                return b""
            # Bounded so that repeated peeks do not copy the whole block.
            end = self._offset + max(size, 1 << 16)
            return self._buffer[self._offset : end]

    def _read_all(self) -> bytes:
        parts = []
        while self._fill():
            parts.append(self._take(len(self._buffer)))
        return b"".join(parts)

    # -- writing -----------------------------------------------------------
    def write(self, data) -> int:
        """Compress and write ``data``; return its uncompressed length."""
        with self._lock:
            self._check_mode(reading=False)
            view = memoryview(data).cast("B")
            self._fp.write(self._compressor.compress(view))
            self._pos += len(view)
            return len(view)

    # -- positioning -------------------------------------------------------
    def tell(self) -> int:
        """Return the position in the uncompressed stream."""
        with self._lock:
            self._check_open()
            return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move in the uncompressed stream (emulated: may decompress again)."""
        with self._lock:
            self._check_mode(reading=True)
            if not self._fp.seekable():
                raise io.UnsupportedOperation(
                    "the underlying file object does not support seeking"
                )
            target = self._target_offset(offset, whence)
            if target < self._pos:
                self._fp.seek(0)
                self._reset_reader()
            self._skip(target - self._pos)
            return self._pos

    def _target_offset(self, offset: int, whence: int) -> int:
        if whence == 0:
            return offset
        if whence == 1:
            return self._pos + offset
        if whence == 2:
            if self._size < 0:
                self._skip(float("inf"))
            return self._size + offset
        raise ValueError("Invalid value for whence: %s. Expected 0, 1 or 2." % (whence,))

    def _skip(self, n) -> None:
        while n > 0 and self._fill():
            n -= len(self._take(int(min(n, len(self._buffer)))))


class BinaryGzipFile(BinaryZlibFile):
    """A :class:`BinaryZlibFile` reading and writing the gzip container.

    Same parameters as :class:`BinaryZlibFile`; the files are readable by
    ``gzip`` and the ``gzip`` command line tool.
    """

    wbits = 31  # zlib's value for "gzip header and trailer"


def _check_level(level) -> None:
    """Reject compression levels zlib cannot use, naming the value given."""
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 9:
        raise ValueError(
            "'compresslevel' must be an integer between 1 and 9. You provided "
            "'compresslevel=%s' (type %s)" % (level, type(level).__name__)
        )


def _open_target(filename, mode: str):
    """Return ``(file object, we_own_it)`` for a path or an open file."""
    if isinstance(filename, (str, bytes, os.PathLike)):
        return open(filename, mode), True
    if hasattr(filename, "read") or hasattr(filename, "write"):
        return filename, False
    raise TypeError(
        "filename must be a str or bytes object, or a file. Expected a path "
        "(str, bytes, os.PathLike) or a file object, got %r (type %s)"
        % (filename, type(filename).__name__)
    )

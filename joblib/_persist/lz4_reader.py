"""A lean reader of lz4 frames for ``load``.

``lz4.frame.LZ4FrameFile`` reads through a generic decompression reader
that feeds the decompressor 8 KiB of input per call: loading a 48 MB array
costs thousands of small calls and an extra buffering layer. This reader
feeds 128 KiB per call and hands out up to 256 KiB per ``readinto`` (big
enough for few calls, small enough to stay in the CPU cache), so the
decompressor runs in a few large calls; the bytes and the result are the
same (it reads any sequence of lz4 frames, like LZ4FrameFile).
"""

from __future__ import annotations

import io

__all__ = ["LZ4FrameReader"]

_INPUT_BLOCK = 128 * 1024
_OUTPUT_BLOCK = 256 * 1024


class LZ4FrameReader(io.RawIOBase):
    """Read-only, seekable (by re-reading) view of lz4-compressed ``fileobj``."""

    def __init__(self, fileobj):
        from lz4.frame import LZ4FrameDecompressor  # optional dependency (lz4)

        self._fp = fileobj
        self._new_decompressor = LZ4FrameDecompressor
        self._start = fileobj.tell() if fileobj.seekable() else None
        self._rewind_state()

    def _rewind_state(self) -> None:
        self._decompressor = self._new_decompressor()
        self._out = b""
        self._offset = 0
        self._pos = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._start is not None

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer) -> int:
        with memoryview(buffer) as view, view.cast("B") as target:
            while self._offset >= len(self._out):
                if self._eof or not self._fill():
                    return 0
            n = min(len(target), len(self._out) - self._offset)
            target[:n] = self._out[self._offset : self._offset + n]
        self._offset += n
        self._pos += n
        return n

    def _fill(self) -> bool:
        """Decompress the next block into ``self._out``; False at the end."""
        decompressor = self._decompressor
        if decompressor.eof:
            data = decompressor.unused_data or self._fp.read(_INPUT_BLOCK)
            if not data:
                self._eof = True
                return False
            decompressor = self._decompressor = self._new_decompressor()
        elif decompressor.needs_input:
            data = self._fp.read(_INPUT_BLOCK)
            if not data:
                raise EOFError(
                    "Compressed file ended before the end-of-stream marker "
                    "was reached"
                )
        else:
            data = b""
        self._out = decompressor.decompress(data, max_length=_OUTPUT_BLOCK)
        self._offset = 0
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self.seekable():
            raise io.UnsupportedOperation("the underlying file cannot seek")
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("only SEEK_SET and SEEK_CUR")
        if offset < self._pos:
            self._fp.seek(self._start)
            self._rewind_state()
        skip = bytearray(_OUTPUT_BLOCK)
        while self._pos < offset:
            if not self.readinto(memoryview(skip)[: offset - self._pos]):
                break
        return self._pos

"""Walk a joblib/pickle stream without running any of its code.

:class:`StreamScanner` is a pickle interpreter whose values are inert
placeholders: ``GLOBAL`` pushes a :class:`Global` (nothing is imported),
``REDUCE``/``NEWOBJ``/``INST``/``OBJ`` push an :class:`Instance` recording
what would have been called, ``BUILD`` records the state. Only plain data
(numbers, strings, tuples, lists, dicts, sets of those) is made real.

What the scan finds:

* every global the stream names, with how often (``globals``);
* every array joblib stored after a ``NumpyArrayWrapper``: its dtype, shape,
  order and where its bytes sit (``arrays``); the bytes are *skipped* (a
  seek in an uncompressed file) and object arrays' nested pickle streams
  are scanned in turn, so only pickle opcodes are ever interpreted.

Hostile or broken input gives :class:`ScanError` (an UnpicklingError):
lengths are checked against what the file can hold before anything is
read, long strings are skipped rather than loaded, and the number of
opcodes and the nesting depth are bounded.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections import Counter

from .fast_pickle import WRAPPER_CLASS_NAMES


def python3_name(module: str, name: str) -> tuple:
    """The Python 3 ``(module, name)`` of a global in a protocol 0-2 pickle,
    as ``pickle.Unpickler(fix_imports=True)`` maps it."""
    if (module, name) in NAME_MAPPING:
        return NAME_MAPPING[(module, name)]
    return IMPORT_MAPPING.get(module, module), name

__all__ = ["ScanError", "ScanResult", "StreamScanner", "scan_stream", "Global"]

# Strings and bytes longer than this are skipped, not read (bounded memory).
_KEEP_BYTES = 1 << 16
# Block size when skipping through a stream that cannot seek (compressed).
_SKIP_BLOCK = 1 << 20
_MAX_LINE = 1 << 20
_MAX_NESTING = 32
_MAX_OPCODES = 50_000_000
_NUMPY_WRAPPER = ("joblib.numpy_pickle", "NumpyArrayWrapper")
_DTYPE_NAMES = frozenset([("numpy", "dtype")])


class ScanError(pickle.UnpicklingError):
    """The stream is not a readable pickle (truncated, corrupted, hostile)."""


class Global:
    """Placeholder for a global the stream names (never imported)."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str):
        self.module = module
        self.name = name

    @property
    def dotted(self) -> str:
        return "%s.%s" % (self.module, self.name)

    def __repr__(self) -> str:
        return "<global %s>" % self.dotted


class Instance:
    """Placeholder for the result of calling ``factory`` (never called)."""

    __slots__ = ("factory", "args", "kwargs", "state")

    def __init__(self, factory, args=(), kwargs=None):
        self.factory = factory
        self.args = args
        self.kwargs = kwargs
        self.state = None

    def __repr__(self) -> str:
        return "<instance of %r>" % (self.factory,)


class Blob:
    """Placeholder for a long string or bytes object that was skipped."""

    __slots__ = ("size",)

    def __init__(self, size: int):
        self.size = size


# Values whose mutation by the stream is recorded (nothing), not refused.
_PLACEHOLDERS = (Instance, Global)


class ScanResult:
    """What a scan found: globals (Counter of dotted names), arrays, protocol."""

    def __init__(self):
        self.globals: Counter = Counter()
        self.arrays: list = []
        self.protocol = 0
        self.opcodes = 0


class _Source:
    """Bounded reads over the raw file (the pickle's underlying stream)."""

    def __init__(self, fobj, size: int | None):
        self.fobj = fobj
        self.size = size  # total length of the stream when known
        self.seekable = size is not None

    def remaining(self) -> int | None:
        if self.size is None:
            return None
        return self.size - self.fobj.tell()

    def check(self, n: int, what: str) -> None:
        left = self.remaining()
        if n < 0 or (left is not None and n > left):
            raise ScanError(
                "truncated or corrupted: %s needs %d bytes but the file holds "
                "only %s more" % (what, n, left)
            )

    def read(self, n: int) -> bytes:
        self.check(n, "a pickle opcode")
        if n <= _SKIP_BLOCK:
            return self.fobj.read(n)
        parts, got = [], 0
        while got < n:  # never allocate more than the data really there
            block = self.fobj.read(min(_SKIP_BLOCK, n - got))
            if not block:
                break
            parts.append(block)
            got += len(block)
        return b"".join(parts)

    def readline(self) -> bytes:
        line = self.fobj.readline(_MAX_LINE)
        if len(line) >= _MAX_LINE and not line.endswith(b"\n"):
            raise ScanError("corrupted: a text opcode is longer than 1 MiB")
        return line

    def skip(self, n: int, what: str) -> None:
        self.check(n, what)
        if self.seekable:
            self.fobj.seek(n, os.SEEK_CUR)
            return
        while n > 0:
            block = self.fobj.read(min(_SKIP_BLOCK, n))
            if not block:
                raise ScanError(
                    "truncated or corrupted: %s ends %d bytes early" % (what, n)
                )
            n -= len(block)

    def tell(self) -> int:
        return self.fobj.tell()


def _length_opcode(fmt: str, kind: str):
    """Dispatch entry for an opcode followed by a length and that many bytes."""
    width = struct.calcsize(fmt)

    def load(self):
        (n,) = struct.unpack(fmt, self.read(width))
        self._push_data(n, kind)

    return load


_Base = pickle._Unpickler


class StreamScanner(_Base):
    """Inert pickle interpreter: see the module docstring."""

    dispatch = dict(_Base.dispatch)

    def __init__(self, source: _Source, result: ScanResult, depth: int = 0):
        self._source = source
        self._result = result
        self._depth = depth
        _Base.__init__(self, _ReaderFacade(source))

    # -- data opcodes: keep short values, skip long ones ----------------------
    def _push_data(self, n: int, kind: str) -> None:
        if n < 0:
            raise ScanError("corrupted: negative length in a pickle opcode")
        if n > _KEEP_BYTES and not self._in_frame():
            self._source.skip(n, "a string in the pickle")
            self.append(Blob(n))
            return
        data = self.read(n)
        if len(data) != n:
            raise ScanError("truncated: the pickle ends inside a string")
        if kind == "str":
            data = str(data, "utf-8", "surrogatepass")
        elif kind == "bytearray":
            data = bytearray(data)
        self.append(data)

    def _in_frame(self) -> bool:
        frame = self._unframer.current_frame
        return bool(frame) and frame.tell() < len(frame.getbuffer())

    for _code, _fmt, _kind in (
        (pickle.BINBYTES, "<I", "bytes"),
        (pickle.BINBYTES8, "<Q", "bytes"),
        (pickle.SHORT_BINBYTES, "<B", "bytes"),
        (pickle.BINUNICODE, "<I", "str"),
        (pickle.BINUNICODE8, "<Q", "str"),
        (pickle.SHORT_BINUNICODE, "<B", "str"),
        (pickle.BYTEARRAY8, "<Q", "bytearray"),
    ):
        dispatch[_code[0]] = _length_opcode(_fmt, _kind)
    del _code, _fmt, _kind

    def load_frame(self):
        (size,) = struct.unpack("<Q", self.read(8))
        self._source.check(size, "a pickle frame")
        self._unframer.load_frame(size)

    dispatch[pickle.FRAME[0]] = load_frame

    def load_proto(self):
        _Base.load_proto(self)
        if self._depth == 0:  # nested object-array streams use protocol 5
            self._result.protocol = self.proto

    dispatch[pickle.PROTO[0]] = load_proto

    # -- globals: record, never import ---------------------------------------
    def find_class(self, module, name):
        if self.proto < 3 and self.fix_imports:
            module, name = python3_name(module, name)
        self._result.globals["%s.%s" % (module, name)] += 1
        return Global(module, name)

    # -- calls: record what would be called ---------------------------------
    def load_reduce(self):
        args = self.stack.pop()
        self.stack[-1] = self._call(self.stack[-1], args)

    def load_newobj(self):
        args = self.stack.pop()
        self.stack[-1] = self._call(self.stack[-1], args)

    def load_newobj_ex(self):
        kwargs = self.stack.pop()
        args = self.stack.pop()
        self.stack[-1] = self._call(self.stack[-1], args, kwargs)

    def load_inst(self):
        module = self.readline()[:-1].decode("ascii")
        name = self.readline()[:-1].decode("ascii")
        klass = self.find_class(module, name)
        self.append(self._call(klass, tuple(self.pop_mark())))

    def load_obj(self):
        args = self.pop_mark()
        klass = args.pop(0)
        self.append(self._call(klass, tuple(args)))

    @staticmethod
    def _call(func, args, kwargs=None) -> Instance:
        if not isinstance(func, (Global, Instance)):
            raise ScanError(
                "corrupted: the pickle calls a %s object" % type(func).__name__
            )
        return Instance(func, args, kwargs)

    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex
    dispatch[pickle.INST[0]] = load_inst
    dispatch[pickle.OBJ[0]] = load_obj

    # -- container mutation: only on real containers or placeholders ---------
    def load_appends(self):
        items = self.pop_mark()
        target = self.stack[-1]
        if isinstance(target, list):
            target.extend(items)
        elif not isinstance(target, _PLACEHOLDERS):
            raise ScanError("corrupted: APPENDS on a %s" % type(target).__name__)

    def load_append(self):
        item = self.stack.pop()
        target = self.stack[-1]
        if isinstance(target, list):
            target.append(item)
        elif not isinstance(target, _PLACEHOLDERS):
            raise ScanError("corrupted: APPEND on a %s" % type(target).__name__)

    def load_setitems(self):
        items = self.pop_mark()
        target = self.stack[-1]
        for i in range(0, len(items) - 1, 2):
            self._setitem(target, items[i], items[i + 1])

    def load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        self._setitem(self.stack[-1], key, value)

    @staticmethod
    def _setitem(target, key, value) -> None:
        if isinstance(target, dict):
            target[key] = value
        elif not isinstance(target, _PLACEHOLDERS):
            raise ScanError("corrupted: SETITEM on a %s" % type(target).__name__)

    def load_additems(self):
        items = self.pop_mark()
        target = self.stack[-1]
        if isinstance(target, set):
            target.update(items)
        elif not isinstance(target, _PLACEHOLDERS):
            raise ScanError("corrupted: ADDITEMS on a %s" % type(target).__name__)

    dispatch[pickle.APPENDS[0]] = load_appends
    dispatch[pickle.APPEND[0]] = load_append
    dispatch[pickle.SETITEMS[0]] = load_setitems
    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.ADDITEMS[0]] = load_additems

    # -- out-of-band and persistent ids: record as placeholders -------------
    def load_persid(self):
        self.readline()
        self.append(Instance(Global("<persistent id>", "")))

    def load_binpersid(self):
        self.stack[-1] = Instance(Global("<persistent id>", ""))

    def load_next_buffer(self):
        self.append(Instance(Global("<out-of-band buffer>", "")))

    def load_readonly_buffer(self):
        pass

    dispatch[pickle.PERSID[0]] = load_persid
    dispatch[pickle.BINPERSID[0]] = load_binpersid
    dispatch[pickle.NEXT_BUFFER[0]] = load_next_buffer
    dispatch[pickle.READONLY_BUFFER[0]] = load_readonly_buffer

    # -- BUILD: record state; array wrappers are followed by array bytes -----
    def load_build(self):
        state = self.stack.pop()
        target = self.stack[-1]
        if isinstance(target, Global):
            return  # hostile (a restricted load refuses it), but inspectable
        if not isinstance(target, Instance):
            raise ScanError("corrupted: BUILD on a %s" % type(target).__name__)
        target.state = state
        kind = _wrapper_kind(target)
        if kind is not None:
            self.stack[-1] = self._read_wrapped_array(kind, target)

    dispatch[pickle.BUILD[0]] = load_build

    def _read_wrapped_array(self, kind: str, wrapper: Instance):
        from .scan_arrays import describe_wrapped_array  # cycle: scan_arrays imports this module

        return describe_wrapped_array(self, kind, wrapper)

    def scan_nested(self):
        """Scan a nested pickle stream starting at the file position."""
        if self._depth >= _MAX_NESTING:
            raise ScanError("corrupted: object arrays nested too deeply")
        nested = StreamScanner(self._source, self._result, self._depth + 1)
        return nested.run()

    def run(self):
        """Interpret the stream up to its STOP; return the placeholder value."""
        try:
            return self._run()
        except ScanError:
            raise
        except (EOFError, struct.error) as exc:
            raise ScanError("truncated: the pickle stream ends early") from exc
        except (
            pickle.UnpicklingError,
            ValueError,
            TypeError,
            KeyError,
            IndexError,
            AttributeError,
            UnicodeDecodeError,
            OverflowError,
            MemoryError,
            RecursionError,
        ) as exc:
            raise ScanError("corrupted: %s: %s" % (type(exc).__name__, exc)) from exc

    def _run(self):
        # Same as pickle._Unpickler.load, with an opcode budget and clear
        # messages for unknown opcodes.
        self._unframer = pickle._Unframer(self._file_read, self._file_readline)
        self.read = self._unframer.read
        self.readinto = self._unframer.readinto
        self.readline = self._unframer.readline
        self.metastack, self.stack = [], []
        self.append = self.stack.append
        self.proto = 0
        read, dispatch, result = self.read, self.dispatch, self._result
        try:
            while True:
                key = read(1)
                if not key:
                    raise EOFError
                result.opcodes += 1
                if result.opcodes > _MAX_OPCODES:
                    raise ScanError("too many pickle opcodes (> %d)" % _MAX_OPCODES)
                handler = dispatch.get(key[0])
                if handler is None:
                    raise ScanError("corrupted: invalid load key, %r." % (key,))
                handler(self)
        except pickle._Stop as stop:
            return stop.value


class _ReaderFacade:
    """What pickle's Unpickler needs from a file, routed through _Source."""

    def __init__(self, source: _Source):
        self.read = source.read
        self.readline = source.readline
        self.readinto = None


def _wrapper_kind(inst: Instance) -> str | None:
    """"new"/"old"/"zold" when ``inst`` is a joblib array wrapper, else None."""
    factory = inst.factory
    if (
        isinstance(factory, Global)
        and (factory.module, factory.name) == ("copyreg", "_reconstructor")
        and inst.args
    ):
        factory = inst.args[0]
    if not isinstance(factory, Global):
        return None
    key = (factory.module, factory.name)
    if key not in WRAPPER_CLASS_NAMES:
        return None
    if key == _NUMPY_WRAPPER:
        return "new"
    return "zold" if factory.name.startswith("Z") else "old"


def stream_size(fobj) -> int | None:
    """Total size of a seekable raw file, None for streams (compressed)."""
    raw = getattr(fobj, "raw", fobj)
    if not isinstance(raw, (io.FileIO, io.BytesIO)) and not hasattr(raw, "fileno"):
        return None
    try:
        here = fobj.tell()
        end = fobj.seek(0, os.SEEK_END)
        fobj.seek(here)
        return end
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None


def scan_stream(fobj, size: int | None = None, result: ScanResult | None = None):
    """Scan one pickle stream from ``fobj``'s position; return a ScanResult.

    Parameters
    ----------
    fobj : binary file object
        Positioned at the start of the pickle.
    size : int, optional
        Total length of ``fobj`` when it can seek (enables length checks
        and seeking past array bytes); None for decompressed streams.
    result : ScanResult, optional
        Accumulate into this result (used for companion files).
    """
    result = ScanResult() if result is None else result
    StreamScanner(_Source(fobj, size), result).run()
    return result

"""Pickle-exact encoding of runs of atomic values at C speed.

joblib 1.6 hashes the protocol-3 stream of the pure-Python ``pickle._Pickler``
with memoization of ``str``/``bytes`` switched off.  For the atomic types
below, the C pickler in *fast* mode (no memo at all) writes exactly the same
opcodes, so a run of atoms can be encoded in one C call instead of one
Python-level ``save`` per value.
"""

from __future__ import annotations

import pickle
import struct
import threading
from itertools import repeat
from struct import pack

__all__ = [
    "ATOM_TYPES",
    "AtomEncoder",
    "atom_encoder",
    "put_code",
    "put_codes",
]

# Exact types only: subclasses (IntEnum, np.float64, str subclasses, ...)
# pickle through __reduce_ex__ and must take the generic path.
ATOM_TYPES = frozenset({int, float, str, bytes, bool, type(None)})

# Dumps larger than this replace the C pickler (see AtomEncoder.dumps).
_BIG_DUMP = 1 << 16

_SHORT_PUTS = tuple(pickle.BINPUT + bytes((index,)) for index in range(256))


def put_code(index: int) -> bytes:
    """Return the protocol-3 memo PUT opcode for slot ``index``."""
    if index < 256:
        return _SHORT_PUTS[index]
    return pickle.LONG_BINPUT + pack("<I", index)


def put_codes(first: int, count: int, opener: bytes = b"") -> list:
    """Return ``opener + PUT`` for memo slots ``first .. first+count-1``."""
    stop = first + count
    codes = [opener + put_code(index) for index in range(first, min(stop, 256))]
    if stop > 256:
        pack_long = struct.Struct("<%dsI" % (len(opener) + 1)).pack
        prefix = repeat(opener + pickle.LONG_BINPUT)
        codes += map(pack_long, prefix, range(max(first, 256), stop))
    return codes


class AtomEncoder:
    """Encode atoms as the protocol-3 opcodes the pure-Python pickler emits.

    One instance keeps a reusable fast-mode C pickler and its buffer; it is
    not thread-safe: use :func:`atom_encoder` to get the current thread's.
    """

    __slots__ = ("_chunks", "_dump", "write")

    def __init__(self) -> None:
        # The C pickler writes a dump to ``self.write`` in one call (several
        # for large str/bytes payloads), so a list is the cheapest buffer.
        self._chunks = []
        self.write = self._chunks.append
        self._dump = self._new_dump()

    def _new_dump(self):
        """Return the ``dump`` of a new fast-mode C pickler writing here."""
        pickler = pickle.Pickler(self, protocol=3)
        # Fast mode disables the memo: no PUT/GET opcodes, and repeated
        # strings are written in full, as joblib 1.6's hasher does.
        pickler.fast = True
        return pickler.dump

    def dumps(self, obj) -> bytes:
        """Return the full fast-mode pickle of ``obj`` (PROTO ... STOP)."""
        chunks = self._chunks
        self._dump(obj)
        if len(chunks) == 1:
            data = chunks.pop()
        else:
            data = b"".join(chunks)
            chunks.clear()
        if len(data) > _BIG_DUMP:
            # The C pickler starts every dump with a buffer as large as its
            # largest output so far: each later small dump (Memory's
            # arguments) would allocate megabytes.  A new one costs ~1 us.
            self._dump = self._new_dump()
        return data

    def items(self, values: tuple) -> bytes:
        """Return the concatenated encodings of a non-empty tuple of atoms."""
        data = self.dumps(values)
        # PROTO 3 [MARK] items (TUPLE | TUPLEn) STOP
        return data[3:-2] if len(values) > 3 else data[2:-2]

    def tuple(self, values: tuple) -> bytes:
        """Encode a non-empty tuple of atoms, without its memo PUT."""
        # PROTO 3 <tuple> STOP
        return self.dumps(values)[2:-1]


_LOCAL = threading.local()


def atom_encoder() -> AtomEncoder:
    """Return this thread's encoder (creating a C pickler costs ~1 us).

    Sharing it between nested hashers of one thread is safe: a dump of
    atoms runs no Python code, so dumps never interleave.
    """
    try:
        return _LOCAL.encoder
    except AttributeError:
        encoder = _LOCAL.encoder = AtomEncoder()
        return encoder

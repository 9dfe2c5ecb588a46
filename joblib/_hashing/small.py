"""The whole hash stream of small all-atom objects, without a pickler.

``Memory`` hashes the arguments of every call: usually a dict of a few
ints, floats and strings.  For such a dict (or a lone atom) the stream of
:class:`joblib.hashing.Hasher` is known in advance: the C pickler's fast
mode writes the items, and the only memo opcode is the dict's own ``PUT 0``.
Building it here skips the pure-Python pickler's set-up, which costs more
than the rest of such a hash.  Anything else returns None and takes the
general path; ``tests/test_hashing_fast_path.py`` checks both agree.
"""

from __future__ import annotations

import pickle

from .atoms import ATOM_TYPES, atom_encoder
from .walker import BATCHSIZE

__all__ = ["small_stream"]

_IS_ATOMS = ATOM_TYPES.issuperset
_PROTO3 = pickle.PROTO + b"\x03"
_DICT_HEAD = _PROTO3 + pickle.EMPTY_DICT
_PUT0 = pickle.BINPUT + b"\x00"


def small_stream(obj) -> bytes | None:
    """Return the hash stream of ``obj`` if it is an atom or a dict of at
    most 1000 atom keys and values with comparable keys, else None."""
    kind = type(obj)
    if kind is dict:
        if len(obj) > BATCHSIZE or not (
            _IS_ATOMS(map(type, obj)) and _IS_ATOMS(map(type, obj.values()))
        ):
            return None
        try:
            pairs = sorted(obj.items())  # the order the Hasher writes
        except TypeError:
            return None  # the Hasher's fallback orders by key digests
        # PROTO 3, EMPTY_DICT, then the items: the C pickler writes them
        # as the Hasher does, but without the dict's memo PUT.
        data = atom_encoder().dumps(dict(pairs))
        return _DICT_HEAD + _PUT0 + data[3:]
    if kind in ATOM_TYPES:
        return atom_encoder().dumps(obj)
    return None

"""Batches of records whose memo PUTs are written by the C pickler itself.

The walker's general mechanism (:mod:`joblib._hashing.walker`) puts a marker
in the run wherever an opcode goes, then splits the dump on the markers and
joins the pieces back: per piece, a segment object, a list slot and a copy.
For a batch of records (all-atom tuples, or dicts with the same atom keys)
each record needs one memo PUT, so that cost is paid per record.  Here no
piece is needed: the index of the PUT is an ``int`` (or a 4-byte ``bytes``)
queued in the run after a constant *stem*, so the C pickler writes the index
bytes itself, and one ``bytes.replace`` per kind turns the stem's encoding
plus the index's opcode into the opcode 1.6 writes:

* tuple record at slot ``i``: ``<items> TUPLEn`` then the stem and ``i``.
  For ``i >= 65536`` the int's encoding ``BININT i:<I`` becomes
  ``LONG_BINPUT i:<I`` (``_PUT_INT``); for ``256 <= i < 65536`` (an int
  would be written in 2 bytes) the index is the 4-byte bytes ``pack('<I',
  i)`` (``_PUT_BYTES``).
* dict record at slot ``i`` (sorted keys k1..km, m >= 2): its items are
  queued flat, ``k1 v1 ... km vm``; between two records, the stem and
  ``i + 0x28 << 32``, whose encoding ``LONG1 5 i:<I 0x28`` ends with the MARK
  opcode (0x28).  ``(u}r`` replaces the stem and ``LONG1 5``: the previous
  record's SETITEMS, this one's EMPTY_DICT and LONG_BINPUT (``_OPEN_DICT``).
  The first record's opener and the last one's SETITEMS are ordinary pieces.

Each pattern starts with SHORT_BINBYTES (0x43), found nowhere else in it, so
its occurrences never overlap: when ``replace`` removed exactly as many
bytes as the queued stems account for, only stems were replaced.  Otherwise
(data that contains a pattern) :func:`expand` turns the stems back into
ordinary pieces for the walker's segment-by-segment path.
"""

from __future__ import annotations

import pickle
import struct
from itertools import chain, repeat

from .atoms import ATOM_TYPES, put_code

__all__ = [
    "PUT_STEM",
    "DICT_STEM",
    "KINDS",
    "queue_tuples",
    "dict_layout",
    "queue_dicts",
    "restore",
    "expand",
]

_IS_ATOMS = ATOM_TYPES.issuperset
_MARK, _SETITEMS = pickle.MARK, pickle.SETITEMS

# Built at run time: a stem is recognised by identity in expand(), so no
# user constant may ever be the same object.  Neither holds 0x43.
PUT_STEM = bytes.fromhex("9f3be1d20c77")
DICT_STEM = bytes.fromhex("e46a0df5b219")
_PUT_HEAD = pickle.SHORT_BINBYTES + bytes((len(PUT_STEM),)) + PUT_STEM
_DICT_HEAD = pickle.SHORT_BINBYTES + bytes((len(DICT_STEM),)) + DICT_STEM

# The index slots each form covers: BININT needs i >= 65536 (smaller ints are
# written in 1 or 2 bytes); below 256 the PUT is a BINPUT (ordinary pieces).
FIRST_LONG_SLOT = 256
_FIRST_INT_SLOT = 65536
LAST_TUPLE_SLOT = 2**31 - 1  # BININT is signed
LAST_DICT_SLOT = 2**32 - 1  # LONG_BINPUT's limit
_DICT_OFFSET = _MARK[0] << 32  # the 5th little-endian byte is MARK

# (pattern, replacement) of each kind, in the order of the counts.
_PUT_INT = (_PUT_HEAD + pickle.BININT, pickle.LONG_BINPUT)
_PUT_BYTES = (_PUT_HEAD + pickle.SHORT_BINBYTES + b"\x04", pickle.LONG_BINPUT)
_OPEN_DICT = (_DICT_HEAD + pickle.LONG1 + b"\x05", _SETITEMS + pickle.EMPTY_DICT + pickle.LONG_BINPUT)
KINDS = (_PUT_INT, _PUT_BYTES, _OPEN_DICT)
_pack_index = struct.Struct("<I").pack


def queue_tuples(run: list, spans: list, values, first: int) -> None:
    """Queue ``t0, stem, i0, t1, stem, i1, ...`` for the all-atom, non-empty
    tuples ``values`` at memo slots ``first, first + 1, ...`` (``first >=
    256``, last slot at most ``LAST_TUPLE_SLOT``); note the batch in
    ``spans``."""
    count = len(values)
    stop = first + count
    middle = min(max(first, _FIRST_INT_SLOT), stop)
    batch = [PUT_STEM] * (3 * count)
    batch[0::3] = values
    if middle > first:
        batch[2::3] = chain(map(_pack_index, range(first, middle)), range(middle, stop))
    else:
        batch[2::3] = range(first, stop)
    spans.append((len(run), first, count, 0))
    run += batch


def dict_layout(dicts) -> tuple | None:
    """Return ``(keys, values, order)`` if all ``dicts`` hold the same
    comparable atom keys (at least 2) in the same order and atom values.

    ``keys`` and ``values`` are flat, dict after dict; ``order`` lists the
    key positions in sorted key order.  None if the records are otherwise.
    """
    width = len(dicts[0])
    if width < 2:
        return None
    keys = list(chain.from_iterable(dicts))
    # With the comparison below, no dict can hold more than `width` keys
    # (it would repeat one), so the total proves every length is `width`.
    if len(keys) != width * len(dicts) or not _IS_ATOMS(map(type, keys)):
        return None
    head = keys[:width]
    # Atoms only: equality is the atoms' own, and equal atoms sort alike.
    if keys != head * len(dicts):
        return None
    try:
        order = sorted(range(width), key=head.__getitem__)
    except TypeError:
        return None  # unorderable keys: the digest-ordered fallback
    values = list(chain.from_iterable(map(dict.values, dicts)))
    if not _IS_ATOMS(map(type, values)):
        return None
    return keys, values, order


def queue_dicts(run: list, spans: list, layout: tuple, first: int) -> None:
    """Queue the dicts described by ``layout`` (see :func:`dict_layout`),
    the first at memo slot ``first`` (>= 256, last slot at most
    ``LAST_DICT_SLOT``): its items, then for each next dict the stem, its
    slot + offset, its items in sorted key order; note the batch in
    ``spans``.

    The caller queues the first dict's opener before and SETITEMS after.
    """
    keys, values, order = layout
    width = len(order)
    count = len(keys) // width
    stride = 2 * width + 2
    batch = [DICT_STEM] * (stride * count - 2)
    for place, column in enumerate(order):
        batch[2 * place :: stride] = keys[column::width]
        batch[2 * place + 1 :: stride] = values[column::width]
    start = first + _DICT_OFFSET
    batch[stride - 1 :: stride] = range(start + 1, start + count)
    spans.append((len(run), first, count, width))
    run += batch


def _counts(spans: list) -> list:
    """How many stems of each of ``KINDS`` the batches in ``spans`` hold."""
    counts = [0] * len(KINDS)
    for _, first, count, width in spans:
        if width:
            counts[2] += count - 1
        else:
            ints = max(0, first + count - max(first, _FIRST_INT_SLOT))
            counts[0] += ints
            counts[1] += count - ints
    return counts


def restore(data: bytes, spans: list) -> bytes | None:
    """Replace the stems of the batches in ``spans`` by their opcodes (see
    the module docstring); None if a pattern also occurs elsewhere."""
    for (pattern, replacement), count in zip(KINDS, _counts(spans)):
        if count:
            size = len(data)
            data = data.replace(pattern, replacement)
            if size - len(data) != count * (len(pattern) - len(replacement)):
                return None
    return data


def _stem_pieces(spans: list) -> dict:
    """Map the run position of each stem to the opcodes it stands for."""
    pieces = {}
    for start, first, count, width in spans:
        if not width:
            for number in range(count):
                pieces[start + 3 * number + 1] = put_code(first + number)
            continue
        stride = 2 * width + 2
        for number in range(1, count):
            opener = _SETITEMS + pickle.EMPTY_DICT + put_code(first + number) + _MARK
            pieces[start + stride * number - 2] = opener
    return pieces


def expand(run: list, pieces: list, marks: list, spans: list, marker) -> tuple:
    """Return ``(run, pieces, marks)`` with every stem and its index turned
    into ``marker`` and an ordinary piece (the slow but always exact path).

    ``marks`` are the positions of the ordinary markers in ``run``.
    """
    ordinary = set(marks)
    stems = _stem_pieces(spans)
    queued = iter(pieces)
    new_run, new_pieces, new_marks = [], [], []
    position, size = 0, len(run)
    while position < size:
        value = run[position]
        if position in ordinary:
            piece = next(queued)
        elif position in stems:
            piece = stems[position]
            value = marker
            position += 1  # the stem's index
        else:
            new_run.append(value)
            position += 1
            continue
        new_marks.append(len(new_run))
        new_run.append(value)
        new_pieces.append(piece)
        position += 1
    return new_run, new_pieces, new_marks

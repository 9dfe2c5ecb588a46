"""Batches of records whose memo PUTs are written by the C pickler itself.

The walker's general mechanism (:mod:`joblib._hashing.walker`) puts a marker
in the run wherever an opcode goes, then splits the dump on the markers and
joins the pieces back: per piece, a segment object, a list slot and a copy.
For a batch of records (all-atom tuples or lists, dicts with the same atom
keys) each record needs one memo PUT, so that cost is paid per record.  Here no
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
  ``i + (0x28 << 32)``, whose encoding ``LONG1 5 i:<I 0x28`` ends with the
  MARK opcode (0x28).  ``u}r`` replaces the stem and ``LONG1 5``: the
  previous record's SETITEMS, this one's EMPTY_DICT and LONG_BINPUT
  (``_OPEN_DICT``).
  The first record's opener and the last one's SETITEMS are ordinary pieces.
* list record (all-atom list of 2 to 1000 items): the same, without keys:
  ``e]r`` (APPENDS, EMPTY_LIST, LONG_BINPUT) between two records.

Each pattern starts with SHORT_BINBYTES (0x43), found nowhere else in it, so
its occurrences never overlap: when ``replace`` removed exactly as many
bytes as the queued stems account for, only stems were replaced.  Otherwise
(data that contains a pattern) :func:`expand` turns the stems back into
ordinary pieces for the walker's segment-by-segment path; it finds them by
their positions, noted per batch in ``spans``, never by value.
"""

from __future__ import annotations

import pickle
import struct
from itertools import accumulate, chain, repeat
from operator import itemgetter

from .atoms import ATOM_TYPES, put_code

__all__ = [
    "PUT_STEM",
    "DICT_STEM",
    "LIST_STEM",
    "KINDS",
    "queue_tuples",
    "dict_run",
    "queue_dicts",
    "list_run",
    "queue_lists",
    "restore",
    "expand",
]

_IS_ATOMS = ATOM_TYPES.issuperset
_MARK, _SETITEMS = pickle.MARK, pickle.SETITEMS

# No stem holds 0x43 (see the module docstring).
PUT_STEM = bytes.fromhex("9f3be1d20c77")
DICT_STEM = bytes.fromhex("e46a0df5b219")
LIST_STEM = bytes.fromhex("b8d17e2f9a65")
_PUT_HEAD, _DICT_HEAD, _LIST_HEAD = (
    pickle.SHORT_BINBYTES + bytes((len(stem),)) + stem for stem in (PUT_STEM, DICT_STEM, LIST_STEM)
)

# The index slots each form covers: BININT needs i >= 65536 (smaller ints are
# written in 1 or 2 bytes); below 256 the PUT is a BINPUT (ordinary pieces).
FIRST_LONG_SLOT = 256
_FIRST_INT_SLOT = 65536
LAST_TUPLE_SLOT = 2**31 - 1  # BININT is signed
LAST_DICT_SLOT = 2**32 - 1  # LONG_BINPUT's limit
_OFFSET = _MARK[0] << 32  # the 5th little-endian byte is MARK

# (pattern, replacement) of each kind, in the order of the counts.
_PUT_INT = (_PUT_HEAD + pickle.BININT, pickle.LONG_BINPUT)
_PUT_BYTES = (_PUT_HEAD + pickle.SHORT_BINBYTES + b"\x04", pickle.LONG_BINPUT)
_DICT_OPENER = _SETITEMS + pickle.EMPTY_DICT + pickle.LONG_BINPUT
_LIST_OPENER = pickle.APPENDS + pickle.EMPTY_LIST + pickle.LONG_BINPUT
_OPEN_DICT = (_DICT_HEAD + pickle.LONG1 + b"\x05", _DICT_OPENER)
_OPEN_LIST = (_LIST_HEAD + pickle.LONG1 + b"\x05", _LIST_OPENER)
KINDS = (_PUT_INT, _PUT_BYTES, _OPEN_DICT, _OPEN_LIST)
_TUPLES, _DICTS, _LISTS = range(3)  # the kinds of batches noted in spans
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
    spans.append((_TUPLES, len(run), first, count, None))
    run += batch


def dict_run(dicts, first: int) -> list | None:
    """Return the run of ``dicts`` at memo slots ``first, first + 1, ...``
    (>= 256, last at most ``LAST_DICT_SLOT``) if they all hold the same
    comparable atom keys (2 to 1000) in the same order and atom values:
    the items of each in sorted key order, with the stem and the next slot
    + offset between two dicts.  None if the dicts are otherwise.
    See :func:`queue_dicts`.
    """
    count, width = len(dicts), len(dicts[0])
    if width < 2:
        return None
    keys = list(chain.from_iterable(dicts))
    # With the comparison below, no dict can hold more than `width` keys
    # (it would repeat one), so the total proves every length is `width`.
    if len(keys) != width * count or not _IS_ATOMS(map(type, keys)):
        return None
    head = keys[:width]
    # Atoms only: equality is the atoms' own, and equal atoms sort alike.
    if keys != head * count:
        return None
    try:
        order = sorted(range(width), key=head.__getitem__)
    except TypeError:
        return None  # unorderable keys: the digest-ordered fallback
    stride = 2 * width + 2
    batch = [DICT_STEM] * (stride * count - 2)
    for place, column in enumerate(order):
        batch[2 * place :: stride] = keys[column::width]
        # Each dict's key at `column` equals head's (and is its only key
        # equal to it): looking head's up gets that key's value.
        values = list(map(itemgetter(head[column]), dicts))
        if not _IS_ATOMS(map(type, values)):
            return None
        batch[2 * place + 1 :: stride] = values
    start = first + _OFFSET
    batch[stride - 1 :: stride] = range(start + 1, start + count)
    return batch


def queue_dicts(run: list, spans: list, dicts, first: int, batch: list) -> None:
    """Queue the ``batch`` :func:`dict_run` made; note it in ``spans``.

    The caller queues the first dict's opener (EMPTY_DICT, its PUT, MARK)
    before and SETITEMS after.
    """
    stride = 2 * len(dicts[0]) + 2
    spans.append((_DICTS, len(run), first, len(dicts), stride))
    run += batch


def list_run(lists, first: int) -> list | None:
    """Return the run of ``lists`` (each of 2 to 1000 items) at memo slots
    ``first, first + 1, ...`` (>= 256, last at most ``LAST_DICT_SLOT``):
    the items of each, with the stem and the next slot + offset between two
    lists; None if some item is not an atom.  See :func:`queue_lists`."""
    count = len(lists)
    parts = [None] * (2 * count - 1)
    parts[0::2] = lists
    start = first + _OFFSET
    parts[1::2] = zip(repeat(LIST_STEM), range(start + 1, start + count))
    batch = list(chain.from_iterable(parts))
    return batch if _IS_ATOMS(map(type, batch)) else None


def queue_lists(run: list, spans: list, lists, first: int, batch: list) -> None:
    """Queue the ``batch`` :func:`list_run` made; note it in ``spans``.

    The caller queues the first list's opener (EMPTY_LIST, its PUT, MARK)
    before and APPENDS after.
    """
    spans.append((_LISTS, len(run), first, len(lists), lists))
    run += batch


def _counts(spans: list) -> list:
    """How many stems of each of ``KINDS`` the batches in ``spans`` hold."""
    counts = [0] * len(KINDS)
    for kind, _, first, count, _ in spans:
        if kind == _TUPLES:
            ints = max(0, first + count - max(first, _FIRST_INT_SLOT))
            counts[0] += ints
            counts[1] += count - ints
        else:
            counts[1 + kind] += count - 1
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
    for kind, start, first, count, extra in spans:
        if kind == _TUPLES:
            for number in range(count):
                pieces[start + 3 * number + 1] = put_code(first + number)
            continue
        if kind == _DICTS:
            stride, opener = extra, _SETITEMS + pickle.EMPTY_DICT
            positions = range(start + stride - 2, start + stride * (count - 1), stride)
        else:
            opener = pickle.APPENDS + pickle.EMPTY_LIST
            # Each stem follows the previous list's items and the stem
            # and index before those.
            sizes = map(len, extra[:-1])
            ends = accumulate(sizes, lambda end, size: end + size + 2, initial=start - 2)
            positions = list(ends)[1:]
        for number, position in enumerate(positions, 1):
            pieces[position] = opener + put_code(first + number) + _MARK
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

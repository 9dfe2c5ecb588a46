"""Encoding runs of small containers in one C pickler call.

joblib 1.6's stream differs from the C pickler's fast-mode output only by
the memo ``PUT`` opcodes it writes for containers: right after the opener
of a list or dict, right after the closing opcode of a tuple.  For a run of
values that are atoms or *simple* containers (all-atom tuples, all-atom
lists and dicts of at most one batch) we therefore dump the whole run at
once with a marker value where each ``PUT`` belongs (before a list or dict,
after a tuple), split the bytes on the markers' encodings (a list or dict
marker is split off together with the opener that follows it) and join the
pieces back with the ``PUT`` opcodes in between.

Each marker's encoding starts with a byte found nowhere else in any marker,
so two occurrences can never overlap: when the dump holds exactly as many
occurrences as markers were placed, none comes from the data and the split
is exact.  Otherwise (data containing those bytes) the run is saved value by
value instead; the digest is the same either way.
"""

from __future__ import annotations

import pickle
import re
import struct
from itertools import chain, repeat

from .atoms import ATOM_TYPES, all_atoms

__all__ = ["RunSaving"]

_BATCHSIZE = 1000
_IS_ATOMS = ATOM_TYPES.issuperset

# Markers: 15 shared bytes plus a kind byte; no 0x43 (SHORT_BINBYTES, the
# first byte of their encoding) anywhere else.
_STEM = bytes.fromhex("f39a1ed705bb628ce1374fa910de76")
_TUPLE_MARK, _DICT_MARK, _LIST_MARK = (_STEM + kind for kind in (b"T", b"D", b"L"))
_STEM_CODE = pickle.SHORT_BINBYTES + bytes((len(_STEM) + 1,)) + _STEM
_SPLIT = re.compile(
    re.escape(_STEM_CODE)
    + b"(?:T|D"
    + re.escape(pickle.EMPTY_DICT)
    + b"|L"
    + re.escape(pickle.EMPTY_LIST)
    + b")"
).split

# What replaces each marker: the opener it swallowed (if any) and the PUT.
_OPENERS = {tuple: b"", dict: pickle.EMPTY_DICT, list: pickle.EMPTY_LIST}
_LONG_PUTS = {
    kind: struct.Struct("<%dsI" % (len(opener) + 1)).pack
    for kind, opener in _OPENERS.items()
}


def _put_pieces(kinds, first_index: int) -> list:
    """Return ``opener + PUT`` for containers of ``kinds`` memoized in order."""
    pieces = []
    short = max(0, min(len(kinds), 256 - first_index))
    for offset in range(short):
        opener = _OPENERS[kinds[offset]]
        pieces.append(opener + pickle.BINPUT + bytes((first_index + offset,)))
    rest = range(first_index + short, first_index + len(kinds))
    if len(set(kinds[short:])) == 1:
        kind = kinds[short]
        pieces += map(_LONG_PUTS[kind], repeat(_OPENERS[kind] + pickle.LONG_BINPUT), rest)
    else:
        for kind, index in zip(kinds[short:], rest):
            pieces.append(_LONG_PUTS[kind](_OPENERS[kind] + pickle.LONG_BINPUT, index))
    return pieces


def _simple_dict(value):
    """Return a sorted copy of an all-atom dict of one batch, else None."""
    if len(value) > _BATCHSIZE or not (all_atoms(value) and all_atoms(value.values())):
        return None
    try:
        # The C pickler writes dict items in insertion order.
        return dict(sorted(value.items()))
    except TypeError:
        return None


def _interleave(first: list, second: list) -> list:
    """Return ``[first[0], second[0], first[1], ...]``.

    ``first`` has as many items as ``second`` or one more.
    """
    merged = [None] * (len(first) + len(second))
    merged[0::2] = first
    merged[1::2] = second
    return merged


class RunSaving:
    """Mixin: ``_save_mixed`` for the hashing picklers (see module doc)."""

    def _save_mixed(self, values) -> None:
        """Save a sequence of values, dumping runs of simple values at once."""
        kinds = set(map(type, values))
        if len(kinds) == 1:
            kind = kinds.pop()
            if kind is tuple and self._save_tuple_batch(values):
                return
            if kind is dict and self._save_dict_batch(values):
                return
        self._save_heterogeneous(values)

    def _save_tuple_batch(self, values) -> bool:
        """Save non-empty all-atom tuples at once; False if not applicable."""
        if () in values or not _IS_ATOMS(map(type, chain.from_iterable(values))):
            return False
        run = _interleave(values, [_TUPLE_MARK] * len(values))
        return self._write_run(run, values, [tuple] * len(values))

    def _save_dict_batch(self, values) -> bool:
        """Save all-atom dicts at once; False if not applicable."""
        if max(map(len, values)) > _BATCHSIZE:
            return False
        keys = chain.from_iterable(values)
        items = chain.from_iterable(map(dict.values, values))
        if not (_IS_ATOMS(map(type, keys)) and _IS_ATOMS(map(type, items))):
            return False
        try:
            forms = [dict(sorted(value.items())) for value in values]
        except TypeError:
            return False
        run = [_DICT_MARK] * (2 * len(values))
        run[1::2] = forms
        return self._write_run(run, values, [dict] * len(values))

    def _save_heterogeneous(self, values) -> None:
        """Save values of mixed types: runs of simple ones at once."""
        run, containers, kinds = [], [], []
        start = 0
        for index, value in enumerate(values):
            kind = type(value)
            if kind in ATOM_TYPES:
                run.append(value)
            elif kind is tuple and _IS_ATOMS(map(type, value)):
                run.append(value)
                if value:  # the empty tuple is never memoized
                    run.append(_TUPLE_MARK)
                    containers.append(value)
                    kinds.append(tuple)
            elif kind is list and len(value) <= _BATCHSIZE and all_atoms(value):
                run += (_LIST_MARK, value)
                containers.append(value)
                kinds.append(list)
            elif kind is dict and (form := _simple_dict(value)) is not None:
                run += (_DICT_MARK, form)
                containers.append(value)
                kinds.append(dict)
            else:
                # Saved on its own, after the run: memo order matters.
                self._flush(values[start:index], run, containers, kinds)
                run, containers, kinds = [], [], []
                self._save_one(value)
                start = index + 1
        self._flush(values[start:], run, containers, kinds)

    def _flush(self, values, run, containers, kinds) -> None:
        """Write ``values``, whose dump form is ``run``."""
        if not containers:
            if values:
                self._write_atoms(values, 0, len(values))
        elif not self._write_run(run, containers, kinds):
            self._save_each(values)

    def _write_run(self, run, containers, kinds) -> bool:
        """Dump ``run`` and write it with PUTs; False (nothing done) if the
        containers are shared or the data holds a marker."""
        memo = self.memo
        ids = list(map(id, containers))
        if len(set(ids)) != len(ids) or any(map(memo.__contains__, ids)):
            # Shared containers are written as memo GETs: not for this path.
            return False
        parts = _SPLIT(self._atoms.items(tuple(run)))
        if len(parts) != len(containers) + 1:
            return False
        first_index = len(memo)
        memo.update(zip(ids, zip(range(first_index, first_index + len(ids)), containers)))
        self._file_write(b"".join(_interleave(parts, _put_pieces(kinds, first_index))))
        return True

    def _save_one(self, value) -> None:
        """Save one non-atomic value through the fast savers or ``save``."""
        saver = self._fast_savers.get(type(value))
        if saver is None:
            self.save(value)
        else:
            saver(self, value)

    def _save_each(self, values) -> None:
        """Save values one by one (runs of plain atoms still dumped at once)."""
        start = 0
        for index, value in enumerate(values):
            if type(value) in ATOM_TYPES:
                continue
            self._write_atoms(values, start, index)
            self._save_one(value)
            start = index + 1
        self._write_atoms(values, start, len(values))

    def _write_atoms(self, values, start: int, stop: int) -> None:
        """Write the atoms ``values[start:stop]``."""
        if stop - start == 1:
            self._file_write(self._encode_atom(values[start]))
        elif stop > start:
            self._file_write(self._atoms.items(tuple(values[start:stop])))

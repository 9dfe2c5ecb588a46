"""Fast, joblib-1.6-exact saving of builtin containers for the hashers.

joblib 1.6 digests the protocol-3 stream of ``pickle._Pickler`` (sorted dict
items, no memo for ``str``/``bytes``).  Saving containers through that
pure-Python pickler costs a few microseconds per value.  Here a tree of
lists, tuples and dicts is *walked* instead:

* every atom (None, bool, int, float, str, bytes) and every all-atom tuple
  is appended to ``_run``, a flat list later encoded by the C pickler in one
  call (for those values its fast mode writes exactly 1.6's bytes);
* every structural opcode 1.6 writes (openers, ``MARK``, memo ``PUT``/
  ``GET``, ``APPENDS``, ``SETITEMS``, tuple codes) is a byte string in
  ``_pieces``, with a marker value appended to ``_run`` at its place.

:meth:`_flush` dumps ``_run``, splits the bytes on the marker's encoding and
joins them back with the pieces.  The marker's encoding starts with a byte
found nowhere else in it, so occurrences never overlap: if the dump holds
exactly one occurrence per piece, the split is exact.  Otherwise (data that
contains those 18 bytes) each segment between markers is dumped on its own.
Batches of records (all-atom tuples and lists, dicts sharing atom keys) at
memo index 256 or more need no piece per record: :mod:`joblib._hashing.records`
queues each record's memo index for the C pickler to write, and one
``bytes.replace`` per kind turns it into the PUT.

Memo indices are assigned during the walk, in stream order, in the same
``self.memo`` the generic pickler uses.  A batch of records that nothing
else references (their reference counts say so) gets its indices without
memo entries, which would never be read: ``self._skipped`` counts those
slots, and every index is ``len(self.memo) + self._skipped``.  Anything that
is not a builtin container or atom flushes the run and goes through
``self.save``.
"""

from __future__ import annotations

import pickle
import re
import sys
from itertools import chain

from .atoms import ATOM_TYPES, atom_encoder, put_code, put_codes
from .records import (
    FIRST_LONG_SLOT,
    LAST_DICT_SLOT,
    LAST_TUPLE_SLOT,
    dict_run,
    expand,
    list_run,
    queue_dicts,
    queue_lists,
    queue_tuples,
    restore,
)

__all__ = ["ContainerWalker", "BATCHSIZE"]

# Same batch size as pickle._Pickler._BATCHSIZE (and the C pickler).
BATCHSIZE = 1000
# Flush runs longer than this: memory stays bounded, and the run and its
# dump stay in the CPU cache while they are split and patched (measured on
# 200k records: 10k-entry runs hash 12% faster than 200k-entry ones).
_MAX_RUN = 10_000
_IS_ATOMS = ATOM_TYPES.issuperset

# Markers: 15 shared bytes and a kind byte, without 0x43 (SHORT_BINBYTES,
# the first byte of their encoding) anywhere else.  The list and dict
# markers are split off together with the opener that follows them: the
# container itself is dumped by the C pickler and the PUT goes after it.
_STEM = bytes.fromhex("f39a1ed705bb628ce1374fa910de76")
_MARKER, _LIST_MARKER, _DICT_MARKER = (_STEM + kind for kind in (b"A", b"L", b"D"))
_STEM_CODE = pickle.SHORT_BINBYTES + bytes((len(_MARKER),)) + _STEM
_SPLIT = re.compile(
    re.escape(_STEM_CODE) + b"(?:A|L" + re.escape(pickle.EMPTY_LIST) + b"|D"
    + re.escape(pickle.EMPTY_DICT) + b")"
).split


def _unique_refcount() -> int:
    """Reference count that ``max(map(getrefcount, values))`` sees for an
    item held by ``values`` alone (measured: it varies across versions)."""
    values = [object()]  # noqa: the object is held by this list only
    return max(map(sys.getrefcount, values))


# A container item whose reference count is this (plus the known number of
# other containers holding the batch's items) cannot be reached again while
# hashing: nothing else references it, and builtin containers cannot be
# weakly referenced.  Its memo entry would never be read, so batches of such
# items only advance the memo index (see ``_claim``).  Off on other
# interpreters than CPython, whose reference counts mean something else.
_RC_UNIQUE = _unique_refcount() if sys.implementation.name == "cpython" else -1
_getrefcount = getattr(sys, "getrefcount", None)

_TUPLE_CODES = (pickle.EMPTY_TUPLE, pickle.TUPLE1, pickle.TUPLE2, pickle.TUPLE3)
_EMPTY_LIST, _EMPTY_DICT, _MARK = pickle.EMPTY_LIST, pickle.EMPTY_DICT, pickle.MARK
_APPEND, _APPENDS = pickle.APPEND, pickle.APPENDS
_SETITEM, _SETITEMS = pickle.SETITEM, pickle.SETITEMS


def _sorted_copy(mapping: dict) -> dict:
    """Return ``mapping`` itself if its keys are sorted, else a sorted copy.

    For atom keys (distinct, so never equal) this is the order
    ``sorted(mapping.items())`` gives, at a lower cost.
    """
    keys = sorted(mapping)
    if keys == list(mapping):
        return mapping
    return {key: mapping[key] for key in keys}


def _sorted_dicts(dicts) -> list | None:
    """Return ``dicts`` with each one's keys in sorted order (the dicts
    themselves where already sorted); None if some keys are unorderable.

    Records usually share one key order: then one sort serves them all.
    """
    orders = set(map(tuple, dicts))
    if len(orders) == 1:
        keys = orders.pop()
        try:
            ordered = sorted(keys)
        except TypeError:
            return None
        if list(keys) == ordered:
            return dicts
    try:
        return list(map(_sorted_copy, dicts))
    except TypeError:
        return None


def _interleave(first, second) -> list:
    """Return ``[first[0], second[0], first[1], ...]``.

    ``first`` has as many items as ``second`` or one more.
    """
    merged = [None] * (len(first) + len(second))
    merged[0::2] = first
    merged[1::2] = second
    return merged


class ContainerWalker:
    """Mixin for ``pickle._Pickler`` subclasses: fast list/tuple/dict saving.

    The host class calls :meth:`_init_walker` after ``pickle._Pickler``'s
    ``__init__`` and defines ``_fallback_key(obj)``, the order key of dict
    keys that cannot be compared with each other.
    """

    def _init_walker(self) -> None:
        """Create the atom encoder and the (empty) run."""
        self._atoms = atom_encoder()
        self._run = []
        self._pieces = []
        self._marks = []  # index in _run of each marker, for the slow path
        # Batches of records whose PUTs the C pickler writes (records.py).
        self._spans = []
        # Memo slots given to containers that were not stored in self.memo
        # (unique ones, see _RC_UNIQUE): every index is len(memo) + this.
        self._skipped = 0

    # -- entry points (called from save / the generic pickler) --------------
    def _save_list_fast(self, obj: list) -> None:
        """Save a list."""
        self._walk_list(obj)
        self._flush()

    def _save_tuple_fast(self, obj: tuple) -> None:
        """Save a tuple."""
        self._walk_tuple(obj)
        self._flush()

    def _save_dict_fast(self, obj: dict) -> None:
        """Save a plain dict."""
        self._walk_dict(obj)
        self._flush()

    def _save_atom(self, obj) -> None:
        """Save one atomic value (None, bool, int, float, str, bytes)."""
        self._file_write(self._atoms.items((obj,)))

    def _batch_setitems(self, items, *args) -> None:
        """Write dict items sorted (dict subclasses, object states).

        ``*args`` absorbs the ``obj`` argument added in Python 3.14.
        """
        # Materialize first: ``items`` may be a one-shot iterator (dictitems
        # of a dict subclass), which 1.6's fallback found already exhausted.
        self._walk_pairs(self._sorted_items(list(items)), b"")
        self._flush()

    # -- run management ------------------------------------------------------
    def _emit(self, piece: bytes, marker: bytes = _MARKER) -> None:
        """Queue opcode bytes at the current position of the run."""
        self._marks.append(len(self._run))
        self._run.append(marker)
        self._pieces.append(piece)

    def _flush(self) -> None:
        """Encode the run, put the opcode pieces in and write the result."""
        if not self._run:
            return
        data = None
        # Dumping one or two segments is cheaper than splitting.
        if len(self._pieces) >= 2 or self._spans:
            data = self._splice()
        if data is None:
            data = self._splice_slowly()
        self._file_write(data)
        self._run.clear()
        self._pieces.clear()
        self._marks.clear()
        self._spans.clear()

    def _splice(self) -> bytes | None:
        """Dump the run at once, split on the markers, restore the stems;
        None if the data also holds a marker's or a stem's encoding."""
        data = self._atoms.items(tuple(self._run))
        pieces = self._pieces
        if pieces:
            parts = _SPLIT(data)
            if len(parts) != len(pieces) + 1:
                return None
            data = b"".join(_interleave(parts, pieces))
        return restore(data, self._spans)

    def _splice_slowly(self) -> bytes:
        """Encode the atoms between markers segment by segment."""
        run, pieces, marks = self._run, self._pieces, self._marks
        if self._spans:
            run, pieces, marks = expand(run, pieces, marks, self._spans, _MARKER)
        encode = self._atoms.items
        parts = []
        for start, stop in zip([-1] + marks, marks + [len(run)]):
            part = encode(tuple(run[start + 1 : stop])) if stop > start + 1 else b""
            if start >= 0 and run[start] is not _MARKER:
                part = part[1:]  # the opener is in the marker's piece
            parts.append(part)
        return b"".join(_interleave(parts, pieces))

    def _walk(self, value) -> None:
        """Walk one non-atomic value; foreign objects go through save()."""
        walker = _WALKERS.get(type(value))
        if walker is not None:
            walker(self, value)
        else:
            self._flush()
            self.save(value)

    def _walk_values(self, values, holders: int | None = None) -> None:
        """Walk a sequence of values in order.

        ``holders``: how many containers other than ``values`` itself are
        known to hold each of its items (None: unknown).
        """
        run = self._run
        if _IS_ATOMS(map(type, values)):
            run.extend(values)
        elif not self._walk_uniform_batch(values, holders):
            self._walk_mixed(values)
        if len(run) > _MAX_RUN:
            self._flush()

    def _walk_mixed(self, values) -> None:
        """Walk values one by one.

        All-atom tuples and lists, the most common leaves, are queued inline
        (the same opcodes as :meth:`_walk_tuple` / :meth:`_walk_list`).
        """
        run, pieces, marks, memo = self._run, self._pieces, self._marks, self.memo
        append, walk = run.append, self._walk
        atom_types, is_atoms = ATOM_TYPES, _IS_ATOMS
        for value in values:
            kind = type(value)
            if kind in atom_types:
                append(value)
                continue
            if kind is tuple:
                marker, opener = _MARKER, b""
            elif kind is list and len(value) <= BATCHSIZE:
                marker, opener = _LIST_MARKER, _EMPTY_LIST
            else:
                walk(value)
                continue
            if not value or id(value) in memo or not is_atoms(map(type, value)):
                walk(value)
                continue
            if kind is tuple:
                append(value)
            index = len(memo) + self._skipped
            memo[id(value)] = index, value
            marks.append(len(run))
            append(marker)
            pieces.append(opener + put_code(index))
            if kind is list:
                append(value)

    def _memo_get(self, obj) -> bool:
        """Queue a memo GET and return True if ``obj`` was already saved."""
        entry = self.memo.get(id(obj))
        if entry is None:
            return False
        self._emit(self.get(entry[0]))
        return True

    def _open(self, obj, opener: bytes) -> bytes | None:
        """Memoize ``obj`` and return ``opener + PUT``.

        If ``obj`` was saved before, queue its memo GET and return None.
        """
        memo = self.memo
        key = id(obj)
        entry = memo.get(key)
        if entry is not None:
            self._emit(self.get(entry[0]))
            return None
        index = len(memo) + self._skipped
        memo[key] = index, obj
        return opener + put_code(index)

    def _memoize_code(self, obj) -> bytes:
        """Memoize ``obj`` and return its PUT opcode."""
        memo = self.memo
        index = len(memo) + self._skipped
        memo[id(obj)] = index, obj
        return put_code(index)

    # -- containers ----------------------------------------------------------
    def _walk_list(self, obj: list) -> None:
        """EMPTY_LIST PUT, then APPENDS batches (APPEND for a single item)."""
        head = self._open(obj, _EMPTY_LIST)
        if head is None:
            return
        if len(obj) <= BATCHSIZE:
            if _IS_ATOMS(map(type, obj)):
                self._emit(head, _LIST_MARKER)
                self._run.append(obj)  # dumped whole by the C pickler
            else:
                self._walk_batch(obj, head, 0)
            return
        self._emit(head)
        for start in range(0, len(obj), BATCHSIZE):
            # The items are held by obj and by the slice.
            self._walk_batch(obj[start : start + BATCHSIZE], b"", 1)

    def _walk_batch(self, values, head: bytes, holders: int | None = None) -> None:
        """Queue ``head``, then one APPEND(S) batch of list items."""
        if len(values) > 1:
            self._emit(head + _MARK)
            self._walk_values(values, holders)
            self._emit(_APPENDS)
            return
        if head:
            self._emit(head)
        if values:
            self._walk_values(values)
            self._emit(_APPEND)

    def _walk_tuple(self, obj: tuple) -> None:
        """Items then TUPLE code and PUT (memo GET if saved meanwhile)."""
        if not obj:
            self._run.append(obj)  # EMPTY_TUPLE, never memoized
            return
        if self._memo_get(obj):
            return
        if _IS_ATOMS(map(type, obj)):
            # The C pickler writes the tuple code itself.
            self._run.append(obj)
            self._emit(self._memoize_code(obj))
            return
        size = len(obj)
        if size > 3:
            self._emit(_MARK)
        self._walk_values(obj, 0)
        entry = self.memo.get(id(obj))
        if entry is not None:
            # Saved (and memoized) while saving its own items: drop what we
            # pushed and fetch the memoized copy, as pickle does.
            drop = pickle.POP_MARK if size > 3 else pickle.POP * size
            self._emit(drop + self.get(entry[0]))
            return
        code = pickle.TUPLE if size > 3 else _TUPLE_CODES[size]
        self._emit(code + self._memoize_code(obj))

    def _walk_uniform_batch(self, values, holders: int | None) -> bool:
        """Queue many all-atom tuples, lists or dicts at once; False if not that.

        This is the walk of each value, vectorized: the common "list of
        records" shapes then cost a few C-level passes per batch.
        """
        if len(values) < 8:
            return False
        kinds = set(map(type, values))
        if len(kinds) != 1:
            return False
        kind = kinds.pop()
        if kind is list:
            return self._walk_list_records(values, holders)
        if kind is dict:
            return self._walk_dict_records(values, holders)
        if kind is not tuple or not all(values):
            return False
        if not _IS_ATOMS(map(type, chain.from_iterable(values))):
            return False
        ids = self._batch_ids(values, holders)
        if ids is False:
            return False  # shared containers are written as memo GETs
        first = len(self.memo) + self._skipped
        if first >= FIRST_LONG_SLOT and first + len(values) - 1 <= LAST_TUPLE_SLOT:
            self._claim(values, ids)
            queue_tuples(self._run, self._spans, values, first)
        else:
            self._queue_batch(values, _MARKER, b"", ids, after=True)
        return True

    def _walk_dict_records(self, values, holders: int | None) -> bool:
        """Queue dicts of atoms at once; False if not that.

        Dicts sharing their keys and key order are queued flat (records.py)
        from memo slot 256 on; others are dumped whole, each followed by a
        marker (its PUT goes after its EMPTY_DICT).
        """
        ids = self._batch_ids(values, holders)
        if ids is False:
            return False
        first = len(self.memo) + self._skipped
        batch = None
        if FIRST_LONG_SLOT <= first <= LAST_DICT_SLOT - len(values) + 1:
            if len(values[0]) <= BATCHSIZE:
                batch = dict_run(values, first)
        if batch is not None:
            self._claim(values, ids)
            self._emit(_EMPTY_DICT + put_code(first) + _MARK)
            queue_dicts(self._run, self._spans, values, first, batch)
            self._emit(_SETITEMS)
            return True
        if not self._atom_dicts(values):
            return False
        forms = _sorted_dicts(values)
        if forms is None:
            return False  # unorderable keys: the one-by-one walk handles them
        self._queue_batch(forms, _DICT_MARKER, _EMPTY_DICT, ids, after=False, objs=values)
        return True

    def _walk_list_records(self, values, holders: int | None) -> bool:
        """Queue all-atom lists of 2 to 1000 items at once (records.py);
        False if not that or below memo slot 256."""
        if min(map(len, values)) < 2 or max(map(len, values)) > BATCHSIZE:
            return False
        ids = self._batch_ids(values, holders)
        first = len(self.memo) + self._skipped
        if ids is False or first < FIRST_LONG_SLOT or first + len(values) - 1 > LAST_DICT_SLOT:
            return False
        batch = list_run(values, first)
        if batch is None:
            return False
        self._claim(values, ids)
        self._emit(_EMPTY_LIST + put_code(first) + _MARK)
        queue_lists(self._run, self._spans, values, first, batch)
        self._emit(_APPENDS)
        return True

    def _batch_ids(self, values, holders: int | None):
        """Return None if no item of ``values`` is referenced elsewhere (no
        memo entries needed), else their ids; False if one was saved
        before or appears twice."""
        if holders is not None and max(map(_getrefcount, values)) <= _RC_UNIQUE + holders:
            return None
        ids = list(map(id, values))
        if len(set(ids)) != len(ids) or any(map(self.memo.__contains__, ids)):
            return False
        return ids

    def _claim(self, objs, ids) -> int:
        """Give the next memo slots to ``objs``; return the first one.

        ``ids`` None: the containers are referenced nowhere else, their
        memo slots are counted but not stored.
        """
        memo = self.memo
        first = len(memo) + self._skipped
        if ids is None:
            self._skipped += len(objs)
        else:
            memo.update(zip(ids, zip(range(first, first + len(objs)), objs)))
        return first

    @staticmethod
    def _atom_dicts(values) -> bool:
        """True if all dicts in ``values`` are small and hold only atoms."""
        if max(map(len, values)) > BATCHSIZE:
            return False
        keys = chain.from_iterable(values)
        items = chain.from_iterable(map(dict.values, values))
        return _IS_ATOMS(map(type, keys)) and _IS_ATOMS(map(type, items))

    def _queue_batch(self, forms, marker, opener, ids, after, objs=None) -> None:
        """Queue containers dumped whole, each with its memo PUT."""
        run, count = self._run, len(forms)
        first = self._claim(objs or forms, ids)
        self._pieces.extend(put_codes(first, count, opener))
        markers = [marker] * count
        base = len(run) + (1 if after else 0)
        self._marks.extend(range(base, base + 2 * count, 2))
        run.extend(_interleave(forms, markers) if after else _interleave(markers, forms))

    def _walk_dict(self, obj: dict) -> None:
        """EMPTY_DICT PUT, then sorted SETITEMS batches."""
        head = self._open(obj, _EMPTY_DICT)
        if head is None:
            return
        if not obj:
            self._emit(head)
            return
        pairs = self._sorted_items(obj.items())
        if len(pairs) > BATCHSIZE:
            self._walk_pairs(pairs, head)
            return
        flat = tuple(chain.from_iterable(pairs))
        if _IS_ATOMS(map(type, flat)):
            self._emit(head, _DICT_MARKER)
            self._run.append(dict(pairs))  # dumped whole, in sorted order
        elif len(pairs) == 1:
            self._walk_pairs(pairs, head)
        else:  # one SETITEMS batch: _walk_pairs inlined for small dicts
            self._emit(head + _MARK)
            self._walk_mixed(flat)
            self._emit(_SETITEMS)

    def _walk_pairs(self, pairs: list, head: bytes) -> None:
        """Queue ``head`` then sorted pairs in SETITEM(S) batches."""
        if len(pairs) > BATCHSIZE:
            if head:
                self._emit(head)
            for start in range(0, len(pairs), BATCHSIZE):
                self._walk_pairs(pairs[start : start + BATCHSIZE], b"")
        elif len(pairs) > 1:
            self._emit(head + _MARK)
            self._walk_values(tuple(chain.from_iterable(pairs)))
            self._emit(_SETITEMS)
        else:
            if head:
                self._emit(head)
            if pairs:
                self._walk_values(pairs[0])
                self._emit(_SETITEM)

    def _sorted_items(self, items) -> list:
        """Sort pairs as 1.6 does; unorderable keys sort by key digest.

        As in joblib 1.6 each key is then replaced by its joblib digest (a
        hex string), which does not depend on ``PYTHONHASHSEED``.
        """
        try:
            return sorted(items)
        except TypeError:
            fallback_key = self._fallback_key
            return sorted((fallback_key(key), value) for key, value in items)


_WALKERS = {
    list: ContainerWalker._walk_list,
    tuple: ContainerWalker._walk_tuple,
    dict: ContainerWalker._walk_dict,
}

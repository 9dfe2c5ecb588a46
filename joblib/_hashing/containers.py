"""Fast saving of builtin containers for the hashing picklers.

The methods here write, byte for byte, what ``pickle._Pickler`` (protocol 3)
writes for ``list``, ``tuple`` and ``dict`` with joblib 1.6's two tweaks
(sorted dict items, no memo for ``str``/``bytes``), but they hand every run
of atomic values to the C pickler (:class:`~.atoms.AtomEncoder`) instead of
calling ``save`` once per value.  They share ``self.memo`` with the generic
path, which keeps memo indices (``BINPUT``/``BINGET``) identical to 1.6.

Nested builtin containers are dispatched directly through the host class's
``_fast_savers`` table; every other value goes back through ``self.save`` so
that numpy arrays, methods, etc. keep their special handling.  The hot paths
are deliberately inlined: per-container overhead dominates for structures
made of many small dicts and lists.
"""

from __future__ import annotations

import pickle
from itertools import chain
from struct import pack

from .atoms import AtomEncoder, all_atoms, put_code
from .runs import RunSaving

__all__ = ["FastContainerSaving", "BATCHSIZE"]

# Same batch size as pickle._Pickler._BATCHSIZE (and the C pickler).
BATCHSIZE = 1000

_TUPLE_CODES = (pickle.EMPTY_TUPLE, pickle.TUPLE1, pickle.TUPLE2, pickle.TUPLE3)
_EMPTY_LIST, _EMPTY_DICT = pickle.EMPTY_LIST, pickle.EMPTY_DICT
_MARK, _APPEND, _APPENDS = pickle.MARK, pickle.APPEND, pickle.APPENDS
_SETITEM, _SETITEMS = pickle.SETITEM, pickle.SETITEMS


def _encode_small_str(value: str) -> bytes:
    """Encode a ``str`` as protocol 3 does (BINUNICODE, no memo)."""
    data = value.encode("utf-8", "surrogatepass")
    return pickle.BINUNICODE + pack("<I", len(data)) + data


class FastContainerSaving(RunSaving):
    """Mixin for ``pickle._Pickler`` subclasses: fast list/tuple/dict saving.

    The host class must call :meth:`_init_fast_saving` after
    ``pickle._Pickler.__init__``, define ``_fast_savers`` (exact type ->
    saver function) and ``_fallback_key(obj)`` (orders dict keys that cannot
    be compared with each other).
    """

    def _init_fast_saving(self) -> None:
        """Create the per-instance atom encoder."""
        self._atoms = AtomEncoder()

    def _put(self, obj) -> None:
        """Memoize ``obj`` and write its PUT opcode."""
        memo = self.memo
        index = len(memo)
        memo[id(obj)] = index, obj
        self._file_write(put_code(index))

    # -- atoms ---------------------------------------------------------------
    def _save_atom(self, obj) -> None:
        """Save one atomic value (None, bool, int, float, str, bytes)."""
        self._file_write(self._encode_atom(obj))

    def _encode_atom(self, obj) -> bytes:
        """Return the protocol-3 encoding of one atomic value."""
        if type(obj) is str and len(obj) < 64:
            return _encode_small_str(obj)
        if type(obj) is int and 0 <= obj <= 0xFF:
            return pickle.BININT1 + bytes((obj,))
        return self._atoms.items((obj,))

    def _save_values(self, values) -> None:
        """Save a sequence of values, encoding runs of atoms in one go."""
        if all_atoms(values):
            if values:
                self._file_write(self._atoms.items(tuple(values)))
        else:
            self._save_mixed(values)

    # -- containers ----------------------------------------------------------
    def _save_list_fast(self, obj: list) -> None:
        """Save a list: EMPTY_LIST, PUT, then batches of APPENDS."""
        memo = self.memo
        write = self._file_write
        entry = memo.get(id(obj))
        if entry is not None:
            write(self.get(entry[0]))
            return
        index = len(memo)
        memo[id(obj)] = index, obj
        put = put_code(index)
        if not obj:
            write(_EMPTY_LIST + put)
        elif len(obj) <= BATCHSIZE and all_atoms(obj):
            write(_EMPTY_LIST + put + self._atoms.list_batch(obj))
        else:
            write(_EMPTY_LIST + put)
            for start in range(0, len(obj), BATCHSIZE):
                self._save_list_batch(obj[start : start + BATCHSIZE])

    def _save_list_batch(self, batch: list) -> None:
        """Save at most 1000 list items as one APPEND(S) batch."""
        if all_atoms(batch):
            self._file_write(self._atoms.list_batch(batch))
        elif len(batch) == 1:
            self.save(batch[0])
            self._file_write(_APPEND)
        else:
            self._file_write(_MARK)
            self._save_mixed(batch)
            self._file_write(_APPENDS)

    def _save_tuple_fast(self, obj: tuple) -> None:
        """Save a tuple, including the recursive-tuple POP/GET dance."""
        write = self._file_write
        if not obj:
            write(pickle.EMPTY_TUPLE)
            return
        memo = self.memo
        entry = memo.get(id(obj))
        if entry is not None:
            write(self.get(entry[0]))
            return
        if all_atoms(obj):
            write(self._atoms.tuple(obj))
            self._put(obj)
            return
        size = len(obj)
        if size > 3:
            write(_MARK)
        self._save_mixed(obj)
        entry = memo.get(id(obj))
        if entry is not None:
            # The tuple was saved (and memoized) while saving its items:
            # drop what we pushed and fetch the memoized copy, as pickle does.
            drop = pickle.POP_MARK if size > 3 else pickle.POP * size
            write(drop + self.get(entry[0]))
            return
        write(pickle.TUPLE if size > 3 else _TUPLE_CODES[size])
        self._put(obj)

    def _save_dict_fast(self, obj: dict) -> None:
        """Save a plain dict: EMPTY_DICT, PUT, then sorted SETITEMS batches."""
        memo = self.memo
        write = self._file_write
        entry = memo.get(id(obj))
        if entry is not None:
            write(self.get(entry[0]))
            return
        index = len(memo)
        memo[id(obj)] = index, obj
        put = put_code(index)
        if not obj:
            write(_EMPTY_DICT + put)
            return
        try:
            pairs = sorted(obj.items())
        except TypeError:
            pairs = self._fallback_sorted(obj.items())
        if len(pairs) == 1 or len(pairs) > BATCHSIZE:
            write(_EMPTY_DICT + put)
            self._save_pairs(pairs)
            return
        # The common case, one SETITEMS batch, inlined.
        flat = tuple(chain.from_iterable(pairs))
        if all_atoms(flat):
            write(_EMPTY_DICT + put + _MARK + self._atoms.items(flat) + _SETITEMS)
        else:
            write(_EMPTY_DICT + put + _MARK)
            self._save_mixed(flat)
            write(_SETITEMS)

    def _batch_setitems(self, items, *args) -> None:
        """Write dict items in a deterministic (sorted) order.

        Used for dict subclasses and object states reduced by the generic
        path.  ``*args`` absorbs the ``obj`` argument added in Python 3.14.
        """
        # Materialize first: ``items`` may be a one-shot iterator (dictitems
        # of a dict subclass), which 1.6's fallback found already exhausted.
        items = list(items)
        try:
            pairs = sorted(items)
        except TypeError:
            pairs = self._fallback_sorted(items)
        self._save_pairs(pairs)

    def _fallback_sorted(self, items) -> list:
        """Sort pairs whose keys cannot be compared, by key digest.

        As in joblib 1.6 each key is replaced by its joblib digest (a hex
        string), which does not depend on ``PYTHONHASHSEED``.
        """
        fallback_key = self._fallback_key
        return sorted((fallback_key(key), value) for key, value in items)

    def _save_pairs(self, pairs: list) -> None:
        """Write sorted ``(key, value)`` pairs in SETITEM(S) batches."""
        if len(pairs) <= BATCHSIZE:
            self._save_pair_batch(pairs)
            return
        for start in range(0, len(pairs), BATCHSIZE):
            self._save_pair_batch(pairs[start : start + BATCHSIZE])

    def _save_pair_batch(self, batch: list) -> None:
        """Write at most 1000 pairs as one SETITEM(S) batch."""
        flat = tuple(chain.from_iterable(batch))
        if len(batch) == 1:
            self._save_values(flat)
            self._file_write(_SETITEM)
        elif all_atoms(flat):
            self._file_write(_MARK + self._atoms.items(flat) + _SETITEMS)
        else:
            self._file_write(_MARK)
            self._save_mixed(flat)
            self._file_write(_SETITEMS)

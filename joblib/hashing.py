"""Deterministic hashing of Python objects, with fast paths for numpy arrays.

:func:`hash` digests the protocol-3 pickle stream of an object, made
deterministic: dict items and set elements are sorted, ``str``/``bytes`` are
not memoized (equal strings hash alike whatever their identity), bound
methods are decomposed and numpy arrays are hashed from their memory buffer.

Compatibility with joblib 1.6.0
-------------------------------
Digests are equal to joblib 1.6.0's (same Python and numpy versions; the
reference digests live in ``tests/data/joblib16_hashes.json``) for ``None``,
bools, ints, floats, complex, strings, bytes, lists, tuples (recursive ones
too), dicts (any key type, including the unorderable-key fallback, which
sorts by the keys' own joblib digests and so does not depend on
``PYTHONHASHSEED``), sets, ``OrderedDict``/``defaultdict``/``Counter``,
dtypes, numpy arrays of any dtype (object arrays included), memory layout
and dimension (0-d too), ``np.memmap`` with and without ``coerce_mmap``,
numpy scalars, classes, functions, bound and builtin methods and instances
pickled through ``__reduce_ex__``.  They differ on purpose for:

* ``frozenset``: elements are sorted like a ``set``'s (1.6 used iteration
  order, which changes with ``PYTHONHASHSEED`` for ``str`` elements; the
  digests agree whenever that order happened to be sorted, e.g. small ints);
* dict subclasses whose keys cannot be compared with each other: 1.6 left
  all their items out of the stream, so such dicts all collided;
* ``type(None)``, ``type(NotImplemented)`` and ``type(Ellipsis)``, which 1.6
  could not hash at all.

Speed
-----
The stream is byte for byte the one 1.6's ``pickle._Pickler`` subclass
writes, but builtin containers are not saved one value at a time:
:mod:`joblib._hashing.walker` walks them, lets the C pickler encode all
atomic values in one call and splices the memo and structure opcodes in.
Array buffers are fed to the hash object without copy (bounded piecewise
copies for non-contiguous arrays), as in 1.6 before the pickle stream.

The walker (and the pickler-free stream of small dicts of atoms,
:mod:`joblib._hashing.small`) has a slow twin that saves every value through
``pickle._Pickler.save``, as 1.6 did: set ``JOBLIB_NO_FAST_HASH=1`` in the
environment (read at import) or ``joblib.hashing.FAST_HASH = False`` to use
it, e.g. to tell whether a wrong digest comes from the walker.  Both give
the same digests (tests/test_fast_paths.py checks it on generated objects).

Digests are not guaranteed to be stable across joblib, Python or numpy
versions (dtypes are pickled with ``pickle.DEFAULT_PROTOCOL``, as in 1.6).
"""

from __future__ import annotations

import decimal
import io
import os
import pickle
import sys
import types

from ._hashing.algorithms import hash_factory, new_hash, register_hash
from ._hashing.arrays import array_key, feed_array
from ._hashing.atoms import ATOM_TYPES
from ._hashing.small import small_stream
from ._hashing.walker import ContainerWalker

__all__ = ["Hasher", "NumpyHasher", "hash", "register_hash"]

Pickler = pickle._Pickler  # the pure-Python pickler: its save() is overridable

# False: hash() saves every value through Pickler.save (the walker's slow twin).
FAST_HASH = os.environ.get("JOBLIB_NO_FAST_HASH", "") in ("", "0")

_METHOD_TYPES = (types.MethodType, types.BuiltinMethodType)
# Types that pickle._Pickler.save_type special-cases (not importable by name).
_SINGLETON_TYPES = {
    type(None): None,
    type(NotImplemented): NotImplemented,
    type(Ellipsis): Ellipsis,
}


class _ConsistentSet:
    """Stand-in pickled for a set: its elements in a deterministic order.

    The class path, name and ``_sequence`` attribute enter every digest of a
    set, so they must stay as in joblib 1.6.
    """

    def __init__(self, set_sequence):
        self._sequence = _ordered_elements(set_sequence)


class _MyHash:
    """Stand-in pickled for a method: its name, owner and owner class.

    The class path, name and ``args`` attribute enter the digests.
    """

    def __init__(self, *args):
        self.args = args


def _ordered_elements(elements) -> list:
    """Return set elements sorted, or their digests sorted if unorderable."""
    try:
        return sorted(elements)
    except (TypeError, decimal.InvalidOperation):
        return sorted(_fallback_key(element) for element in elements)


def _fallback_key(obj) -> str:
    """Order key for values that cannot be compared: their md5 digest."""
    return hash(obj)


def _decompose_method(method) -> _MyHash:
    """Return the ``_MyHash`` stand-in of a bound or builtin method."""
    func = getattr(method, "__func__", method)
    owner = method.__self__
    if isinstance(owner, types.ModuleType):
        return _MyHash(func.__name__, owner.__name__)
    if owner is None:
        return _MyHash(func.__name__, owner)
    return _MyHash(func.__name__, owner, owner.__class__)


class Hasher(ContainerWalker, Pickler):
    """Pickler that feeds a hash object instead of producing a pickle.

    Parameters
    ----------
    hash_name : str, default='md5'
        A name accepted by :func:`hash`, or any other :mod:`hashlib`
        algorithm name (as in joblib 1.6).

    Notes
    -----
    A subclass overriding :meth:`save` sees the object passed to
    :meth:`hash` and every object that is not a builtin container or atom;
    the lists, tuples, dicts, ints, strings, ... nested in builtin
    containers are encoded without calling ``save``.
    """

    def __init__(self, hash_name: str = "md5"):
        self.stream = io.BytesIO()
        # Protocol 3 keeps the stream independent of the pickle default.
        Pickler.__init__(self, self.stream, protocol=3)
        self._init_walker()
        self._hash = new_hash(hash_name)

    def hash(self, obj, return_digest: bool = True) -> str | None:
        """Feed ``obj`` to the hash object and return the hex digest."""
        try:
            self.dump(obj)
        except pickle.PicklingError as exc:
            exc.args += ("PicklingError while hashing %r: %r" % (obj, exc),)
            raise
        self._hash.update(self.stream.getbuffer())
        if return_digest:
            return self._hash.hexdigest()
        return None

    def save(self, obj, save_persistent_id=True):
        """Save ``obj``, with fast paths for builtins and methods decomposed."""
        saver = self._fast_savers.get(type(obj))
        if saver is not None:
            saver(self, obj)
            return
        if isinstance(obj, _METHOD_TYPES):
            obj = _decompose_method(obj)
        Pickler.save(self, obj, save_persistent_id)

    def memoize(self, obj):
        """Memoize ``obj``, except strings: equal strings must hash alike."""
        if isinstance(obj, (bytes, str)) or self.fast:
            return
        # pickle._Pickler.memoize, with the slots the walker counted
        # without storing them (see joblib._hashing.walker._RC_UNIQUE).
        index = len(self.memo) + self._skipped
        self.write(self.put(index))
        self.memo[id(obj)] = index, obj

    def clear_memo(self):
        """Forget what was saved (the next object starts a fresh memo)."""
        Pickler.clear_memo(self)
        self._skipped = 0

    def _save_set(self, obj) -> None:
        """Save a set as a ``_ConsistentSet`` (what joblib 1.6 pickles)."""
        stand_in = _ConsistentSet(obj)
        # Same opcodes as save_reduce for object.__reduce_ex__(3).
        self.save(_ConsistentSet)
        self._file_write(pickle.EMPTY_TUPLE + pickle.NEWOBJ)
        self._file_write(self._memoize_code(stand_in))
        self.save(stand_in.__dict__)
        self._file_write(pickle.BUILD)

    def _save_frozenset(self, obj) -> None:
        """Save a frozenset with its elements in a deterministic order."""
        self.save_reduce(frozenset, (_ordered_elements(obj),), obj=obj)

    def _save_class(self, obj) -> None:
        """Save a class by reference (the singleton types by reduction)."""
        if obj in _SINGLETON_TYPES:
            self.save_reduce(type, (_SINGLETON_TYPES[obj],), obj=obj)
        else:
            self.save_global(obj)

    _fallback_key = staticmethod(_fallback_key)

    _fast_savers = dict.fromkeys(ATOM_TYPES, ContainerWalker._save_atom)
    _fast_savers.update(
        {
            list: ContainerWalker._save_list_fast,
            tuple: ContainerWalker._save_tuple_fast,
            dict: ContainerWalker._save_dict_fast,
            set: _save_set,
        }
    )

    dispatch = Pickler.dispatch.copy()
    dispatch[type] = _save_class
    dispatch[frozenset] = _save_frozenset


class NumpyHasher(Hasher):
    """Hasher that digests numpy arrays from their memory buffer.

    Parameters
    ----------
    hash_name : str, default='md5'
        A name accepted by :func:`hash`, or any other :mod:`hashlib`
        algorithm name (as in joblib 1.6).
    coerce_mmap : bool, default=False
        If True, an ``np.memmap`` hashes like the ``np.ndarray`` it views.
    """

    def __init__(self, hash_name: str = "md5", coerce_mmap: bool = False):
        self.coerce_mmap = coerce_mmap
        Hasher.__init__(self, hash_name=hash_name)
        import numpy as np  # only built when numpy is already imported

        self.np = np

    def save(self, obj, save_persistent_id=True):
        """Save ``obj``; arrays and dtypes update the hash directly."""
        if type(obj) not in self._fast_savers:
            np = self.np
            if isinstance(obj, np.ndarray) and not obj.dtype.hasobject:
                feed_array(self._hash.update, obj, np)
                obj = array_key(obj, np, self.coerce_mmap)
            elif isinstance(obj, np.dtype):
                self._hash_dtype(obj)
                return
        Hasher.save(self, obj, save_persistent_id)

    def _hash_dtype(self, dtype) -> None:
        """Hash a dtype out of the stream, so that memoization of dtypes
        (interned or not) cannot change the digest."""
        self._hash.update(b"_HASHED_DTYPE")
        self._hash.update(pickle.dumps(dtype))


class _PlainSaving:
    """Mixin: the walker's slow twin, one ``Pickler.save`` call per value.

    Only the two 1.6 rules stay: sets become ``_ConsistentSet`` and dict
    items are written sorted (the same order the walker uses).
    """

    def _save_plain_set(self, obj) -> None:
        self.save(_ConsistentSet(obj))

    _fast_savers = {set: _save_plain_set}

    def _batch_setitems(self, items, *args) -> None:
        Pickler._batch_setitems(self, iter(self._sorted_items(list(items))), *args)


class _PlainHasher(_PlainSaving, Hasher):
    """:class:`Hasher` without the container walker."""


class _PlainNumpyHasher(_PlainSaving, NumpyHasher):
    """:class:`NumpyHasher` without the container walker."""


def hash(obj, hash_name: str = "md5", coerce_mmap: bool = False) -> str:
    """Return a deterministic hex digest identifying ``obj`` by value.

    Equal objects get the same digest in every process: dict and set
    ordering, ``PYTHONHASHSEED`` and object identity do not matter.  numpy
    arrays are hashed from their memory, with dtype, shape and strides.

    Parameters
    ----------
    obj : object
        Any picklable object (functions and classes by qualified name,
        bound methods by name, instance and class).
    hash_name : str, default='md5'
        Hash algorithm: ``'md5'`` (digests as joblib 1.6's), ``'sha1'``,
        ``'blake2b'``, ``'xxh3'`` or ``'xxh128'`` (these two need the
        optional ``xxhash`` package: ``pip install "joblib[fast]"``; much
        faster on large arrays), or a name added with
        :func:`register_hash`.
    coerce_mmap : bool, default=False
        If True, an ``np.memmap`` hashes like the equivalent ``np.ndarray``.

    Returns
    -------
    str
        Hexadecimal digest (32 characters for md5 and xxh128, 40 for sha1,
        128 for blake2b, 16 for xxh3).

    Raises
    ------
    ValueError
        If ``hash_name`` is not one of the accepted names, or names an
        xxhash algorithm while ``xxhash`` is not installed.
    pickle.PicklingError
        If ``obj`` holds something that cannot be pickled by reference,
        such as a lambda or a locally defined function.

    Examples
    --------
    >>> from joblib import hash
    >>> hash({'a': 1, 'b': 2}) == hash({'b': 2, 'a': 1})
    True
    >>> len(hash([1, 2, 3], hash_name='sha1'))
    40
    >>> hash([1, 2, 3], hash_name='sha256')
    Traceback (most recent call last):
    ...
    ValueError: Valid options for 'hash_name' are ('md5', 'sha1', 'blake2b', 'xxh3', 'xxh128'). Got hash_name='sha256' instead.
    """
    factory = hash_factory(hash_name)  # raises ValueError for unknown names
    stream = small_stream(obj) if FAST_HASH else None
    if stream is not None:  # e.g. Memory's arguments: no pickler needed
        digest = factory()
        digest.update(stream)
        return digest.hexdigest()
    if "numpy" in sys.modules:
        cls = NumpyHasher if FAST_HASH else _PlainNumpyHasher
        hasher = cls(hash_name=hash_name, coerce_mmap=coerce_mmap)
    else:
        hasher = (Hasher if FAST_HASH else _PlainHasher)(hash_name=hash_name)
    return hasher.hash(obj)

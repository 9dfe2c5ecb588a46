"""Checking stand-ins for the functions pickles call to rebuild plain data.

A restricted load gives these to the file instead of the real functions
(``numpy.core.multiarray._reconstruct``, ``numpy.dtype``, ``_codecs.encode``,
``bytes``...). Each accepts only the argument types that the pickles of
arrays, dtypes, scalars and builtins contain, then calls the real
function; anything else is an :class:`UnpicklingError`. This closes the
gadgets those names would otherwise offer: allocating any shape
(``ndarray``, ``bytes(n)``), decoding with any codec, dtype strings that
are really objects, and so on.
"""

from __future__ import annotations

import codecs
import collections
import datetime
import decimal
import fractions
import pickle

__all__ = [
    "RefusedError",
    "BUILTIN_CALLABLES",
    "numpy_callables",
    "numpy_preset_callables",
    "numpy_preset_refs",
    "BUILTIN_BASES",
]


class RefusedError(pickle.UnpicklingError):
    """A restricted load met an allowed name used in a way pickles never do."""


def _refuse(what: str, value) -> RefusedError:
    return RefusedError(
        "restricted load: refusing %s with %r (type %s)"
        % (what, value, type(value).__name__)
    )


def safe_bytes(*args):
    """``bytes`` without the ``bytes(n)`` allocation form."""
    if args and isinstance(args[0], int):
        raise _refuse("bytes(n)", args[0])
    return bytes(*args)


def safe_bytearray(*args):
    """``bytearray`` without the ``bytearray(n)`` allocation form."""
    if args and isinstance(args[0], int):
        raise _refuse("bytearray(n)", args[0])
    return bytearray(*args)


def safe_codecs_encode(obj, encoding="utf-8", errors="strict"):
    """``_codecs.encode`` as protocol 0-2 pickles use it: str to latin-1."""
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1"):
        raise _refuse("_codecs.encode", (obj, encoding))
    return codecs.encode(obj, encoding, errors)


# Types a builtin-subclass instance may be rebuilt from (copyreg protocol 0/1).
BUILTIN_BASES = (object, dict, list, set, frozenset, tuple, int, float, complex,
                 str, bytes, bytearray)

BUILTIN_CALLABLES = {
    "builtins.%s" % t.__name__: t
    for t in (set, frozenset, list, dict, tuple, complex, int, float, str,
              bool, slice, object)
}
BUILTIN_CALLABLES.update(
    {
        "builtins.bytes": safe_bytes,
        "builtins.bytearray": safe_bytearray,
        "_codecs.encode": safe_codecs_encode,
        "collections.OrderedDict": collections.OrderedDict,
        "collections.deque": collections.deque,
        "collections.Counter": collections.Counter,
        "collections.defaultdict": collections.defaultdict,
        "datetime.date": datetime.date,
        "datetime.datetime": datetime.datetime,
        "datetime.time": datetime.time,
        "datetime.timedelta": datetime.timedelta,
        "datetime.timezone": datetime.timezone,
        "decimal.Decimal": decimal.Decimal,
        "fractions.Fraction": fractions.Fraction,
    }
)


def _np():
    import numpy  # numpy is optional at import

    return numpy


def _zero_size_shape(shape) -> bool:
    if isinstance(shape, int):
        shape = (shape,)
    if not isinstance(shape, tuple) or not all(type(d) is int for d in shape):
        return False
    return any(d == 0 for d in shape) and all(d >= 0 for d in shape)


def _array_types(np) -> tuple:
    """ndarray and numpy's own plain subclasses (no code of their own)."""
    return (np.ndarray, np.matrix, np.memmap, np.recarray)


def safe_reconstruct(subtype, shape, dtype):
    """numpy's ``_reconstruct``: an empty ndarray/matrix that BUILD fills."""
    np = _np()
    if subtype not in _array_types(np) or not _zero_size_shape(shape):
        raise _refuse("numpy _reconstruct", (subtype, shape))
    if not isinstance(dtype, (str, bytes)):
        raise _refuse("numpy _reconstruct dtype", dtype)
    return np.ndarray.__new__(subtype, shape, dtype)


def safe_dtype(obj, align=False, copy=False):
    """``numpy.dtype`` from a type string, as pickled dtypes are."""
    np = _np()
    scalar_type = isinstance(obj, type) and issubclass(obj, np.generic)
    if not (isinstance(obj, str) or scalar_type) or not isinstance(align, bool):
        raise _refuse("numpy.dtype", obj)
    return np.dtype(obj, align=align, copy=bool(copy))


def safe_scalar(dtype, obj=None):
    """numpy's ``scalar``: a numpy scalar from its dtype and raw bytes."""
    np = _np()
    if not isinstance(dtype, np.dtype):
        raise _refuse("numpy scalar dtype", dtype)
    if not dtype.hasobject and not isinstance(obj, bytes):
        raise _refuse("numpy scalar data", obj)
    try:
        from numpy._core.multiarray import scalar  # numpy is optional at import (numpy >= 2)
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import scalar  # numpy is optional at import (numpy < 2)
    return scalar(dtype, obj)


def safe_frombuffer(buf, dtype, shape, order):
    """numpy's protocol-5 ``_frombuffer`` for arrays without objects."""
    np = _np()
    if (
        not isinstance(buf, (bytes, bytearray, memoryview, pickle.PickleBuffer))
        or not isinstance(dtype, np.dtype)
        or dtype.hasobject
        or not isinstance(shape, tuple)
        or not all(type(d) is int and d >= 0 for d in shape)
        or order not in ("C", "F")
    ):
        raise _refuse("numpy _frombuffer", (type(buf).__name__, dtype, shape))
    array = np.frombuffer(buf, dtype=dtype)
    return array.reshape(shape, order=order)


def safe_stringdtype(coerce=True, *na_object):
    """numpy 2's StringDType pickling helper (coerce flag, NA object)."""
    from numpy._core._internal import _convert_to_stringdtype_kwargs  # numpy is optional at import

    if not isinstance(coerce, (bool, int)) or len(na_object) > 1:
        raise _refuse("numpy StringDType", (coerce,) + na_object)
    return _convert_to_stringdtype_kwargs(coerce, *na_object)


def numpy_callables() -> dict:
    """The always-allowed numpy builders, under their numpy 1 and 2 names."""
    found = {}
    for core in ("numpy.core", "numpy._core"):
        found[core + ".multiarray._reconstruct"] = safe_reconstruct
        found[core + ".multiarray.scalar"] = safe_scalar
        found[core + ".numeric._frombuffer"] = safe_frombuffer
        found[core + "._internal._convert_to_stringdtype_kwargs"] = (
            safe_stringdtype
        )
    found["numpy.dtype"] = safe_dtype
    return found


# -- the "numpy" preset: random generators and masked arrays ----------------


def _bit_generator_class(name):
    from numpy.random import _pickle  # numpy is optional at import
    from numpy.random.bit_generator import BitGenerator  # numpy is optional at import

    if isinstance(name, str) and name in _pickle.BitGenerators:
        return _pickle.BitGenerators[name]
    if isinstance(name, type) and issubclass(name, BitGenerator):
        return name
    raise _refuse("numpy bit generator", name)


def safe_bit_generator_ctor(bit_generator="MT19937"):
    """numpy.random's pickling helper, for numpy's own bit generators."""
    return _bit_generator_class(bit_generator)()


def _bit_generator(name, ctor):
    from numpy.random.bit_generator import BitGenerator  # numpy is optional at import

    if isinstance(name, BitGenerator):
        return name
    if ctor not in (None, safe_bit_generator_ctor):
        raise _refuse("numpy bit generator constructor", ctor)
    return safe_bit_generator_ctor(name)


def safe_randomstate_ctor(bit_generator_name="MT19937", bit_generator_ctor=None):
    """numpy.random's RandomState pickling helper."""
    from numpy.random import RandomState  # numpy is optional at import

    return RandomState(_bit_generator(bit_generator_name, bit_generator_ctor))


def safe_generator_ctor(bit_generator_name="MT19937", bit_generator_ctor=None):
    """numpy.random's Generator pickling helper."""
    from numpy.random import Generator  # numpy is optional at import

    return Generator(_bit_generator(bit_generator_name, bit_generator_ctor))


def safe_mareconstruct(subtype, baseclass, baseshape, basetype):
    """numpy.ma's ``_mareconstruct``: an empty masked array that BUILD fills."""
    np = _np()
    if (
        not (isinstance(subtype, type) and issubclass(subtype, np.ma.MaskedArray))
        or baseclass is not np.ndarray
        or not _zero_size_shape(baseshape)
        or not isinstance(basetype, (str, bytes))
    ):
        raise _refuse("numpy.ma _mareconstruct", (subtype, baseclass, baseshape))
    from numpy.ma.core import _mareconstruct  # numpy is optional at import

    return _mareconstruct(subtype, baseclass, baseshape, basetype)


def numpy_preset_callables() -> dict:
    """Builders the "numpy" preset adds."""
    prefix = "numpy.random._pickle."
    return {
        prefix + "__bit_generator_ctor": safe_bit_generator_ctor,
        prefix + "__randomstate_ctor": safe_randomstate_ctor,
        prefix + "__generator_ctor": safe_generator_ctor,
        "numpy.ma.core._mareconstruct": safe_mareconstruct,
        # Cython's unpickle helper: SeedSequence.__new__(cls) + its state.
        "numpy.random.bit_generator.__pyx_unpickle_SeedSequence": (
            _pyx_unpickle_seed_sequence
        ),
    }


def _pyx_unpickle_seed_sequence(cls, checksum, state):
    from numpy.random import bit_generator  # numpy is optional at import

    if cls is not bit_generator.SeedSequence:
        raise _refuse("numpy SeedSequence unpickle", cls)
    return bit_generator.__pyx_unpickle_SeedSequence(cls, checksum, state)


def numpy_preset_refs() -> dict:
    """Classes the "numpy" preset lets a file name (not call)."""
    np = _np()
    from numpy.random import _pickle  # numpy is optional at import

    refs = {
        "numpy.ma.core.MaskedArray": np.ma.MaskedArray,
        "numpy.ma.MaskedArray": np.ma.MaskedArray,
        "numpy.random.bit_generator.SeedSequence": (
            np.random.bit_generator.SeedSequence
        ),
        "numpy.random.mtrand.RandomState": np.random.RandomState,
        "numpy.random._generator.Generator": np.random.Generator,
    }
    for cls in _pickle.BitGenerators.values():
        refs["%s.%s" % (cls.__module__, cls.__name__)] = cls
    return refs

"""The scanner's view of joblib's array wrappers: describe, then skip the bytes.

Called by :class:`~joblib._persist.scan.StreamScanner` at the ``BUILD`` of
a wrapper. Only the wrapper's recorded state is used; the one real object
made is the ``numpy.dtype`` (from its type string and pickled state, by
numpy itself, with plain data only), needed to know the item size.
"""

from __future__ import annotations

from .scan import Global, Instance, ScanError

__all__ = ["describe_wrapped_array", "realise_dtype", "dtype_report"]

_DTYPE_GLOBALS = frozenset(["numpy.dtype"])
_PLAIN = (type(None), bool, int, float, str, bytes)


def _np():
    try:
        import numpy  # numpy is optional at import
    except ImportError as exc:  # pragma: no cover - numpy is optional
        raise ScanError(
            "numpy is needed to read the array headers of this file"
        ) from exc
    return numpy


def realise_dtype(value, depth: int = 0):
    """Build the numpy.dtype a scanned ``numpy.dtype(...)`` call describes."""
    if depth > 16:
        raise ScanError("corrupted: dtype nested too deeply")
    np = _np()
    if isinstance(value, np.dtype):
        return value
    if not (
        isinstance(value, Instance)
        and isinstance(value.factory, Global)
        and value.factory.dotted in _DTYPE_GLOBALS
        and value.args
        and isinstance(value.args[0], (str, Global))
    ):
        raise ScanError("corrupted: expected a numpy dtype, found %r" % (value,))
    flags = [bool(a) for a in value.args[1:3] if isinstance(a, (bool, int))]
    try:
        dtype = np.dtype(_dtype_spec(value.args[0]), *flags[:1])
        if value.state is not None:
            dtype.__setstate__(_realise_plain(value.state, depth + 1))
    except ScanError:
        raise
    except Exception as exc:
        raise ScanError("corrupted: invalid dtype (%s)" % exc) from exc
    return dtype


def _dtype_spec(spec):
    """A dtype string, or numpy's scalar type named by a Global (np.record)."""
    if isinstance(spec, str):
        return spec
    from .trust import numpy_scalar_types  # lazy: trust loads only when arrays are scanned

    found = numpy_scalar_types().get(spec.dotted)
    if found is None:
        raise ScanError("corrupted: %s is not a numpy scalar type" % spec.dotted)
    return found


def _realise_plain(value, depth: int):
    """Plain data with nested dtypes made real; anything else is refused."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, tuple):
        return tuple(_realise_plain(v, depth) for v in value)
    if isinstance(value, list):
        return [_realise_plain(v, depth) for v in value]
    if isinstance(value, dict):
        return {k: _realise_plain(v, depth) for k, v in value.items()}
    encoded = _latin1_bytes(value)
    if encoded is not None:
        return encoded
    return realise_dtype(value, depth + 1)


def _latin1_bytes(value):
    """Bytes as protocols 0-2 pickle them: ``_codecs.encode(text, "latin1")``."""
    if not (isinstance(value, Instance) and isinstance(value.factory, Global)):
        return None
    args = value.args
    if value.factory.dotted == "builtins.bytes" and args == ():
        return b""
    if (
        value.factory.dotted == "_codecs.encode"
        and len(args) == 2
        and isinstance(args[0], str)
        and args[1] in ("latin1", "latin-1")
    ):
        return args[0].encode("latin-1")
    return None


def dtype_report(dtype) -> str:
    """A readable dtype string: ``'<f8'``, ``'object'``, or the field list."""
    if dtype.fields:
        return str(dtype.descr)
    if dtype.hasobject:
        return "object"
    return dtype.str


def _shape(value) -> tuple:
    if not isinstance(value, tuple) or not all(
        type(d) is int and d >= 0 for d in value
    ):
        raise ScanError("corrupted: invalid array shape %r" % (value,))
    return value


def _count(shape) -> int:
    count = 1
    for dim in shape:
        count *= dim
    return count


def _state_dict(wrapper: Instance) -> dict:
    state = wrapper.state
    if isinstance(state, tuple) and len(state) == 2:
        state = state[0]  # (dict, slotstate)
    if not isinstance(state, dict):
        raise ScanError("corrupted: array wrapper without a state dict")
    return state


def describe_wrapped_array(scanner, kind: str, wrapper: Instance):
    """Record the array behind ``wrapper`` and move past its bytes."""
    state = _state_dict(wrapper)
    if kind != "new":
        return _companion_array(scanner, kind, state)
    dtype = realise_dtype(state.get("dtype"))
    shape = _shape(state.get("shape"))
    order = state.get("order", "C")
    subclass = state.get("subclass")
    entry = {
        "dtype": dtype_report(dtype),
        "shape": list(shape),
        "order": order if order in ("C", "F") else str(order),
        "subclass": subclass.dotted if isinstance(subclass, Global) else None,
    }
    source = scanner._source
    if dtype.hasobject:
        # A nested pickle stream; its own globals count like the others.
        entry["offset"] = source.tell()
        scanner.scan_nested()
        entry["bytes"] = source.tell() - entry["offset"]
    else:
        alignment = state.get("numpy_array_alignment_bytes")
        if alignment is not None:
            _skip_padding(source)
        entry["offset"] = source.tell()
        entry["bytes"] = _count(shape) * dtype.itemsize
        source.skip(
            entry["bytes"],
            "an array of shape %s and dtype %s" % (shape, entry["dtype"]),
        )
    scanner._result.arrays.append(entry)
    return Instance(Global("numpy", "ndarray"))


def _skip_padding(source) -> None:
    length = source.read(1)
    if len(length) != 1:
        raise ScanError("truncated: the file ends before an array's data")
    if length[0] > 64:
        raise ScanError("corrupted: invalid array padding length %d" % length[0])
    source.skip(length[0], "an array's padding")


def _companion_array(scanner, kind: str, state: dict):
    """joblib < 0.10: the array lives in a companion file next to the pickle."""
    name = state.get("filename")
    entry = {
        "companion": name if isinstance(name, str) else repr(name),
        "format": "npy" if kind == "old" else "zfile",
    }
    if isinstance(state.get("subclass"), Global):
        entry["subclass"] = state["subclass"].dotted
    scanner._result.arrays.append(entry)
    return Instance(Global("numpy", "ndarray"))



"""``load(..., trusted=[...])``: scan first, then load with guarded opcodes.

1. The whole file, nested object-array streams and companion files included,
   is scanned without running anything (:mod:`joblib._persist.scan`); if
   any global it names is not allowed by the :class:`TrustPolicy`,
   :class:`UntrustedTypesError` lists them all and nothing was built.
2. Otherwise it is loaded by :class:`RestrictedUnpickler`, which checks
   again, opcode by opcode: ``find_class`` gives only allowed objects (the
   checking stand-ins of ``safe_builders`` for numpy/builtins builders);
   ``REDUCE``/``NEWOBJ``/``INST``/``OBJ`` may call only objects that
   ``find_class`` gave as callable; ``BUILD`` and the container opcodes may
   not touch classes, functions or modules (no ``setattr`` on a trusted
   class); persistent ids and out-of-band buffers are refused.
"""

from __future__ import annotations

import copyreg
import io
import os
import pickle
import types

from ..numpy_pickle import NumpyArrayWrapper, NumpyUnpickler
from ..numpy_pickle_compat import NDArrayWrapper, ZNDArrayWrapper
from .file_io import open_for_read
from .safe_builders import BUILTIN_BASES, RefusedError
from .scan import ScanError, python3_name
from .trust import TrustPolicy, UntrustedTypesError

__all__ = ["load_restricted", "make_restricted_unpickler", "RestrictedUnpickler"]

# Objects BUILD, APPEND(S), SETITEM(S) and ADDITEMS may never modify.
_NOT_DATA = (
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.ModuleType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
)


def _guard_target(obj, opcode: str) -> None:
    if isinstance(obj, _NOT_DATA):
        raise RefusedError(
            "restricted load: refusing %s on %r (only instances can be filled)"
            % (opcode, obj)
        )


class RestrictedUnpickler(NumpyUnpickler):
    """NumpyUnpickler that constructs only what ``policy`` allows.

    Use :func:`make_restricted_unpickler` to get a subclass bound to a
    policy: nested object-array streams are read by a new instance of the
    same class, hence with the same restrictions.
    """

    policy: TrustPolicy
    dispatch = type(NumpyUnpickler.dispatch)(NumpyUnpickler.dispatch)

    def __init__(self, filename, file_handle, ensure_native_byte_order, mmap_mode=None):
        super().__init__(filename, file_handle, ensure_native_byte_order, mmap_mode)
        self._callables: dict = {}
        self._reconstructor = self._safe_reconstructor
        self._allow_call(self._reconstructor)

    def _allow_call(self, obj) -> None:
        self._callables[id(obj)] = obj  # keeps obj alive: ids stay unique

    def _check_call(self, func, opcode: str) -> None:
        if self._callables.get(id(func)) is not func:
            raise RefusedError(
                "restricted load: refusing %s of %r (not a trusted callable)"
                % (opcode, func)
            )

    def find_class(self, module, name):
        if self.proto < 3 and self.fix_imports:
            module, name = python3_name(module, name)
        if (module, name) == ("copyreg", "_reconstructor"):
            return self._reconstructor
        found = self.policy.resolve(module, name)
        if found is None:
            raise UntrustedTypesError(self.filename or "<file object>",
                                      ["%s.%s" % (module, name)])
        obj, may_call = found
        if may_call:
            self._allow_call(obj)
        return obj

    def _safe_reconstructor(self, cls, base, state):
        """copyreg._reconstructor for trusted classes over builtin bases."""
        self._check_call(cls, "copyreg._reconstructor")
        if base not in BUILTIN_BASES and self._callables.get(id(base)) is not base:
            raise RefusedError(
                "restricted load: refusing copyreg._reconstructor with base %r"
                % (base,)
            )
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise RefusedError(
                "restricted load: %r is not a subclass of %r" % (cls, base)
            )
        return copyreg._reconstructor(cls, base, state)

    # -- calls ----------------------------------------------------------------
    def load_reduce(self):
        self._check_call(self.stack[-2], "REDUCE")
        NumpyUnpickler.load_reduce(self)

    def load_newobj(self):
        self._check_call(self.stack[-2], "NEWOBJ")
        NumpyUnpickler.load_newobj(self)

    def load_newobj_ex(self):
        self._check_call(self.stack[-3], "NEWOBJ_EX")
        NumpyUnpickler.load_newobj_ex(self)

    def _instantiate(self, klass, args):
        self._check_call(klass, "INST/OBJ")
        return NumpyUnpickler._instantiate(self, klass, args)

    # -- state and container opcodes ----------------------------------------
    def load_build(self):
        target = self.stack[-2]
        _guard_target(target, "BUILD")
        state = self.stack[-1]
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            for key in state[1]:
                if isinstance(key, str) and key.startswith("__"):
                    raise RefusedError(
                        "restricted load: refusing to set attribute %r" % (key,)
                    )
        if isinstance(target, (NDArrayWrapper, ZNDArrayWrapper)):
            return self._build_companion_array()
        if isinstance(target, NumpyArrayWrapper):
            return self._build_array()
        NumpyUnpickler.load_build(self)

    def _build_array(self):
        wrapper, state = self.stack[-2], self.stack[-1]
        attrs = dict(vars(wrapper))
        if isinstance(state, dict):
            attrs.update(state)
        _check_wrapper(attrs, self.np)
        NumpyUnpickler.load_build(self)  # reads the array bytes

    def _build_companion_array(self):
        from .companions import load_companion_restricted  # lazy: only when a file has companions

        state = self.stack.pop()
        self.stack[-1] = load_companion_restricted(self, self.stack[-1], state)

    def load_appends(self):
        _guard_target(self.metastack[-1][-1], "APPENDS")
        NumpyUnpickler.load_appends(self)

    def load_append(self):
        _guard_target(self.stack[-2], "APPEND")
        NumpyUnpickler.load_append(self)

    def load_setitems(self):
        _guard_target(self.metastack[-1][-1], "SETITEMS")
        NumpyUnpickler.load_setitems(self)

    def load_setitem(self):
        _guard_target(self.stack[-3], "SETITEM")
        NumpyUnpickler.load_setitem(self)

    def load_additems(self):
        _guard_target(self.metastack[-1][-1], "ADDITEMS")
        NumpyUnpickler.load_additems(self)

    def load_next_buffer(self):
        raise RefusedError("restricted load: out-of-band buffers refused")

    def persistent_load(self, pid):
        raise RefusedError("restricted load: persistent ids refused")

    for _op, _fn in (
        (pickle.REDUCE, load_reduce),
        (pickle.NEWOBJ, load_newobj),
        (pickle.NEWOBJ_EX, load_newobj_ex),
        (pickle.BUILD, load_build),
        (pickle.APPENDS, load_appends),
        (pickle.APPEND, load_append),
        (pickle.SETITEMS, load_setitems),
        (pickle.SETITEM, load_setitem),
        (pickle.ADDITEMS, load_additems),
        (pickle.NEXT_BUFFER, load_next_buffer),
    ):
        dispatch[_op[0]] = _fn
    del _op, _fn


def _check_wrapper(attrs: dict, np) -> None:
    """The raw bytes that follow may only fill a plain, well-formed array."""
    shape = attrs.get("shape")
    alignment = attrs.get("numpy_array_alignment_bytes")
    if (
        np is None
        or not isinstance(attrs.get("dtype"), np.dtype)
        or not isinstance(shape, tuple)
        or not all(type(d) is int and d >= 0 for d in shape)
        or attrs.get("order") not in ("C", "F")
        or not (alignment is None or type(alignment) is int and 0 < alignment <= 64)
    ):
        raise RefusedError(
            "restricted load: invalid array wrapper (dtype %r, shape %r, "
            "order %r)" % (attrs.get("dtype"), shape, attrs.get("order"))
        )


def make_restricted_unpickler(policy: TrustPolicy) -> type:
    """A RestrictedUnpickler subclass bound to ``policy``."""
    return type("RestrictedUnpickler", (RestrictedUnpickler,), {"policy": policy})


def _corrupted(where, exc) -> pickle.UnpicklingError:
    # Same wording as the unrestricted load's error for a broken file.
    error = pickle.UnpicklingError(
        "Could not load %s: the file is truncated, corrupted or not a "
        "joblib/pickle file (%s)" % (where, exc)
    )
    error.__cause__ = exc
    return error


def load_restricted(filename, mmap_mode, native, trusted):
    """``load`` with ``trusted`` given: scan, check, then guarded load."""
    policy = trusted if isinstance(trusted, TrustPolicy) else TrustPolicy(trusted)
    unpickler_cls = make_restricted_unpickler(policy)
    if isinstance(filename, os.PathLike):
        filename = os.fspath(filename)
    if hasattr(filename, "read"):
        return _load_fileobj(filename, native, unpickler_cls, policy)
    if not isinstance(filename, (str, bytes)):
        raise TypeError(
            "filename should be a str, os.PathLike or a file object opened "
            "for binary reading, %r (type %s) was given."
            % (filename, type(filename).__name__)
        )
    filename = os.fsdecode(filename)
    with open(filename, "rb") as raw:
        with open_for_read(raw, filename, mmap_mode) as (fobj, usable_mmap):
            if isinstance(fobj, str):  # zfile format of joblib < 0.9.3
                from ..numpy_pickle_compat import read_zfile  # lazy: 0.9-era files only

                fobj = io.BytesIO(read_zfile(raw))
            size = _size_if_raw(fobj, raw)
            return _scan_then_load(
                fobj, size, filename, usable_mmap, native, unpickler_cls, policy
            )


def _size_if_raw(fobj, raw):
    from .scan import stream_size  # lazy: safe loading of streams only

    return stream_size(fobj) if fobj is raw or isinstance(fobj, io.BytesIO) else None


def _load_fileobj(fileobj, native, unpickler_cls, policy):
    try:
        seekable = fileobj.seekable()
    except (AttributeError, OSError, ValueError):
        seekable = False
    if not seekable:
        # The scan and the load each read the stream: keep a copy.
        fileobj = io.BytesIO(fileobj.read())
    with open_for_read(fileobj, getattr(fileobj, "name", ""), None) as (fobj, _):
        size = _size_if_raw(fobj, fileobj)
        return _scan_then_load(fobj, size, "", None, native, unpickler_cls, policy)


def _scan_then_load(fobj, size, filename, mmap_mode, native, unpickler_cls, policy):
    from .companions import scan_companions  # lazy: safe loading of streams only
    from .scan import scan_stream  # lazy: safe loading of streams only

    where = repr(filename) if filename else repr(fobj)
    start = fobj.tell()
    try:
        result = scan_stream(fobj, size)
        scan_companions(result, os.path.dirname(filename))
    except ScanError as exc:
        raise _corrupted(where, exc) from exc
    untrusted = policy.untrusted(result.globals)
    if untrusted:
        raise UntrustedTypesError(where, untrusted)
    fobj.seek(start)
    unpickler = unpickler_cls(filename, fobj, native, mmap_mode=mmap_mode)
    try:
        return unpickler.load()
    except UntrustedTypesError:
        raise
    except RefusedError as exc:
        raise RefusedError("Refusing to load %s: %s" % (where, exc)) from exc
    except (pickle.UnpicklingError, EOFError) as exc:
        raise _corrupted(where, exc) from exc

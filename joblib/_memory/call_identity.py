"""Identity of a cached call: which function (``func_id``) and which arguments
(``args_id``).

``func_id`` is the function's module path and name joined as a relative path
(``pkg/mod/f``), the same as in joblib 1.6, except that a part that could
leave the cache directory (``..``, a path separator, a drive) is quoted.
``args_id`` is ``joblib.hash`` of the arguments normalised by ``filter_args``,
so a joblib 1.6 cache is reused for the same calls.
"""

from __future__ import annotations

import functools
import os
import pickle
import re
from urllib.parse import quote
from typing import Any, Callable

from ..func_inspect import filter_args, get_func_name
from ..hashing import hash as joblib_hash

_UNSAFE = re.compile(r"[\\/\x00]")

__all__ = [
    "func_identifier",
    "identity_target",
    "safe_component",
    "hash_arguments",
    "UnhashableArgumentError",
]


def _is_safe(part: str) -> bool:
    return not (_UNSAFE.search(part) or part in (".", "..") or part[1:2] == ":")


def safe_component(part: str) -> str:
    """Quote a path part that could leave the directory it is joined to.

    Ordinary names are returned unchanged, so identifiers stay those of
    joblib 1.6; ``'..'``, separators, NUL bytes and drive prefixes are
    percent-quoted.
    """
    if _is_safe(part):
        return part
    quoted = quote(part, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def identity_target(func: Callable) -> tuple[Callable, tuple, dict]:
    """The function that identifies ``func``, with the arguments it pre-binds.

    A ``functools.partial`` is identified by its underlying function and its
    bound arguments, so that its cache survives across processes (joblib 1.6
    keys every partial on its ``repr``, which holds a memory address).
    """
    args: tuple = ()
    kwargs: dict = {}
    while isinstance(func, functools.partial):
        args = tuple(func.args) + args
        kwargs = {**func.keywords, **kwargs}
        func = func.func
    return func, args, kwargs


def func_identifier(func: Callable) -> str:
    """Return ``func_id``: the relative directory of ``func``'s cache."""
    target, _, _ = identity_target(func)
    modules, funcname = get_func_name(target)
    parts = [safe_component(p) for p in modules] + [safe_component(funcname)]
    return os.path.join(*parts)


class UnhashableArgumentError(pickle.PicklingError, TypeError):
    """An argument of a cached call cannot be hashed.

    A ``PicklingError`` as in joblib 1.6, and a ``TypeError`` since it is the
    type of the argument that is wrong.
    """


def _first_unhashable(arg_dict: dict, coerce_mmap: bool) -> str | None:
    for name, value in arg_dict.items():
        try:
            joblib_hash(value, coerce_mmap=coerce_mmap)
        except Exception:  # noqa: BLE001 - locating the culprit; caller re-raises
            return name
    return None


def _unhashable_error(func_name: str, arg_dict: dict, exc: Exception, coerce_mmap):
    name = _first_unhashable(arg_dict, coerce_mmap)
    if name is None:
        return exc
    value = arg_dict[name]
    described = (
        "extra positional arguments"
        if name == "*"
        else ("extra keyword arguments" if name == "**" else "argument %r" % name)
    )
    return UnhashableArgumentError(
        "Cannot hash the %s of %s(): %s (type %s) cannot be hashed (%s: %s). "
        "Pass a picklable value, or add the name to `ignore` in "
        "Memory.cache(ignore=[...]) if it does not affect the result."
        % (
            described,
            func_name,
            _short_repr(value),
            type(value).__name__,
            type(exc).__name__,
            exc,
        )
    )


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real error
        text = "<unrepresentable>"
    return text if len(text) <= 80 else text[:77] + "..."


def hash_arguments(
    func: Callable,
    ignore,
    args: tuple,
    kwargs: dict,
    coerce_mmap: bool,
    hash_name: str = "md5",
) -> tuple[str, dict]:
    """Return ``(args_id, arg_dict)`` for a call of ``func``.

    With ``md5`` (joblib 1.6's), ``args_id`` is the hex digest; with another
    algorithm it is prefixed by the algorithm's name (``xxh3-<digest>``),
    so caches made with different algorithms never share an entry.
    """
    target = func
    if isinstance(func, functools.partial):
        target, bound_args, bound_kwargs = identity_target(func)
        args = bound_args + tuple(args)
        kwargs = {**bound_kwargs, **kwargs}
    arg_dict = filter_args(target, ignore, args, kwargs)
    try:
        digest = joblib_hash(arg_dict, hash_name=hash_name, coerce_mmap=coerce_mmap)
    except Exception as exc:  # re-raised, naming the argument that failed
        name = getattr(target, "__name__", "unknown")
        error = _unhashable_error(name, arg_dict, exc, coerce_mmap)
        if error is exc:
            raise
        raise error from exc
    if hash_name != "md5":
        digest = safe_component(hash_name) + "-" + digest
    return digest, arg_dict

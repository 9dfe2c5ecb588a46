"""Detecting that a cached function's code changed since its results were stored.

Each function directory holds ``func_code.py``: a ``# first line: N`` header
followed by the function's source (joblib 1.6's format, which lets both
share a cache). Reading that file on every call would dominate a cache hit,
so once a function is verified its identity is recorded in
``joblib.memory._FUNCTION_HASHES``; later calls in the process only compare
in-memory tokens. Clearing that table (as joblib's docs suggest) forces the
next call to look at the disk again.
"""

from __future__ import annotations

import os
import tokenize
import warnings
from typing import Any

from ..func_inspect import get_func_code, get_func_name
from . import hooks, reporting

__all__ = [
    "FIRST_LINE_TEXT",
    "extract_first_line",
    "format_func_code",
    "code_is_current",
    "func_code_info",
    "write_func_code",
]

FIRST_LINE_TEXT = "# first line:"
# Which function last wrote each function directory, per process: when two
# functions share an identifier, each must re-check the disk after the other
# wrote, instead of trusting its own earlier verification.
_OWNERS: dict = {}


def extract_first_line(func_code: str) -> tuple[str, int]:
    """Split ``func_code.py``'s text into (source, first line); -1 if no header."""
    if not func_code.startswith(FIRST_LINE_TEXT):
        return func_code, -1
    header, _, source = func_code.partition("\n")
    return source, int(header[len(FIRST_LINE_TEXT) :])


def format_func_code(source: str, first_line: int) -> str:
    """The text of ``func_code.py``."""
    return "%s %i\n%s" % (FIRST_LINE_TEXT, first_line, source)


def func_code_info(mf) -> tuple:
    """``(source, file, first line)`` of ``mf``'s function, computed once.

    It is pickled with the MemorizedFunc: child processes often cannot read
    the source, and must still compare the same text.
    """
    code = getattr(mf._identity_func(), "__code__", None)
    if code is not None:
        if mf._func_code_id is None:
            mf._func_code_id = id(code)
        elif id(code) != mf._func_code_id:
            mf._func_code_info = None  # __code__ was reassigned
            mf._func_code_id = id(code)
    if mf._func_code_info is None:
        mf._func_code_info = get_func_code(mf._identity_func())
    return mf._func_code_info


def _func_hash(func) -> tuple:
    """In-memory token of a function: changes when it is redefined or edited."""
    return id(func), hash(func), hash(getattr(func, "__code__", None))


def _owner_key(mf) -> tuple:
    return (mf.store_backend.location, mf.func_id)


def _remember(mf, func) -> None:
    """Record that ``func``'s code matches the one on disk."""
    _OWNERS[_owner_key(mf)] = id(func)
    if getattr(func, "__name__", "<lambda>") == "<lambda>":
        # Lambdas of one module share an identifier: always check the disk.
        return
    try:
        hooks.function_hashes()[func] = _func_hash(func)
    except TypeError:
        pass  # unhashable or not weak-referenceable callables: disk check


def code_is_current(mf) -> bool:
    """True if the cached results of ``mf`` were computed by its current code.

    False means the caller must treat the call as a miss: the code was seen
    for the first time (and is now recorded) or it changed (and the
    function's old results were cleared).
    """
    func = mf._identity_func()
    try:
        entry = hooks.function_hashes().get(func)
    except TypeError:
        entry = None
    if entry is not None and _OWNERS.get(_owner_key(mf)) == id(func):
        if entry == _func_hash(func):
            return True
    return _check_on_disk(mf, func)


def write_func_code(mf) -> None:
    """Write ``func_code.py`` for the current code and remember it."""
    func = mf._identity_func()
    source, _, first_line = mf.func_code_info
    mf.store_backend.store_cached_func_code(
        [mf.func_id], format_func_code(source, first_line)
    )
    _remember(mf, func)


def _check_on_disk(mf, func) -> bool:
    source, source_file, first_line = mf.func_code_info
    try:
        stored = mf.store_backend.get_cached_func_code([mf.func_id])
    except (OSError, KeyError):
        write_func_code(mf)
        return False
    old_source, old_first_line = extract_first_line(stored)
    if old_source == source:
        _remember(mf, func)
        return True
    _warn_collisions(func, source, source_file, first_line, old_source, old_first_line)
    _, func_name = get_func_name(func, resolv_alias=False)
    reporting.function_changed(mf._verbose, mf, func_name, mf.func_id)
    mf.clear(warn=True)
    return False


def _warn_collisions(func, source, source_file, first_line, old_source, old_first_line):
    """Warn when the change may be two functions sharing one identifier."""
    _, name = get_func_name(func, resolv_alias=False, win_characters=False)
    category = hooks.collision_warning()
    if old_first_line == first_line == -1 or name == "<lambda>":
        where = name if first_line == -1 else f"{name} ({source_file}:{first_line})"
        msg = "Cannot detect name collisions for function '{0}'".format(where)
        warnings.warn(category(msg), stacklevel=reporting.user_stacklevel())
    if old_first_line == first_line or source_file is None:
        return
    if _old_code_still_there(source_file, source, old_source, old_first_line):
        msg = (
            "Possible name collisions between functions '%s' (%s:%i) and '%s' (%s:%i)"
            % (
                name,
                source_file,
                old_first_line,
                name,
                source_file,
                first_line,
            )
        )
        warnings.warn(category(msg), stacklevel=reporting.user_stacklevel())


def _old_code_still_there(source_file, source, old_source, old_first_line) -> Any:
    """True if the stored code is still in the file at its old line.

    Then the file did not change: another function took the identifier.
    """
    if not os.path.exists(source_file):
        return source_file.startswith("<doctest ")
    if old_first_line < 1:
        return False
    num_lines = len(source.split("\n"))
    try:
        with tokenize.open(source_file) as f:
            lines = f.readlines()
    except (OSError, SyntaxError, ValueError):
        return False
    start = old_first_line - 1
    on_disk = "".join(lines[start : start + num_lines - 1])
    return on_disk.rstrip() == old_source.rstrip()

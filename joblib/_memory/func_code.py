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

import enum
import json
import os
import tokenize
import warnings
from typing import Any

from ..func_inspect import get_func_code, get_func_name
from .._store_backends import CacheWarning
from ..hashing import hash as joblib_hash
from . import hooks, reporting

__all__ = [
    "CHANGED",
    "CURRENT",
    "FIRST_LINE_TEXT",
    "NEW",
    "Verdict",
    "check",
    "extract_first_line",
    "format_func_code",
    "read_code_info",
    "write",
]

FIRST_LINE_TEXT = "# first line:"


class Verdict(enum.Enum):
    """Outcome of the code check of a cached function."""

    CURRENT = "the stored results were computed by the current code"
    NEW = "no code stored yet: the function is new to this cache"
    CHANGED = "the stored code differs: the stored results are stale"


CURRENT, NEW, CHANGED = Verdict.CURRENT, Verdict.NEW, Verdict.CHANGED
# Which function last wrote each function directory, per process: when two
# functions share an identifier, each must re-check the disk after the other
# wrote, instead of trusting its own earlier verification.
_OWNERS: dict = {}
_GARBAGE = "<unreadable func_code.py>"


def extract_first_line(func_code: str) -> tuple[str, int]:
    """Split ``func_code.py``'s text into (source, first line); -1 if no header."""
    if not func_code.startswith(FIRST_LINE_TEXT):
        return func_code, -1
    header, _, source = func_code.partition("\n")
    return source, int(header[len(FIRST_LINE_TEXT) :])


def format_func_code(source: str, first_line: int) -> str:
    """The text of ``func_code.py``."""
    return "%s %i\n%s" % (FIRST_LINE_TEXT, first_line, source)


def read_code_info(func) -> tuple:
    """``(source, source file, first line)`` of ``func``."""
    return get_func_code(func)


def _func_hash(func) -> tuple:
    """In-memory token of a function: changes when it is redefined or edited."""
    return id(func), hash(func), hash(getattr(func, "__code__", None))


# The invalidation controls (depends=, version=) are written after the
# source, on one line: ``func_code.py`` stays joblib 1.6's format when none
# is used. (joblib 1.6 reading a file with this line sees a changed function.)
_EXTRAS_MARK = "\n# joblib-memory: "


def _token(state, func) -> tuple:
    """What must be unchanged for an in-memory verification to stand."""
    options = state.options
    if options.plain_code_check:
        return _func_hash(func)  # joblib 1.6's check: the common, fast case
    helpers = tuple(_func_hash(helper) for helper in options.depends)
    own = _func_hash(func) if options.check_code else id(func)
    return own, helpers, repr(options.version)


def _extras(state) -> dict:
    """The ``depends``/``version`` record of ``state``'s options ({} if none)."""
    options = state.options
    extras: dict = {}
    if options.depends:
        extras["depends"] = {
            _qualified_name(helper): joblib_hash(get_func_code(helper)[0])
            for helper in options.depends
        }
    if options.version is not None:
        extras["version"] = repr(options.version)
    return extras


def _qualified_name(func) -> str:
    modules, name = get_func_name(func, resolv_alias=False)
    return ".".join(list(modules) + [name])


def split_extras(text: str) -> tuple[str, dict]:
    """Split ``func_code.py``'s text into (1.6 part, invalidation record)."""
    body, mark, record = text.rpartition(_EXTRAS_MARK)
    if not mark or "\n" in record:
        return text, {}
    try:
        extras = json.loads(record)
    except ValueError:
        return text, {}
    return (body, extras) if isinstance(extras, dict) else (text, {})


def _stored_text(state) -> str:
    source, _, first_line = state.code_info()
    text = format_func_code(source, first_line)
    extras = _extras(state)
    if extras:
        text += _EXTRAS_MARK + json.dumps(extras, sort_keys=True)
    return text


def _remember(state, func) -> None:
    """Record that ``func``'s code matches the one on disk."""
    _OWNERS[_owner_key(state)] = id(func)
    if getattr(func, "__name__", "<lambda>") == "<lambda>":
        # Lambdas of one module share an identifier: always check the disk.
        return
    try:
        hooks.function_hashes()[func] = _token(state, func)
    except TypeError:
        pass  # unhashable or not weak-referenceable callables: disk check


def _owner_key(state) -> tuple:
    return (state.store.location, state.func_id)


def check(state) -> Verdict:
    """Compare the code of ``state``'s function with the one its results were
    computed with; return the verdict (the caller acts on it).

    ``state`` is a ``FunctionState``. A verified function is remembered, so
    later calls in the process compare in-memory tokens only.
    """
    func = state.identity_func
    try:
        entry = hooks.function_hashes().get(func)
    except TypeError:
        entry = None
    if entry is not None and _OWNERS.get(_owner_key(state)) == id(func):
        if entry == _token(state, func):
            return CURRENT
    return _check_on_disk(state, func)


def write(state) -> None:
    """Write ``func_code.py`` for the current code and remember it."""
    func = state.identity_func
    state.store.store_cached_func_code([state.func_id], _stored_text(state))
    _remember(state, func)


def _read_stored(state) -> str | None:
    """The text of ``func_code.py``; None if missing; _GARBAGE (warned) if unusable."""
    try:
        stored = state.store.get_cached_func_code([state.func_id])
    except (OSError, KeyError):
        return None
    except UnicodeDecodeError as exc:  # joblib 1.6 raises it from the call
        _warn_garbage(state, "it is not UTF-8 text (%s)" % exc)
        return _GARBAGE
    if not stored.startswith(FIRST_LINE_TEXT) or "\x00" in stored:
        _warn_garbage(state, "it does not start with '%s N'" % FIRST_LINE_TEXT)
        return _GARBAGE
    if "\n" not in stored:
        _warn_garbage(state, "it is truncated after its first line")
        return _GARBAGE
    try:
        extract_first_line(stored)
    except ValueError:
        _warn_garbage(state, "its first line is not '%s N'" % FIRST_LINE_TEXT)
        return _GARBAGE
    return stored


def _warn_garbage(state, why: str) -> None:
    warnings.warn(
        "The stored code of %s (func_code.py) cannot be read: %s. It is "
        "treated as a change of the function: its cached results are "
        "cleared." % (state.func_id, why),
        CacheWarning,
        stacklevel=reporting.user_stacklevel(),
    )


def _check_on_disk(state, func) -> Verdict:
    stored = _read_stored(state)
    if stored is None:
        return NEW
    if stored is _GARBAGE:
        return CHANGED
    body, extras = split_extras(stored)
    if extras != _extras(state):
        return CHANGED
    if not state.options.check_code:
        _remember(state, func)
        return CURRENT
    source, source_file, first_line = state.code_info()
    old_source, old_first_line = extract_first_line(body)
    if old_source == source:
        _remember(state, func)
        return CURRENT
    _warn_collisions(func, source, source_file, first_line, old_source, old_first_line)
    return CHANGED


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

"""Paths of a file-system cache: directory creation and containment checks.

Every path of an entry is ``os.path.join(location, *call_id)``. The parts of
``call_id`` come from function and module names, which are sanitised when
the identifier is built; checking them again here keeps a store safe from
call ids built by other code (e.g. a ``MemorizedResult`` made by hand).
"""

from __future__ import annotations

import os
import re
import sys
import warnings

__all__ = [
    "check_call_id",
    "create_directory",
    "ensure_directory",
    "item_dir",
    "check_relative",
    "write_gitignore",
]

_SEPARATORS = re.compile(r"[\\/]")
_SEPARATOR_CHARS = ("/", "\\", "") if os.name == "nt" else ("/", "")
_CREATE_ATTEMPTS = 5
_GITIGNORE_TEXT = "# Created by joblib automatically.\n*\n"
# func_ids already checked; bounded so that a long session cannot grow it
# without limit (argument hashes take the isalnum fast path instead).
_CHECKED: set = set()
_CHECKED_MAX = 10_000


def check_relative(part: str) -> None:
    """Raise ValueError if ``part`` would leave the directory it is joined to."""
    if not isinstance(part, str):
        raise TypeError(
            "cache entry ids are made of str, got %r (type %s)"
            % (part, type(part).__name__)
        )
    pieces = _SEPARATORS.split(part)
    if os.path.isabs(part) or ".." in pieces or "\x00" in part or part[1:2] == ":":
        raise ValueError(
            "The cache entry id %r would point outside of the cache location; "
            "ids are relative paths without '..' components." % (part,)
        )


def check_call_id(call_id, func=None, args_id=None) -> tuple:
    """``call_id`` (or ``(func, args_id)``) as a checked tuple of relative parts."""
    if call_id is None:
        if func is None or args_id is None:
            raise TypeError(
                "MemorizedResult needs call_id=(func_id, args_id), or both "
                "func= and args_id=; got call_id=None, func=%r, args_id=%r"
                % (func, args_id)
            )
        call_id = (func, args_id)
    for part in call_id:
        check_relative(part)
    return tuple(call_id)


def item_dir(location: str, call_id) -> str:
    """Return the directory of ``call_id`` under ``location``, checked."""
    for part in call_id:
        if part.isalnum() or part in _CHECKED:
            continue
        check_relative(part)
        if len(_CHECKED) < _CHECKED_MAX:
            _CHECKED.add(part)
    if len(call_id) == 2 and location[-1:] not in _SEPARATOR_CHARS:
        # Same result as os.path.join for these relative parts, faster.
        return location + os.sep + call_id[0] + os.sep + call_id[1]
    return os.path.join(location, *call_id)


def create_directory(path: str) -> None:
    """Create ``path`` and its parents; a failure names the path.

    Another process may delete the parents while we create them (e.g.
    ``Memory.clear``); that race is retried a few times.  It shows as
    ``FileNotFoundError`` or, when a directory is removed between
    ``makedirs``'s own ``mkdir`` and its "is it a directory" check, as
    ``FileExistsError``.
    """
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            os.makedirs(path, exist_ok=True)
            return
        except (FileNotFoundError, FileExistsError):
            if attempt + 1 < _CREATE_ATTEMPTS:
                continue
            _raise_cannot_create(path)
        except OSError:
            if os.path.isdir(path):
                return  # created concurrently by another process
            _raise_cannot_create(path)


def _raise_cannot_create(path: str):
    exc = sys.exc_info()[1]
    message = (
        "Cannot create the cache directory %r: %s. Memory needs a "
        "writable location: fix its permissions or choose another "
        "location." % (path, exc.strerror or exc)
    )
    raise type(exc)(exc.errno, message) from exc


def ensure_directory(path: str) -> None:
    """Create the entry directory ``path``; its parent usually exists already."""
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except OSError:
        create_directory(path)  # missing parents, or an error to explain


def _cache_root(location: str) -> str:
    """The directory the user chose: ``Memory('x')`` stores in ``x/joblib``."""
    parent = os.path.dirname(location)
    if parent and os.path.basename(location) == "joblib":
        return parent
    return location


def write_gitignore(location: str) -> None:
    """Create a ``.gitignore`` for the cache; never overwrite an existing one."""
    gitignore = os.path.join(_cache_root(location), ".gitignore")
    if os.path.exists(gitignore):
        return
    try:
        # 'x' fails if another process created it first: users may edit it.
        with open(gitignore, "x") as f:
            f.write(_GITIGNORE_TEXT)
    except FileExistsError:
        pass
    except OSError as e:
        warnings.warn(f"Unable to write {gitignore}. Exception: {e}.", stacklevel=3)

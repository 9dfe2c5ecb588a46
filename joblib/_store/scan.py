"""Listing the entries of an on-disk cache with their size and last access.

An entry is a directory named by a 32-character hex digest (the argument
hash), or the temporary folder of one being written. Other processes may delete entries while we walk: anything that
vanishes under us is skipped rather than reported as an error.
"""

from __future__ import annotations

import datetime
import os
import re
from typing import Callable, Iterator

__all__ = ["scan_items", "is_item_dir_name"]

_ITEM_DIR = re.compile(r"[a-f0-9]{32}")
# Entries keyed with another hash than md5: '<hash name>-<hex digest>'.
_NAMED_ITEM_DIR = re.compile(r"[A-Za-z0-9_.+%]+-[a-f0-9]{8,}")


def is_item_dir_name(name: str) -> bool:
    """True for the directory name of a cache entry (an argument hash)."""
    if len(name) == 32 and _ITEM_DIR.fullmatch(name) is not None:
        return True
    return "-" in name and _NAMED_ITEM_DIR.fullmatch(name) is not None


def _is_unfinished_entry(name: str) -> bool:
    """True for the temporary folder of an entry being written (or left by a
    killed writer): ``<entry name>.<writer tag>.tmp``. Listed as an entry so
    that ``reduce_size`` counts and evicts what a killed writer left."""
    if not name.endswith(".tmp"):
        return False
    dot = name.find(".")
    while 0 < dot < len(name) - 4:
        if is_item_dir_name(name[:dot]):
            return True
        dot = name.find(".", dot + 1)
    return False


def _entry_info(path: str) -> tuple[int, float] | None:
    """(total size of the files, last access time) of one entry, or None if gone."""
    size, access = 0, None
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if not entry.is_file():
                    continue
                stat = entry.stat()
                size += stat.st_size
                if entry.name == "output.pkl":
                    access = stat.st_atime
        if access is None:
            # No result yet (being written, or its write failed).
            access = os.stat(path).st_atime
    except FileNotFoundError:
        return None
    return size, access


def _walk_dirs(root: str) -> Iterator[os.DirEntry]:
    """Yield every sub-directory of ``root`` that is a cache entry."""
    try:
        with os.scandir(root) as entries:
            subdirs = [e for e in entries if e.is_dir(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in subdirs:
        if is_item_dir_name(entry.name) or _is_unfinished_entry(entry.name):
            yield entry
        else:
            yield from _walk_dirs(entry.path)


def scan_items(root: str, make_item: Callable) -> list:
    """Return ``make_item(path, size, last_access)`` for every entry under ``root``.

    ``last_access`` is a naive local ``datetime`` built from the access time
    of the entry's ``output.pkl`` (of the directory when there is none).
    """
    items = []
    fromtimestamp = datetime.datetime.fromtimestamp
    for entry in _walk_dirs(root):
        info = _entry_info(entry.path)
        if info is not None:
            items.append(make_item(entry.path, info[0], fromtimestamp(info[1])))
    return items

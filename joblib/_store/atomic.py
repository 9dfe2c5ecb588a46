"""Atomic file replacement: write to a unique temporary name, then rename.

Readers of ``path`` therefore see either the previous complete file or the
new complete file, never a partially written one, even when several
processes, threads or cluster nodes sharing a file system write the same
path concurrently.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
import threading
import time
import uuid
from typing import IO, Iterator

from ..disk import _unlink_quietly

__all__ = ["temporary_name", "concurrency_safe_rename", "atomic_write", "replace_on_success"]

# Windows error codes raised by os.replace while another process holds the
# destination open (ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION).
_WINDOWS_ACCESS_DENIED = (5, 13, 32)
_RENAME_RETRY_BUDGET = 1.0  # seconds


def _host_tag() -> str:
    """Return the host name reduced to characters that are safe in a file name."""
    try:
        host = socket.gethostname()
    except OSError:
        # No host name is still a valid situation; the uuid keeps names unique.
        host = "host"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", host)[:64] or "host"


def temporary_name(path: str | os.PathLike) -> str:
    """Return a sibling name of ``path`` unique to this host, process and thread.

    Parameters
    ----------
    path : str or os.PathLike
        The final destination.

    Returns
    -------
    str
        ``"<path>.<host>-<pid>-<thread id>-<random>.tmp"``; it lives in the
        same directory as ``path`` so that the final rename is atomic.
    """
    tag = "%s-%d-%d-%s" % (
        _host_tag(),
        os.getpid(),
        threading.get_ident(),
        uuid.uuid4().hex[:12],
    )
    return "%s.%s.tmp" % (os.fspath(path), tag)


def _replace_with_retries(src: str, dst: str) -> None:
    """os.replace, retried briefly while another Windows process holds ``dst``."""
    delay, waited = 0.001, 0.0
    while True:
        try:
            os.replace(src, dst)
            return
        except PermissionError as exc:
            busy = getattr(exc, "winerror", None) in _WINDOWS_ACCESS_DENIED
            if not busy or waited >= _RENAME_RETRY_BUDGET:
                raise
            time.sleep(delay)
            waited += delay
            delay *= 2


def concurrency_safe_rename(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Rename ``src`` onto ``dst``, replacing ``dst`` atomically if it exists.

    Parameters
    ----------
    src, dst : str or os.PathLike
        Source and destination paths, on the same file system.
    """
    src, dst = os.fspath(src), os.fspath(dst)
    if sys.platform == "win32":
        _replace_with_retries(src, dst)
    else:
        os.replace(src, dst)


class replace_on_success:
    """Context manager: yield a temporary name, rename it onto ``path`` if
    the body succeeds.

    The one write-to-temp / rename / clean-up block: if the ``with`` body
    raises (even KeyboardInterrupt), the temporary file is removed and
    ``path`` is left untouched. ``tmp`` defaults to
    :func:`temporary_name` ``(path)``. ``rename(src, dst)`` and
    ``remove(path)`` default to the local file system's; another file
    system (an fsspec one) passes its own, and errors of ``remove`` are
    ignored. A class rather than a generator: it runs on every cache write,
    where a generator's set-up shows.
    """

    __slots__ = ("_path", "_tmp", "_rename", "_remove")

    def __init__(self, path, tmp: str | None = None, rename=None, remove=None):
        self._path = path
        self._tmp = temporary_name(path) if tmp is None else tmp
        self._rename = concurrency_safe_rename if rename is None else rename
        self._remove = remove

    def __enter__(self) -> str:
        return self._tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self._rename(self._tmp, self._path)
                return
            except BaseException:
                self._clean_up()
                raise
        # Re-raised by the with statement: only make sure no temporary
        # file is left behind.
        self._clean_up()

    def _clean_up(self) -> None:
        if self._remove is None:
            _unlink_quietly(self._tmp)
            return
        try:
            self._remove(self._tmp)
        except OSError:
            pass  # never written, or already gone: the original error matters


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary sibling of ``path``; rename it onto ``path`` on success.

    Parameters
    ----------
    path : str or os.PathLike
        Final destination.
    mode : str, default "wb"
        A write mode for :func:`open` (``"w"``, ``"wb"``, ``"x"`` ...).

    Yields
    ------
    file object
        The open temporary file. If the ``with`` body raises, the temporary
        file is removed and ``path`` is left untouched.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "data.txt")
    >>> with atomic_write(target, "w") as f:
    ...     _ = f.write("complete")
    >>> open(target).read()
    'complete'
    """
    if "w" not in mode and "x" not in mode:
        raise ValueError(
            "atomic_write needs a write mode such as 'wb' or 'w', got "
            "mode=%r (type %s)" % (mode, type(mode).__name__)
        )
    with replace_on_success(path) as tmp:
        with open(tmp, mode.replace("x", "w")) as f:
            yield f

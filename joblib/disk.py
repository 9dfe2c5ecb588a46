"""Disk helpers: directory creation and removal, sizes and size strings.

The functions keep joblib 1.6's names, signatures and semantics; messages of
the errors they raise say what was given and what is expected.
"""

from __future__ import annotations

import errno
import os
import sys
import time

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Callable

__all__ = [
    "disk_used",
    "memstr_to_bytes",
    "mkdirp",
    "rm_subdirs",
    "delete_folder",
    "RM_SUBDIRS_RETRY_TIME",
    "RM_SUBDIRS_N_RETRY",
]


# delete_folder retries a failing removal RM_SUBDIRS_N_RETRY times, sleeping
# RM_SUBDIRS_RETRY_TIME seconds in between: files still memory-mapped by a
# worker (held open until its garbage collector runs) cannot be removed on
# every platform, and usually can be a moment later.  Read at call time, so
# they can be patched.
RM_SUBDIRS_RETRY_TIME = 0.1
RM_SUBDIRS_N_RETRY = 10

_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3}

if TYPE_CHECKING:
    OnError = Callable[[Callable, str, tuple], object]


def disk_used(path: str | os.PathLike) -> int:
    """Return the disk space used by the entries directly in ``path``, in KiB.

    Only ``path`` itself and its immediate entries are counted (not the
    content of sub-directories), as in joblib 1.6.

    Parameters
    ----------
    path : str or os.PathLike
        Directory to measure.

    Returns
    -------
    int
        Allocated size in kibibytes (rounded down).

    Examples
    --------
    >>> import tempfile
    >>> disk_used(tempfile.gettempdir()) >= 0
    True
    """
    size = 0
    for name in os.listdir(path) + ["."]:
        stat = os.stat(os.path.join(path, name))
        blocks = getattr(stat, "st_blocks", None)
        if blocks is not None:
            size += blocks * 512
        else:
            # No st_blocks (Windows): round the size up to 512-byte blocks.
            size += (stat.st_size // 512 + 1) * 512
    return int(size / 1024.0)


def memstr_to_bytes(text: str) -> int:
    """Convert a memory size such as ``'10M'`` to a number of bytes.

    Parameters
    ----------
    text : str
        A number followed by one of the units ``K``, ``M`` or ``G``
        (powers of 1024), e.g. ``'500K'``, ``'1.5G'``.

    Returns
    -------
    int
        The size in bytes.

    Raises
    ------
    TypeError
        If ``text`` is not a string.
    ValueError
        If ``text`` is not a number followed by K, M or G.

    Examples
    --------
    >>> memstr_to_bytes('10M')
    10485760
    >>> memstr_to_bytes('1.5K')
    1536
    >>> memstr_to_bytes('10MB')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Invalid literal for size give: 10MB (type <class 'str'>) should be alike '10G', ...
    """
    return _parse_size(text)


def _parse_size(text: str, argname: str | None = None, any_case: bool = False) -> int:
    """The one parser of sizes such as ``'10M'`` (:func:`memstr_to_bytes`'s core).

    ``argname`` names the argument in the error message; ``any_case``
    also accepts lower-case units and surrounding spaces (``' 10k'``), which
    ``memstr_to_bytes`` refuses as joblib 1.6 does.
    """
    if not isinstance(text, str):
        raise TypeError(
            "%s must be a string such as '10G', '500M' or '50K'; got %r (type %s)."
            % (argname or "Memory size", text, type(text).__name__)
        )
    value = text.strip().upper() if any_case else text
    try:
        return int(_UNITS[value[-1]] * float(value[:-1]))
    except (IndexError, KeyError, ValueError) as exc:
        raise ValueError(_size_error(text, argname)) from exc


def _size_error(text: str, argname: str | None) -> str:
    # Starts with joblib 1.6's wording (typo included) for code matching it.
    given = "%s=%r" % (argname, text) if argname else repr(text)
    return (
        "Invalid literal for size give: %s (type %s) should be alike '10G', "
        "'500M', '50K'. Got %s: expected a number followed by one of the units "
        "K, M, G (powers of 1024)." % (text, type(text), given)
    )


def _unlink_quietly(path: str | os.PathLike, ignore: type | tuple = OSError) -> None:
    """Remove the file ``path``, ignoring the errors of class ``ignore``.

    The one "delete and ignore errors" helper: clean-up after a failed
    write passes the default (any OS error: the original error is the one
    worth reporting); callers that only tolerate a missing file pass
    ``FileNotFoundError``.
    """
    try:
        os.unlink(path)
    except ignore:
        pass


def mkdirp(d: str | os.PathLike) -> None:
    """Create directory ``d`` and its parents, like ``mkdir -p``.

    Nothing happens when ``d`` already exists (even as a file, as in joblib
    1.6); there is no guarantee that the directory is writable.

    Parameters
    ----------
    d : str or os.PathLike
        Directory to create.
    """
    try:
        os.makedirs(d)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise


def rm_subdirs(path: str | os.PathLike, onerror: OnError | None = None) -> None:
    """Remove every sub-directory of ``path``, keeping ``path`` and its files.

    Parameters
    ----------
    path : str or os.PathLike
        Directory whose sub-directories are removed.
    onerror : callable, optional
        Called as ``onerror(func, path, exc_info)`` on failures, where
        ``func`` is the failing function (``os.listdir``, ``os.remove``,
        ``os.rmdir``, ...).  When None, failures raise.
    """
    try:
        names = os.listdir(path)
    except OSError:
        if onerror is None:
            raise
        onerror(os.listdir, path, sys.exc_info())
        return
    for name in names:
        delete_folder(os.path.join(path, name), onerror=onerror)


def delete_folder(
    folder_path: str | os.PathLike,
    onerror: OnError | None = None,
    allow_non_empty: bool = True,
) -> None:
    """Remove ``folder_path`` and its content if it is a directory.

    Parameters
    ----------
    folder_path : str or os.PathLike
        Directory to remove.  Anything that is not a directory is ignored.
    onerror : callable, optional
        Error handler with :func:`shutil.rmtree`'s ``onerror`` signature.
        When given, the removal is tried once and failures go to it.
        When None, a failing removal is retried ``RM_SUBDIRS_N_RETRY``
        times, ``RM_SUBDIRS_RETRY_TIME`` seconds apart, then raises.
    allow_non_empty : bool, default=True
        If False, a directory that still holds entries is not removed and
        :class:`OSError` is raised (after the retries).

    Raises
    ------
    OSError
        If the directory could not be removed.
    """
    if not os.path.isdir(folder_path):
        return
    if onerror is not None:
        _rmtree_with_handler(folder_path, onerror)
        return
    failures = 0
    while True:
        try:
            _remove_tree(folder_path, allow_non_empty)
            return
        except OSError:
            failures += 1
            if failures > RM_SUBDIRS_N_RETRY:
                raise
        time.sleep(RM_SUBDIRS_RETRY_TIME)


def _remove_tree(folder_path, allow_non_empty: bool) -> None:
    """Remove a directory tree once, checking emptiness if required."""
    if not allow_non_empty:
        entries = os.listdir(folder_path)
        if entries:
            raise OSError(
                errno.ENOTEMPTY,
                "Expected empty folder %s but got %d files (pass "
                "allow_non_empty=True to remove it anyway)"
                % (os.fspath(folder_path), len(entries)),
            )
    import logging  # lazy: keeps import joblib.parallel light (no logging)
    import shutil  # deferred, as logging: ``import joblib.parallel`` stays light

    shutil.rmtree(folder_path)
    logging.getLogger("joblib.disk").debug("Successfully deleted %s", os.fspath(folder_path))


def _rmtree_with_handler(folder_path, onerror: OnError) -> None:
    """Call :func:`shutil.rmtree` with a 3-argument ``onerror`` handler."""
    import shutil  # lazy: keeps import joblib.parallel light

    if sys.version_info >= (3, 12):
        # ``onerror`` is deprecated from 3.12 on; ``onexc`` gets the exception.
        def onexc(func, path, exc):
            return onerror(func, path, (type(exc), exc, exc.__traceback__))

        shutil.rmtree(folder_path, onexc=onexc)
    else:
        shutil.rmtree(folder_path, onerror=onerror)

WindowsError = OSError  # 1.6 name (its portable spelling of WindowsError)

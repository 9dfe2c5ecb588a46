"""Time formatting, pretty-printing and the legacy ``Logger``/``PrintTime``.

``format_time`` and ``short_format_time`` produce exactly joblib 1.6's text
(scikit-learn imports ``short_format_time``).  Messages go through loggers of
the ``joblib`` hierarchy; this module never configures logging.
"""

from __future__ import annotations

import os
import sys
import time

from .disk import mkdirp

# logging, pprint and shutil are imported on first use: ``import
# joblib.parallel`` (which uses ``short_format_time``) stays light.


def _logging():
    # deferred: these modules are heavy; import joblib.parallel stays light
    import logging

    return logging


def _pprint():
    # deferred: heavy, only needed to format values
    import pprint

    return pprint


def _shutil():
    # deferred: heavy, only needed by PrintTime
    import shutil

    return shutil

__all__ = ["Logger", "PrintTime", "format_time", "short_format_time", "pformat"]

_LOG_ROTATIONS = 9  # PrintTime keeps logfile.1 .. logfile.9


def _squeeze_time(t: float) -> float:
    """Remove the ~0.1 s that stat-ing files costs on Windows (1.6 quirk)."""
    if sys.platform.startswith("win"):
        return max(0, t - 0.1)
    return t


def format_time(t: float) -> str:
    """Format a duration as seconds and minutes.

    Parameters
    ----------
    t : float
        Duration in seconds.

    Returns
    -------
    str
        For example ``'12.3s, 0.2min'``.

    Examples
    --------
    >>> format_time(75)
    '75.0s, 1.2min'
    """
    t = _squeeze_time(t)
    return "%.1fs, %.1fmin" % (t, t / 60.0)


def short_format_time(t: float) -> str:
    """Format a duration compactly: seconds up to a minute, then minutes.

    Parameters
    ----------
    t : float
        Duration in seconds.

    Returns
    -------
    str
        Seconds up to a minute, minutes above, seven characters wide for
        durations under 100 minutes: ``'   4.2s'``, ``' 1.5min'``.

    Examples
    --------
    >>> short_format_time(4.2)
    '   4.2s'
    >>> short_format_time(90)
    ' 1.5min'
    """
    t = _squeeze_time(t)
    if t > 60:
        return "%4.1fmin" % (t / 60.0)
    return " %5.1fs" % t


def pformat(obj, indent: int = 0, depth: int = 3) -> str:
    """Pretty-print ``obj`` with :func:`pprint.pformat`, keeping arrays short.

    When numpy is already imported, its print options are reduced
    (precision 6, threshold 64, one edge item) for the duration of the call.

    Parameters
    ----------
    obj : object
        Object to format.
    indent : int, default=0
        Indentation passed to :func:`pprint.pformat`.
    depth : int, default=3
        Maximum nesting depth shown.

    Returns
    -------
    str
        The formatted text.

    Examples
    --------
    >>> pformat({'a': [1, [2, [3, [4]]]]}, depth=2)
    "{'a': [1, [...]]}"
    """
    if "numpy" not in sys.modules:
        return _pprint().pformat(obj, depth=depth, indent=indent)
    import numpy as np  # numpy is optional at import

    print_options = np.get_printoptions()
    np.set_printoptions(precision=6, threshold=64, edgeitems=1)
    try:
        return _pprint().pformat(obj, depth=depth, indent=indent)
    finally:
        np.set_printoptions(**print_options)


class Logger:
    """Base class for objects that log messages prefixed with their repr.

    Parameters
    ----------
    depth : int, default=3
        Nesting depth shown by :meth:`format`.
    name : str, optional
        Name of the :mod:`logging` logger to use; ``'joblib'`` by default.
    """

    def __init__(self, depth: int = 3, name: str | None = None):
        self.depth = depth
        self._name = name if name else "joblib"

    def warn(self, msg: str) -> None:
        """Log ``msg`` at WARNING level, prefixed with ``[self]``."""
        _logging().getLogger(self._name).warning("[%s]: %s" % (self, msg))

    def info(self, msg: str) -> None:
        """Log ``msg`` at INFO level, prefixed with ``[self]``."""
        # joblib 1.6 logged this one to the root logger.
        _logging().getLogger(self._name).info("[%s]: %s" % (self, msg))

    def debug(self, msg: str) -> None:
        """Log ``msg`` at DEBUG level, prefixed with ``[self]``."""
        _logging().getLogger(self._name).debug("[%s]: %s" % (self, msg))

    def format(self, obj, indent: int = 0) -> str:
        """Return the pretty-printed representation of ``obj``."""
        return pformat(obj, indent=indent, depth=self.depth)


class PrintTime:
    """Print messages with the time elapsed since the previous call.

    Parameters
    ----------
    logfile : str, optional
        File that also receives the messages.  An existing one is rotated
        (``logfile.1`` ... ``logfile.9``) and a new one started.
    logdir : str, optional
        Directory in which to use ``joblib.log`` as ``logfile``.

    Raises
    ------
    ValueError
        If both ``logfile`` and ``logdir`` are given.
    """

    def __init__(self, logfile: str | None = None, logdir: str | None = None):
        if logfile is not None and logdir is not None:
            raise ValueError(
                "PrintTime takes either logfile or logdir, not both; got "
                "logfile=%r and logdir=%r." % (logfile, logdir)
            )
        self.last_time = time.time()
        self.start_time = self.last_time
        if logdir is not None:
            logfile = os.path.join(logdir, "joblib.log")
        self.logfile = logfile
        if logfile is not None:
            _start_logfile(logfile, self.last_time)

    def __call__(self, msg: str = "", total: bool = False) -> None:
        """Print ``msg`` with the time since the last call (or the start)."""
        if not total:
            time_lapse = time.time() - self.last_time
            full_msg = "%s: %s" % (msg, format_time(time_lapse))
        else:
            time_lapse = time.time() - self.start_time
            full_msg = "%s: %.2fs, %.1f min" % (msg, time_lapse, time_lapse / 60)
        print(full_msg, file=sys.stderr)
        if self.logfile is not None:
            _append_line(self.logfile, full_msg)
        self.last_time = time.time()


def _start_logfile(logfile: str, start: float) -> None:
    """Rotate an existing ``logfile`` and write a fresh header into it."""
    mkdirp(os.path.dirname(logfile))
    if os.path.exists(logfile):
        _rotate(logfile)
    try:
        with open(logfile, "w") as stream:
            stream.write("\nLogging joblib python script\n")
            stream.write("\n---%s---\n" % time.ctime(start))
    except OSError as exc:
        # Several processes may race on the same file: never fail the
        # computation for a log file.
        _logging().getLogger("joblib.logger").debug("Cannot write %s: %s", logfile, exc)


def _rotate(logfile: str) -> None:
    """Shift ``logfile.i`` to ``logfile.i+1`` and copy ``logfile`` to ``.1``.

    Oldest first: joblib 1.6 shifted ``.1`` to ``.2`` first and then moved
    the same file on up to ``.9``, losing the intermediate generations.
    """
    for index in range(_LOG_ROTATIONS - 1, 0, -1):
        try:
            _shutil().move("%s.%d" % (logfile, index), "%s.%d" % (logfile, index + 1))
        except OSError:
            pass  # missing rotation slot: nothing to shift
    try:
        # A copy, not a move, so a process tailing the file keeps its handle.
        _shutil().copy(logfile, logfile + ".1")
    except OSError as exc:
        _logging().getLogger("joblib.logger").debug("Cannot rotate %s: %s", logfile, exc)


def _append_line(logfile: str, line: str) -> None:
    """Append ``line`` to ``logfile``; failures are logged, not raised."""
    try:
        with open(logfile, "a") as stream:
            print(line, file=stream)
    except OSError as exc:
        # Same race as in _start_logfile.
        _logging().getLogger("joblib.logger").debug("Cannot write %s: %s", logfile, exc)

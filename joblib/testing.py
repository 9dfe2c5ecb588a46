"""Helpers for testing code that uses joblib (joblib 1.6 path ``joblib.testing``).

Importing this module requires pytest; the package itself never imports it.
"""

from __future__ import annotations

import re
import subprocess
import threading
import warnings
from typing import Sequence

import pytest

__all__ = [
    "raises",
    "warns",
    "skipif",
    "fixture",
    "parametrize",
    "timeout",
    "xfail",
    "param",
    "warnings_to_stdout",
    "check_subprocess_call",
]

# One-line aliases kept because downstream test suites import them from here.
raises = pytest.raises
warns = pytest.warns
skipif = pytest.mark.skipif
fixture = pytest.fixture
parametrize = pytest.mark.parametrize
timeout = pytest.mark.timeout
xfail = pytest.mark.xfail
param = pytest.param


def warnings_to_stdout() -> None:
    """Redirect every warning to stdout as ``<file>:<line>: <Category>: <msg>``."""

    def _show(message, category, filename, lineno, file=None, line=None):
        print("%s:%s: %s:%s" % (filename, lineno, category.__name__, message))

    warnings.showwarning = _show


def _check_output(name: str, text: str, regex: str | None) -> None:
    if regex is not None and not re.search(regex, text):
        raise ValueError(
            "Unexpected %s: %r does not match %r" % (name, text, regex)
        )


def check_subprocess_call(
    cmd: Sequence[str],
    timeout: float = 5,
    stdout_regex: str | None = None,
    stderr_regex: str | None = None,
) -> None:
    """Run ``cmd`` and check that it succeeds within ``timeout`` seconds.

    Parameters
    ----------
    cmd : sequence of str
        The command line to run.
    timeout : float, default=5
        Seconds after which the process is killed and the check fails.
    stdout_regex, stderr_regex : str, optional
        Regular expressions that the captured outputs must match.

    Raises
    ------
    ValueError
        If the command fails, times out, or an output does not match.
    """
    proc = subprocess.Popen(
        list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        stdout, stderr = proc.communicate()
    finally:
        timed_out = not timer.is_alive()
        timer.cancel()
    stdout = stdout.decode(errors="replace")
    stderr = stderr.decode(errors="replace")
    if timed_out:
        raise ValueError(
            "Command %r timed out after %s s.\nstdout:\n%s\nstderr:\n%s"
            % (list(cmd), timeout, stdout, stderr)
        )
    if proc.returncode != 0:
        raise ValueError(
            "Non-zero return code %d for %r.\nstdout:\n%s\nstderr:\n%s"
            % (proc.returncode, list(cmd), stdout, stderr)
        )
    _check_output("stdout", stdout, stdout_regex)
    _check_output("stderr", stderr, stderr_regex)

SkipTest = pytest.skip.Exception  # 1.6 name: the exception pytest.skip raises

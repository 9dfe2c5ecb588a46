"""Exceptions raised by ``Parallel``."""

from __future__ import annotations

import multiprocessing

__all__ = ["ParallelTimeoutError"]


class ParallelTimeoutError(multiprocessing.TimeoutError, TimeoutError):
    """A batch exceeded ``Parallel(timeout=...)``.

    joblib 1.6 raises :class:`multiprocessing.TimeoutError`; this subclass
    also derives from the builtin :class:`TimeoutError`, so both ``except``
    clauses catch it.
    """

    def __init__(self, timeout: float | None = None):
        msg = "" if timeout is None else (
            f"A batch of tasks did not complete within timeout={timeout} s; "
            "the remaining tasks were cancelled."
        )
        super().__init__(msg)
        self.timeout = timeout

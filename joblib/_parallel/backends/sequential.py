"""``SequentialBackend``: run every task in the calling thread."""

from __future__ import annotations

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable

from ..config import get_active_backend
from .base import ParallelBackendBase
from .n_jobs import check_not_zero

__all__ = ["SequentialBackend"]


class SequentialBackend(ParallelBackendBase):
    """Run the tasks one after the other in the caller, without pickling.

    ``Parallel`` never submits to it: with one worker it runs a plain loop.
    """

    uses_threads = True
    supports_timeout = False
    supports_retrieve_callback = False
    supports_sharedmem = True

    def effective_n_jobs(self, n_jobs) -> int:
        """Always 1 (``n_jobs=0`` is still an error)."""
        check_not_zero(n_jobs)
        return 1

    def submit(self, func: Callable, callback: Callable | None = None):
        raise RuntimeError("Should never be called for SequentialBackend.")

    def retrieve_result_callback(self, out: Any):
        raise RuntimeError("Should never be called for SequentialBackend.")

    def get_nested_backend(self):
        """Keep the active backend: running sequentially adds no nesting."""
        return get_active_backend()

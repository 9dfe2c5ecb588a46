"""Compatibility path ``joblib._parallel_backends`` (joblib 1.6).

The backends live in :mod:`joblib._parallel.backends`; this module re-exports
them under their 1.6 names.
"""

from __future__ import annotations

from ._multiprocessing_helpers import mp
from ._parallel.backends.base import FallbackToBackend, ParallelBackendBase
from ._parallel.backends.loky_backend import LokyBackend
from ._parallel.backends.mixins import AutoBatchingMixin, PoolManagerMixin
from ._parallel.backends.mp_pool import MultiprocessingBackend
from ._parallel.backends.n_jobs import inside_dask_worker
from ._parallel.backends.sequential import SequentialBackend
from ._parallel.backends.thread_pool import ThreadingBackend

__all__ = [
    "ParallelBackendBase",
    "SequentialBackend",
    "ThreadingBackend",
    "MultiprocessingBackend",
    "LokyBackend",
    "AutoBatchingMixin",
    "PoolManagerMixin",
    "FallbackToBackend",
    "inside_dask_worker",
    "mp",
]

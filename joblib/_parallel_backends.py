"""Compatibility path ``joblib._parallel_backends`` (joblib 1.6).

The backends live in :mod:`joblib._parallel.backends`; this module re-exports
them under their 1.6 names.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._multiprocessing_helpers import mp
from ._parallel.backends.base import FallbackToBackend, ParallelBackendBase
from ._parallel.backends.loky_backend import LokyBackend
from ._parallel.backends.mixins import AutoBatchingMixin, PoolManagerMixin
from ._parallel.backends.mp_pool import MultiprocessingBackend
from ._parallel.backends.n_jobs import inside_dask_worker
from ._parallel.backends.sequential import SequentialBackend
from ._parallel.backends.thread_pool import ThreadingBackend
from ._parallel.backends.traceback_capture import (
    _TracebackCapturingCall as _TracebackCapturingWrapper,
)
from ._parallel.backends.traceback_capture import (
    unwrap_outcome as _retrieve_traceback_capturing_wrapped_call,
)
from ._parallel.cpu import cpu_count

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

# 1.6 imported these heavy names here; they load on first access only.
_LAZY = {
    "MemmappingPool": ("joblib.pool", "MemmappingPool"),
    "get_memmapping_executor": ("joblib.executor", "get_memmapping_executor"),
    "ShutdownExecutorError": ("loky.process_executor", "ShutdownExecutorError"),
    "process_executor": ("loky.process_executor", None),
    "ThreadPool": ("multiprocessing.pool", "ThreadPool"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)

"""Compatibility path ``joblib._dask`` (joblib 1.6).

The dask backend lives in :mod:`joblib._parallel.backends.dask_backend`;
``joblib.parallel.EXTERNAL_BACKENDS['dask']`` imports it from here the first
time ``backend='dask'`` is asked for.  Importing this module does not import
dask: a missing dask or distributed is reported when the backend is built.
"""

from __future__ import annotations

from ._parallel.backends.base import ParallelBackendBase
from ._parallel.backends.dask_backend import DaskDistributedBackend
from ._parallel.backends.dask_batch import Batch
from ._parallel.backends.dask_scatter import _is_weakrefable as is_weakrefable
from ._parallel.backends.mixins import AutoBatchingMixin
from ._parallel.config import parallel_config

__all__ = [
    "AutoBatchingMixin",
    "Batch",
    "DaskDistributedBackend",
    "ParallelBackendBase",
    "is_weakrefable",
    "parallel_config",
]

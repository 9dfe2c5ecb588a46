"""Compatibility path ``joblib._dask`` (joblib 1.6).

The dask backend lives in :mod:`joblib._parallel.backends.dask_backend`;
``joblib.parallel.EXTERNAL_BACKENDS['dask']`` imports it from here the first
time ``backend='dask'`` is asked for.  Importing this module does not import
dask: a missing dask or distributed is reported when the backend is built.
"""

from __future__ import annotations

from ._parallel.backends.dask_backend import DaskDistributedBackend

__all__ = ["DaskDistributedBackend"]

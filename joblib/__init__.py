"""Joblib: lightweight pipelining with Python functions.

A drop-in reimplementation of joblib 1.6 offering three tools:

1. **Transparent disk-caching of function results** (:class:`Memory`).
2. **Embarrassingly parallel loops** (:class:`Parallel` and :func:`delayed`).
3. **Fast persistence of numpy-heavy objects** (:func:`dump`, :func:`load`)
   and deterministic hashing (:func:`hash`).

The public names are loaded on first use, so ``import joblib`` stays cheap:
neither numpy nor loky is imported until a feature needs them.

Examples
--------
>>> from joblib import Parallel, delayed
>>> from math import sqrt
>>> Parallel(n_jobs=1)(delayed(sqrt)(i**2) for i in range(5))
[0.0, 1.0, 2.0, 3.0, 4.0]
"""

from __future__ import annotations

import importlib
import os

# The version's major.minor is the joblib API release this package is a
# drop-in for; the micro number starts at 100 so that our own releases never
# collide with upstream's bug-fix releases (1.6.1, 1.6.2, ...). Checks such as
# ``Version(joblib.__version__) >= Version("1.3")`` therefore behave as they
# would with joblib 1.6.
__version__ = "1.6.100"

# Work around an intel-openmp bug with fork (joblib 1.6 does the same).
os.environ.setdefault("KMP_INIT_AT_FORK", "FALSE")

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    # What type checkers see (mypy, pyright): the real objects. At run time
    # the same names are loaded lazily by __getattr__ below.
    from ._cloudpickle_wrapper import wrap_non_picklable_objects
    from ._parallel_backends import ParallelBackendBase
    from ._store_backends import StoreBackendBase
    from .compressor import register_compressor
    from .hashing import hash, register_hash
    from .logger import Logger, PrintTime
    from .memory import MemorizedResult, Memory, expires_after, register_store_backend
    from .numpy_pickle import UntrustedTypesError, dump, inspect_file, load
    from .parallel import (
        Parallel,
        cpu_count,
        delayed,
        effective_n_jobs,
        parallel_backend,
        parallel_config,
        register_parallel_backend,
    )
    from ._parallel.fault_tolerance.errors import ParallelCancelledError, TaskTimeoutError
    from ._parallel.workers.broadcast import broadcast
    from ._parallel.workers.state import worker_state

# public name -> module that holds it (loaded lazily on first access)
_LAZY_NAMES = {
    "Memory": "memory",
    "MemorizedResult": "memory",
    "expires_after": "memory",
    "register_store_backend": "memory",
    "Parallel": "parallel",
    "delayed": "parallel",
    "cpu_count": "parallel",
    "effective_n_jobs": "parallel",
    "parallel_config": "parallel",
    "parallel_backend": "parallel",
    "register_parallel_backend": "parallel",
    "TaskTimeoutError": "_parallel.fault_tolerance.errors",
    "ParallelCancelledError": "_parallel.fault_tolerance.errors",
    "wrap_non_picklable_objects": "_cloudpickle_wrapper",
    "ParallelBackendBase": "_parallel_backends",
    "StoreBackendBase": "_store_backends",
    "register_compressor": "compressor",
    "hash": "hashing",
    "register_hash": "hashing",  # beyond joblib 1.6 (not in __all__)
    # beyond joblib 1.6 (not in __all__): see docs/workers.rst
    "worker_state": "_parallel.workers.state",
    "broadcast": "_parallel.workers.broadcast",
    "Logger": "logger",
    "PrintTime": "logger",
    "dump": "numpy_pickle",
    "load": "numpy_pickle",
    # Beyond joblib 1.6 (kept out of __all__, which matches 1.6's).
    "inspect_file": "numpy_pickle",
    "UntrustedTypesError": "numpy_pickle",
}

__all__ = [
    # On-disk result caching
    "Memory",
    "MemorizedResult",
    "expires_after",
    # Parallel code execution
    "Parallel",
    "delayed",
    "cpu_count",
    "effective_n_jobs",
    "wrap_non_picklable_objects",
    "TaskTimeoutError",
    "ParallelCancelledError",
    # Context to change the backend globally
    "parallel_config",
    "parallel_backend",
    # Helpers to define and register store/parallel backends
    "ParallelBackendBase",
    "StoreBackendBase",
    "register_compressor",
    "register_parallel_backend",
    "register_store_backend",
    # Helpers kept for backward compatibility
    "PrintTime",
    "Logger",
    "hash",
    "dump",
    "load",
]


def __getattr__(name: str):
    module_name = _LAZY_NAMES.get(name)
    if module_name is None:
        # Submodules such as ``joblib.parallel`` accessed as attributes.
        if not name.startswith("__"):
            try:
                return importlib.import_module("." + name, __name__)
            except ModuleNotFoundError as exc:
                if exc.name != "%s.%s" % (__name__, name):
                    raise
        raise AttributeError("module 'joblib' has no attribute %r" % name)
    value = getattr(importlib.import_module("." + module_name, __name__), name)
    # Cache it so the next access is a plain module-dict lookup.
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))

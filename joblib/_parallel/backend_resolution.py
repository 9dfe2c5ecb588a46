"""Turn a backend *spec* into a backend instance: the one resolver.

A spec is a registered name (``'loky'``, ``'threading'``, ...), a backend
instance, or a multiprocessing context object (anything with ``Pool`` and
``Lock``).  The registry (``BACKENDS``, ``EXTERNAL_BACKENDS``,
``DEFAULT_BACKEND``...) is owned by :mod:`joblib.parallel` because users patch
those globals; it is read here at call time, never copied.
"""

from __future__ import annotations

import sys
import warnings
from types import ModuleType

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any

from .backends.base import ParallelBackendBase

__all__ = ["registry", "resolve_backend", "default_backend", "thread_backend",
           "process_backend"]


def registry() -> ModuleType:
    """Return :mod:`joblib.parallel`, owner of the patchable backend globals."""
    module = sys.modules.get("joblib.parallel")
    if module is None:
        # The only upward reference of the package: the patchable globals
        # live in the compatibility module, which imports us.
        import importlib

        module = importlib.import_module("joblib.parallel")
    return module


def _is_mp_context(spec: Any) -> bool:
    return hasattr(spec, "Pool") and hasattr(spec, "Lock")


def _factory_for_name(name: str, stacklevel: int):
    """Return the registered factory for ``name``, registering it if needed."""
    reg = registry()
    if name in reg.BACKENDS:
        return reg.BACKENDS[name]
    if name in reg.EXTERNAL_BACKENDS:
        reg.EXTERNAL_BACKENDS[name]()
        if name in reg.BACKENDS:
            return reg.BACKENDS[name]
    elif name in reg.MAYBE_AVAILABLE_BACKENDS:
        warnings.warn(
            f"joblib backend '{name}' is not available on your system, "
            f"falling back to {reg.DEFAULT_BACKEND}.",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
        reg.BACKENDS[name] = reg.BACKENDS[reg.DEFAULT_BACKEND]
        return reg.BACKENDS[name]
    raise ValueError(
        f"Invalid backend: {name}, expected one of {sorted(reg.BACKENDS)}"
    )


def resolve_backend(spec: Any, *, nesting_level: int | None = None,
                    backend_params: dict | None = None,
                    stacklevel: int = 2) -> tuple[Any, dict]:
    """Return ``(backend_instance, extra_backend_kwargs)`` for ``spec``.

    ``nesting_level`` is passed to factories (as ``Parallel`` does) and set on
    instances that have none.  ``backend_params`` are constructor parameters
    and only make sense with a name.  ``extra_backend_kwargs`` carries the
    multiprocessing context when ``spec`` is a context object.
    """
    params = dict(backend_params or {})
    if isinstance(spec, str):
        factory = _factory_for_name(spec, stacklevel + 1)
        if nesting_level is not None:
            params["nesting_level"] = nesting_level
        return factory(**params), {}
    if params:
        raise ValueError(
            "Constructor parameters backend_params are only supported when "
            f"backend is a string. Got backend={spec!r} (type "
            f"{type(spec).__name__}) with {sorted(params)}."
        )
    if _is_mp_context(spec) and not isinstance(spec, ParallelBackendBase):
        # Looked up in the registry module: it imports every backend.
        backend = registry().MultiprocessingBackend(nesting_level=nesting_level)
        return backend, {"context": spec}
    if not hasattr(spec, "configure") or not hasattr(spec, "effective_n_jobs"):
        raise TypeError(
            "backend must be a registered backend name, a ParallelBackendBase "
            "instance or a multiprocessing context, got %r (type %s)"
            % (spec, type(spec).__name__)
        )
    if getattr(spec, "nesting_level", None) is None and nesting_level is not None:
        spec.nesting_level = nesting_level
    return spec, {}


def default_backend(nesting_level: int = 0) -> Any:
    """Instantiate the current ``DEFAULT_BACKEND``."""
    reg = registry()
    return reg.BACKENDS[reg.DEFAULT_BACKEND](nesting_level=nesting_level)


def thread_backend(nesting_level: int | None) -> Any:
    """Instantiate the current ``DEFAULT_THREAD_BACKEND``."""
    reg = registry()
    return reg.BACKENDS[reg.DEFAULT_THREAD_BACKEND](nesting_level=nesting_level)


def process_backend(nesting_level: int | None) -> Any:
    """Instantiate the current ``DEFAULT_PROCESS_BACKEND``."""
    reg = registry()
    return reg.BACKENDS[reg.DEFAULT_PROCESS_BACKEND](nesting_level=nesting_level)

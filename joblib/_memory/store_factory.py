"""Turning ``Memory``'s ``location`` and ``backend`` into a store object."""

from __future__ import annotations

import os
import warnings

from .._persist.file_io import check_mmap_mode
from .._persist.options import resolve_compress
from .._store.fsspec_support import is_url
from .._store_backends import StoreBackendBase
from . import hooks, reporting

__all__ = [
    "memory_store_options",
    "register_store_backend",
    "store_backend_factory",
]

def _new_store(backend, location: str, verbose, backend_options):
    backends = hooks.store_backends()
    if backend == "local" and is_url(location):
        # "s3://bucket/x" is not a folder name: joblib 1.6 created "./s3:".
        backend = "fsspec"
    elif "storage_options" in backend_options and backend == "local":
        raise TypeError(
            "storage_options are for URL locations (such as 's3://bucket/path'), "
            "got the local path %r" % (location,)
        )
    cls = backends.get(backend) if isinstance(backend, str) else None
    if cls is None:
        raise TypeError(
            "Unknown location {0} or backend {1}: backend should be one of the "
            "registered store backends {2}, got {1!r} (type {3}); see "
            "joblib.register_store_backend.".format(
                location, backend, sorted(backends), type(backend).__name__
            )
        )
    store = cls()
    store.configure(location, verbose=verbose, backend_options=backend_options)
    return store


def store_backend_factory(backend, location, verbose=0, backend_options=None):
    """Return the store for ``location``: a ready store object, or None.

    ``location`` may be a store object (returned as is), a path (a store of
    the registered ``backend`` class is created and configured there) or
    None (no caching).
    """
    backend_options = {} if backend_options is None else backend_options
    if isinstance(location, StoreBackendBase):
        return location
    if isinstance(location, os.PathLike):
        location = os.fspath(location)
    if isinstance(location, str):
        if not is_url(location):
            location = os.path.expanduser(location)
        return _new_store(backend, location, verbose, backend_options)
    if location is not None:
        warnings.warn(
            "Instantiating a backend using a {} as a location is not "
            "supported by joblib. Returning None instead.".format(
                location.__class__.__name__
            ),
            UserWarning,
            stacklevel=reporting.user_stacklevel(),
        )
    return None


def _check_compress(compress) -> None:
    """Validate ``compress`` now rather than at the first write (as 1.6 did)."""
    resolve_compress(compress)


def _store_options(compress, mmap_mode, backend_options) -> dict:
    if backend_options is None:
        backend_options = {}
    if not isinstance(backend_options, dict):
        raise TypeError(
            "backend_options should be a dict, got %r (type %s)"
            % (backend_options, type(backend_options).__name__)
        )
    clash = sorted({"compress", "mmap_mode"} & set(backend_options))
    if clash:
        raise TypeError(
            "backend_options cannot set %s: pass them to Memory directly "
            "(Memory(compress=..., mmap_mode=...))." % ", ".join(clash)
        )
    return dict(compress=compress, mmap_mode=mmap_mode, **backend_options)


def memory_store_options(
    compress, mmap_mode, backend_options, storage_options=None
) -> dict:
    """Validate Memory's storage arguments; return the store's options."""
    _check_compress(compress)
    check_mmap_mode(mmap_mode)
    options = _store_options(compress, mmap_mode, backend_options)
    if storage_options is not None:
        if "storage_options" in options:
            raise TypeError(
                "storage_options given twice: as Memory(storage_options=...) "
                "and in backend_options; pass them once."
            )
        options["storage_options"] = storage_options
    return options


def register_store_backend(backend_name: str, backend: type) -> None:
    """Register a store backend class under ``backend_name``.

    Parameters
    ----------
    backend_name : str
        The name given to ``Memory(backend=...)``.
    backend : type
        A subclass of :class:`joblib.StoreBackendBase` (usually also of
        ``joblib._store_backends.StoreBackendMixin``).

    Raises
    ------
    ValueError
        If the name is not a str or the class does not subclass
        ``StoreBackendBase``.

    Examples
    --------
    >>> from joblib import register_store_backend
    >>> register_store_backend("fs-copy", dict)
    Traceback (most recent call last):
    ...
    ValueError: Store backend should inherit StoreBackendBase, '<class 'dict'>' given. Got type type.
    """
    if not isinstance(backend_name, str):
        raise ValueError(
            "Store backend name should be a string, '%s' given. Got type %s."
            % (backend_name, type(backend_name).__name__)
        )
    if not (isinstance(backend, type) and issubclass(backend, StoreBackendBase)):
        raise ValueError(
            "Store backend should inherit StoreBackendBase, '%s' given. Got type %s."
            % (backend, type(backend).__name__)
        )
    hooks.store_backends()[backend_name] = backend

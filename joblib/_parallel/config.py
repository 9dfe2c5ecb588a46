"""Thread-local parallel configuration: ``parallel_config``,
``parallel_backend`` and the active-backend lookup.

Every setting defaults to a :class:`_Sentinel` meaning "unset": an explicit
``Parallel`` argument wins, then the innermost active ``parallel_config``,
then the sentinel's default value.
"""

from __future__ import annotations

import threading

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any

from . import free_threading
from .backend_resolution import (
    default_backend,
    process_backend,
    registry,
    resolve_backend,
    thread_backend,
)

__all__ = [
    "parallel_config",
    "parallel_backend",
    "get_active_backend",
    "effective_n_jobs",
    "default_parallel_config",
    "VALID_BACKEND_HINTS",
    "VALID_BACKEND_CONSTRAINTS",
]


class _Sentinel:
    """Marks a parameter as not explicitly set; carries its default value."""

    __slots__ = ("default_value",)

    def __init__(self, default_value: object):
        self.default_value = default_value

    def __repr__(self) -> str:
        return f"default({self.default_value!r})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not _Sentinel:
            return NotImplemented
        return self.default_value == other.default_value

    def __hash__(self) -> int:
        return hash(self.default_value)


default_parallel_config = {
    "backend": _Sentinel(default_value=None),
    "n_jobs": _Sentinel(default_value=None),
    "verbose": _Sentinel(default_value=0),
    "temp_folder": _Sentinel(default_value=None),
    "max_nbytes": _Sentinel(default_value="1M"),
    "mmap_mode": _Sentinel(default_value="r"),
    "prefer": _Sentinel(default_value=None),
    "require": _Sentinel(default_value=None),
}

VALID_BACKEND_HINTS = ("processes", "threads", None)
VALID_BACKEND_CONSTRAINTS = ("sharedmem", None)

_state = threading.local()


def current_config() -> dict:
    """Return the innermost active configuration of this thread."""
    return getattr(_state, "config", default_parallel_config)


def set_config(config: dict) -> None:
    """Install ``config`` as this thread's active configuration."""
    _state.config = config


def get_param(explicit: Any, config: dict, key: str) -> Any:
    """Resolve one setting: explicit value, then context, then default."""
    if explicit is not default_parallel_config[key]:
        return explicit
    value = config[key]
    if value is not default_parallel_config[key]:
        return value
    return default_parallel_config[key].default_value


def _check_hints(prefer: Any, require: Any) -> None:
    if prefer not in VALID_BACKEND_HINTS:
        raise ValueError(
            f"prefer={prefer} is not a valid backend hint, "
            f"expected one of {VALID_BACKEND_HINTS}"
        )
    if require not in VALID_BACKEND_CONSTRAINTS:
        raise ValueError(
            f"require={require} is not a valid backend constraint, "
            f"expected one of {VALID_BACKEND_CONSTRAINTS}"
        )
    if prefer == "processes" and require == "sharedmem":
        raise ValueError(
            "prefer == 'processes' and require == 'sharedmem' are "
            "inconsistent settings"
        )


def active_backend(prefer=default_parallel_config["prefer"],
                   require=default_parallel_config["require"],
                   verbose=default_parallel_config["verbose"]) -> tuple[Any, dict]:
    """Return ``(backend, config)`` honouring the prefer/require hints."""
    config = current_config()
    backend = get_param(default_parallel_config["backend"], config, "backend")
    prefer = get_param(prefer, config, "prefer")
    require = get_param(require, config, "require")
    verbose = get_param(verbose, config, "verbose")
    _check_hints(prefer, require)
    explicit = backend is not None
    if not explicit:
        backend = default_backend(nesting_level=0)
    uses_threads = getattr(backend, "uses_threads", False)
    needs_threads = (
        require == "sharedmem" and not getattr(backend, "supports_sharedmem", False)
    ) or (not explicit and prefer == "threads" and not uses_threads)
    if needs_threads:
        threaded = thread_backend(backend.nesting_level)
        if verbose >= 10 and explicit:
            print(
                f"Using {threaded.__class__.__name__} as joblib backend "
                f"instead of {backend.__class__.__name__} as the latter "
                "does not provide shared memory semantics."
            )
        return threaded, {**config, "n_jobs": 1}
    if not explicit and prefer == "processes" and uses_threads:
        return process_backend(backend.nesting_level), dict(config)
    if (not explicit and prefer is None and not uses_threads
            and free_threading.gil_disabled() and _is_stock_default(backend)):
        # Free-threaded Python: threads run Python code in parallel.
        return thread_backend(backend.nesting_level), config
    return backend, config


def _is_stock_default(backend: Any) -> bool:
    """The default backend is joblib's own process backend (not one that a
    user made the default with ``register_parallel_backend``)."""
    reg = registry()
    return reg.DEFAULT_BACKEND == reg.DEFAULT_PROCESS_BACKEND


def get_active_backend(prefer=default_parallel_config["prefer"],
                       require=default_parallel_config["require"],
                       verbose=default_parallel_config["verbose"]):
    """Return ``(backend, n_jobs)`` of the active configuration.

    ``n_jobs`` may be a "default" sentinel when no configuration set it.
    """
    backend, config = active_backend(prefer, require, verbose)
    return backend, get_param(default_parallel_config["n_jobs"], config, "n_jobs")


def effective_n_jobs(n_jobs: int | None = -1) -> int:
    """Return how many jobs would really run concurrently with ``n_jobs``.

    Asks the active backend (see :class:`parallel_config`).  ``-1`` means
    all CPUs, ``1`` always gives 1 and ``None`` uses the active setting.

    Parameters
    ----------
    n_jobs : int or None, default=-1
        The requested number of jobs, as for :class:`~joblib.Parallel`.

    Returns
    -------
    int
        The number of workers the active backend would use.

    Raises
    ------
    ValueError
        For ``n_jobs=0``.

    Examples
    --------
    >>> from joblib import effective_n_jobs, parallel_config
    >>> effective_n_jobs(1)
    1
    >>> with parallel_config(backend="threading", n_jobs=3):
    ...     effective_n_jobs(None)
    3
    >>> effective_n_jobs(0)
    Traceback (most recent call last):
    ...
    ValueError: n_jobs == 0 in Parallel has no meaning
    """
    if n_jobs == 1:
        return 1
    backend, backend_n_jobs = get_active_backend()
    if n_jobs is None:
        n_jobs = backend_n_jobs
    return backend.effective_n_jobs(n_jobs=n_jobs)



class InnerMaxNumThreadsError(ValueError, AssertionError):
    """``inner_max_num_threads`` given for a backend that cannot honour it.

    A ValueError (a bad argument value); also an AssertionError because
    joblib 1.6 raised that, and callers may catch it.
    """

class parallel_config:
    """Set the default backend and settings of :class:`~joblib.Parallel`.

    Takes effect as soon as it is constructed (``with`` is optional but
    restores the previous settings on exit).  The configuration is
    thread-local and nested configurations inherit the keys they omit.

    Parameters
    ----------
    backend : str, ParallelBackendBase or None, default=None
        A registered backend name (``'loky'``, ``'threading'``,
        ``'multiprocessing'``, ``'sequential'`` or one added with
        :func:`~joblib.register_parallel_backend`) or a backend instance.
    n_jobs : int, default=None
        Maximum number of concurrent workers (``-1``: all CPUs).
    verbose : int, default=0
        Verbosity of progress messages.
    temp_folder : str, default=None
        Folder used to memmap large arrays for process workers.
    max_nbytes : int or str, default='1M'
        Size threshold above which arrays are memmapped.
    mmap_mode : {None, 'r+', 'r', 'w+', 'c'}, default='r'
        Memmapping mode of arrays passed to process workers.
    prefer : {'processes', 'threads', None}, default=None
        Soft hint for the default backend (ignored with ``backend``).
    require : {'sharedmem', None}, default=None
        Hard constraint: ``'sharedmem'`` forces a thread-based backend.
    inner_max_num_threads : int, default=None
        Cap on BLAS/OpenMP threads in each worker (loky only).
    **backend_params
        Constructor parameters of a backend given by name.

    Raises
    ------
    ValueError
        For an unknown backend name, an invalid hint or constraint, or
        ``backend_params`` without a backend name.

    Examples
    --------
    >>> from operator import neg
    >>> from joblib import Parallel, delayed, parallel_config
    >>> with parallel_config(backend="threading", n_jobs=2):
    ...     print(Parallel()(delayed(neg)(i + 1) for i in range(5)))
    [-1, -2, -3, -4, -5]

    Backend parameters need a backend name:

    >>> parallel_config(n_jobs=2, initializer=print)
    Traceback (most recent call last):
    ...
    ValueError: inner_max_num_threads and other constructor parameters backend_params are only supported when backend is not None.
    """

    def __init__(self, backend=default_parallel_config["backend"], *,
                 n_jobs=default_parallel_config["n_jobs"],
                 verbose=default_parallel_config["verbose"],
                 temp_folder=default_parallel_config["temp_folder"],
                 max_nbytes=default_parallel_config["max_nbytes"],
                 mmap_mode=default_parallel_config["mmap_mode"],
                 prefer=default_parallel_config["prefer"],
                 require=default_parallel_config["require"],
                 inner_max_num_threads=None, **backend_params):
        self.old_parallel_config = current_config()
        backend = self._check_backend(backend, inner_max_num_threads,
                                      **backend_params)
        new_values = {
            "n_jobs": n_jobs, "verbose": verbose, "temp_folder": temp_folder,
            "max_nbytes": max_nbytes, "mmap_mode": mmap_mode,
            "prefer": prefer, "require": require, "backend": backend,
        }
        self.parallel_config = {
            **self.old_parallel_config,
            **{k: v for k, v in new_values.items() if not isinstance(v, _Sentinel)},
        }
        set_config(self.parallel_config)

    def _check_backend(self, backend, inner_max_num_threads, **backend_params):
        if backend is default_parallel_config["backend"]:
            if inner_max_num_threads is not None or backend_params:
                raise ValueError(
                    "inner_max_num_threads and other constructor parameters "
                    "backend_params are only supported when backend is not None."
                )
            return backend
        backend, _ = resolve_backend(backend, backend_params=backend_params,
                                     stacklevel=4)
        if inner_max_num_threads is not None:
            if not backend.supports_inner_max_num_threads:
                raise InnerMaxNumThreadsError(
                    f"{backend.__class__.__name__} does not accept setting the "
                    "inner_max_num_threads argument."
                )
            backend.inner_max_num_threads = inner_max_num_threads
        if backend.nesting_level is None:
            parent = self.old_parallel_config["backend"]
            backend.nesting_level = (
                0 if parent is default_parallel_config["backend"]
                else parent.nesting_level
            )
        return backend

    def __enter__(self):
        return self.parallel_config

    def __exit__(self, exc_type, exc_value, traceback):
        self.unregister()

    def unregister(self) -> None:
        """Restore the configuration that was active before this one."""
        set_config(self.old_parallel_config)


class parallel_backend(parallel_config):
    """Legacy context manager selecting the default backend (prefer
    :class:`parallel_config`).

    Unlike :class:`parallel_config`, ``n_jobs`` defaults to ``-1`` (all
    CPUs) and ``with`` returns the pair ``(backend, n_jobs)``.

    Parameters
    ----------
    backend : str or ParallelBackendBase
        Name of a registered backend, or a backend instance.
    n_jobs : int, default=-1
        Default number of jobs of the ``Parallel`` calls in the block.
    inner_max_num_threads : int, optional
        Cap on the BLAS/OpenMP threads of each worker (backends that support
        it, such as loky).
    **backend_params
        Extra arguments passed to the backend's constructor.

    Examples
    --------
    >>> from operator import neg
    >>> from joblib import Parallel, delayed, parallel_backend
    >>> with parallel_backend("threading", n_jobs=2) as (backend, n_jobs):
    ...     print(n_jobs, Parallel()(delayed(neg)(i) for i in range(3)))
    2 [0, -1, -2]
    """

    def __init__(self, backend, n_jobs=-1, inner_max_num_threads=None,
                 **backend_params):
        super().__init__(backend=backend, n_jobs=n_jobs,
                         inner_max_num_threads=inner_max_num_threads,
                         **backend_params)
        old = self.old_parallel_config
        self.old_backend_and_jobs = (old["backend"], old["n_jobs"])
        self.new_backend_and_jobs = (
            self.parallel_config["backend"], self.parallel_config["n_jobs"]
        )

    def __enter__(self):
        return self.new_backend_and_jobs

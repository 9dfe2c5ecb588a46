"""Compatibility path ``joblib.parallel`` (joblib 1.6): home of
:class:`Parallel` and owner of the patchable globals.

``BACKENDS``, ``EXTERNAL_BACKENDS``, ``DEFAULT_BACKEND``,
``DEFAULT_THREAD_BACKEND``, ``DEFAULT_PROCESS_BACKEND`` and
``BatchCompletionCallBack`` are read from this module's globals at the
moment they are used, so assigning them (as joblib's own test-suite and the
"tqdm + joblib" recipe do) takes effect.  The machinery lives in
:mod:`joblib._parallel`.
"""

from __future__ import annotations

import importlib
import itertools
import os
import sys
import threading
import time
import warnings
import weakref

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable

from ._multiprocessing_helpers import MULTIPROCESSING_USABLE
from ._parallel.backend_resolution import resolve_backend
from ._parallel.backends.base import FallbackToBackend, ParallelBackendBase
from ._parallel.backends.loky_backend import LokyBackend
from ._parallel.backends.mixins import AutoBatchingMixin
from ._parallel.backends.mp_pool import MultiprocessingBackend
from ._parallel.backends.sequential import SequentialBackend
from ._parallel.backends.thread_pool import ThreadingBackend
from ._parallel.batching import parse_pre_dispatch
from ._parallel.batching import eval_expr  # noqa: F401  (1.6 name)
from ._parallel.config import (  # noqa: F401  (1.6 names)
    VALID_BACKEND_CONSTRAINTS,
    VALID_BACKEND_HINTS,
    _Sentinel,
    _state as _backend,
    active_backend,
    default_parallel_config,
    effective_n_jobs,
    get_active_backend,
    get_param,
    parallel_backend,
    parallel_config,
)
from ._parallel.cpu import cpu_count
from ._parallel.dispatch import CallState
from ._parallel.fault_tolerance import fault_options
from ._parallel.outcomes import (  # noqa: F401  (1.6 names)
    TASK_DONE,
    TASK_ERROR,
    TASK_PENDING,
    BatchCompletionCallBack,
)
from ._parallel.progress import (  # noqa: F401  (1.6 name)
    ProgressEvent,
    verbosity_filter as _verbosity_filter,
    format_progress,
    make_progress_sink,
    write_message,
)
from ._parallel.outputs import output_stream
from ._parallel.sequential_run import run_sequential
from ._parallel.tasks import BatchedCalls, delayed
from .disk import memstr_to_bytes  # noqa: F401  (1.6 name)
from .logger import Logger, short_format_time  # noqa: F401  (1.6 name)
from ._parallel.settings import (
    check_consistency,
    check_return_as,
    collect_backend_kwargs,
    resolve_n_jobs,
)

__all__ = [
    "Parallel", "delayed", "cpu_count", "effective_n_jobs", "parallel_config",
    "parallel_backend", "register_parallel_backend", "get_active_backend",
    "ParallelBackendBase", "AutoBatchingMixin", "FallbackToBackend",
    "BatchCompletionCallBack", "BatchedCalls", "ProgressEvent",
    "BACKENDS", "EXTERNAL_BACKENDS", "DEFAULT_BACKEND", "DEFAULT_THREAD_BACKEND",
    "DEFAULT_PROCESS_BACKEND", "mp",
]

# 1.6 private names kept for code that imported them from here.
_get_active_backend = active_backend
_get_config_param = get_param

BACKENDS: dict[str, Callable] = {
    "threading": ThreadingBackend,
    "sequential": SequentialBackend,
}
DEFAULT_BACKEND = "threading"
DEFAULT_THREAD_BACKEND = "threading"
DEFAULT_PROCESS_BACKEND = "threading"
# Names that only exist when multiprocessing works; asking for them
# elsewhere falls back to the default backend with a warning.
MAYBE_AVAILABLE_BACKENDS = {"multiprocessing", "loky"}

if MULTIPROCESSING_USABLE:
    BACKENDS["multiprocessing"] = MultiprocessingBackend
    BACKENDS["loky"] = LokyBackend
    DEFAULT_BACKEND = "loky"
    DEFAULT_PROCESS_BACKEND = "loky"


def _register_dask() -> None:
    """Register the dask backend on first use of ``backend='dask'``."""
    try:
        from ._dask import DaskDistributedBackend  # optional dependency
    except ImportError as exc:
        raise ImportError(
            "To use the dask.distributed backend you must install both the "
            "`dask` and distributed modules.\n\nSee "
            "https://dask.pydata.org/en/latest/install.html for more "
            "information."
        ) from exc
    register_parallel_backend("dask", DaskDistributedBackend)


# name -> callable registering that backend lazily (third parties add theirs)
EXTERNAL_BACKENDS: dict[str, Callable[[], None]] = {"dask": _register_dask}

DEFAULT_MP_CONTEXT = None
if MULTIPROCESSING_USABLE:
    _start_method = os.environ.get("JOBLIB_START_METHOD", "").strip() or None
    if _start_method is not None:
        import multiprocessing

        DEFAULT_MP_CONTEXT = multiprocessing.get_context(method=_start_method)


# Stands in ``Parallel._backend_kwargs`` for multiprocessing's default
# context, which 1.6 passes to every backend: it is looked up when the backend
# is configured, and not at all for loky, which does not use it (importing
# multiprocessing would delay the start of a first call's workers).
_DEFAULT_CONTEXT = object()


def _initial_context() -> Any:
    """The context put in ``Parallel._backend_kwargs`` at construction."""
    if DEFAULT_MP_CONTEXT is not None or "multiprocessing" in sys.modules:
        return _default_mp_context()  # free: multiprocessing is loaded
    return _DEFAULT_CONTEXT if MULTIPROCESSING_USABLE else None


def _default_mp_context() -> Any:
    """``DEFAULT_MP_CONTEXT`` (``JOBLIB_START_METHOD``), else mp's default."""
    if DEFAULT_MP_CONTEXT is not None:
        return DEFAULT_MP_CONTEXT
    if not MULTIPROCESSING_USABLE:
        return None
    import multiprocessing  # lazy: keeps import joblib.parallel light

    return multiprocessing.get_context()


def register_parallel_backend(name: str, factory: Callable,
                              make_default: bool = False) -> None:
    """Register a backend factory under ``name`` (experimental API).

    Parameters
    ----------
    name : str
        Name to pass as ``backend=`` to :class:`Parallel` or
        :class:`parallel_config`.
    factory : callable
        Usually a :class:`ParallelBackendBase` subclass; called with
        ``nesting_level=`` (and backend parameters) to build an instance.
    make_default : bool, default=False
        Also make it the global default backend.

    Examples
    --------
    >>> from joblib import Parallel, delayed, register_parallel_backend
    >>> from joblib._parallel_backends import ThreadingBackend
    >>> register_parallel_backend("my_threads", ThreadingBackend)
    >>> Parallel(n_jobs=2, backend="my_threads")(delayed(abs)(-i) for i in range(3))
    [0, 1, 2]
    """
    BACKENDS[name] = factory
    if make_default:
        global DEFAULT_BACKEND
        DEFAULT_BACKEND = name


class _CallAttribute:
    """Exposes an attribute of the running call (1.6 kept them on Parallel)."""

    def __init__(self, name: str, default: Any = 0):
        self.name, self.default = name, default

    def __get__(self, parallel, owner=None):
        if parallel is None:
            return self
        call = parallel.__dict__.get("_call")
        return self.default if call is None else getattr(call, self.name)

    def __set__(self, parallel, value):
        setattr(parallel._call, self.name, value)


class Parallel(Logger):
    """Run ``delayed`` calls in parallel: ``Parallel(n_jobs=2)(tasks)``.

    Parameters
    ----------
    n_jobs : int, default=None
        Maximum number of concurrent workers.  ``None`` means 1 unless a
        :class:`parallel_config` sets it; ``-1`` means all CPUs and
        ``-2`` all but one; floats are truncated; ``0`` is an error.
        With 1 the tasks run in a plain loop in the caller.
    backend : str, ParallelBackendBase or multiprocessing context, default=None
        ``'loky'`` (default, processes), ``'threading'``,
        ``'multiprocessing'``, ``'sequential'``, a registered name, a backend
        instance or a multiprocessing context object.
    return_as : {'list', 'generator', 'generator_unordered'}, default='list'
        Return a list, or a generator yielding results as they are ready
        (in input order, or in completion order).
    verbose : int, default=0
        Progress messages on stderr (stdout above 50); above 10, every task.
    timeout : float, default=None
        Seconds to wait for each batch; exceeding it raises
        :class:`multiprocessing.TimeoutError` and cancels the call.
    pre_dispatch : int, str or 'all', default='2 * n_jobs'
        How many tasks to take from the input ahead of the workers; may be an
        arithmetic expression in ``n_jobs``.
    batch_size : int or 'auto', default='auto'
        Tasks per batch; ``'auto'`` adapts to measured task durations.
    temp_folder, max_nbytes, mmap_mode
        Automatic memmapping of large numpy arrays for process backends.
    prefer : {'processes', 'threads', None}, default=None
        Soft hint for the default backend.
    require : {'sharedmem', None}, default=None
        ``'sharedmem'`` forces a thread-based backend.
    progress : bool or callable, default=False
        ``True`` shows a progress bar (tqdm when installed); a callable
        receives a :class:`ProgressEvent` per completed task.
    retries, retry_on, retry_delay, task_timeout, on_error
        Fault tolerance (the "Fault tolerance" guide): extra attempts of a
        task that raised one of ``retry_on``, whose worker died or that ran
        past ``task_timeout`` seconds (:class:`joblib.TaskTimeoutError`),
        ``retry_delay`` seconds apart (doubling); ``on_error`` ('raise',
        'return' or 'skip') decides what a task that failed for good does.
    forward_logs : bool, default=False
        Handle the log records of process workers with this process's
        logging configuration, and re-emit their warnings here once per
        location (see the "Workers" guide).
    **backend_kwargs
        Passed to the backend's ``configure``.  ``initializer`` and
        ``initargs`` set up each worker process (loky, multiprocessing),
        each worker thread (threading) or, with one worker, each call;
        see :func:`joblib.worker_state`.

    Raises
    ------
    ValueError, TypeError
        For invalid ``return_as``, ``batch_size``, ``n_jobs``, backend or
        fault-tolerance arguments.
    joblib.ParallelCancelledError
        When :meth:`cancel` stopped the call.
    RuntimeError
        When the same instance is called while already running.

    Examples
    --------
    >>> from math import sqrt
    >>> from joblib import Parallel, delayed
    >>> Parallel(n_jobs=2, backend="threading")(delayed(sqrt)(i**2) for i in range(5))
    [0.0, 1.0, 2.0, 3.0, 4.0]

    Passing results instead of ``delayed`` calls is a common mistake:

    >>> Parallel(n_jobs=1)(sqrt(i) for i in range(2))
    Traceback (most recent call last):
    ...
    TypeError: cannot unpack non-iterable float object
    """

    n_dispatched_batches = _CallAttribute("n_dispatched_batches")
    n_dispatched_tasks = _CallAttribute("n_dispatched_tasks")
    n_completed_tasks = _CallAttribute("n_completed_tasks")
    _nb_consumed = _CallAttribute("nb_consumed")
    _aborting = _CallAttribute("aborting", False)
    _aborted = _CallAttribute("aborted", False)
    _exception = _CallAttribute("exception", False)
    _iterating = _CallAttribute("iterating", False)
    _original_iterator = _CallAttribute("original_iterator", None)
    _call_id = _CallAttribute("call_id", None)
    _jobs = _CallAttribute("jobs", ())
    _pre_dispatch_amount = _CallAttribute("pre_dispatch_amount")
    _cached_effective_n_jobs = _CallAttribute("n_jobs", None)

    def __init__(self, n_jobs: int | None = default_parallel_config["n_jobs"],
                 backend: str | ParallelBackendBase | None = default_parallel_config["backend"],
                 return_as: str = "list",
                 verbose: int = default_parallel_config["verbose"], timeout: float | None = None,
                 pre_dispatch="2 * n_jobs", batch_size="auto",
                 temp_folder=default_parallel_config["temp_folder"],
                 max_nbytes=default_parallel_config["max_nbytes"],
                 mmap_mode=default_parallel_config["mmap_mode"],
                 prefer=default_parallel_config["prefer"],
                 require=default_parallel_config["require"],
                 *, progress=False, retries=0, retry_on=(), retry_delay=0,
                 task_timeout=None, on_error="raise", forward_logs=False,
                 **backend_kwargs):
        super().__init__()
        check_return_as(return_as)
        self.return_as = return_as
        self.return_generator = return_as != "list"
        self.return_ordered = return_as != "generator_unordered"
        active, config = active_backend(prefer=prefer, require=require,
                                        verbose=verbose)
        self.verbose = get_param(verbose, config, "verbose")
        self.timeout = timeout
        self.pre_dispatch = pre_dispatch
        self.progress = progress
        self.forward_logs = bool(forward_logs)
        self._backend_kwargs = collect_backend_kwargs(
            backend_kwargs, config,
            _initial_context(),
            max_nbytes=max_nbytes,
            temp_folder=temp_folder, mmap_mode=mmap_mode, prefer=prefer,
            require=require, verbose=verbose)
        self._backend = self._resolve_backend(backend, active)
        self.n_jobs = resolve_n_jobs(n_jobs, config, self._backend)
        self.retries, self.retry_on, self.retry_delay = retries, retry_on, retry_delay
        self.task_timeout, self.on_error = task_timeout, on_error
        self._fault = fault_options(retries, retry_on, retry_delay,
                                     task_timeout, on_error)
        # A fault-tolerant call runs its own workers: any return_as works.
        check_consistency(self._backend, require, batch_size, return_as,
                          isinstance(self._backend, SequentialBackend)
                          or self._fault is not None)
        self.batch_size = batch_size
        self._scheduler = None
        self._caller_thread = None
        self._lock = threading.RLock()
        self._running = self._managed_backend = self._calling = False
        self._id = os.urandom(16).hex()
        self._call = None
        self._call_ref = None

    # -- construction helpers -------------------------------------------
    def _resolve_backend(self, backend: Any, active: Any) -> Any:
        if backend is None or backend is default_parallel_config["backend"]:
            return active
        instance, extra = resolve_backend(backend, nesting_level=active.nesting_level,
                                          stacklevel=4)
        self._backend_kwargs.update(extra)
        return instance

    # -- backend lifecycle ----------------------------------------------
    def __enter__(self):
        self._managed_backend = True
        self._calling = False
        self._initialize_backend()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self._managed_backend = False
        if self.return_generator and self._calling:
            self._abort()
        self._terminate_and_reset()

    def _configure_kwargs(self) -> dict:
        """The keyword arguments of ``self._backend.configure``."""
        kwargs = self._backend_kwargs
        if not getattr(self._backend, "uses_mp_context", True):
            # e.g. loky, which has its own context: multiprocessing's is
            # neither looked up nor passed.
            return {k: v for k, v in kwargs.items() if k != "context"}
        if kwargs.get("context") is _DEFAULT_CONTEXT:
            kwargs = dict(kwargs, context=_default_mp_context())
        return kwargs

    def _initialize_backend(self) -> int:
        try:
            n_jobs = self._backend.configure(n_jobs=self.n_jobs, parallel=self,
                                             **self._configure_kwargs())
        except FallbackToBackend as fallback:
            self._backend = fallback.backend
            return self._initialize_backend()
        if self.timeout is not None and not self._backend.supports_timeout:
            warnings.warn(
                "The backend class {!r} does not support timeout. You have set "
                "'timeout={}' in Parallel but the 'timeout' parameter will not "
                "be used.".format(self._backend.__class__.__name__, self.timeout))
        return n_jobs

    def _no_worker(self) -> None:
        """The backend reports 0 workers: nothing could run, fail (1.6)."""
        if not self._managed_backend:
            self._backend.terminate()
        raise RuntimeError("%s has no active worker." % self._backend.__class__.__name__)

    def _effective_n_jobs(self) -> int:
        if self._backend:
            return self._backend.effective_n_jobs(self.n_jobs)
        return 1

    def _terminate_and_reset(self) -> None:
        if self.forward_logs:
            # The call's worker records are in the listener's socket by now.
            from ._parallel.workers.log_forward import drain

            drain()
        if self._calling and hasattr(self._backend, "stop_call"):
            self._backend.stop_call()
        self._calling = False
        if not self._managed_backend:
            self._backend.terminate()

    def _abort(self) -> None:
        call = self._call
        with self._lock:
            call.aborting = True
            call.cond.notify_all()
            if call.aborted:
                return
            call.aborted = True
        # Never under the lock: terminating joins threads whose completion
        # callbacks need that lock.
        if hasattr(self._backend, "abort_everything"):
            self._backend.abort_everything(ensure_ready=self._managed_backend)

    # -- running a call -------------------------------------------------
    def _reset_run_tracking(self) -> None:
        with self._lock:
            if self._running:
                msg = "This Parallel instance is already running !"
                if self.return_generator:
                    msg += (" Before submitting new tasks, you must wait for the "
                            "completion of all the previous tasks, or clean all "
                            "references to the output generator.")
                raise RuntimeError(msg)
            self._running = True

    def __call__(self, iterable: Iterable):
        """Run the ``delayed`` calls of ``iterable``; see ``return_as``."""
        self._reset_run_tracking()
        self._caller_thread = threading.get_ident()
        if self._fault is not None:
            return self._run_fault_tolerant(iterable)
        try:
            self.n_tasks = len(iterable) if hasattr(iterable, "__len__") else None
            self._start_time = time.time()
            if self._managed_backend:
                n_jobs = self._effective_n_jobs()
            else:
                n_jobs = self._initialize_backend()
            if n_jobs == 0:
                self._no_worker()
            sink = make_progress_sink(self.progress, self.n_tasks)
            if n_jobs == 1 and self._backend_kwargs.get("initializer") is not None:
                # No worker: the set-up runs once per call, in the caller.
                self._backend_kwargs["initializer"](
                    *self._backend_kwargs.get("initargs", ()))
        except BaseException:
            self._running = False
            raise
        if n_jobs == 1:
            return run_sequential(self, iterable, sink)
        return self._run_parallel(iterable, n_jobs, sink)

    def _run_parallel(self, iterable: Iterable, n_jobs: int, sink: Any):
        backend = self._backend
        self._call = call = CallState(self, n_jobs, self._lock, self.return_ordered,
                                      sink)
        call.wait_all = not self.return_generator and self.timeout is None
        hook = getattr(backend, "batch_reducer_callback", None)
        if hook is not None:  # absent on backends not deriving from the base
            call.reducer_callback = hook()
        self._print(f"Using backend {backend.__class__.__name__} with "
                    f"{n_jobs} concurrent workers.")
        if hasattr(backend, "start_call"):
            backend.start_call()
        self._calling = True
        iterator = iter(iterable)
        try:
            amount = parse_pre_dispatch(self.pre_dispatch, n_jobs)
        except BaseException:
            self._running = False
            self._terminate_and_reset()
            raise
        first, original = iterator, None
        if amount is not None:
            call.pre_dispatch_amount = amount
            first, original = itertools.islice(iterator, amount), iterator
        output = output_stream(self, call, first, original, sink)
        self._call_ref = weakref.ref(output)
        next(output)
        if self.return_generator:
            return output
        results: list = []
        for batch in output:
            results.extend(batch)
        return results

    def _run_fault_tolerant(self, iterable: Iterable):
        # lazy: fault tolerance loads only when asked for
        from ._parallel.fault_tolerance.run import run_fault_tolerant

        try:
            self.n_tasks = len(iterable) if hasattr(iterable, "__len__") else None
            self._start_time = time.time()
            sink = make_progress_sink(self.progress, self.n_tasks)
            return run_fault_tolerant(self, iterable, sink)
        except BaseException:
            self._running = False
            raise

    def cancel(self) -> None:
        """Stop the running call of this object: it raises
        :class:`joblib.ParallelCancelledError` within a second.

        Callable from another thread or from a signal handler.  No further
        task starts; worker processes running tasks are stopped and the
        call's temporary folders removed.  Threads cannot be stopped: their
        running tasks finish in the background.  Does nothing when no call
        is running.

        Examples
        --------
        >>> from joblib import Parallel
        >>> Parallel(n_jobs=2).cancel()  # nothing running: no effect
        """
        # lazy: fault tolerance loads only when asked for
        from ._parallel.fault_tolerance.cancel import cancel_call

        cancel_call(self)

    # -- 1.6 public helpers ---------------------------------------------
    def dispatch_next(self) -> None:
        """Dispatch one more batch of tasks (called on batch completion)."""
        self._call.dispatch_next()

    def dispatch_one_batch(self, iterator) -> bool:
        """Dispatch the next batch from ``iterator``; False when exhausted."""
        return self._call.dispatch_one_batch(iterator)

    def _get_batch_size(self) -> int:
        if self.batch_size == "auto":
            return self._backend.compute_batch_size()
        return self.batch_size

    def _print(self, msg: str, level: int | None = None) -> None:
        """Progress output (if verbose): stderr, and the ``joblib`` logger
        at ``level`` (default: DEBUG for batch-size changes, else INFO)."""
        if self.verbose:
            if level is None:
                level = 10 if msg.startswith("Batch computation too") else 20
            write_message(str(self), msg, self.verbose, level)

    def print_progress(self) -> None:
        """Print a progress line, more or less often depending on ``verbose``."""
        if not self.verbose:
            return
        msg = format_progress(self._call, time.time() - self._start_time)
        if msg is not None:
            self._print(msg)

    def _is_completed(self) -> bool:
        return self._call.is_completed()

    def __repr__(self) -> str:
        return "%s(n_jobs=%s)" % (self.__class__.__name__, self.n_jobs)


def __getattr__(name: str) -> Any:
    # Names of joblib 1.6 resolved on first use: importing loky or
    # multiprocessing eagerly would make ``import joblib.parallel`` slow.
    if name == "loky":
        return importlib.import_module("loky")
    if name == "mp":
        from . import _multiprocessing_helpers  # call-time: patchable global

        return _multiprocessing_helpers.mp
    if name in ("TaskTimeoutError", "ParallelCancelledError"):
        # lazy: fault tolerance loads only when asked for
        from ._parallel.fault_tolerance import errors

        return getattr(errors, name)
    if name == "TimeoutError":
        # 1.6 raised (and exported) multiprocessing's; ours subclasses it.
        from multiprocessing import TimeoutError

        return TimeoutError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

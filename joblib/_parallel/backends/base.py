"""``ParallelBackendBase``, the documented (experimental) backend API, and
``FallbackToBackend``."""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from abc import ABCMeta, abstractmethod

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator

from ..cpu import cpu_count
from .traceback_capture import unwrap_outcome

__all__ = ["ParallelBackendBase", "FallbackToBackend"]


# Filled once; a tuple rebound as a whole (safe without the GIL).
_NESTED_CLASSES: tuple = ()


def _nested_classes() -> tuple:
    """``[SequentialBackend, ThreadingBackend]``, imported on first use.

    Deferred because both subclass :class:`ParallelBackendBase`; cached
    because nested backends are built for every batch.
    """
    global _NESTED_CLASSES
    if not _NESTED_CLASSES:
        from .sequential import SequentialBackend  # cycle: they subclass this module's base
        from .thread_pool import ThreadingBackend  # cycle: they subclass this module's base

        _NESTED_CLASSES = (SequentialBackend, ThreadingBackend)
    return _NESTED_CLASSES


class FallbackToBackend(Exception):
    """Raised by ``configure`` to ask ``Parallel`` to use another backend.

    Parameters
    ----------
    backend : ParallelBackendBase
        The backend instance to configure instead.
    """

    def __init__(self, backend: Any):
        super().__init__(backend)
        self.backend = backend


class ParallelBackendBase(metaclass=ABCMeta):
    """Base class of the backends that run the batches of :class:`Parallel`.

    Subclasses implement :meth:`effective_n_jobs` and :meth:`submit` (and
    should set ``supports_retrieve_callback = True`` and implement
    :meth:`retrieve_result_callback`).  ``Parallel`` calls, in order:
    :meth:`configure`, :meth:`start_call`, :meth:`submit` for each batch,
    :meth:`stop_call` and, unless a ``with Parallel()`` block manages the
    backend, :meth:`terminate`.

    Parameters
    ----------
    nesting_level : int, default=None
        Depth of nested ``Parallel`` calls this backend runs at.
    inner_max_num_threads : int, default=None
        Cap on BLAS/OpenMP threads in process workers.
    **backend_kwargs
        Stored as ``self.backend_kwargs``.
    """

    default_n_jobs = 1
    supports_inner_max_num_threads = False
    # Kept for backward compatibility: new backends set it to True and
    # implement ``retrieve_result_callback``.
    supports_retrieve_callback = False
    nesting_level = None
    # Whether ``configure`` receives ``context=`` (multiprocessing's default
    # context, or the one the user passed as ``backend=``).  A backend with a
    # context of its own (loky) sets it to False: multiprocessing is then
    # neither imported nor passed.
    uses_mp_context = True
    # Whether :func:`joblib.broadcast` objects reach this backend's workers
    # through files of the local temp folder (workers on this machine that
    # unpickle the batches: loky, multiprocessing).  Otherwise the handles
    # are pickled with their object, or (no pickling) replaced in the tasks.
    broadcast_via_files = False

    MAX_NUM_THREADS_VARS = [
        "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
        "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    ]
    TBB_ENABLE_IPC_VAR = "ENABLE_IPC"

    def __init__(self, nesting_level: int | None = None,
                 inner_max_num_threads: int | None = None, **backend_kwargs):
        super().__init__()
        self.nesting_level = nesting_level
        self.inner_max_num_threads = inner_max_num_threads
        self.backend_kwargs = backend_kwargs

    @property
    def supports_return_generator(self) -> bool:
        return self.supports_retrieve_callback

    @property
    def supports_timeout(self) -> bool:
        return self.supports_retrieve_callback

    @abstractmethod
    def effective_n_jobs(self, n_jobs: int) -> int:
        """Return how many of the ``n_jobs`` requested can really run at once."""

    def apply_async(self, func: Callable, callback: Callable | None = None):
        """Legacy name of :meth:`submit`; implement :meth:`submit` instead."""
        raise NotImplementedError("Implement `submit` instead.")

    def submit(self, func: Callable, callback: Callable | None = None):
        """Schedule ``func()`` and return a future-like object.

        ``callback`` must be called (for instance through
        ``future.add_done_callback``) once the task finished, successfully or
        not.  Backends still implementing ``apply_async`` keep working.
        """
        warnings.warn(
            "`apply_async` is deprecated, implement and use `submit` instead.",
            DeprecationWarning,
        )
        return self.apply_async(func, callback)

    def retrieve_result_callback(self, out: Any) -> Any:
        """Return the result held by ``out`` (what the callback received)."""

    def retrieve_result(self, out: Any, timeout: float | None = None) -> Any:
        """Block until ``out`` (returned by :meth:`submit`) has a result.

        Used only when ``supports_retrieve_callback`` is False. A task error
        that the worker returned as a value (third-party backends such as
        joblibspark do) is re-raised as the task's own exception.
        """
        if self.supports_timeout:
            return unwrap_outcome(out.get(timeout=timeout))
        return unwrap_outcome(out.get())

    def configure(self, n_jobs: int = 1, parallel: Any = None, prefer=None,
                  require=None, **backend_kwargs) -> int:
        """Prepare the backend for a call and return the number of workers."""
        self.parallel = parallel
        return self.effective_n_jobs(n_jobs)

    def start_call(self) -> None:
        """Hook run at the start of each ``Parallel`` call."""

    def stop_call(self) -> None:
        """Hook run at the end of each ``Parallel`` call."""

    def batch_reducer_callback(self) -> Callable[[], None] | None:
        """Return a callable run each time a batch of this call is pickled.

        Called once at the start of each ``Parallel`` call (before
        :meth:`start_call`); the callable runs in whichever thread pickles
        the batch for a worker, so it must capture what identifies the call.
        ``None`` (the default) means nothing to do.  Loky uses it to route
        the batch's memmapped arrays to the temporary folder of its call.
        """
        return None

    def terminate(self) -> None:
        """Shut down the workers and free their resources."""

    def compute_batch_size(self) -> int:
        """Return the number of tasks to put in the next batch."""
        return 1

    def batch_completed(self, batch_size: int, duration: float) -> None:
        """Record that a batch of ``batch_size`` tasks took ``duration`` s."""

    def abort_everything(self, ensure_ready: bool = True) -> None:
        """Cancel running work after an error or an early generator close.

        With ``ensure_ready`` the backend must accept new tasks afterwards.
        """

    def get_nested_backend(self) -> tuple[Any, int | None]:
        """Return ``(backend, n_jobs)`` for ``Parallel`` calls inside tasks.

        Threads at the first nesting level, then sequential, so nested
        calls never oversubscribe the machine.
        """
        level = (getattr(self, "nesting_level", 0) or 0) + 1
        sequential, threading_ = _nested_classes()
        if level > 1:
            return sequential(nesting_level=level), None
        return threading_(nesting_level=level), None

    def _prepare_worker_env(self, n_jobs: int) -> dict[str, str]:
        """Environment capping the thread pools of native libraries in workers.

        Each variable gets ``inner_max_num_threads`` if set, else the
        parent's own value if it has one, else ``max(cpu_count() // n_jobs, 1)``.
        """
        explicit = self.inner_max_num_threads
        default = max(cpu_count() // n_jobs, 1)
        env = {}
        for var in self.MAX_NUM_THREADS_VARS:
            value = os.environ.get(var, default) if explicit is None else explicit
            env[var] = str(value)
        if self.TBB_ENABLE_IPC_VAR not in os.environ:
            # Lets TBB schedulers of several processes coordinate.
            env[self.TBB_ENABLE_IPC_VAR] = "1"
        return env

    @contextlib.contextmanager
    def retrieval_context(self) -> Iterator[None]:
        """Context in which ``Parallel`` waits for results (dask secedes here)."""
        yield

    @staticmethod
    def in_main_thread() -> bool:
        """True when called from the main thread."""
        return threading.current_thread() is threading.main_thread()

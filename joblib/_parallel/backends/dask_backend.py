"""``DaskDistributedBackend``: run ``Parallel`` batches on a dask.distributed
cluster (``backend='dask'``).

Each batch becomes one dask task (key ``batch_of_<func>_<n>_calls-<uuid>``).
Completion is reported by ``Future.add_done_callback``, which dask runs in
its own callback thread, so the result is fetched there and nothing polls.
Large arguments are scattered once per call (see :mod:`.dask_scatter`), and
tasks run under ``parallel_config(backend=<dask>)`` so that nested
``Parallel`` calls come back to the cluster; while a task waits for its
nested results, it secedes from the worker's thread pool to free its slot.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator
from uuid import uuid4

from .base import ParallelBackendBase
from .dask_batch import DaskBatch, summarize_tasks
from .dask_scatter import ArgumentScatterer
from .mixins import AutoBatchingMixin
from .traceback_capture import capture_traceback, unwrap_outcome

__all__ = ["DaskDistributedBackend"]

_NO_CLIENT_MSG = (
    "To use Joblib with Dask first create a Dask Client"
    "\n\n"
    "    from dask.distributed import Client\n"
    "    client = Client()\n"
    "or\n"
    "    client = Client('scheduler-address:8786')"
)


# ``client=`` value of copies rebuilt on workers: find the client on first use.
_LAZY_CLIENT = object()


class _DaskNotInstalledError(ImportError, ValueError):
    """dask or distributed is missing.

    Also a ValueError: joblib 1.6 raised ValueError here, and callers may
    catch that.
    """


def _import_distributed() -> Any:
    """Import and return ``distributed``, or explain what to install."""
    try:
        import dask  # noqa: F401  (optional dependency)
        import distributed  # optional dependency
    except ImportError as exc:
        raise _DaskNotInstalledError(
            "You are trying to use 'dask' as a joblib parallel backend but "
            f"{exc.name or 'dask'!r} cannot be imported ({exc}). Install both "
            "`dask` and `distributed`, e.g. pip install \"dask[distributed]\"."
        ) from exc
    return distributed


def _probe_task() -> None:
    """No-op submitted to wake up (or wait for) the cluster's workers."""


def _in_dask_worker_thread() -> bool:
    """True in a thread that runs a dask task (the only place to secede)."""
    from distributed.utils import thread_state  # optional dependency

    return hasattr(thread_state, "execution_state")


class DaskDistributedBackend(AutoBatchingMixin, ParallelBackendBase):
    """Run ``Parallel`` batches as tasks of a dask.distributed cluster.

    Parameters
    ----------
    scheduler_host : str, default=None
        Address of a scheduler to connect a new client to (when ``client``
        is not given).
    scatter : list or tuple, default=None
        Objects broadcast to every worker once, then passed to tasks by
        reference.
    client : distributed.Client, default=None
        Client to use; by default the current one (``get_client()``).
    loop : event loop, default=None
        Passed to ``Client`` together with ``scheduler_host``.
    wait_for_workers_timeout : float, default=10
        Seconds to wait for a first worker when the cluster has none
        (0 or None: do not wait).
    **submit_kwargs
        Passed to ``client.submit`` for every batch (``workers=``,
        ``resources=``, ``priority=``, ``retries=``...).

    Raises
    ------
    ImportError
        If dask or distributed is not installed.
    ValueError
        If no client is given and none is running.
    TypeError
        If ``scatter`` is not a list or tuple.

    Examples
    --------
    >>> from dask.distributed import Client  # doctest: +SKIP
    >>> from joblib import Parallel, delayed, parallel_config
    >>> client = Client(processes=False)  # doctest: +SKIP
    >>> with parallel_config(backend="dask"):  # doctest: +SKIP
    ...     Parallel()(delayed(abs)(-i) for i in range(3))
    [0, 1, 2]

    ``scatter`` takes a list of objects, not a single one:

    >>> parallel_config(backend="dask", scatter=big_array)  # doctest: +SKIP
    Traceback (most recent call last):
    ...
    TypeError: scatter must be a list/tuple, got array([...]) (type ndarray)
    """

    MIN_IDEAL_BATCH_DURATION = 0.2
    MAX_IDEAL_BATCH_DURATION = 1.0
    supports_retrieve_callback = True
    default_n_jobs = -1

    def __init__(self, scheduler_host: str | None = None, scatter: Any = None,
                 client: Any = None, loop: Any = None,
                 wait_for_workers_timeout: float | None = 10,
                 nesting_level: int | None = None,
                 inner_max_num_threads: int | None = None, **submit_kwargs):
        super().__init__(nesting_level=nesting_level,
                         inner_max_num_threads=inner_max_num_threads)
        distributed = _import_distributed()
        if scatter is not None and not isinstance(scatter, (list, tuple)):
            raise TypeError(
                f"scatter must be a list/tuple, got {scatter!r} "
                f"(type {type(scatter).__name__})"
            )
        if client is _LAZY_CLIENT:
            client = None
        elif client is None:
            client = self._connect(distributed, scheduler_host, loop)
        self._init_state(client, wait_for_workers_timeout, submit_kwargs,
                         scatter or ())

    @staticmethod
    def _connect(distributed: Any, scheduler_host: str | None, loop: Any) -> Any:
        if scheduler_host:
            return distributed.Client(scheduler_host, loop=loop,
                                      set_as_default=False)
        try:
            return distributed.get_client()
        except ValueError as exc:
            raise ValueError(_NO_CLIENT_MSG) from exc

    def _init_state(self, client: Any, wait_for_workers_timeout: float | None,
                    submit_kwargs: dict, scatter: Any) -> None:
        self._client = client
        self.wait_for_workers_timeout = wait_for_workers_timeout
        self.submit_kwargs = submit_kwargs
        self._lock = threading.Lock()
        self._pending: dict[str, Any] = {}  # key -> dask future in flight
        self._scatterer = None
        self._scatter = list(scatter)
        self._calls_running = 0  # start_call minus stop_call
        if client is not None:
            self.client  # noqa: B018 - broadcasts ``scatter`` now, as 1.6 does

    # -- client ---------------------------------------------------------
    @property
    def client(self) -> Any:
        """The ``distributed.Client`` running the tasks."""
        if self._client is None:
            # A copy rebuilt on a worker (nested call): use that worker's
            # client, found only now since unpickling happens before the task.
            self._client = self._connect(_import_distributed(), None, None)
        if self._scatterer is None:
            self._scatterer = ArgumentScatterer(self._client, self._scatter)
        return self._client

    @property
    def data_futures(self) -> dict[int, Any]:
        """``{id(obj): future}`` of the objects broadcast with ``scatter=``."""
        self.client  # noqa: B018 - resolves a lazily rebuilt client
        return self._scatterer.broadcast_futures

    def __reduce__(self):
        # Clients and futures do not travel: a copy sent to a worker (the
        # nested backend of a batch) reconnects there on first use.
        return (_rebuild_on_worker, (self.wait_for_workers_timeout,
                                     self.submit_kwargs, self.nesting_level))

    def get_nested_backend(self) -> tuple[Any, int]:
        """Nested calls stay on the cluster, using all its workers."""
        nested = _rebuild_on_worker(self.wait_for_workers_timeout,
                                    self.submit_kwargs, (self.nesting_level or 0) + 1)
        return nested, -1

    # -- sizing -----------------------------------------------------------
    def effective_n_jobs(self, n_jobs: int | None) -> int:
        """Number of worker threads of the cluster (``n_jobs`` is ignored).

        Waits up to ``wait_for_workers_timeout`` for a first worker.
        """
        n_threads = self._cluster_threads()
        if n_threads or not self.wait_for_workers_timeout:
            return n_threads
        self._wait_for_workers()
        return self._cluster_threads()

    def _cluster_threads(self) -> int:
        client = self.client
        # ``nthreads`` is the current name of ``ncores``.
        count = getattr(client, "nthreads", None) or client.ncores
        return sum(count().values())

    def _wait_for_workers(self) -> None:
        timeout = self.wait_for_workers_timeout
        try:
            # Running a task is also what makes an adaptive cluster scale up.
            self.client.submit(_probe_task, pure=False).result(timeout=timeout)
        except TimeoutError as exc:  # distributed raises the builtin one
            raise TimeoutError(
                f"DaskDistributedBackend has no worker after {timeout} seconds. "
                "Make sure that workers are started and can properly connect "
                "to the scheduler and increase the joblib/dask connection "
                "timeout with:\n\nparallel_config(backend='dask', "
                f"wait_for_workers_timeout={max(10, 2 * timeout)})"
            ) from exc

    def configure(self, n_jobs: int = 1, parallel: Any = None,
                  **backend_kwargs) -> int:
        """Record the ``Parallel`` instance; return the cluster's size."""
        self.parallel = parallel
        return self.effective_n_jobs(n_jobs)

    # -- running a call ---------------------------------------------------
    def start_call(self) -> None:
        """Start with an empty cache of scattered arguments."""
        self.client  # noqa: B018 - resolves a lazily rebuilt client
        self._scatterer.end_call()
        # One backend instance may serve several calls at once (two
        # generators under the same parallel_config): count them.
        self._calls_running += 1
        _enter_call()

    def stop_call(self) -> None:
        """Release the arguments scattered during the call, and the thread
        that ran the completion callbacks if the call started it."""
        if self._scatterer is not None:
            self._scatterer.end_call()
        with self._lock:
            self._pending.clear()
        if self._calls_running > 0:
            self._calls_running -= 1
            _exit_call()

    def submit(self, func: Callable, callback: Callable | None = None) -> Any:
        """Send one batch to the cluster and return its dask future.

        ``callback(future)`` runs in dask's callback thread once the batch
        finished, failed or was cancelled.
        """
        client = self.client
        items = getattr(func, "items", None)
        if items is None:
            # Not a joblib batch: run the callable as is.
            batch, kwargs = func, {}
            key = f"{type(func).__name__}-{uuid4().hex}"
        else:
            tasks = self._scatterer.convert_tasks(items)
            batch = DaskBatch(summarize_tasks(tasks), self.get_nested_backend()[0])
            kwargs = {"tasks": tasks}
            key = f"{batch!r}-{uuid4().hex}"
        future = client.submit(capture_traceback(batch), key=key,
                               **kwargs, **self.submit_kwargs)
        with self._lock:
            self._pending[future.key] = future
        future.add_done_callback(self._make_done_callback(callback))
        return future

    def _make_done_callback(self, callback: Callable | None) -> Callable:
        def on_done(future: Any) -> None:
            with self._lock:
                self._pending.pop(future.key, None)
            if callback is not None:
                callback(future)

        return on_done

    def retrieve_result_callback(self, future: Any) -> Any:
        """Fetch the batch's results, or raise its error with the remote
        traceback as ``__cause__``."""
        return unwrap_outcome(future.result())

    def abort_everything(self, ensure_ready: bool = True) -> None:
        """Cancel the batches still queued or running on the cluster.

        The client stays usable, so ``ensure_ready`` needs nothing more.
        """
        with self._lock:
            futures = list(self._pending.values())
            self._pending.clear()
        if futures:
            self.client.cancel(futures)

    @contextlib.contextmanager
    def retrieval_context(self) -> Iterator[None]:
        """Secede from the worker's thread pool while waiting for results.

        A task waiting for its nested tasks would otherwise hold a worker
        thread they need, and deadlock a small cluster.
        """
        from distributed import rejoin, secede  # optional dependency

        in_worker = _in_dask_worker_thread()
        if in_worker:
            secede()
        try:
            yield
        finally:
            if in_worker:
                rejoin()


def _callback_executor() -> Any:
    """distributed's process-wide executor of future callbacks (or None)."""
    from distributed import Future  # optional dependency, already imported

    return getattr(Future, "_cb_executor", None)


# distributed starts its callback executor lazily, on the first
# ``add_done_callback``, and keeps its thread forever; joblib 1.6 used no
# callback, so no thread was left behind after a call. The executor is shut
# down when the last running call ends, if it did not exist before the
# first of them started (then it belongs to someone else).
_CALLS_LOCK = threading.Lock()
_calls = {"running": 0, "executor_before": None}


def _enter_call() -> None:
    with _CALLS_LOCK:
        if _calls["running"] == 0:
            _calls["executor_before"] = _callback_executor()
        _calls["running"] += 1


def _exit_call() -> None:
    from distributed import Future  # optional dependency, already imported

    with _CALLS_LOCK:
        _calls["running"] -= 1
        executor = _callback_executor()
        if (_calls["running"] or executor is None
                or executor is _calls["executor_before"]):
            return
        Future._cb_executor = None  # the next add_done_callback makes a new one
    in_executor = threading.current_thread().name.startswith("Dask-Callback-Thread")
    # Waiting lets the callbacks already queued finish; never from the
    # executor's own thread, which would wait for itself.
    executor.shutdown(wait=not in_executor)


def _rebuild_on_worker(wait_for_workers_timeout: float | None,
                       submit_kwargs: dict, nesting_level: int | None
                       ) -> DaskDistributedBackend:
    """A backend whose client is looked up on first use (see ``client``)."""
    return DaskDistributedBackend(
        client=_LAZY_CLIENT, wait_for_workers_timeout=wait_for_workers_timeout,
        nesting_level=nesting_level, **submit_kwargs)

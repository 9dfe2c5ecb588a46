"""Per-worker set-up (``Parallel(initializer=...)``) and the worker-local
state object that :func:`joblib.worker_state` returns.

The state is per *thread of execution*: a process worker runs its tasks in
its main thread, a threading worker in its own thread, the sequential
backend in the caller.  A failed initializer is remembered, and every batch
then run by that worker raises the initializer's exception (see
:func:`check_initialized`), so that the call fails with it instead of
hanging on a pool that respawns crashing workers.
"""

from __future__ import annotations

import os
import threading

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["WorkerState", "worker_state", "run_initializer", "check_initialized",
           "process_initializer"]

_local = threading.local()


class WorkerState:
    """Attributes a worker's initializer sets for its tasks to read.

    A plain namespace: ``joblib.worker_state().db = connect()`` in the
    initializer, ``joblib.worker_state().db`` in the tasks.
    """

    def __repr__(self) -> str:
        names = ", ".join(f"{k}={v!r}" for k, v in sorted(vars(self).items()))
        return f"WorkerState({names})"


def worker_state() -> WorkerState:
    """Return the state object of the worker running the current task.

    ``Parallel(initializer=f)`` runs ``f`` once per worker process (loky,
    multiprocessing), once per worker thread (threading) or once per call
    (sequential); attributes that ``f`` sets on ``worker_state()`` are then
    seen by every task that this worker runs.  Outside of any worker it is
    the calling thread's own state.

    Returns
    -------
    WorkerState
        A namespace object, created empty on first use.

    Examples
    --------
    >>> from joblib import Parallel, delayed, worker_state
    >>> def connect(name):
    ...     worker_state().connection = f"connection to {name}"
    >>> def query(i):
    ...     return worker_state().connection, i
    >>> Parallel(n_jobs=2, backend="threading", initializer=connect,
    ...          initargs=("db",))(delayed(query)(i) for i in range(2))
    [('connection to db', 0), ('connection to db', 1)]
    """
    try:
        return _local.state
    except AttributeError:
        _local.state = state = WorkerState()
        return state


def run_initializer(initializer: Callable | None, initargs: tuple) -> None:
    """Run ``initializer(*initargs)`` in this worker; remember a failure.

    The exception is not raised here: a pool would treat the worker as dead
    and start another that fails the same way.  The batches raise it.
    """
    _local.init_error = None
    if initializer is None:
        return
    try:
        initializer(*initargs)
    except BaseException as exc:  # noqa: BLE001 - raised by every batch
        _local.init_error = exc


def init_error() -> BaseException | None:
    """The exception of this worker's initializer, or None."""
    return getattr(_local, "init_error", None)


def check_initialized() -> None:
    """Raise the initializer's exception if this worker's set-up failed."""
    error = getattr(_local, "init_error", None)
    if error is not None:
        raise error


def process_initializer(initializer: Callable | None, initargs: tuple,
                        options: dict) -> None:
    """The initializer of every loky/multiprocessing worker joblib starts.

    Starts the parent watch (the worker exits when the parent dies), then
    the worker features of ``options``, then the user's ``initializer``.
    A module-level function with equal arguments from call to call, so that
    loky keeps reusing its workers.
    """
    from .parent_watch import watch_parent  # lazy: keeps import joblib.parallel light

    watch_parent(options.get("parent"))
    from .. import tasks  # cycle: tasks imports this module

    tasks.WORKER_SETUP = True
    if options.get("forward_logs"):
        from .log_forward import install_in_worker  # lazy: only when logs are forwarded

        install_in_worker(*options["forward_logs"])
    run_initializer(initializer, initargs)


def wrap_for_processes(kwargs: dict, parallel: Any = None) -> dict:
    """``kwargs`` with ``initializer``/``initargs`` replaced by
    :func:`process_initializer` and its arguments (the worker features that
    ``parallel`` asks for)."""
    kwargs = dict(kwargs)
    options = {}
    if getattr(parallel, "forward_logs", False):
        # lazy: only when logs are forwarded
        from .log_forward import listener_address, parent_min_level

        options["forward_logs"] = (listener_address(), parent_min_level())
    initializer = kwargs.pop("initializer", None)
    initargs = tuple(kwargs.pop("initargs", ()))
    if initializer is not None and not callable(initializer):
        raise TypeError(f"initializer must be a callable, got: {initializer!r}")
    kwargs["initializer"] = process_initializer
    options = {"parent": os.getpid(), **options}
    kwargs["initargs"] = (initializer, initargs, options)
    return kwargs

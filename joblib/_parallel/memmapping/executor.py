"""loky's reusable executor with automatic memmapping of large arrays."""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable

from loky.reusable_executor import _ReusablePoolExecutor

from .forward import get_memmapping_reducers, memmapping_settings
from .temp_folders import TemporaryResourcesManager

__all__ = ["MemmappingExecutor", "get_memmapping_executor"]

# The settings of the last executor we built, per thread (loky keeps one
# reusable executor per thread): reducers are new objects at every call, so
# loky's own "same arguments" test would never reuse workers.
_last_args = threading.local()


def get_memmapping_executor(n_jobs: int, **kwargs: Any) -> "MemmappingExecutor":
    """Return the reusable loky executor, memmapping large numpy arguments.

    Parameters
    ----------
    n_jobs : int
        Number of worker processes.
    **kwargs
        ``timeout`` (idle worker timeout, default 300 s), ``initializer``,
        ``initargs``, ``env``, ``temp_folder``, ``context_id`` and the
        memmapping settings ``max_nbytes``, ``mmap_mode``, ``verbose``,
        ``prewarm`` (see :class:`MemmappingExecutor`).

    Returns
    -------
    MemmappingExecutor
        The thread's reusable executor, resized to ``n_jobs`` workers.

    Raises
    ------
    ValueError
        For an invalid ``max_nbytes`` or ``mmap_mode``.

    Examples
    --------
    >>> import numpy as np
    >>> from joblib.executor import get_memmapping_executor
    >>> executor = get_memmapping_executor(2, max_nbytes="1M")  # doctest: +SKIP
    >>> executor.submit(np.sum, np.ones(1_000_000)).result()  # doctest: +SKIP
    1000000.0
    >>> get_memmapping_executor(2, max_nbytes="lots")
    Traceback (most recent call last):
    ...
    ValueError: max_nbytes='lots' is not a valid size; expected an int or a string such as '1M', '500K' or '2G'
    """
    return MemmappingExecutor.get_memmapping_executor(n_jobs, **kwargs)


class MemmappingExecutor(_ReusablePoolExecutor):
    """A loky reusable executor whose tasks memmap their large arrays.

    Each *context* (one ``Parallel`` call) writes its arrays to its own
    temporary folder, removed by ``_temp_folder_manager`` when the context
    ends; workers are reused across contexts.
    """

    _temp_folder_manager: TemporaryResourcesManager

    @classmethod
    def get_memmapping_executor(
        cls,
        n_jobs: int,
        timeout: float = 300,
        initializer: Callable | None = None,
        initargs: tuple = (),
        env: dict | None = None,
        temp_folder=None,
        context_id: str | None = None,
        **backend_args: Any,
    ) -> "MemmappingExecutor":
        """Factory: get (or resize, or replace) the reusable executor."""
        settings = memmapping_settings(**backend_args)
        reuse_args = dict(backend_args, timeout=timeout, initializer=initializer, initargs=initargs)
        reuse_args.update(env or {})
        if context_id is not None:
            # Settings travel with the context: they need no new workers.
            for key in settings:
                reuse_args.pop(key, None)
        # Registering numpy's types makes every worker import numpy at start
        # (the reducers travel to the workers), which dominates the first call
        # of a program that never uses numpy. Arrays can only be among the
        # arguments once the parent imported numpy, so the reducers are added
        # then, and the executor is rebuilt once at that point.
        numpy_loaded = "numpy" in sys.modules
        reuse_args["_numpy_reducers"] = numpy_loaded
        reuse = _can_reuse(cls, reuse_args)
        manager = TemporaryResourcesManager(temp_folder)
        if numpy_loaded:
            job_reducers, result_reducers = get_memmapping_reducers(
                temp_folder_resolver=manager, unlink_on_gc_collect=True, **backend_args
            )
        else:
            job_reducers, result_reducers = {}, {}
        executor, is_reused = super().get_reusable_executor(
            n_jobs,
            context=_worker_context(),
            job_reducers=job_reducers,
            result_reducers=result_reducers,
            reuse=reuse,
            timeout=timeout,
            initializer=initializer,
            initargs=initargs,
            env=env,
        )
        if not is_reused:
            # A reused executor keeps the manager its reducers point to.
            executor._temp_folder_manager = manager
        if context_id is not None:
            executor._temp_folder_manager.register_new_context(context_id, temp_folder, settings)
        return executor

    def terminate(self, kill_workers: bool = False) -> None:
        """Shut the executor down and delete all its temporary folders."""
        self.shutdown(kill_workers=kill_workers)
        # After shutdown no task can still be pickled into a folder.
        self._temp_folder_manager._clean_temporary_resources(
            force=kill_workers, allow_non_empty=True
        )

    @property
    def _temp_folder(self) -> str:
        # Test helper (as in joblib 1.6): the current context's folder,
        # remembered so it can still be read after the context is gone.
        cached = getattr(self, "_cached_temp_folder", None)
        if cached is None:
            cached = self._cached_temp_folder = self._temp_folder_manager.resolve_temp_folder_name()
        return cached


def _worker_context():
    """Warm-start workers for loky's default start method; a start method
    chosen with ``loky.backend.context.set_start_method`` is left to loky."""
    # lazy: loky loads only when a process pool is used
    from loky.backend.context import get_start_method

    # layering: loky's warm start, owned by the loky backend
    from ..backends.loky_warm import WARM_CONTEXT

    return WARM_CONTEXT if get_start_method() in (None, "loky") else None


def current_reusable_executor():
    """Loky's reusable executor of this thread (or process), or ``None``.

    loky 3.7 keeps one per thread; earlier releases one per process.
    """
    from loky import reusable_executor  # lazy: loky loads only when a process pool is used

    storage = getattr(reusable_executor, "_executor_storage", None)
    if storage is not None:
        return getattr(storage, "executor", None)
    return getattr(reusable_executor, "_executor", None)


def _can_reuse(cls, args: dict) -> bool:
    """Decide loky's ``reuse`` flag from the settings of the previous call."""
    previous = getattr(_last_args, "value", None)
    _last_args.value = args
    current = current_reusable_executor()
    if current is not None and not isinstance(current, cls):
        # A plain loky executor has no memmapping reducers: replace it.
        return False
    return previous is None or previous == args


class _TestingMemmappingExecutor(MemmappingExecutor):
    """A pool-like face (``apply_async``, list ``map``) for tests."""

    def apply_async(self, func: Callable, args: tuple):
        future = self.submit(func, *args)
        future.get = future.result
        return future

    def map(self, f: Callable, *args: Any) -> list:
        return list(super().map(f, *args))

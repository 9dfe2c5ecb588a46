"""``multiprocessing.pool.Pool`` subclasses with custom pickling reducers."""

from __future__ import annotations

import copyreg
import sys
import threading
import time
from io import BytesIO
from multiprocessing.connection import wait
from multiprocessing.pool import CLOSE, INIT, Pool
from pickle import HIGHEST_PROTOCOL, Pickler
from typing import Any, Callable

from .forward import get_memmapping_reducers
from .temp_folders import TemporaryResourcesManager

__all__ = ["CustomizablePickler", "CustomizablePicklingQueue", "PicklingPool", "MemmappingPool"]


class CustomizablePickler(Pickler):
    """A C-accelerated pickler with extra per-type reducers.

    Parameters
    ----------
    writer : file-like
        Where the pickle is written.
    reducers : dict or None
        ``{type: reduce_function}``; each function returns what a
        ``__reduce__`` method would.
    protocol : int
        Pickle protocol (the highest by default: these pickles are only read
        by another process of the same interpreter).
    """

    def __init__(self, writer, reducers: dict | None = None, protocol: int = HIGHEST_PROTOCOL):
        super().__init__(writer, protocol=protocol)
        # A per-instance copy: registering here must not affect other picklers.
        self.dispatch_table = copyreg.dispatch_table.copy()
        for type_, reduce_func in (reducers or {}).items():
            self.register(type_, reduce_func)

    def register(self, type_: type, reduce_func: Callable) -> None:
        """Use ``reduce_func`` to pickle instances of exactly ``type_``."""
        self.dispatch_table[type_] = reduce_func


class CustomizablePicklingQueue:
    """A locked pipe whose messages are pickled with custom reducers.

    Replaces ``multiprocessing``'s ``SimpleQueue`` inside a pool so that task
    arguments (forward) and results (backward) can use reducers such as the
    memmapping ones.
    """

    def __init__(self, context, reducers: dict | None = None):
        self._reducers = reducers
        self._reader, self._writer = context.Pipe(duplex=False)
        self._rlock = context.Lock()
        # Writes to a message-oriented win32 pipe are atomic: no lock needed.
        self._wlock = None if sys.platform == "win32" else context.Lock()
        self._make_methods()

    def __getstate__(self):
        # deferred: multiprocessing is loaded only with this pool
        from multiprocessing.context import assert_spawning

        assert_spawning(self)
        return (self._reader, self._writer, self._rlock, self._wlock, self._reducers)

    def __setstate__(self, state) -> None:
        (self._reader, self._writer, self._rlock, self._wlock, self._reducers) = state
        self._make_methods()

    def empty(self) -> bool:
        return not self._reader.poll()

    def _make_methods(self) -> None:
        self._recv = self._reader.recv
        self._send = self._make_send()
        self.get = self._locked(self._rlock, self._recv)
        self.put = self._send if self._wlock is None else self._locked(self._wlock, self._send)

    def _make_send(self) -> Callable:
        if not self._reducers:
            return self._writer.send
        reducers, send_bytes = self._reducers, self._writer.send_bytes

        def send(obj):
            buffer = BytesIO()
            CustomizablePickler(buffer, reducers).dump(obj)
            send_bytes(buffer.getbuffer())

        return send

    @staticmethod
    def _locked(lock, func: Callable) -> Callable:
        def call(*args):
            with lock:
                return func(*args)

        return call


_LOCK_GRACE_SECONDS = 1.0
# How long terminate() lets idle workers exit on their own before killing them.
_EXIT_GRACE_SECONDS = 1.0


def _put_tolerating_dead_holder(queue: CustomizablePicklingQueue) -> Callable:
    """``queue.put`` that sends without the write lock if it stays taken."""
    lock, send = queue._wlock, queue._send
    if lock is None:
        return send

    def put(obj) -> None:
        acquired = lock.acquire(timeout=_LOCK_GRACE_SECONDS)
        try:
            send(obj)
        finally:
            if acquired:
                lock.release()

    return put


class PicklingPool(Pool):
    """A ``multiprocessing`` pool whose queues pickle with custom reducers.

    Parameters
    ----------
    processes : int or None
        Number of worker processes.
    forward_reducers, backward_reducers : dict or None
        ``{type: reduce_function}`` used to send tasks to the workers and
        results back to the parent.
    **kwargs
        Passed to :class:`multiprocessing.pool.Pool` (``initializer``,
        ``initargs``, ``maxtasksperchild``, ``context``).
    """

    def __init__(self, processes=None, forward_reducers=None, backward_reducers=None, **kwargs):
        self._forward_reducers = forward_reducers or {}
        self._backward_reducers = backward_reducers or {}
        super().__init__(processes=processes, **kwargs)

    def _setup_queues(self) -> None:
        context = getattr(self, "_ctx", None)
        if context is None:  # pragma: no cover - every supported Python has _ctx
            import multiprocessing as context  # fallback: every supported Python has _ctx
        self._inqueue = CustomizablePicklingQueue(context, self._forward_reducers)
        self._outqueue = CustomizablePicklingQueue(context, self._backward_reducers)
        self._quick_put = self._inqueue._send
        self._quick_get = self._outqueue._recv
        # The parent writes to the result queue only while terminating (the
        # stop sentinels). A worker killed by terminate() while it was
        # sending a result dies holding the queue's write lock, and the
        # sentinel put would then wait forever: give up on the lock after a
        # grace period (the dead holder will never write again).
        self._outqueue.put = _put_tolerating_dead_holder(self._outqueue)

    def _get_sentinels(self) -> list:
        # What the worker handler thread waits on, besides the workers' own
        # sentinels.  The standard pool adds the result pipe, which the
        # result handler drains: while results are pending the worker handler
        # wakes up over and over (~1000 times in a call of 70 batches),
        # taking the GIL from the threads doing the work.  Every event it
        # must act on comes through the change notifier (cache drained,
        # close, terminate) or a worker's sentinel (exit).
        return [self._change_notifier._reader]

    def terminate(self) -> None:
        """Stop the workers and the pool's threads now.

        As :meth:`multiprocessing.pool.Pool.terminate`, except that the
        workers of a closed pool with no task outstanding first get the
        chance to exit on their own (running their ``multiprocessing``
        finalizers) instead of being killed.
        """
        _stop_idle_workers(self)
        super().terminate()


def _stop_idle_workers(pool: Pool, grace: float = _EXIT_GRACE_SECONDS) -> None:
    """Send a closed, idle pool's workers their stop sentinel; wait for them.

    The standard ``terminate()`` lets the sentinels travel through two
    threads (worker handler, then task handler) while it waits for the task
    queue's read lock, then kills the workers that have not exited yet:
    2-4 ms per pool on a busy 2-core machine, and whether a worker exits
    normally is left to that race.  Written from this thread, the sentinels
    reach idle workers at once; ``terminate()`` then finds them gone.  A
    worker not gone after ``grace`` seconds is left to ``terminate()``.
    """
    if pool._state != CLOSE or pool._cache:
        return  # running, or tasks outstanding: the plain terminate()
    handler = pool._worker_handler
    if threading.current_thread() is handler:
        return
    deadline = time.monotonic() + grace
    # close() woke the worker handler, which leaves its loop at once (idle
    # pool).  Until it has, it could still see a worker exit on our sentinel
    # as a crash and start a replacement.
    handler.join(grace)
    if handler.is_alive():
        return
    workers = [w for w in pool._pool if w.exitcode is None]
    try:
        for _ in workers:
            # A pickled None is far below PIPE_BUF: the write is atomic even
            # if the task handler sends its own sentinels at the same time.
            pool._quick_put(None)
    except OSError:
        return
    sentinels = [w.sentinel for w in workers]
    while sentinels:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        ready = wait(sentinels, timeout=remaining)
        sentinels = [s for s in sentinels if s not in ready]


class MemmappingPool(PicklingPool):
    """A process pool that shares large numpy arrays through memmaps.

    Arrays larger than ``max_nbytes`` in the arguments of tasks are written
    once to a temporary folder and opened by workers as ``np.memmap`` (mode
    ``mmap_mode``); existing memmaps are sent by reference.  Call
    :meth:`terminate` to remove the temporary folder.

    Parameters
    ----------
    processes : int or None
        Number of worker processes.
    temp_folder : str, path-like or None
        Root of the temporary folder (None: ``JOBLIB_TEMP_FOLDER``, then
        ``/dev/shm``, then the system temporary folder).
    max_nbytes : int, str or None
        Size threshold for memmapping (None disables it).
    mmap_mode : {'r', 'r+', 'w+', 'c'} or None
        Mode of the workers' memmaps ('w+' opens as 'r+').
    forward_reducers, backward_reducers : dict or None
        Extra reducers, see :class:`PicklingPool`.
    verbose : int
        Logging of memmapped arrays.
    context_id : str or None
        Name of the pool's single context (random when None).
    prewarm : bool or 'auto'
        Ask the OS to keep new files cached.
    **kwargs
        Passed to :class:`multiprocessing.pool.Pool`.

    Raises
    ------
    ValueError
        For an invalid ``max_nbytes`` or ``mmap_mode``.

    Examples
    --------
    >>> import numpy as np
    >>> from joblib.pool import MemmappingPool
    >>> data = np.ones(1_000_000)  # 8 MB: sent to workers as a memmap
    >>> with MemmappingPool(2, max_nbytes="1M") as pool:  # doctest: +SKIP
    ...     pool.apply_async(np.sum, (data,)).get()
    1000000.0

    A misspelled mode is refused before any worker starts:

    >>> MemmappingPool(2, mmap_mode="rw")
    Traceback (most recent call last):
    ...
    ValueError: mmap_mode must be one of ('r', 'r+', 'w+', 'c') or None; got 'rw'
    """

    def __init__(
        self,
        processes=None,
        temp_folder=None,
        max_nbytes=1e6,
        mmap_mode="r",
        forward_reducers=None,
        backward_reducers=None,
        verbose=0,
        context_id=None,
        prewarm=False,
        **kwargs: Any,
    ):
        # As Pool.__init__ does first: Pool.__del__ reads _state, also when
        # the validation below fails before the pool exists.
        self._state = INIT
        manager = TemporaryResourcesManager(temp_folder, context_id=context_id)
        self._temp_folder_manager = manager
        forward_reducers, backward_reducers = get_memmapping_reducers(
            forward_reducers,
            backward_reducers,
            temp_folder_resolver=manager,
            max_nbytes=max_nbytes,
            mmap_mode=mmap_mode,
            verbose=verbose,
            unlink_on_gc_collect=False,
            prewarm=prewarm,
        )
        super().__init__(processes, forward_reducers, backward_reducers, **kwargs)

    def terminate(self) -> None:
        """Stop the workers now, then delete the temporary folder."""
        super().terminate()
        self._temp_folder_manager._clean_temporary_resources()

    @property
    def _temp_folder(self) -> str:
        # Test helper (as in joblib 1.6), remembered after cleanup.
        cached = getattr(self, "_cached_temp_folder", None)
        if cached is None:
            cached = self._cached_temp_folder = self._temp_folder_manager.resolve_temp_folder_name()
        return cached

"""``LokyBackend``: loky's reusable process executor (the default backend),
with automatic memmapping of large arrays (``joblib.executor``)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing stays unimported at run time

from .base import FallbackToBackend, ParallelBackendBase
from .loky_boot import (discard_warm_processes, prestart_warm_processes,
                        warm_processes_waiting)
from .mixins import AutoBatchingMixin
from .n_jobs import check_not_zero, normalize_n_jobs, process_pool_guard
from .sequential import SequentialBackend
from ..workers.state import wrap_for_processes

if TYPE_CHECKING:  # annotations only: keep ``import joblib.parallel`` light
    from typing import Any, Callable
    from concurrent.futures import Future

__all__ = ["LokyBackend"]

_SHUTDOWN_MSG = (
    "The executor underlying Parallel has been shutdown. This is likely due "
    "to the garbage collection of a previous generator from a call to "
    "Parallel with return_as='generator'. Make sure the generator is not "
    "garbage collected when submitting a new job or that it is first "
    "properly exhausted."
)


class LokyBackend(AutoBatchingMixin, ParallelBackendBase):
    """Run batches in loky's reusable pool of worker processes.

    Workers survive between calls (for ``idle_worker_timeout`` seconds,
    default 300) and are spawned with fork+exec, so they are fork-safe.
    Accepted backend kwargs: ``initializer``, ``initargs`` and
    ``idle_worker_timeout``.
    """

    supports_retrieve_callback = True
    supports_inner_max_num_threads = True
    # Loky has its own context; leaving multiprocessing's out also keeps the
    # reusable executor's reuse test stable across calls.
    uses_mp_context = False
    broadcast_via_files = True
    _workers = None

    def configure(self, n_jobs=1, parallel=None, prefer=None, require=None,
                  idle_worker_timeout=None, **memmapping_executor_kwargs) -> int:
        """Get (or resize) the reusable executor and return its size."""
        n_jobs = self.effective_n_jobs(n_jobs)
        if n_jobs == 1:
            raise FallbackToBackend(SequentialBackend(nesting_level=self.nesting_level))
        kwargs = {**self.backend_kwargs, **memmapping_executor_kwargs}
        if "timeout" in kwargs:
            raise ValueError(
                "The 'timeout' parameter is not supported by the LokyBackend. "
                "Please use the `idle_worker_timeout` parameter instead."
            )
        if idle_worker_timeout is None:
            idle_worker_timeout = self.backend_kwargs.get("idle_worker_timeout", 300)
        kwargs.pop("idle_worker_timeout", None)
        kwargs = wrap_for_processes(kwargs, parallel)
        env = self._prepare_worker_env(n_jobs=n_jobs)
        # Start the worker interpreters now, so that they import loky while
        # this process does (see loky_boot); a no-op once loky is loaded.
        prestart_warm_processes(n_jobs, env)
        try:
            from ..memmapping.executor import get_memmapping_executor  # deferred: loads loky

            self._workers = get_memmapping_executor(
                n_jobs, timeout=idle_worker_timeout, env=env,
                context_id=parallel._id, **kwargs,
            )
            if warm_processes_waiting():
                # Adopt them now rather than at the first submit.
                self._workers._ensure_executor_running()
        finally:
            discard_warm_processes()
        self.parallel = parallel
        return n_jobs

    def effective_n_jobs(self, n_jobs) -> int:
        """Worker count; 1 (with a warning) where a pool cannot start."""
        check_not_zero(n_jobs)
        if n_jobs is None:
            return 1
        forced = process_pool_guard(
            n_jobs, kind="Loky", nesting_level=self.nesting_level,
            in_main_thread=self.in_main_thread(),
        )
        if forced is not None:
            return forced
        return normalize_n_jobs(n_jobs)

    def start_call(self) -> None:
        """Route the memmapped arrays of this call to its own temp folder."""
        if self.parallel is not None:
            self._select_temp_folder(self.parallel._id)

    def batch_reducer_callback(self) -> Callable[[], None]:
        """Select this call's temp folder whenever one of its batches is
        pickled: a backend shared by several calls serves them all."""
        context_id = self.parallel._id
        return lambda: self._select_temp_folder(context_id)

    def _select_temp_folder(self, context_id: str) -> None:
        workers = self._workers
        if workers is not None:
            workers._temp_folder_manager.set_current_context(context_id)

    def submit(self, func: Callable, callback: Callable | None = None) -> Future:
        """Run ``func()`` in a worker; ``callback(future)`` runs when done."""
        future = self._workers.submit(func)
        if callback is not None:
            future.add_done_callback(callback)
        return future

    def retrieve_result_callback(self, future: Future) -> Any:
        """Return the batch's value or raise its exception."""
        try:
            return future.result()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            # Imported on the error path only: loky is loaded by now anyway.
            from loky.process_executor import ShutdownExecutorError

            if isinstance(exc, ShutdownExecutorError):
                raise RuntimeError(_SHUTDOWN_MSG) from exc
            raise

    def terminate(self) -> None:
        """Keep the workers for later calls; drop this call's temp files."""
        if self._workers is not None:
            self._workers._temp_folder_manager._clean_temporary_resources(
                context_id=self.parallel._id, force=False
            )
            self._workers = None
        self.reset_batch_stats()

    def abort_everything(self, ensure_ready: bool = True) -> None:
        """Kill the workers; get a fresh executor when ``ensure_ready``."""
        self._workers.terminate(kill_workers=True)
        self._workers = None
        if ensure_ready:
            self.configure(n_jobs=self.parallel.n_jobs, parallel=self.parallel)

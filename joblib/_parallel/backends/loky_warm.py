"""A loky context whose workers start as warm processes (see ``loky_boot``).

``WARM_CONTEXT`` behaves as loky's default ``"loky"`` context; only the way
a worker process is launched differs: the pickled start-up data goes to a
warm process over a Unix socket, with the file descriptors it refers to,
instead of being written to the pipe of a freshly exec'ed interpreter.
"""

from __future__ import annotations

import os
from io import BytesIO

from loky.backend import reduction, spawn
from loky.backend.context import LokyContext
from loky.backend.popen_loky_posix import Popen as LokyPopen
from loky.backend.process import LokyProcess
from multiprocessing import util
from multiprocessing.context import set_spawning_popen

from .loky_boot import (_SentFd, spawn_warm_process, take_warm_process, tracker_fd_slots,
                        warm_start_enabled)

__all__ = ["WARM_CONTEXT", "FALLBACKS"]

# One entry per worker launched by loky's own launcher because its start-up
# data held a descriptor of a layout we do not know (a new loky version).
# Users get working workers either way; tests/test_fast_paths.py fails on it.
FALLBACKS: list = []


class WarmPopen(LokyPopen):
    """Loky's POSIX ``Popen``, handing the worker over to a warm process."""

    DupFd = _SentFd

    def duplicate_for_child(self, fd: int) -> int:
        # The index the placeholder stands for, not an inherited number.
        self._fds.append(fd)
        return len(self._fds) - 1

    def _send_tracker_fds(self, prep_data: dict) -> None:
        """Replace the trackers' descriptors by indices of fds to send."""
        slots = tracker_fd_slots(prep_data)
        if _holds_descriptor(prep_data, {(id(c), k) for c, k in slots}):
            # A loky whose preparation data we do not know how to forward.
            raise _UnknownLayout
        for container, key in slots:
            container[key] = self.duplicate_for_child(container[key])

    def _launch(self, process_obj) -> None:
        payload = BytesIO()
        set_spawning_popen(self)
        try:
            prep_data = spawn.get_preparation_data(
                process_obj._name, getattr(process_obj, "init_main_module", True)
            )
            self._send_tracker_fds(prep_data)
            reduction.dump(prep_data, payload)
            reduction.dump(process_obj, payload)
        finally:
            set_spawning_popen(None)
        # A waiting warm process if there is one (it may have died since it
        # was started: then a new one), else a new one.
        warm = take_warm_process(process_obj.env)
        sentinel = None if warm is None else warm.try_hand_over(payload.getbuffer(), self._fds)
        if sentinel is None:
            warm = spawn_warm_process(process_obj.env)
            sentinel = warm.try_hand_over(payload.getbuffer(), self._fds)
        if sentinel is None:
            raise RuntimeError(
                f"The worker process {warm.pid} for {process_obj.name} exited "
                f"before it could be given its work (wait status {warm.status}); "
                "its error output, if any, is above."
            )
        util.debug(f"handed loky worker {process_obj.name} to warm process {warm.pid}")
        self.pid = warm.pid
        self.sentinel = sentinel
        util.Finalize(self, os.close, (sentinel,))


class _UnknownLayout(Exception):
    """Loky's preparation data holds a descriptor we cannot forward."""


def _holds_descriptor(data: dict, known: set) -> bool:
    """True if a key naming a file descriptor or handle, other than the
    ``known`` ``(id(container), key)`` slots, holds a number."""
    for key, value in data.items():
        if isinstance(value, dict) and _holds_descriptor(value, known):
            return True
        if not isinstance(key, str) or (id(data), key) in known:
            continue
        if key in ("fd", "fh") or key.endswith(("_fd", "_fh")):
            if isinstance(value, int) and not isinstance(value, bool):
                return True
    return False


class WarmLokyProcess(LokyProcess):
    """``LokyProcess`` launched through :class:`WarmPopen`."""

    def __init__(self, *args, name=None, **kwargs):
        super().__init__(*args, name=name, **kwargs)
        if name is None:
            # Workers keep loky's names ("LokyProcess-1", ...), which users see
            # in logs and in multiprocessing.current_process().
            self._name = "LokyProcess-" + ":".join(str(i) for i in self._identity)

    @staticmethod
    def _Popen(process_obj):
        try:
            return WarmPopen(process_obj)
        except _UnknownLayout:
            FALLBACKS.append(process_obj.name)
            util.debug("unknown loky start-up data layout: %s uses loky's launcher"
                       % process_obj.name)
            return LokyPopen(process_obj)  # loky's own launcher, as usual


class WarmLokyContext(LokyContext):
    """Loky's default context with warm-process workers."""

    Process = WarmLokyProcess


# One instance: loky's executor compares contexts when deciding on reuse.
# None (loky's default context) where unsupported or JOBLIB_NO_WARM_START=1.
WARM_CONTEXT = WarmLokyContext() if warm_start_enabled() else None

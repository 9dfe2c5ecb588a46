"""Worker processes exit when their parent dies, however it dies.

A daemon thread of each worker waits for the parent's end and then ends the
worker at once with ``os._exit`` (even in the middle of a task: nobody is
left to receive its result).  Once the workers are gone, loky's resource
tracker sees the end of its pipe and removes the temporary folders and
semaphores registered with it.

- Linux >= 5.3: the thread blocks on a pidfd of the parent (no polling).
- Other POSIX systems (macOS, BSDs): the thread checks ``os.getppid()``
  every 0.25 s; a dead parent's children are adopted by another process.
- Windows: not watched (loky's workers there notice a dead parent only when
  they next talk to it).

``parent_death_signal`` (``prctl(PR_SET_PDEATHSIG)``) is not used: Linux
sends it when the *thread* that started the worker exits, and loky starts
workers from whichever thread submits, or from its manager thread.
"""

from __future__ import annotations

import _thread
import os
import select
import sys
import threading
import time

__all__ = ["watch_parent", "POLL_INTERVAL"]

POLL_INTERVAL = 0.25
# Exit status of a worker whose parent died (as a shell reports a SIGHUP).
_EXIT_STATUS = 129
_lock = threading.Lock()
# The process whose watch is running: a process forked from a watched worker
# (nested multiprocessing) needs a watch of its own.
_watching: list = [None]


def watch_parent(parent: int | None = None) -> bool:
    """Start this process's parent watch (once); False where unsupported.

    ``parent`` is the pid of the process whose death ends this one (the
    process that configured the pool; with multiprocessing's forkserver that
    is not the direct parent), by default the direct parent.
    """
    if os.name != "posix":
        return False
    with _lock:
        if _watching[0] == os.getpid():
            return False
        _watching[0] = os.getpid()
    direct = os.getppid()
    wait = _pidfd_waiter(parent or direct) or _polling_waiter(direct)
    # A bare thread: ``threading.Thread.start`` would block this worker until
    # the new thread has been scheduled once, a wait of up to a few ms when
    # freshly forked workers compete for the cores.  Like a daemon thread it
    # never delays the worker's exit.
    _thread.start_new_thread(_watch, (wait,))
    return True


def _watch(wait) -> None:
    wait()
    # Flush what the worker printed, then leave without running any more
    # Python (atexit handlers would wait for queues nobody reads).
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - best effort
            pass
    os._exit(_EXIT_STATUS)


def _pidfd_waiter(parent: int):
    if not hasattr(os, "pidfd_open"):
        return None
    try:
        fd = os.pidfd_open(parent)
    except ProcessLookupError:
        os._exit(_EXIT_STATUS)  # already gone
    except OSError:  # e.g. a kernel older than 5.3
        return None
    def wait() -> None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while not poller.poll():
            pass
    return wait


def _polling_waiter(parent: int):
    def wait() -> None:
        while os.getppid() == parent:
            time.sleep(POLL_INTERVAL)
    return wait

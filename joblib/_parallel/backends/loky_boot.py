"""Warm worker processes: loky workers started before the parent loads loky.

The first process-backed ``Parallel`` call of a program has to import loky
three times over: in the parent (to launch the workers) and in each worker
(to run them). Loky's own launcher does these one after the other, because it
cannot start a worker before the parent has imported it. Here the parent
starts bare interpreters first, with only ``os`` and ``socket``; they import
loky while the parent does the same, then wait on a Unix socket for what
loky's launcher would have given them at exec time: its preparation data,
the pickled process object and the file descriptors these refer to (sent
with ``SCM_RIGHTS``). From then on they are ordinary loky workers.

This module is imported by the parent before loky is, and by the warm
process at start-up: it must stay free of heavy imports.
"""

from __future__ import annotations

import _signal  # the C module: ``signal`` imports enum, ~1 ms before the spawn
import _socket  # the C module: ``socket`` would add ~5 ms before the spawn
import array
import io
import os
import struct
import sys
import threading

__all__ = ["WarmProcess", "prestart_warm_processes", "take_warm_process",
           "discard_warm_processes", "spawn_warm_process", "warm_start_supported",
           "warm_start_enabled", "warm_processes_waiting"]

_HEADER = struct.Struct("!QI")  # payload size, number of file descriptors
_MAX_FDS = 64

# Warm processes started ahead of the pool that will adopt them. Per thread,
# as loky's reusable executors are: the thread that starts them is the one
# whose first submit launches the workers.
_local = threading.local()


def _waiting() -> list["WarmProcess"]:
    try:
        return _local.waiting
    except AttributeError:
        _local.waiting = []
        return _local.waiting


# In a warm process: the descriptors received from the parent, looked up by
# the ``_SentFd`` placeholders of the process object being unpickled.
_RECEIVED_FDS: list[int] = []
# In a warm process: the socket to the parent, kept open for the process's
# lifetime (the parent uses its end as the process's sentinel).
_PARENT_SOCKET = None


def warm_start_enabled() -> bool:
    """Supported here and not switched off with ``JOBLIB_NO_WARM_START=1``.

    The switch makes every loky worker start through loky's own launcher
    (the plain path), e.g. to tell whether a problem comes from the warm start.
    """
    return warm_start_supported() and os.environ.get("JOBLIB_NO_WARM_START", "") in ("", "0")


def warm_start_supported() -> bool:
    """True where warm processes can be used (POSIX with fd passing)."""
    return (
        os.name == "posix"
        and hasattr(os, "posix_spawn")
        and hasattr(_socket, "SCM_RIGHTS")
        and hasattr(_socket.socket, "sendmsg")
        and bool(sys.executable)
    )


class WarmProcess:
    """A started interpreter waiting for its loky worker's process object."""

    def __init__(self, pid: int, sock: _socket.socket, env: dict | None):
        self.pid = pid
        self.env = dict(env or {})
        self._sock = sock

    def hand_over(self, payload: bytes | memoryview, fds: list[int]) -> int:
        """Send the pickled start-up data and ``fds``; return the sentinel fd.

        The sentinel is the parent's end of the socket: it becomes readable
        (end of file) when the worker exits, like loky's own sentinel pipe.
        """
        if len(fds) > _MAX_FDS:
            raise ValueError(f"cannot pass {len(fds)} file descriptors to a "
                             f"worker; at most {_MAX_FDS} are supported")
        header = _HEADER.pack(len(payload), len(fds))
        ancillary = [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        self._sock.sendmsg([header], ancillary)
        self._sock.sendall(payload)
        return self._sock.detach()

    def try_hand_over(self, payload: bytes | memoryview, fds: list[int]) -> int | None:
        """:meth:`hand_over`, or ``None`` (after :meth:`discard`, whose wait
        status is kept in ``self.status``) if the process died before."""
        try:
            return self.hand_over(payload, fds)
        except OSError:
            self.status = self.discard()
            return None

    def discard(self) -> int | None:
        """Kill the process (it never ran any work), reap it and return its
        wait status (``None`` if it was already reaped)."""
        try:
            os.kill(self.pid, _signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._sock.close()
        try:
            return os.waitpid(self.pid, 0)[1]
        except ChildProcessError:
            return None


def _joblib_root() -> str:
    """The folder holding the ``joblib`` package this module belongs to."""
    package_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.dirname(package_dir)


def _inheritable_fds(keep: int) -> list[int]:
    """This process's inheritable descriptors above 2, except ``keep``."""
    for listing in ("/proc/self/fd", "/dev/fd"):
        try:
            names = os.listdir(listing)
            break
        except OSError:
            continue
    else:
        return []
    fds = []
    for name in names:
        fd = int(name)
        if fd <= 2 or fd == keep:
            continue
        try:
            if os.get_inheritable(fd):
                fds.append(fd)
        except OSError:
            pass  # the listing's own descriptor, closed by now
    return fds


def _spawn(argv: list[str], env: dict, keep: int) -> int:
    """``posix_spawn`` passing only stdio and ``keep`` to the child.

    Loky's launcher closes every other descriptor in its children; an
    inheritable pipe end of the parent left open in a worker would, for
    instance, hide the end of file its reader waits for.
    """
    attempts = 3
    while True:
        close = [(os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable_fds(keep)]
        try:
            return os.posix_spawn(argv[0], argv, env, file_actions=close,
                                  setsigdef=(_signal.SIGPIPE, _signal.SIGXFSZ))
        except OSError:
            # A descriptor closed by another thread since it was listed.
            attempts -= 1
            if not attempts or not close:
                raise


def spawn_warm_process(env: dict | None = None) -> WarmProcess:
    """Start one warm process whose environment is ``os.environ`` + ``env``."""
    parent_sock, child_sock = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        child_fd = child_sock.fileno()
        os.set_inheritable(child_fd, True)
        # This joblib's folder comes first for this one import only: left
        # there it could shadow the standard library (an installed joblib
        # lives in site-packages) until the parent's sys.path is applied.
        code = (
            "import sys; sys.path.insert(0, %r); "
            "from joblib._parallel.backends.loky_boot import _warm_main; "
            "del sys.path[0]; _warm_main(%d)" % (_joblib_root(), child_fd)
        )
        full_env = {**os.environ, **(env or {})}
        pid = _spawn([sys.executable, "-c", code], full_env, keep=child_fd)
    except BaseException:
        parent_sock.close()
        raise
    finally:
        child_sock.close()
    return WarmProcess(pid, parent_sock, env)


def prestart_warm_processes(n: int, env: dict | None = None) -> None:
    """Start ``n`` warm processes for a pool about to be created.

    Only worth it while loky is not imported yet: afterwards launching a
    worker no longer waits on the parent's import. Any failure simply leaves
    loky's workers to be started the usual way.
    """
    if not warm_start_enabled() or "loky.process_executor" in sys.modules:
        return
    waiting = _waiting()
    try:
        for _ in range(_ahead(n)):
            waiting.append(spawn_warm_process(env))
    except OSError:
        discard_warm_processes()


def _ahead(n: int) -> int:
    """How many of ``n`` workers to start before the parent imports loky.

    Each one imports loky (~35 ms of CPU) while the parent does too: with
    fewer cores than that, they slow the parent's import, and the first
    results wait on it.  One core is left to the parent; the other workers
    start when the executor launches them, after the parent's imports.
    """
    from ..cpu import cpu_count  # lazy: loaded with the backend anyway

    return max(1, min(n, cpu_count() - 1))


def take_warm_process(env: dict | None) -> WarmProcess | None:
    """A waiting warm process started with ``env``, or ``None``."""
    wanted = dict(env or {})
    waiting = _waiting()
    for i, process in enumerate(waiting):
        if process.env == wanted:
            return waiting.pop(i)
    return None


def warm_processes_waiting() -> bool:
    """True when warm processes wait for a pool to adopt them."""
    return bool(_waiting())


def discard_warm_processes() -> None:
    """Kill and reap the warm processes nothing adopted."""
    waiting = _waiting()
    while waiting:
        waiting.pop().discard()


# Where loky's preparation data holds the resource trackers' descriptors:
# top-level keys since loky 3.5.6, ``{"fd": ...}`` sub-dicts before.
TRACKER_FD_PATHS = (("tracker_fd",), ("mp_tracker_fd",),
                    ("tracker_args", "fd"), ("mp_tracker_args", "fd"))


def tracker_fd_slots(prep_data: dict) -> list:
    """``(container, key)`` of every tracker descriptor in ``prep_data``."""
    slots = []
    for *parents, key in TRACKER_FD_PATHS:
        container = prep_data
        for parent in parents:
            container = container.get(parent)
            if not isinstance(container, dict):
                break
        else:
            if isinstance(container.get(key), int):
                slots.append((container, key))
    return slots


# --- in the warm process -----------------------------------------------------


class _SentFd:
    """Stands for a file descriptor of the parent in the pickled process object.

    Loky pickles connections as inherited descriptor numbers; a warm process
    was started before those existed, so it receives them over its socket
    instead and this placeholder picks the right one.
    """

    def __init__(self, index: int):
        self.index = index

    def detach(self) -> int:
        return _RECEIVED_FDS[self.index]


def _recv_exact(sock, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("parent closed the socket during the hand-over")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _receive_start_up_data(sock):
    """``(payload, fds)`` from the parent, or ``None`` if it went away."""
    import socket  # lazy: socket adds ~5 ms before the spawn

    data, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, _MAX_FDS)
    if not data:
        return None
    if len(data) < _HEADER.size:
        data += _recv_exact(sock, _HEADER.size - len(data))
    size, n_fds = _HEADER.unpack(data)
    if len(fds) != n_fds:
        raise RuntimeError(f"expected {n_fds} file descriptors from the parent, got {len(fds)}")
    return _recv_exact(sock, size), fds


def _warm_main(fd: int) -> None:
    """Entry point of a warm process (run with ``python -c``)."""
    global _PARENT_SOCKET
    import socket  # lazy: socket adds ~5 ms before the spawn

    sock = _PARENT_SOCKET = socket.socket(fileno=fd)
    sock.set_inheritable(False)  # the sentinel must not outlive this process
    exitcode = 1
    try:
        # What every worker needs, imported while the parent gets ready.
        import loky.backend.popen_loky_posix  # noqa: F401
        import loky.process_executor  # noqa: F401
        import pickle  # lazy: the booted worker only

        from loky.backend import spawn  # lazy: the booted worker only
        from multiprocessing import process  # lazy: the booted worker only

        import joblib._parallel.tasks  # noqa: F401  (the first batch's types)

        received = _receive_start_up_data(sock)
        if received is None:
            os._exit(0)  # the pool was never created
        payload, fds = received
        _RECEIVED_FDS[:] = fds
        stream = io.BytesIO(payload)
        process.current_process()._inheriting = True
        try:
            prep_data = pickle.load(stream)
            for container, key in tracker_fd_slots(prep_data):
                container[key] = fds[container[key]]
            spawn.prepare(prep_data)
            process_obj = pickle.load(stream)
        finally:
            del process.current_process()._inheriting
        exitcode = process_obj._bootstrap()
    except Exception:
        import traceback  # lazy: on a failed start only

        rule = "-" * 80
        sys.stderr.write(f"\n{rule}\nA loky worker process failed to start:\n{rule}\n"
                         f"{traceback.format_exc()}{rule}\n")
        sys.stderr.flush()
    finally:
        sys.exit(exitcode)

"""``Parallel(forward_logs=True)``: log records and warnings of process
workers are handled in the parent.

Transport: the parent listens on a Unix socket of a private temporary folder
(one per process, started on first use and kept, so that the workers'
set-up arguments stay equal from call to call and loky keeps reusing them).
Each worker connects in its initializer and sends length-prefixed pickles:

- ``("log", attributes)``: a record prepared as ``QueueHandler`` does (the
  message formatted, the traceback as text), tagged with
  ``joblib_worker`` (``"<process name> (pid N)"``).  The parent hands it to
  the logger of the same name if that logger is enabled for its level, so
  the parent's handlers, levels, filters and formatters apply.
- ``("warning", message, category, filename, lineno)``: re-emitted with
  :func:`warnings.warn_explicit` and one registry per file, so the parent's
  filters apply and a location warns once, as it would in one process.

Sending is synchronous: a record is in the socket before the task that
logged it returns, and :meth:`LogListener.drain` (run at the end of each
call) handles everything received, so the records of a call are handled
when the call returns.
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import selectors
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import warnings

from .. import tasks

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["listener_address", "drain", "install_in_worker", "LogListener"]

_HEADER = struct.Struct("!I")
_listener: list = [None]
_listener_lock = threading.Lock()


def listener_address() -> str:
    """Start (once per process) the parent's listener; return its address."""
    with _listener_lock:
        listener = _listener[0]
        if listener is None or listener.pid != os.getpid():
            listener = _listener[0] = LogListener()
        return listener.address


def parent_min_level() -> int:
    """The lowest level any logger of this process is enabled for: workers
    send the records at that level and above (the parent filters again)."""
    manager = logging.Logger.manager
    levels = [logging.getLogger().getEffectiveLevel()]
    for logger in list(manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and logger.level:
            levels.append(logger.level)
    return min(levels)


def drain() -> None:
    """Handle every message already received (end of a call)."""
    listener = _listener[0]
    if listener is not None and listener.pid == os.getpid():
        listener.drain()


class LogListener:
    """The parent's end: one thread multiplexing every worker connection."""

    def __init__(self):
        self.pid = os.getpid()
        self._folder = tempfile.mkdtemp(prefix="joblib_logs_")  # mode 0700
        self.address = os.path.join(self._folder, "socket")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.address)
        self._server.listen(64)
        self._server.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._server, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._registries: dict = {}
        atexit.register(self._close)
        threading.Thread(target=self._serve, name="joblib-log-listener",
                         daemon=True).start()

    def _serve(self) -> None:
        while True:
            events = self._selector.select()
            with self._lock:
                for key, _ in events:
                    self._ready(key)

    def drain(self) -> None:
        with self._lock:
            while True:
                events = self._selector.select(0)
                if not events:
                    return
                for key, _ in events:
                    self._ready(key)

    def _ready(self, key) -> None:
        if key.data is None:  # the listening socket: a new worker
            try:
                conn, _ = self._server.accept()
            except (BlockingIOError, InterruptedError):
                return
            conn.setblocking(False)
            self._selector.register(conn, selectors.EVENT_READ, bytearray())
            return
        try:
            chunk = key.fileobj.recv(1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # the worker exited
            self._selector.unregister(key.fileobj)
            key.fileobj.close()
            return
        key.data.extend(chunk)
        self._handle_messages(key.data)

    def _handle_messages(self, buffer: bytearray) -> None:
        while len(buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer)
            if len(buffer) < _HEADER.size + size:
                return
            payload = bytes(buffer[_HEADER.size:_HEADER.size + size])
            del buffer[:_HEADER.size + size]
            try:
                _handle(pickle.loads(payload), self._registries)
            except Exception:  # noqa: BLE001 - a bad record must not stop the thread
                logging.getLogger("joblib").exception("could not handle a worker record")

    def _close(self) -> None:
        try:
            self._server.close()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)


def _handle(message: tuple, registries: dict) -> None:
    if message[0] == "log":
        record = logging.makeLogRecord(message[1])
        logger = logging.getLogger(None if record.name == "root" else record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)
    elif message[0] == "warning":
        _, text, category, filename, lineno = message
        registry = registries.setdefault(filename, {})
        warnings.warn_explicit(text, category, filename, lineno, registry=registry)


# -- worker side ------------------------------------------------------------

class _Sender:
    """The worker's connection; thread-safe, silent once the parent is gone.

    Messages are buffered and sent together: when 64 are waiting, at the end
    of each batch (before its result goes back, see :func:`flush`) and at
    least every 0.1 s (a thread), so a long task's records still show up
    while it runs.
    """

    FLUSH_EVERY = 0.1
    MAX_PENDING = 64

    def __init__(self, address: str):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(address)
        self._lock = threading.Lock()
        self._pending: list = []
        self.tag = f"{_process_name()} (pid {os.getpid()})"
        threading.Thread(target=self._flush_periodically, name="joblib-log-flush",
                         daemon=True).start()

    def send(self, message: tuple) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._pending.append(_HEADER.pack(len(data)) + data)
            if len(self._pending) >= self.MAX_PENDING:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._pending:
            return
        data, self._pending = b"".join(self._pending), []
        try:
            self._sock.sendall(data)
        except OSError:
            pass

    def _flush_periodically(self) -> None:
        while True:
            time.sleep(self.FLUSH_EVERY)
            if self._pending:
                self.flush()


_sender: list = [None]  # this worker's sender, once installed


def flush() -> None:
    """Send what this worker buffered (end of a batch)."""
    sender = _sender[0]
    if sender is not None:
        sender.flush()


def _process_name() -> str:
    mp = sys.modules.get("multiprocessing")
    return mp.current_process().name if mp is not None else "worker"


def install_in_worker(address: str, level: int) -> None:
    """Forward this worker's log records (at ``level`` and above) and
    warnings to the parent listening at ``address``."""
    sender = _sender[0] = _Sender(address)
    tasks.AFTER_BATCH = flush
    # Only the parent handles records: handlers a forked worker inherited
    # would handle them a second time, and a logger that does not propagate
    # would keep its records from the root's forwarding handler.
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            logger.handlers.clear()
            logger.propagate = True
    root = logging.getLogger()
    root.handlers[:] = [_ForwardHandler(sender)]
    root.setLevel(level)

    def showwarning(message, category, filename, lineno, file=None, line=None):
        try:
            sender.send(("warning", str(message), category, filename, lineno))
        except Exception:  # noqa: BLE001 - e.g. a category defined in a task
            sender.send(("warning", str(message), UserWarning, filename, lineno))

    warnings.showwarning = showwarning


class _ForwardHandler(logging.Handler):
    """Sends prepared records to the parent."""

    def __init__(self, sender: _Sender):
        super().__init__()
        self._sender = sender

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._sender.send(("log", _prepare(record, self._sender.tag)))
        except Exception:  # noqa: BLE001 - as logging.Handler does
            self.handleError(record)


def _prepare(record: Any, tag: str) -> dict:
    attributes = dict(record.__dict__)
    attributes["msg"] = record.getMessage()
    attributes["args"] = None
    if record.exc_info:
        attributes["exc_text"] = logging.Formatter().formatException(record.exc_info)
    attributes["exc_info"] = None
    attributes["joblib_worker"] = tag
    try:
        pickle.dumps(attributes)
    except Exception:  # noqa: BLE001 - extras that cannot travel go as text
        attributes = {k: v if isinstance(v, (str, int, float, bool, type(None)))
                      else repr(v) for k, v in attributes.items()}
    return attributes

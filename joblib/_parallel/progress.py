"""Progress reporting of ``Parallel``: joblib 1.6's verbose lines (byte for
byte) and the ``progress=`` option (a bar, or a callable fed one event per
completed task)."""

from __future__ import annotations

import sys
import time
from math import floor, log10, sqrt

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Callable

from ..logger import short_format_time

__all__ = ["ProgressEvent", "emit_events", "verbosity_filter",
           "format_progress", "make_progress_sink"]

# Above this verbosity, messages go to stdout instead of stderr.
STDOUT_VERBOSITY = 50


class ProgressEvent:
    """One completed task, as passed to ``Parallel(progress=callable)``.

    Attributes
    ----------
    index : int
        Position of the task in the input iterable.
    duration : float
        Wall-clock seconds of the batch that ran the task.
    batch_size : int
        Number of tasks in that batch.
    n_completed : int
        Tasks completed so far in this call, this one included.
    n_total : int or None
        Number of tasks: from the start when the input has a length; for
        other inputs None until the input runs out, the total afterwards.
    elapsed : float
        Seconds since the call started.
    """

    # A plain immutable class rather than a dataclass: ``dataclasses`` would
    # add its imports (inspect, ...) to ``import joblib.parallel``.
    __slots__ = ("index", "duration", "batch_size", "n_completed", "n_total", "elapsed")

    def __init__(self, index: int, duration: float, batch_size: int,
                 n_completed: int, n_total: int | None, elapsed: float):
        for name, value in zip(self.__slots__, (index, duration, batch_size,
                                                n_completed, n_total, elapsed)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"ProgressEvent is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"ProgressEvent is immutable: cannot delete {name!r}")

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not ProgressEvent:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"ProgressEvent({fields})"

    def __reduce__(self):
        return ProgressEvent, self._values()


def emit_events(sink, first_index: int, batch_size: int, duration: float,
                n_completed: int, n_total: int | None, elapsed: float) -> None:
    """Send ``sink`` one :class:`ProgressEvent` per task of a finished batch.

    The one builder of progress events, for parallel and sequential runs:
    ``n_completed`` counts the batch's tasks already (the last event
    carries it).
    """
    done = n_completed - batch_size
    for k in range(batch_size):
        done += 1
        sink(ProgressEvent(index=first_index + k, duration=duration,
                           batch_size=batch_size, n_completed=done,
                           n_total=n_total, elapsed=elapsed))


def verbosity_filter(index: int, verbose: int) -> bool:
    """True when the message for ``index`` should be skipped.

    Messages thin out quadratically with the index; the lower ``verbose``,
    the sparser they are; above 10 every message is shown.
    """
    if not verbose:
        return True
    if verbose > 10:
        return False
    if index == 0:
        return False
    scale = 0.5 * (11 - verbose) ** 2
    return int(sqrt((index + 1) / scale)) == int(sqrt(index / scale))


def _width(n_tasks: int | None) -> int:
    return floor(log10(n_tasks)) + 1 if n_tasks else 3


def format_progress(s: Any, elapsed: float) -> str | None:
    """The verbose progress message for the call state ``s``, or None.

    ``s`` provides ``verbose``, ``n_tasks``, ``n_completed_tasks``,
    ``n_dispatched_tasks``, ``n_dispatched_batches``, ``completed``,
    ``has_iterator`` and ``pre_dispatch_amount``.
    """
    width = _width(s.n_tasks)
    done = s.n_completed_tasks
    if s.completed:
        return (f"Done {done:{width}d} out of {done:{width}d} | elapsed: "
                f"{short_format_time(elapsed)} finished")
    if s.has_iterator:
        if verbosity_filter(s.n_dispatched_batches, s.verbose):
            return None
        fmt_time = f"| elapsed: {short_format_time(elapsed)}"
        if s.n_tasks is not None:
            return f"Done {done:{width}d} out of {s.n_tasks:{width}d} {fmt_time}"
        pad = " " * (len("out of ") + width - len("tasks"))
        return f"Done {done:{width}d} tasks {pad}{fmt_time}"
    total = s.n_dispatched_tasks
    if done != 0:
        cursor = total - done + 1 - s.pre_dispatch_amount
        frequency = (total // s.verbose) + 1
        if done + 1 == total or cursor % frequency:
            return None
    remaining = (elapsed / max(done, 1)) * (total - done)
    return (f"Done {done:{width}d} out of {total:{width}d} | elapsed: "
            f"{short_format_time(elapsed)} remaining: "
            f"{short_format_time(remaining)}")


def write_message(prefix: str, msg: str, verbose: int, level: int = 20) -> None:
    """Write ``[prefix]: msg`` to stderr (stdout above verbosity 50), and
    log ``msg`` on the ``joblib`` logger at ``level`` (20: INFO, 10: DEBUG)."""
    stream = sys.stderr if verbose < STDOUT_VERBOSITY else sys.stdout
    stream.write(f"[{prefix}]: {msg}\n")
    import logging  # only with verbose output: keeps ``import joblib`` light

    logger = logging.getLogger("joblib")
    if logger.isEnabledFor(level):
        logger.log(level, "[%s]: %s", prefix, msg)


class _TextBar:
    """Dependency-free progress display on stderr, throttled to ~10 Hz."""

    def __init__(self, total: int | None):
        self.total = total
        self._last_draw = 0.0
        self._pending: ProgressEvent | None = None
        self._finished = False

    def __call__(self, event: ProgressEvent) -> None:
        now = time.monotonic()
        if event.n_total is not None:  # a generator input just ran out
            self.total = event.n_total
        if event.n_completed == self.total:
            self._draw(event, final=True)
        elif now - self._last_draw >= 0.1:
            self._last_draw = now
            self._draw(event, final=False)
        else:
            self._pending = event

    def _draw(self, event: ProgressEvent, final: bool) -> None:
        self._pending = None
        total = "?" if self.total is None else self.total
        sys.stderr.write(f"\r[Parallel] {event.n_completed}/{total} tasks "
                         f"| elapsed: {short_format_time(event.elapsed)}")
        if final:
            self._finished = True
            sys.stderr.write("\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self._pending is not None:
            self._draw(self._pending, final=True)
        elif not self._finished and self._last_draw:
            sys.stderr.write("\n")


class _TqdmBar:
    """Forwards events to a ``tqdm`` bar."""

    def __init__(self, tqdm_class: Any, total: int | None):
        self._bar = tqdm_class(total=total, desc="Parallel", unit="task")

    def __call__(self, event: ProgressEvent) -> None:
        if self._bar.total is None and event.n_total is not None:
            self._bar.total = event.n_total  # a generator input just ran out
            self._bar.refresh()
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def make_progress_sink(progress: Any, total: int | None) -> Callable | None:
    """Return the callable receiving events for ``progress``, or None.

    ``True`` gives a tqdm bar when tqdm is installed, else a text bar; a
    callable is used as is; ``False``/``None`` disables progress events.
    """
    if progress is None or progress is False:
        return None
    if callable(progress):
        return progress
    if progress is True:
        try:
            from tqdm.auto import tqdm  # optional dependency
        except ImportError:
            return _TextBar(total)
        return _TqdmBar(tqdm, total)
    raise TypeError(
        "progress must be a bool or a callable receiving ProgressEvent, got "
        f"{progress!r} (type {type(progress).__name__})"
    )

"""Child-side measurement helpers shared by every workload module.

A workload group receives a :class:`Bench`; each metric goes through
:meth:`Bench.measure` (timed repetitions) or :meth:`Bench.record` (a single
derived number).  Either emits one JSON line on stdout.  An exception, a
failed correctness check or a timeout turns that metric into an error line
and the group goes on with its next metric: a broken feature shows up as an
error for its own metrics, never as a crash of the whole run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import traceback
from typing import Any, Callable

from benchmarks.catalog import metric as catalog_metric

__all__ = ["Bench", "BenchCheckError", "MetricTimeout", "check", "timed"]


class BenchCheckError(AssertionError):
    """A workload produced a wrong result."""


class MetricTimeout(Exception):
    """A metric ran past its time budget."""


def check(condition: bool, message: str) -> None:
    """Raise :class:`BenchCheckError` with ``message`` unless ``condition``.

    Used instead of ``assert`` so the checks also run under ``python -O``.
    """
    if not condition:
        raise BenchCheckError(message)


def timed(func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """Call ``func`` and return ``(elapsed seconds, its result)``."""
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def _on_alarm(signum: int, frame: Any) -> None:
    raise MetricTimeout("metric ran past its time budget")


def _pick_cache_parent() -> str:
    # The orchestrator picks it (a tmpfs when possible, see sides.py) and
    # removes it at the end, even if this process gets killed.
    return os.environ.get("JOBLIB_BENCH_CACHE_PARENT") or tempfile.gettempdir()


class Bench:
    """Context handed to a workload group: sizes, folders and reporting.

    Parameters
    ----------
    scale : float
        Multiplies every data size and task count.
    pattern : str or None
        Regular expression; metrics whose name does not match are skipped.
    timeout : float
        Seconds one metric may take before it is reported as an error.
    out : file object
        Where the JSON lines go (stdout in the child).
    """

    def __init__(self, scale: float, pattern: str | None = None,
                 timeout: float = 120.0, out: Any = None) -> None:
        import re

        self.scale = scale
        self._regex = re.compile(pattern) if pattern else None
        self.timeout = timeout
        self._out = out if out is not None else sys.stdout
        self.tmpdir = tempfile.mkdtemp(prefix="joblib-bench-data-")
        self.cachedir = tempfile.mkdtemp(
            prefix="joblib-bench-cache-", dir=_pick_cache_parent())

    # -- sizes --------------------------------------------------------------
    def n(self, count: int, minimum: int = 1) -> int:
        """``count`` scaled, at least ``minimum``."""
        return max(minimum, int(round(count * self.scale)))

    def wants(self, name: str) -> bool:
        """Whether metric ``name`` is selected by the ``--only`` pattern."""
        group = catalog_metric(name).group
        if self._regex is None:
            return True
        return bool(self._regex.search(name) or self._regex.search(group))

    # -- reporting ----------------------------------------------------------
    def _emit(self, payload: dict) -> None:
        self._out.write(json.dumps(payload) + "\n")
        self._out.flush()

    def _guarded(self, name: str, body: Callable[[], dict]) -> None:
        entry = catalog_metric(name)
        base = {"name": name, "group": entry.group, "unit": entry.unit,
                "better": entry.better}
        print(f"  {name} ...", file=sys.stderr, flush=True)
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            base.update(body())
        except Exception as exc:  # report any failure as this metric's error
            signal.setitimer(signal.ITIMER_REAL, 0)
            detail = traceback.format_exc(limit=-3)
            print(detail, file=sys.stderr, flush=True)
            base["error"] = f"{type(exc).__name__}: {exc}"[:500]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        self._emit(base)

    def measure(self, name: str, run_once: Callable[[], float], k: int,
                warmup: int = 0, amount: float | None = None,
                extra: Callable[[], dict] | None = None,
                setup: Callable[[], None] | None = None) -> None:
        """Time ``run_once`` ``k`` times (after ``warmup`` untimed runs).

        ``run_once`` does one repetition, checks its result and returns the
        seconds it measured (so set-up can stay outside the timed part).
        With ``amount``, the value is ``amount / seconds`` (a throughput);
        otherwise it is the seconds.  The best repetition is the value: on a
        shared machine the fastest run is the least disturbed one.
        ``setup`` runs first, untimed but inside the same error guard, so a
        failing set-up is this metric's error and is skipped with it.
        ``extra`` runs last and returns fields to add to the report.
        """
        if not self.wants(name):
            return

        def body() -> dict:
            if setup is not None:
                setup()
            for _ in range(warmup):
                run_once()
            seconds = [run_once() for _ in range(k)]
            runs = ([amount / s for s in seconds] if amount is not None
                    else list(seconds))
            best = max(runs) if amount is not None else min(runs)
            result = {"value": best, "runs": runs, "k": k,
                      "median": statistics.median(runs)}
            if extra is not None:
                result.update(extra())
            return result

        self._guarded(name, body)

    def record(self, name: str, compute: Callable[[], float | tuple]) -> None:
        """Report one number computed by ``compute`` (no repetitions).

        ``compute`` may return ``(value, extra_dict)`` to attach fields such
        as a digest that the orchestrator compares between the two sides.
        """
        if not self.wants(name):
            return

        def body() -> dict:
            outcome = compute()
            extra = {}
            if isinstance(outcome, tuple):
                outcome, extra = outcome
            return {"value": float(outcome), "runs": [float(outcome)],
                    "k": 1, "median": float(outcome), **extra}

        self._guarded(name, body)

    def sync(self) -> None:
        """Flush dirty pages so earlier writes are not paid inside a timing."""
        if hasattr(os, "sync"):
            os.sync()

    def close(self) -> None:
        """Remove the data and cache folders."""
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        shutil.rmtree(self.cachedir, ignore_errors=True)

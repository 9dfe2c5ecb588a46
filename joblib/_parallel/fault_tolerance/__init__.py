"""Fault-tolerant ``Parallel`` calls: retries, per-task timeouts, error
policies and cancellation (engaged only when one of ``retries``,
``retry_on``, ``retry_delay``, ``task_timeout`` or ``on_error`` is set)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing stays unimported at run time (joblib.parallel imports this)
if TYPE_CHECKING:
    from typing import Any


def fault_options(retries: Any, retry_on: Any, retry_delay: Any,
                  task_timeout: Any, on_error: Any) -> Any:
    """None for 1.6's behaviour, else the checked fault-tolerance settings
    (their module is only imported then: plain calls never pay for it)."""
    if (retries == 0 and retry_on == () and retry_delay == 0
            and task_timeout is None and on_error == "raise"):
        return None
    # lazy: fault tolerance loads only when asked for
    from .options import FaultOptions

    return FaultOptions(retries, retry_on, retry_delay, task_timeout, on_error)

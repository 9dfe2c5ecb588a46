"""Fault-tolerant ``Parallel`` calls: retries, per-task timeouts, error
policies and cancellation (engaged only when one of ``retries``,
``retry_on``, ``retry_delay``, ``task_timeout`` or ``on_error`` is set)."""

"""Free-threaded Python (PEP 703): when the GIL is disabled at run time,
``Parallel`` with no backend chosen runs its tasks in threads.

Threads then run Python code truly in parallel, without the start-up,
pickling and memory cost of process workers.  ``prefer="processes"`` (or
an explicit backend) still gives processes: for code that is not
thread-safe, that must be isolated (crashes, memory leaks, global state),
or that imports a C extension re-enabling the GIL (the interpreter then
reports the GIL as enabled again, and the default goes back to loky).
"""

from __future__ import annotations

import sys

__all__ = ["gil_disabled"]


def gil_disabled() -> bool:
    """True on a free-threaded interpreter whose GIL is off right now.

    Read at every decision (the GIL can be re-enabled at run time by an
    extension module that does not support running without it).
    """
    probe = getattr(sys, "_is_gil_enabled", None)
    return probe is not None and not probe()

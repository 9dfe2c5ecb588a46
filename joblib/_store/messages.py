"""The lines a store prints when it loads or persists an item, and the
stack level of its warnings.

They are joblib 1.6's text (the store, not ``Memory``, printed them in 1.6)
and live at the store layer so that stores never import ``Memory``'s code;
:mod:`joblib._memory.reporting` re-exports them with Memory's other messages.
"""

from __future__ import annotations

import os
import sys
import time

from ..logger import format_time

__all__ = ["VERBOSE_LOAD_LINE", "VERBOSE_DETAILS", "loading", "persisting", "user_stacklevel"]

# A message is shown when verbose is strictly above its threshold.
VERBOSE_LOAD_LINE = 1  # "[Memory]...: Loading f..." from the store
VERBOSE_DETAILS = 10  # computing/persisting/changed-function details


def user_stacklevel() -> int:
    """``stacklevel`` that points a warning at the first frame outside joblib.

    Call it from the function that calls :func:`warnings.warn`.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        "joblib."
    ):
        frame, level = frame.f_back, level + 1
    return level


def loading(verbose, call_id, full_path, timestamp, metadata) -> None:
    """'[Memory] ... Loading f(...)' line printed by the store on a load."""
    if verbose <= VERBOSE_LOAD_LINE:
        return
    ts_string = ""
    if timestamp is not None:
        ts_string = "{: <16}".format(format_time(time.time() - timestamp))
    signature = os.path.basename(call_id[0])
    if metadata is not None and "input_args" in metadata:
        kwargs = ", ".join("{}={}".format(*kv) for kv in metadata["input_args"].items())
        signature += "({})".format(kwargs)
    msg = "[Memory]{}: Loading {}".format(ts_string, signature)
    if verbose < VERBOSE_DETAILS:
        print("{0}...".format(msg))
    else:
        print("{0} from {1}".format(msg, full_path))


def persisting(verbose: int, item_path: str) -> None:
    """'Persisting in <path>' line printed by the store on a dump."""
    if verbose > VERBOSE_DETAILS:
        print("Persisting in %s" % item_path)

"""Compatibility path ``joblib._utils`` (joblib 1.6).

Its contents moved to where they are used: ``eval_expr`` to
:mod:`joblib._parallel.batching` and ``_Sentinel`` to
:mod:`joblib._parallel.config`.
"""

from __future__ import annotations

from ._parallel.batching import eval_expr
from ._parallel.backends.traceback_capture import (
    _TracebackCapturingCall as _TracebackCapturingWrapper,
)
from ._parallel.backends.traceback_capture import (
    unwrap_outcome as _retrieve_traceback_capturing_wrapped_call,
)
from ._parallel.config import _Sentinel

__all__ = ["eval_expr"]

# 1.6 private names still imported by third-party backends.
_Sentinel = _Sentinel
_TracebackCapturingWrapper = _TracebackCapturingWrapper
_retrieve_traceback_capturing_wrapped_call = _retrieve_traceback_capturing_wrapped_call

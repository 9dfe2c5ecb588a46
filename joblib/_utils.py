"""Compatibility path ``joblib._utils`` (joblib 1.6).

Its contents moved to where they are used: ``eval_expr`` to
:mod:`joblib._parallel.batching` and ``_Sentinel`` to
:mod:`joblib._parallel.config`.
"""

from __future__ import annotations

import ast
import functools
import operator

from ._parallel.batching import _BINARY_OPS, _evaluate, eval_expr
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


# joblib 1.6's expression evaluator, by node: ``operators`` maps ast operator
# classes to functions; ``eval_(node)`` evaluates a parsed expression
# (bounded by ``limit``) -- ``eval_expr`` is the entry point to use.
def limit(max_=None):
    """Decorator: a returned number larger than ``max_`` raises ValueError."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            value = func(*args, **kwargs)
            if max_ is not None and isinstance(value, (int, float)) and abs(value) > max_:
                raise ValueError(f"Numeric literal {value} is too large, max is {max_}.")
            return value

        return wrapper

    return decorator


operators = {getattr(ast, name): func for name, func in _BINARY_OPS.items()}
operators[ast.USub] = operator.neg
eval_ = _evaluate

"""Batching policy, as pure functions: ``pre_dispatch`` parsing, slicing
tasks into batches and the auto batch-size estimator."""

from __future__ import annotations

import functools
import math
import operator

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    # deferred: ast is heavy; only pre_dispatch strings need it
    import ast
    from typing import Any, Callable

__all__ = [
    "eval_expr",
    "parse_pre_dispatch",
    "split_sizes",
    "next_batch_size",
    "smoothed_duration",
]

_MAX_EXPR_LENGTH = 30
_MAX_MAGNITUDE = 10**6

# ast node class name -> operation (names: ``ast`` is imported only to parse)
_BINARY_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "Add": operator.add,
    "Sub": operator.sub,
    "Mult": operator.mul,
    "Div": operator.truediv,
    "FloorDiv": operator.floordiv,
    "Mod": operator.mod,
    "Pow": operator.pow,
}


def _bounded(value: float) -> float:
    if abs(value) > _MAX_MAGNITUDE:
        raise ValueError(
            f"Numeric literal {value} is too large, max is {_MAX_MAGNITUDE}."
        )
    return value


def _power(base: float, exponent: float) -> float:
    # Refuse before computing: 9**9**9 would otherwise burn CPU and memory.
    if abs(base) > 1 and exponent > 0:
        magnitude = exponent * math.log(abs(base))
        if magnitude > math.log(_MAX_MAGNITUDE) + 1:
            # 1.6's text names the value; compute it only when it is small
            # enough to print (about 300 digits at most).
            value = base**exponent if magnitude < 700 else f"{base}**{exponent}"
            raise ValueError(
                f"Numeric literal {value} is too large, max is {_MAX_MAGNITUDE}."
            )
    return operator.pow(base, exponent)


def _evaluate(node: ast.AST) -> float:
    kind = type(node).__name__
    if kind == "Constant" and type(node.value) in (int, float):
        return _bounded(node.value)
    if kind == "UnaryOp" and type(node.op).__name__ == "USub":
        return _bounded(-_evaluate(node.operand))
    if kind == "BinOp" and type(node.op).__name__ in _BINARY_OPS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        operation = type(node.op).__name__
        if operation == "Pow":
            return _bounded(_power(left, right))
        return _bounded(_BINARY_OPS[operation](left, right))
    raise TypeError(node)


def eval_expr(expr: str) -> float:
    """Safely evaluate a small arithmetic expression, without ``eval``.

    Only numbers, ``+ - * / // % **`` and unary minus are accepted; the
    text is at most 30 characters and every intermediate value at most
    ``10**6`` in magnitude.

    Raises
    ------
    ValueError
        If the expression is too long, invalid, uses anything else, divides
        by zero or involves too large values.

    Examples
    --------
    >>> eval_expr("2 * 6")
    12
    >>> eval_expr("1 + 2*3**(4) / (6 + -7)")
    -161.0
    >>> eval_expr("__import__('os')")
    Traceback (most recent call last):
    ...
    ValueError: "__import__('os')" is not a valid or supported arithmetic expression.
    """
    if not isinstance(expr, str):
        raise TypeError(f"expr must be a str, got {expr!r} (type {type(expr).__name__})")
    if len(expr) > _MAX_EXPR_LENGTH:
        raise ValueError(
            f"Expression {expr[:_MAX_EXPR_LENGTH]!r}... is too long. "
            f"Max length is {_MAX_EXPR_LENGTH}, got {len(expr)}."
        )
    import ast  # lazy: keeps import joblib.parallel light

    try:
        return _evaluate(ast.parse(expr, mode="eval").body)
    except (TypeError, SyntaxError, OverflowError, ZeroDivisionError,
            RecursionError, MemoryError) as exc:
        raise ValueError(
            f"{expr!r} is not a valid or supported arithmetic expression."
        ) from exc


@functools.lru_cache(maxsize=64)
def _eval_pre_dispatch(expr: str) -> float:
    # Every call of a Parallel evaluates its pre_dispatch expression (by
    # default "2*n_jobs"): parsing it each time cost 10% of a 10-task call.
    # Errors are not cached (lru_cache does not cache exceptions).
    return eval_expr(expr)


def parse_pre_dispatch(pre_dispatch: Any, n_jobs: int) -> int | None:
    """Return how many tasks to dispatch up front (None for ``'all'``)."""
    if pre_dispatch == "all":
        return None
    if isinstance(pre_dispatch, str):
        pre_dispatch = _eval_pre_dispatch(pre_dispatch.replace("n_jobs", str(n_jobs)))
    try:
        return int(pre_dispatch)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "pre_dispatch must be 'all', an int or an expression in n_jobs "
            f"such as '2*n_jobs', got {pre_dispatch!r} "
            f"(type {type(pre_dispatch).__name__})"
        ) from exc


def split_sizes(n_tasks: int, n_jobs: int, short_tail: bool) -> int:
    """Size of the batches a slice of ``n_tasks`` tasks is cut into.

    A slice is normally shared out between the workers; when it is the tail
    of the input (shorter than requested) it is cut finer so that the last
    tasks spread over all the workers instead of one straggler batch.
    """
    divisor = 10 * n_jobs if short_tail else n_jobs
    return max(1, n_tasks // divisor)


def next_batch_size(old_size: int, duration: float, min_duration: float,
                    max_duration: float) -> int:
    """Auto-batching policy: the next batch size from the smoothed duration.

    Too fast batches grow (at most doubling) towards twice the size that
    would take ``min_duration``; too slow ones shrink at once.
    """
    if 0 < duration < min_duration:
        ideal = int(old_size * min_duration / duration) * 2
        return max(min(2 * old_size, ideal), 1)
    if duration > max_duration and old_size >= 2:
        ideal = int(old_size * min_duration / duration)
        return max(2 * ideal, 1)
    return old_size


def smoothed_duration(old: float, new: float, is_first: bool) -> float:
    """Exponentially weighted mean of batch durations."""
    return new if is_first else 0.8 * old + 0.2 * new

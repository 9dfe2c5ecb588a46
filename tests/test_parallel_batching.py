"""Pure batching policy: safe ``pre_dispatch`` evaluation, slicing and the
auto batch-size estimator (no processes involved)."""

from __future__ import annotations

import time

import pytest

from joblib._parallel.batching import (
    eval_expr,
    next_batch_size,
    parse_pre_dispatch,
    smoothed_duration,
    split_sizes,
)
from joblib._parallel_backends import AutoBatchingMixin, ParallelBackendBase


@pytest.mark.parametrize("expr, expected", [
    ("2*6", 12), ("2**6", 64), ("1 + 2*3**(4) / (6 + -7)", -161.0),
    ("7 // 2", 3), ("7 % 4", 3), ("-3", -3), ("1.5 * 2", 3.0),
])
def test_eval_expr_arithmetic(expr, expected):
    assert eval_expr(expr) == expected


@pytest.mark.parametrize("expr", [
    "__import__('os')", "a + 1", "[1, 2]", "1 if 1 else 2", "abs(-1)",
    "(1).real", "1 << 2", "~1", "+1", "True + 1", "'a' * 3", "1 and 2",
])
def test_eval_expr_rejects_non_arithmetic(expr):
    with pytest.raises(ValueError):
        eval_expr(expr)


def test_eval_expr_limits():
    with pytest.raises(ValueError, match="too long"):
        eval_expr("1+" * 15 + "1")
    with pytest.raises(ValueError, match="too large"):
        eval_expr("10000000")
    with pytest.raises(ValueError, match="too large"):
        eval_expr("1000 * 1001")
    with pytest.raises(ValueError):
        eval_expr("1/0")
    with pytest.raises(ValueError):
        eval_expr("1 % 0")


def test_eval_expr_rejects_huge_powers_before_computing():
    start = time.perf_counter()
    for expr in ["9**9**9**9", "2**10**6", "(10**6)**(10**6)"]:
        with pytest.raises(ValueError):
            eval_expr(expr)
    # Not a timing assertion on speed: computing 9**9**9 would not finish
    # at all, so merely getting here proves nothing was computed.
    assert time.perf_counter() - start >= 0


def test_eval_expr_type_error_for_non_str():
    with pytest.raises(TypeError):
        eval_expr(12)


def test_parse_pre_dispatch():
    assert parse_pre_dispatch("all", 4) is None
    assert parse_pre_dispatch("2 * n_jobs", 4) == 8
    assert parse_pre_dispatch("n_jobs", 3) == 3
    assert parse_pre_dispatch(5, 3) == 5
    assert parse_pre_dispatch("3*n_jobs/2", 3) == 4
    with pytest.raises(ValueError):
        parse_pre_dispatch("n_jobs; import os", 2)
    with pytest.raises(ValueError):
        parse_pre_dispatch([1], 2)


def test_split_sizes():
    assert split_sizes(40, 2, short_tail=False) == 20
    assert split_sizes(40, 2, short_tail=True) == 2
    assert split_sizes(3, 4, short_tail=False) == 1


def test_next_batch_size_grows_for_fast_batches_at_most_doubling():
    assert next_batch_size(1, 0.001, 0.2, 2) == 2
    assert next_batch_size(8, 0.001, 0.2, 2) == 16
    # Close to the target: grow to twice the ideal size only.
    assert next_batch_size(10, 0.15, 0.2, 2) == 20
    assert next_batch_size(10, 0.19, 0.2, 2) == 20


def test_next_batch_size_shrinks_slow_batches_and_keeps_good_ones():
    assert next_batch_size(100, 10.0, 0.2, 2) == 4
    assert next_batch_size(1, 10.0, 0.2, 2) == 1
    assert next_batch_size(10, 1.0, 0.2, 2) == 10
    assert next_batch_size(10, 0.0, 0.2, 2) == 10


def test_smoothed_duration():
    assert smoothed_duration(0.0, 1.0, is_first=True) == 1.0
    assert smoothed_duration(1.0, 2.0, is_first=False) == pytest.approx(1.2)


class _Dummy(AutoBatchingMixin, ParallelBackendBase):
    def effective_n_jobs(self, n_jobs):
        return n_jobs


def test_auto_batching_mixin_adapts_and_resets():
    backend = _Dummy()
    assert backend.compute_batch_size() == 1
    backend.batch_completed(1, 0.001)
    assert backend.compute_batch_size() == 2
    # Durations of the old batch size are ignored after a change.
    backend.batch_completed(1, 100.0)
    assert backend._smoothed_batch_duration == 0.0
    for _ in range(10):
        backend.batch_completed(backend._effective_batch_size, 0.001)
        backend.compute_batch_size()
    assert backend._effective_batch_size >= 256
    backend.batch_completed(backend._effective_batch_size, 60.0)
    assert backend.compute_batch_size() < 20
    backend.reset_batch_stats()
    assert backend.compute_batch_size() == 1


def test_auto_batching_reports_resizes_at_verbose_10(capsys):
    class FakeParallel:
        verbose = 10
        messages = []

        def _print(self, msg):
            self.messages.append(msg)

    backend = _Dummy()
    backend.parallel = FakeParallel()
    backend.batch_completed(1, 0.001)
    backend.compute_batch_size()
    assert backend.parallel.messages == [
        "Batch computation too fast (0.001s.) Setting batch_size=2."]

"""``delayed`` hands out the same wrapper again for the last plain function.

``delayed(f)(x) for x in ...`` wraps ``f`` once per task; reusing the
wrapper of the last module-level function or builtin saves 20-40% of that
loop.  What must hold whatever the reuse: every call returns the function it
was given, and nothing but such functions stays referenced.
"""

from __future__ import annotations

import gc
import math
import operator
import weakref

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joblib import Parallel, delayed


def module_function(x, **kwargs):
    return x


class Holder:
    def method(self, x):
        return x


def _closure():
    captured = [1]

    def inner(x):
        return captured[0] + x

    return inner


def test_same_wrapper_for_a_repeated_module_function_or_builtin():
    assert delayed(module_function) is delayed(module_function)
    assert delayed(math.sqrt) is delayed(math.sqrt)
    assert delayed(math.sqrt)(4) == (math.sqrt, (4,), {})


def test_bound_methods_and_closures_are_not_kept_alive():
    holder = Holder()
    ref = weakref.ref(holder)
    task = delayed(holder.method)(1)
    assert task[0] == holder.method
    del holder, task
    gc.collect()
    assert ref() is None, "delayed kept the bound method's object alive"

    inner = _closure()
    ref = weakref.ref(inner)
    assert delayed(inner)(1) == (inner, (1,), {})
    del inner
    gc.collect()
    assert ref() is None, "delayed kept a closure alive"


def test_the_wrapper_is_read_only():
    wrapper = delayed(module_function)
    with pytest.raises(AttributeError, match="read-only"):
        wrapper.__wrapped__ = math.sqrt
    with pytest.raises(AttributeError):
        wrapper.anything = 1
    assert delayed(module_function)(2) == (module_function, (2,), {})
    assert wrapper.__wrapped__ is module_function
    assert wrapper.__name__ == "module_function"


FUNCTIONS = [module_function, math.sqrt, abs, operator.neg, Holder().method,
             _closure(), _closure(), lambda x: x, len]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(range(len(FUNCTIONS))),
                          st.integers(-5, 5)), max_size=30))
def test_every_call_returns_the_function_it_was_given(calls):
    for which, argument in calls:
        function = FUNCTIONS[which]
        got = delayed(function)(argument, key=which)
        assert got[0] is function and got[1] == (argument,) and got[2] == {"key": which}


def test_parallel_results_with_interleaved_functions():
    out = Parallel(n_jobs=2, backend="threading")(
        delayed(abs if i % 2 else operator.neg)(i) for i in range(50))
    assert out == [i if i % 2 else -i for i in range(50)]

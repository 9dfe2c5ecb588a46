"""Functions cached by real joblib 1.6.0 in the ``joblib16_cache`` fixture.

Their import name (``joblib16_memory_funcs``, with ``tests/data`` on
``sys.path``) and their source text must not change: both are part of the
cache keys stored in the fixture. Append new functions at the end only.
"""

CALLS = []


def square(x):
    CALLS.append(("square", x))
    return x * x


def combine(a, b=2, *args, scale=1, **kwargs):
    CALLS.append(("combine", a, b, args, scale, tuple(sorted(kwargs))))
    return {"sum": (a + b + sum(args)) * scale, "keys": sorted(kwargs)}


def describe(text, options=None, debug=False):
    CALLS.append(("describe", text))
    return "%s:%s" % (text, sorted((options or {}).items()))


def array_stats(arr):
    CALLS.append(("array_stats",))
    return arr * 2, float(arr.sum())

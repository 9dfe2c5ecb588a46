"""joblib.func_inspect: argument filtering, names, source and call formatting.

Expected values were checked against joblib 1.6.0: they are what ends up in
cache keys and in ``metadata.json``.
"""

from __future__ import annotations

import functools
import linecache
import os
import types
import warnings

import pytest

from joblib.func_inspect import (
    filter_args,
    format_call,
    format_signature,
    get_func_code,
    get_func_name,
)


def f(x, y=0, *args, z=1, **kw):
    pass


def g(a, b):
    pass


class K:
    def m(self, x, y=1):
        pass

    @classmethod
    def c(cls, x):
        pass


def test_filter_args_like_joblib16():
    assert filter_args(f, [], (1,)) == {"y": 0, "z": 1, "x": 1, "*": [], "**": {}}
    assert list(filter_args(f, [], (1,))) == ["y", "z", "x", "*", "**"]
    assert filter_args(f, [], (1, 2, 3), {"z": 4, "w": 5}) == {
        "y": 2,
        "z": 4,
        "x": 1,
        "*": [3],
        "**": {"w": 5},
    }
    assert filter_args(f, ["y", "*"], (1,)) == {"z": 1, "x": 1, "**": {}}
    assert filter_args(g, [], (1,), {"b": 2}) == {"a": 1, "b": 2}


def test_filter_args_methods_include_self():
    k = K()
    assert filter_args(k.m, [], (1,)) == {"y": 1, "self": k, "x": 1}
    assert filter_args(k.m, ["self"], (1,)) == {"y": 1, "x": 1}
    assert filter_args(K.c, [], (2,)) == {"cls": K, "x": 2}


def test_filter_args_uninspectable_objects():
    assert filter_args(functools.partial(g, 1), [], (2,)) == {"*": [2], "**": {}}
    assert filter_args(len, [], ([1],)) == {"*": [[1]], "**": {}}
    with pytest.warns(UserWarning, match="ignore list will not work"):
        filter_args(len, ["x"], ([1],))


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (
            (1, 2, 3),
            {},
            "Too many arguments for g(a, b):\n    g(1, 2, 3, ) was called.",
        ),
        (
            (1,),
            {"a": 1},
            "Argument a was given both as positional and as keyword for g(a, b):\n"
            "    g(1, a=1) was called.",
        ),
        ((), {}, "Wrong number of arguments for g(a, b):\n    g(, ) was called."),
        (
            (1, 2),
            {"c": 3},
            "Too many keyword arguments for g(a, b):\n    g(1, 2, c=3) was called.",
        ),
    ],
)
def test_filter_args_errors(args, kwargs, message):
    with pytest.raises(ValueError) as info:
        filter_args(g, [], args, kwargs)
    assert str(info.value) == message


def test_filter_args_ignore_errors():
    with pytest.raises(
        ValueError, match="Ignore list: argument 'c' is not defined for function g"
    ):
        filter_args(g, ["c"], (1, 2))
    with pytest.raises(ValueError, match="ignore_lst must be a list"):
        filter_args(g, "a", (1, 2))


def test_filter_args_keyword_only_required():
    def h(a, *, key):
        pass

    assert filter_args(h, [], (1,), {"key": 2}) == {"a": 1, "key": 2}
    with pytest.raises(ValueError, match="Wrong number of arguments"):
        filter_args(h, [], (1,))


def test_filter_args_positional_only():
    def h(a, /, b=2, **kw):
        pass

    assert filter_args(h, [], (1,), {"a": 5}) == {"b": 2, "a": 1, "**": {"a": 5}}
    with pytest.raises(ValueError):
        filter_args(h, [], (), {"a": 1})


def test_filter_args_sees_changed_defaults():
    def h(a=1):
        pass

    assert filter_args(h, [], ()) == {"a": 1}
    h.__defaults__ = (2,)
    assert filter_args(h, [], ()) == {"a": 2}


module_lambda = lambda: 0  # noqa: E731


def outer():
    def inner():
        pass

    return inner


def test_get_func_name():
    mod = __name__.split(".")
    assert get_func_name(outer()) == (mod + ["outer", "<locals>"], "inner")
    assert get_func_name(K.m) == (mod + ["K"], "m")
    assert get_func_name(K().m) == (mod + ["K"], "m")
    assert get_func_name(functools.partial(g, 1)) == (["functools"], "unknown")
    assert get_func_name(len) == (["builtins"], "len")
    assert get_func_name(module_lambda) == (mod, "<lambda>")
    assert get_func_name(lambda: 0) == (
        mod + ["test_get_func_name", "<locals>"],
        "<lambda>",
    )


def _function_from_source(source: str, filename: str, module: str):
    """Build a function as an interactive shell would, without exec."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    (func_code,) = [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return types.FunctionType(func_code, {"__name__": module})


def test_get_func_name_ipython_cell_drops_the_execution_count():
    source = "def cell_func(x):\n    return x\n"
    f3 = _function_from_source(source, "<ipython-input-3-abc123>", "__main__")
    f7 = _function_from_source(source, "<ipython-input-7-abc123>", "__main__")
    name3, name7 = get_func_name(f3), get_func_name(f7)
    assert name3 == name7
    assert name3[0][0].startswith("__main__-") and name3[0][0].endswith(
        "<ipython-input-abc123>"
    )
    code, _, first_line = get_func_code(f3)
    assert code == source and first_line == 1


def test_get_func_name_notebook_kernel_dir_is_normalised():
    source = "def nb_func(x):\n    return x\n"
    path = os.path.join(os.sep, "tmp", "ipykernel_123456", "987.py")
    func = _function_from_source(source, path, "__main__")
    (module,), name = get_func_name(func)
    assert "ipykernel-987" in module and "123456" not in module and name == "nb_func"


def test_get_func_code_reads_the_file():
    code, source_file, first_line = get_func_code(g)
    assert code == "def g(a, b):\n    pass\n"
    assert source_file == __file__ and first_line == g.__code__.co_firstlineno


def test_get_func_code_without_source_is_a_stable_digest():
    f1 = types.FunctionType(
        compile("def q(x): return x + 1", "<nowhere>", "exec").co_consts[0], {}
    )
    f2 = types.FunctionType(
        compile("\n\ndef q(x): return x + 1", "<nowhere>", "exec").co_consts[0], {}
    )
    f3 = types.FunctionType(
        compile("def q(x): return x + 2", "<nowhere>", "exec").co_consts[0], {}
    )
    c1, _, line = get_func_code(f1)
    assert line == -1 and len(c1) == 32
    assert get_func_code(f2)[0] == c1  # moving the code does not change it
    assert get_func_code(f3)[0] != c1
    assert get_func_code(len) == (repr(len), None, -1)


def test_format_signature_and_call():
    mod = __name__
    assert format_signature(g, 1, [2] * 3, b="x") == (
        mod + ".g",
        "g(1, [2, 2, 2], b='x')",
    )
    lines = format_call(g, (1,), {"b": 2}).splitlines()
    assert lines == ["_" * 80, "[Memory] Calling %s.g..." % mod, "g(1, b=2)"]
    long_arg = format_signature(g, "x" * 3000)[1]
    assert long_arg.endswith("...)") and len(long_arg) < 800


def test_no_warnings_for_plain_functions():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        filter_args(f, ["y"], (1,))

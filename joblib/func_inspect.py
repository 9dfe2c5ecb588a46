"""Introspection of the functions that :class:`joblib.Memory` caches.

These helpers decide how a cached call is identified: ``get_func_name`` gives
the function's identity (its module path and name), ``get_func_code`` the
source text whose changes invalidate the cache and ``filter_args`` the
normalised arguments that are hashed. Their outputs are written into cache
directories, so they reproduce joblib 1.6 exactly for every call that 1.6
accepts.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import tokenize
import types
import warnings
from itertools import islice
from typing import Any, Callable

from ._memory.signature import SignaturePlan, signature_plan, signature_text
from .logger import pformat

__all__ = [
    "filter_args",
    "format_call",
    "format_signature",
    "get_func_code",
    "get_func_name",
]

# Source retrieval is best effort: these are the ways it is known to fail
# (missing or unreadable file, no source for builtins, broken tokenization).
_SOURCE_ERRORS = (
    OSError,
    TypeError,
    ValueError,
    SyntaxError,
    LookupError,
    AttributeError,
    tokenize.TokenError,
)
_DOCTEST_FILENAME = re.compile(r"\<doctest (.*\.rst)\[(.*)\]\>")


# ---------------------------------------------------------------------------
# get_func_code
# ---------------------------------------------------------------------------


def _code_fingerprint(code: types.CodeType) -> str:
    """Digest of a code object that is stable across processes.

    It is the stand-in for the source text when the source cannot be read.
    ``hash(code)`` is salted per process, so it would make every other
    process believe that the function changed. Positions (first line, line
    table, file name) are left out so that moving a function does not count
    as a change. The field list matches joblib 1.6 so that both write the
    same ``func_code.py``.
    """
    flags = (code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount)
    parts = [
        code.co_name,
        code.co_code.hex(),
        getattr(code, "co_exceptiontable", b"").hex(),
        *code.co_names,
        *code.co_varnames,
        *code.co_cellvars,
        *code.co_freevars,
        *map(repr, flags + (code.co_flags,)),
    ]
    for const in code.co_consts:
        # The repr of a nested code object contains its memory address.
        is_code = isinstance(const, types.CodeType)
        parts.append(_code_fingerprint(const) if is_code else repr(const))
    digest = hashlib.new("md5", usedforsecurity=False)
    digest.update("\n".join(parts).encode("utf-8", errors="replace"))
    return digest.hexdigest()


def _source_without_file(func: Callable) -> tuple[str, str, int]:
    """Source of a function whose file is not on disk (shells, doctests)."""
    source_file = func.__code__.co_filename
    source_code = "".join(inspect.getsourcelines(func)[0])
    line_no = 1
    match = _DOCTEST_FILENAME.match(source_file)
    if source_file.startswith("<doctest ") and match is not None:
        source_file, line_no = match.groups()
        source_file, line_no = "<doctest %s>" % source_file, int(line_no)
    return source_code, source_file, line_no


def _source_from_file(code: types.CodeType) -> tuple[str, str, int]:
    """Read the function's block from its file, bypassing inspect's cache.

    ``inspect.getsource`` goes through ``linecache``, which keeps serving the
    old text after the file is edited; reading the file again is what lets
    an edited function invalidate its cache within the same session.
    """
    source_file, first_line = code.co_filename, code.co_firstlineno
    with tokenize.open(source_file) as source:
        lines = list(islice(source, first_line - 1, None))
    return "".join(inspect.getblock(lines)), source_file, first_line


def get_func_code(func: Callable) -> tuple[str, str | None, int]:
    """Return the source code of ``func``, its file and its first line.

    Parameters
    ----------
    func : callable
        The function to inspect.

    Returns
    -------
    func_code : str
        The source text of the function. When it cannot be found, a digest of
        the bytecode (or the ``repr`` of objects without bytecode) is
        returned instead, and ``first_line`` is -1.
    source_file : str or None
        The file in which the function is defined.
    first_line : int
        The first line of the function in ``source_file``, or -1.

    Examples
    --------
    >>> from joblib.func_inspect import get_func_code
    >>> code, source_file, first_line = get_func_code(get_func_code)
    >>> code.splitlines()[0]
    'def get_func_code(func: Callable) -> tuple[str, str | None, int]:'
    """
    code = getattr(func, "__code__", None)
    source_file = getattr(code, "co_filename", None)
    try:
        if not os.path.exists(source_file):
            return _source_without_file(func)
        return _source_from_file(code)
    except _SOURCE_ERRORS:
        # No readable source: fall back on a digest, which still changes
        # when the bytecode changes.
        if isinstance(code, types.CodeType):
            return _code_fingerprint(code), source_file, -1
        # Objects such as numpy ufuncs have no bytecode at all.
        return repr(func), source_file, -1


# ---------------------------------------------------------------------------
# get_func_name
# ---------------------------------------------------------------------------


def _clean_win_chars(string: str) -> str:
    """Quote the characters that Windows does not accept in file names."""
    # deferred: only Windows-style paths need it
    from urllib.parse import quote

    for char in ("<", ">", "!", ":", "\\"):
        string = string.replace(char, quote(char))
    return string


def _module_name(func: Callable) -> str:
    """Name of the module defining ``func``; '' when it cannot be found."""
    if hasattr(func, "__module__"):
        module = func.__module__
    else:
        try:
            module = inspect.getmodule(func)
        except TypeError:
            module = getattr(type(func), "__module__", "unknown")
        module = getattr(module, "__name__", module)
    return "" if module is None else str(module)


def _main_module_name(func: Callable) -> str:
    """Identity of a ``__main__`` function: the mangled path of its script.

    Functions of different scripts, or of different notebooks, all live in
    ``__main__``; their file name tells them apart.
    """
    try:
        filename = os.path.abspath(inspect.getsourcefile(func))
    except _SOURCE_ERRORS:
        return "__main__"
    parts = filename.split(os.sep)
    if parts[-1].startswith("<ipython-input"):
        # '<ipython-input-N-HASH>': N is the cell's execution count, which
        # changes when the cell is re-run; HASH identifies the code.
        split = parts[-1].split("-")
        parts[-1] = "-".join(split[:2] + split[3:])
    elif len(parts) > 2 and parts[-2].startswith("ipykernel_"):
        # 'ipykernel_<pid>' changes with every kernel start.
        parts[-2] = "ipykernel"
    filename = "-".join(parts)
    if filename.endswith(".py"):
        filename = filename[:-3]
    return "__main__-" + filename


def get_func_name(
    func: Callable, resolv_alias: bool = True, win_characters: bool = True
) -> tuple[list[str], str]:
    """Return the import path of ``func`` (a list of names) and its name.

    Parameters
    ----------
    func : callable
        The function to inspect.
    resolv_alias : bool, default=True
        Kept for compatibility with joblib 1.6, where it has no effect on
        Python 3 functions.
    win_characters : bool, default=True
        On Windows, quote the characters that cannot appear in file names.

    Returns
    -------
    module : list of str
        The module path, extended with the enclosing scopes of nested
        functions and methods (``['pkg', 'mod', 'Outer', '<locals>']``).
    name : str
        The function's name (``'unknown'`` for objects without a name).

    Examples
    --------
    >>> from joblib.func_inspect import get_func_name
    >>> get_func_name(get_func_name)
    (['joblib', 'func_inspect'], 'get_func_name')
    """
    module = _module_name(func)
    if module == "__main__":
        module = _main_module_name(func)
    module = module.split(".")
    name = getattr(func, "func_name", None) or getattr(func, "__name__", "unknown")
    qualname = getattr(func, "__qualname__", None)
    if isinstance(qualname, str) and qualname != name:
        # Nested functions and methods: the enclosing scopes keep
        # same-named functions of one module apart.
        module.extend(qualname.split(".")[:-1])
    if os.name == "nt" and win_characters:
        name = _clean_win_chars(name)
        module = [_clean_win_chars(part) for part in module]
    return module, name


# ---------------------------------------------------------------------------
# filter_args
# ---------------------------------------------------------------------------


def _check_ignore_list(ignore_lst: Any) -> None:
    """A bare string is a common mistake for a one-element list."""
    if isinstance(ignore_lst, str):
        raise ValueError(
            "ignore_lst must be a list of parameters to ignore "
            f"{ignore_lst} (type {type(ignore_lst)}) was given"
        )


def _drop_ignored(arg_dict: dict, ignore_lst, plan: SignaturePlan, name: str):
    """Remove the ignored arguments; an unknown name is a user error."""
    for item in ignore_lst:
        if item in arg_dict:
            del arg_dict[item]
            continue
        raise ValueError(
            f"Ignore list: argument '{item}' is not defined for function "
            f"{signature_text(name, plan)}. The names that can be ignored are "
            f"{plan.ignorable_names()!r}."
        )


def filter_args(
    func: Callable, ignore_lst, args: tuple = (), kwargs: dict = dict()
) -> dict:
    """Map the arguments of a call to ``func`` onto its parameter names.

    Parameters
    ----------
    func : callable
        The function whose signature is used.
    ignore_lst : list of str
        Names of arguments to leave out of the result. ``'*'`` and ``'**'``
        stand for the extra positional and keyword arguments.
    args : tuple
        The positional arguments of the call.
    kwargs : dict
        The keyword arguments of the call.

    Returns
    -------
    dict
        ``{parameter name: value}``, defaults included. Extra positional
        arguments are under ``'*'`` (a list) and extra keyword arguments
        under ``'**'`` (a dict). Objects whose signature cannot be inspected
        give ``{'*': args, '**': kwargs}``.

    Raises
    ------
    ValueError
        If the call does not match the signature, or if ``ignore_lst`` names
        an argument the function does not have.

    Examples
    --------
    >>> from joblib.func_inspect import filter_args
    >>> def f(x, y=0, *args, **kwargs):
    ...     pass
    >>> filter_args(f, [], (1, 2, 3), {"z": 4})
    {'y': 2, 'x': 1, '*': [3], '**': {'z': 4}}
    >>> filter_args(f, ["y"], (1,))
    {'x': 1, '*': [], '**': {}}
    >>> filter_args(f, ["w"], (1,))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Ignore list: argument 'w' is not defined for function ...
    """
    _check_ignore_list(ignore_lst)
    if not (inspect.ismethod(func) or inspect.isfunction(func)):
        if ignore_lst:
            warnings.warn(
                f"Cannot inspect object {func}, ignore list will not work.",
                stacklevel=2,
            )
        return {"*": list(args), "**": kwargs}
    plan = signature_plan(func)
    if inspect.ismethod(func):
        # The signature of the underlying function includes 'self'.
        args = (func.__self__,) + tuple(args)
    name = getattr(func, "__name__", "unknown")
    arg_dict = plan.bind(name, args, kwargs)
    if ignore_lst:
        _drop_ignored(arg_dict, ignore_lst, plan, name)
    return arg_dict


# ---------------------------------------------------------------------------
# format_signature / format_call
# ---------------------------------------------------------------------------


def _format_arg(arg: Any) -> str:
    """Short pretty-printed form of one argument."""
    formatted_arg = pformat(arg, indent=2)
    if len(formatted_arg) > 1500:
        formatted_arg = "%s..." % formatted_arg[:700]
    return formatted_arg


def format_signature(func: Callable, *args, **kwargs) -> tuple[str, str]:
    """Return the dotted path of ``func`` and the text of a call to it.

    Examples
    --------
    >>> from joblib.func_inspect import format_signature
    >>> format_signature(format_signature, 1, b=2)
    ('joblib.func_inspect.format_signature', 'format_signature(1, b=2)')
    """
    module, name = get_func_name(func)
    module = [part for part in module if part]
    module_path = ".".join(module + [name]) if module else name
    arg_str = []
    previous_length = 0
    for arg in args:
        formatted_arg = _format_arg(arg)
        if previous_length > 80:
            formatted_arg = "\n%s" % formatted_arg
        previous_length = len(formatted_arg)
        arg_str.append(formatted_arg)
    arg_str.extend("%s=%s" % (k, _format_arg(v)) for k, v in kwargs.items())
    return module_path, "%s(%s)" % (name, ", ".join(arg_str))


def format_call(func: Callable, args, kwargs, object_name: str = "Memory") -> str:
    """Return the banner printed by ``Memory`` before it computes a call.

    Examples
    --------
    >>> from joblib.func_inspect import format_call
    >>> print(format_call(format_call, (1,), {}).splitlines()[1])
    [Memory] Calling joblib.func_inspect.format_call...
    """
    path, signature = format_signature(func, *args, **kwargs)
    return "%s\n[%s] Calling %s...\n%s" % (80 * "_", object_name, path, signature)

# The field names of inspect.getfullargspec's result, as 1.6 exposed them.
full_argspec_fields = (
    "args varargs varkw defaults kwonlyargs kwonlydefaults annotations"
)
full_argspec_type = inspect.FullArgSpec

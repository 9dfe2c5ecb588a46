"""Binding call arguments to parameter names, as ``filter_args`` needs it.

The parameter layout is read once per function from :func:`inspect.signature`
and cached, because ``inspect.signature`` costs more than the rest of a
cache hit. The binding reproduces joblib 1.6's result (the dict that is
hashed into the cache key, with its ``'*'`` and ``'**'`` entries) and its
``ValueError`` messages; positional-only parameters, which 1.6 rejects, are
bound as Python binds them.
"""

from __future__ import annotations

import inspect
import types
import weakref
from typing import Callable

__all__ = ["SignaturePlan", "signature_plan", "signature_text"]

_P = inspect.Parameter
# id(function) -> (weakref to it, _plan_key, plan)
_PLANS: dict = {}


class SignaturePlan:
    """The parameter layout of one function, ready for fast binding."""

    __slots__ = (
        "signature",
        "positional",
        "posonly",
        "kwonly",
        "keyword_names",
        "varargs",
        "varkw",
        "defaults",
    )

    def __init__(self, signature: inspect.Signature):
        self.signature = signature
        params = list(signature.parameters.values())
        kinds = (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)
        self.positional = tuple(p.name for p in params if p.kind in kinds)
        self.posonly = frozenset(p.name for p in params if p.kind is _P.POSITIONAL_ONLY)
        self.kwonly = tuple(p.name for p in params if p.kind is _P.KEYWORD_ONLY)
        self.keyword_names = frozenset(self.positional + self.kwonly) - self.posonly
        self.varargs = _first(p.name for p in params if p.kind is _P.VAR_POSITIONAL)
        self.varkw = _first(p.name for p in params if p.kind is _P.VAR_KEYWORD)
        # Defaults come first in the result: joblib 1.6 builds the dict in
        # that order, and it shows in metadata.json.
        self.defaults = {p.name: p.default for p in params if p.default is not _P.empty}

    def ignorable_names(self) -> list[str]:
        """Names that ``ignore`` may list for this function."""
        names = list(self.positional + self.kwonly)
        names += ["*"] if self.varargs else []
        return names + (["**"] if self.varkw else [])

    def bind(self, name: str, args: tuple, kwargs: dict) -> dict:
        """Return ``{parameter: value}`` for a call, with '*' and '**' entries."""
        arg_dict = dict(self.defaults)
        self._bind_positional(arg_dict, name, args, kwargs)
        for pname in self.kwonly:
            if pname in kwargs:
                arg_dict[pname] = kwargs[pname]
            elif pname not in arg_dict:
                raise _call_error("Wrong number of arguments", name, self, args, kwargs)
        extra = {k: v for k, v in kwargs.items() if k not in self.keyword_names}
        if self.varkw is not None:
            arg_dict["**"] = extra
        elif extra:
            raise _call_error("Too many keyword arguments", name, self, args, kwargs)
        return arg_dict

    def _bind_positional(self, arg_dict, name, args, kwargs) -> None:
        """Fill the positional parameters and the '*' entry."""
        positional, n_given = self.positional, len(args)
        for pname, value in zip(positional, args):
            if kwargs and pname in kwargs and pname not in self.posonly:
                raise _both_error(pname, name, self, args, kwargs)
            arg_dict[pname] = value
        for pname in positional[n_given:]:
            if pname in kwargs and pname not in self.posonly:
                arg_dict[pname] = kwargs[pname]
            elif pname not in arg_dict:
                raise _call_error("Wrong number of arguments", name, self, args, kwargs)
        if n_given > len(positional):
            if self.varargs is None:
                raise _call_error("Too many arguments", name, self, args, kwargs)
            arg_dict["*"] = list(args[len(positional) :])
        elif self.varargs is not None:
            arg_dict["*"] = []


def _first(names) -> str | None:
    return next(iter(names), None)


def signature_text(name: str, plan: SignaturePlan) -> str:
    """``name(signature)``, as shown in error messages."""
    return "{}{}".format(name, plan.signature)


def _called_text(name: str, args: tuple, kwargs: dict) -> str:
    args_str = repr(list(args))[1:-1]
    kwargs_str = ", ".join("%s=%s" % (k, v) for k, v in kwargs.items())
    return "{0}({1}, {2})".format(name, args_str, kwargs_str)


def _call_error(problem: str, name, plan, args, kwargs) -> ValueError:
    return ValueError(
        f"{problem} for {signature_text(name, plan)}:\n"
        f"    {_called_text(name, args, kwargs)} was called."
    )


def _both_error(pname: str, name, plan, args, kwargs) -> ValueError:
    return ValueError(
        f"Argument {pname} was given both as positional and as keyword"
        f" for {signature_text(name, plan)}:\n"
        f"    {_called_text(name, args, kwargs)} was called."
    )


def _plan_key(func: Callable) -> tuple:
    """What the signature depends on; compared by identity to detect edits."""
    attrs = getattr(func, "__dict__", None) or {}
    return (
        getattr(func, "__code__", None),
        getattr(func, "__defaults__", None),
        getattr(func, "__kwdefaults__", None),
        attrs.get("__wrapped__"),
        attrs.get("__signature__"),
    )


def _same_key(a: tuple, b: tuple) -> bool:
    return (
        a[0] is b[0] and a[1] is b[1] and a[2] is b[2] and a[3] is b[3] and a[4] is b[4]
    )


def signature_plan(func: Callable) -> SignaturePlan:
    """Return the (cached) parameter layout of a function or bound method.

    For a bound method the layout is the underlying function's, 'self'
    included: joblib passes the instance as the first argument.
    """
    target = func.__func__ if isinstance(func, types.MethodType) else func
    key = _plan_key(target)
    entry = _PLANS.get(id(target))
    if entry is not None and entry[0]() is target and _same_key(entry[1], key):
        return entry[2]
    plan = SignaturePlan(inspect.signature(target))
    _remember(target, key, plan)
    return plan


def _remember(target, key: tuple, plan: SignaturePlan) -> None:
    """Cache ``plan`` while ``target`` lives (keyed by id: a dict lookup is
    cheaper than WeakKeyDictionary's, which builds a weakref per lookup)."""
    ident = id(target)
    try:
        ref = weakref.ref(target, lambda _, ident=ident: _PLANS.pop(ident, None))
    except TypeError:
        return  # not weak-referenceable: no caching
    _PLANS[ident] = (ref, key, plan)

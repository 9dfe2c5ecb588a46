"""What a restricted ``load`` may construct: the trust policy.

A :class:`TrustPolicy` answers two questions about each global a file
names (``module.qualname``):

* may the file *refer* to it, and what object stands for it
  (:meth:`TrustPolicy.resolve`);
* may the file *call* it (``REDUCE``, ``NEWOBJ``, ``INST``, ``OBJ``).

Always allowed, with no import of anything the file names: builtin
containers and scalars, and numpy arrays, dtypes and scalars. The
numpy/builtins functions that pickles call to rebuild those are replaced
by checking stand-ins (:mod:`joblib._persist.safe_builders`) that accept
only the argument types such pickles contain. Some classes may be referred
to but not called (``numpy.ndarray``: calling it allocates whatever shape
the file asks for).

The caller adds, through ``trusted=[...]``:

* dotted names (``"sklearn.linear_model.LogisticRegression"``): that
  exact global, imported as pickle would;
* ``"package.*"``: every class or function *defined* in that package
  (``obj.__module__`` under it; re-exports such as ``package.os`` and
  names with dunder parts are refused);
* objects (classes, functions): those very objects;
* presets: ``"numpy"`` (also numpy's random generators and masked arrays)
  and ``"sklearn"`` (aliases ``"scikit-learn"``, ``"scikit-learn
  estimators"``): the numpy preset plus scikit-learn's estimator classes
  (subclasses of ``sklearn.base.BaseEstimator`` defined in ``sklearn``)
  and the helper types they hold (see ``_SKLEARN_HELPERS``).
"""

from __future__ import annotations

import importlib
import pickle
import sys

from . import safe_builders as sb

__all__ = ["UntrustedTypesError", "TrustPolicy", "PRESETS"]


class UntrustedTypesError(pickle.UnpicklingError):
    """A restricted ``load`` met globals that were not trusted.

    Attributes
    ----------
    filename : str
        The file (or file object's repr) being loaded.
    untrusted : list of str
        Every ``module.name`` the file needs that is not allowed, sorted.
    """

    def __init__(self, filename, untrusted):
        self.filename = filename
        self.untrusted = sorted(untrusted)
        super().__init__(
            "Refusing to load %s: it needs %d global(s) that are not trusted: "
            "%s. If you trust them, add them to load(..., trusted=[...]); "
            "nothing from the file was run."
            % (filename, len(self.untrusted), ", ".join(self.untrusted))
        )

    def __reduce__(self):
        return type(self), (self.filename, self.untrusted)


def numpy_scalar_types() -> dict:
    """``"numpy.float64"`` -> numpy.float64, for every numpy scalar type."""
    import numpy as np  # numpy is optional at import

    found = {"numpy.record": np.record}
    for cls in set(np.sctypeDict.values()):
        found["numpy.%s" % cls.__name__] = cls
    return found


def _numpy_refs() -> dict:
    """numpy classes a file may name but not call (or call harmlessly)."""
    import numpy as np  # numpy is optional at import

    refs = {"numpy.ndarray": np.ndarray, "numpy.matrix": np.matrix,
            "numpy.memmap": np.memmap, "numpy.recarray": np.recarray,
            "numpy.rec.recarray": np.recarray}
    refs.update(numpy_scalar_types())
    return refs


def _always_allowed() -> tuple[dict, dict]:
    """(name -> callable object, name -> reference-only object)."""
    callables = dict(sb.BUILTIN_CALLABLES)
    refs = {}
    if _numpy_available():
        callables.update(sb.numpy_callables())
        refs.update(_numpy_refs())
    from ..numpy_pickle import NumpyArrayWrapper  # lazy: keeps import of the trust rules light

    callables["joblib.numpy_pickle.NumpyArrayWrapper"] = NumpyArrayWrapper
    from ..numpy_pickle_compat import NDArrayWrapper  # lazy: keeps import of the trust rules light

    for module in ("joblib.numpy_pickle", "joblib.numpy_pickle_compat"):
        callables[module + ".NDArrayWrapper"] = NDArrayWrapper
    return callables, refs


def _numpy_available() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


_SKLEARN_HELPERS = frozenset(
    [
        "sklearn.tree._tree.Tree",
        "sklearn.utils._bunch.Bunch",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.neighbors._ball_tree.BallTree",
        "sklearn._loss.link.Interval",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    ]
)
# Cython pickling helpers ``newObj(cls)`` = ``cls.__new__(cls)``: replaced
# by a stand-in that accepts only classes the preset trusts.
_SKLEARN_NEW_OBJ = frozenset(
    [
        "sklearn.neighbors._kd_tree.newObj",
        "sklearn.neighbors._ball_tree.newObj",
        "sklearn.metrics._dist_metrics.newObj",
    ]
)
# Base classes whose subclasses defined in sklearn the preset trusts.
_SKLEARN_BASES = (
    ("sklearn.base", "BaseEstimator"),
    ("sklearn._loss.loss", "BaseLoss"),
    ("sklearn._loss.link", "BaseLink"),
    ("sklearn._loss._loss", "CyLossFunction"),
    ("sklearn.metrics._dist_metrics", "DistanceMetric"),
    ("sklearn.metrics._dist_metrics", "DistanceMetric32"),
)

PRESETS = {
    "numpy": "numpy",
    "sklearn": "sklearn",
    "scikit-learn": "sklearn",
    "scikit-learn estimators": "sklearn",
}


def _has_dunder_part(name: str) -> bool:
    return any(
        (p.startswith("__") and p.endswith("__")) or p == "<locals>"
        for p in name.split(".")
    )


def _import_global(module: str, name: str):
    """Import ``module`` and get ``name`` from it, as pickle's find_class."""
    __import__(module)
    return pickle._getattribute(sys.modules[module], name)[0]


def _dotted(obj) -> str:
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise TypeError(
            "trusted objects must be classes or functions (with __module__ "
            "and __qualname__), got %r (type %s)" % (obj, type(obj).__name__)
        )
    return "%s.%s" % (module, qualname)


class TrustPolicy:
    """The parsed ``trusted=[...]`` argument of ``load`` (see module doc)."""

    def __init__(self, trusted):
        if isinstance(trusted, (str, bytes)) or not hasattr(trusted, "__iter__"):
            raise TypeError(
                "trusted should be a list of dotted names, classes or "
                "functions (or None for an unrestricted load), got %r (type %s)"
                % (trusted, type(trusted).__name__)
            )
        self.names: set = set()
        self.prefixes: list = []
        self.objects: dict = {}
        self.presets: set = set()
        for item in trusted:
            self._add(item)
        self._callables, self._refs = _always_allowed()
        if self.presets and _numpy_available():
            self._callables.update(sb.numpy_preset_callables())
            self._refs.update(sb.numpy_preset_refs())

    def _add(self, item) -> None:
        if isinstance(item, str):
            if item in PRESETS:
                self.presets.add(PRESETS[item])
            elif item.endswith(".*") and len(item) > 2:
                self.prefixes.append(item[:-2])
            elif item and not _has_dunder_part(item) and "." in item:
                self.names.add(item)
            else:
                raise ValueError(
                    "Invalid trusted name %r: expected a dotted name such as "
                    "'package.module.Class', 'package.*' or a preset (%s)"
                    % (item, ", ".join(sorted(PRESETS)))
                )
            return
        self.objects[_dotted(item)] = item

    # -- decisions on names (no import unless a preset needs it) ------------
    def allows(self, dotted: str) -> bool:
        """Whether a file may use the global ``dotted`` (``module.name``)."""
        if dotted in self._callables or dotted in self._refs:
            return True
        if dotted == "copyreg._reconstructor":  # checked by the unpickler
            return True
        if dotted in self.names or dotted in self.objects:
            return True
        if _has_dunder_part(dotted):
            return False
        if any(dotted.startswith(p + ".") for p in self.prefixes):
            # Only what the package defines: not what it imported (pkg.os).
            try:
                return self._defined_under_prefix(self._resolve_by_import(dotted))
            except Exception:
                return False
        return "sklearn" in self.presets and self._sklearn_allows(dotted)

    def untrusted(self, dotted_names) -> list:
        """The names among ``dotted_names`` that are not allowed, sorted."""
        return sorted(n for n in set(dotted_names) if not self.allows(n))

    def _sklearn_allows(self, dotted: str) -> bool:
        if not dotted.startswith("sklearn."):
            return False
        if dotted in _SKLEARN_HELPERS or dotted in _SKLEARN_NEW_OBJ:
            return True
        try:
            obj = self._resolve_by_import(dotted)
        except Exception:
            return False
        return isinstance(obj, type) and _is_sklearn_class(obj)

    @staticmethod
    def _resolve_by_import(dotted: str):
        # Pickle names are module + qualname; try the longest module first.
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            try:
                return _import_global(module, ".".join(parts[cut:]))
            except (ImportError, AttributeError):
                continue
        raise AttributeError("cannot resolve %r" % dotted)

    # -- resolution for the unpickler ---------------------------------------
    def resolve(self, module: str, name: str):
        """Return ``(object, may_call)`` for an allowed global, else None."""
        dotted = "%s.%s" % (module, name)
        if dotted in self._callables:
            return self._callables[dotted], True
        if dotted in self._refs:
            return self._refs[dotted], False
        if dotted in self.objects:
            obj = _import_global(module, name)
            return (obj, True) if obj is self.objects[dotted] else None
        if dotted in self.names:
            return _import_global(module, name), True
        if _has_dunder_part(dotted):
            return None
        if any(dotted.startswith(p + ".") for p in self.prefixes):
            obj = _import_global(module, name)
            if self._defined_under_prefix(obj):
                return obj, True
        if "sklearn" in self.presets and self._sklearn_allows(dotted):
            if dotted in _SKLEARN_NEW_OBJ:
                return _sklearn_new_obj, True
            return _import_global(module, name), True
        return None

    def _defined_under_prefix(self, obj) -> bool:
        owner = getattr(obj, "__module__", None)
        if not isinstance(owner, str):
            return False
        return any(owner == p or owner.startswith(p + ".") for p in self.prefixes)


def _sklearn_new_obj(cls):
    """``newObj`` of scikit-learn's Cython trees, for trusted classes only."""
    dotted = "%s.%s" % (getattr(cls, "__module__", ""), getattr(cls, "__qualname__", ""))
    if not isinstance(cls, type) or not (
        dotted in _SKLEARN_HELPERS or _is_sklearn_class(cls)
    ):
        raise sb.RefusedError(
            "restricted load: refusing newObj(%r), not a scikit-learn class" % (cls,)
        )
    return cls.__new__(cls)


def _is_sklearn_class(cls) -> bool:
    owner = getattr(cls, "__module__", "") or ""
    if not (owner == "sklearn" or owner.startswith("sklearn.")):
        return False
    for module, name in _SKLEARN_BASES:
        try:
            base = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        if issubclass(cls, base):
            return True
    return False

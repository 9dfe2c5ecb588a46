"""Compatibility path ``joblib.externals`` (joblib 1.6 vendored loky and
cloudpickle here).

This package vendors nothing: ``joblib.externals.loky`` and
``joblib.externals.cloudpickle`` (and every submodule below them) resolve to
the *same module objects* as the PyPI ``loky`` and ``cloudpickle`` packages,
so that module globals (e.g. ``loky.process_executor._CURRENT_DEPTH``) and
exception classes (e.g. ``TerminatedWorkerError``) are shared.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys

_ALIASED = ("loky", "cloudpickle")
_PREFIX = __name__ + "."


class _AliasLoader(importlib.abc.Loader):
    """Hands out the already-imported real module instead of a new one."""

    def __init__(self, real_name: str):
        self._real_name = real_name

    def create_module(self, spec):
        module = importlib.import_module(self._real_name)
        self._real_spec = module.__spec__
        self._real_loader = getattr(module, "__loader__", None)
        return module

    def exec_module(self, module):
        # The import system stamped the alias spec onto the real module:
        # restore the module's own, so loky/cloudpickle keep working as usual.
        module.__spec__ = self._real_spec
        module.__loader__ = self._real_loader


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Maps ``joblib.externals.<pkg>[.sub]`` onto ``<pkg>[.sub]``."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(_PREFIX):
            return None
        real_name = fullname[len(_PREFIX):]
        if real_name.split(".", 1)[0] not in _ALIASED:
            return None
        if importlib.util.find_spec(real_name) is None:
            return None
        is_package = hasattr(importlib.import_module(real_name), "__path__")
        return importlib.machinery.ModuleSpec(
            fullname, _AliasLoader(real_name), is_package=is_package
        )


import importlib.util  # noqa: E402  (used by the finder above)

if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _AliasFinder())

__all__: list[str] = []

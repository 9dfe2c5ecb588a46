"""Call-time access to the patchable globals of ``joblib.memory``.

Users (and joblib's own docs) mutate ``joblib.memory._FUNCTION_HASHES`` and
``joblib.memory._STORE_BACKENDS``, or replace them. Reading them through
these accessors at each use, never copying them at import time, keeps such
patches effective. This is the only place where ``joblib._memory`` refers
back up to ``joblib.memory``.
"""

from __future__ import annotations

import sys

__all__ = ["function_hashes", "store_backends", "collision_warning"]


def _memory_module():
    module = sys.modules.get("joblib.memory")
    if module is None:
        # deferred: call-time accessor of joblib.memory's patchable globals (it imports us)
        from .. import memory as module
    return module


def function_hashes():
    """The in-process table of verified function codes."""
    return _memory_module()._FUNCTION_HASHES


def store_backends() -> dict:
    """The registry of store backend classes, by name."""
    return _memory_module()._STORE_BACKENDS


def collision_warning() -> type:
    """The ``JobLibCollisionWarning`` category."""
    return _memory_module().JobLibCollisionWarning

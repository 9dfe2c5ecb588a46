"""Compatibility shim: the ``joblib.backports`` path of joblib 1.6.
Homes: ``_persist.array_io.make_memmap``, ``_store.atomic.concurrency_safe_rename``,
``_versions.LooseVersion``/``Version``.
"""

from __future__ import annotations

from ._persist.array_io import make_memmap
from ._store.atomic import concurrency_safe_rename
from ._versions import LooseVersion, Version

__all__ = ["make_memmap", "concurrency_safe_rename", "LooseVersion", "Version"]

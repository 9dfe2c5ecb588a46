"""Compatibility shim: the ``joblib.backports`` path of joblib 1.6.
Homes: ``_persist.array_io.make_memmap``, ``_store.atomic.concurrency_safe_rename``.
"""

from __future__ import annotations

from ._persist.array_io import make_memmap
from ._store.atomic import concurrency_safe_rename

__all__ = ["make_memmap", "concurrency_safe_rename"]

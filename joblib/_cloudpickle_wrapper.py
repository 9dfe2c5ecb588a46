"""Compatibility path ``joblib._cloudpickle_wrapper`` (joblib 1.6).

Home of :func:`wrap_non_picklable_objects`: loky's wrapper when
multiprocessing is available, otherwise an identity function (nothing is
ever pickled then).
"""

from __future__ import annotations

from typing import Any

from ._multiprocessing_helpers import mp

__all__ = ["wrap_non_picklable_objects"]


def _identity_wrap(obj: Any, keep_wrapper: bool = True) -> Any:
    """Return ``obj`` unchanged: without multiprocessing nothing is pickled."""
    return obj


if mp is not None:
    from loky import wrap_non_picklable_objects
else:
    wrap_non_picklable_objects = _identity_wrap

"""Version strings compared component by component (``joblib.backports``).

joblib 1.6 ships a copy of distutils' ``LooseVersion`` that downstream
conftests and version checks import from ``joblib.backports``; distutils is
gone from Python 3.12. This is an independent implementation of the same
ordering: the string is split into runs of digits and runs of letters
(dots separate), digit runs compare as integers.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["Version", "LooseVersion"]

_COMPONENT = re.compile(r"(\d+|[a-z]+|\.)", re.VERBOSE)


class Version:
    """Base class: comparisons delegate to ``_cmp`` (-1, 0, 1 or NotImplemented)."""

    def __init__(self, vstring: str | None = None):
        if vstring:
            self.parse(vstring)

    def parse(self, vstring: str) -> None:
        raise NotImplementedError

    def _cmp(self, other: Any) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return "%s ('%s')" % (type(self).__name__, self)

    def _compare(self, other: Any, accept) -> Any:
        result = self._cmp(other)
        return result if result is NotImplemented else accept(result)

    def __eq__(self, other: Any) -> Any:
        return self._compare(other, lambda c: c == 0)

    def __lt__(self, other: Any) -> Any:
        return self._compare(other, lambda c: c < 0)

    def __le__(self, other: Any) -> Any:
        return self._compare(other, lambda c: c <= 0)

    def __gt__(self, other: Any) -> Any:
        return self._compare(other, lambda c: c > 0)

    def __ge__(self, other: Any) -> Any:
        return self._compare(other, lambda c: c >= 0)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value


class LooseVersion(Version):
    """Any version string; ``LooseVersion("1.10") > "1.9"`` is True.

    Examples
    --------
    >>> from joblib.backports import LooseVersion
    >>> LooseVersion("1.6.0") >= "1.5"
    True
    >>> LooseVersion("1.6.0").version
    [1, 6, 0]
    """

    component_re = _COMPONENT

    def parse(self, vstring: str) -> None:
        self.vstring = vstring
        parts = [p for p in self.component_re.split(vstring) if p and p != "."]
        self.version = [int(p) if p.isdigit() else p for p in parts]

    def __str__(self) -> str:
        return self.vstring

    def __repr__(self) -> str:
        return "LooseVersion ('%s')" % self

    def _cmp(self, other: Any) -> Any:
        if isinstance(other, str):
            other = LooseVersion(other)
        elif not isinstance(other, LooseVersion):
            return NotImplemented
        return (self.version > other.version) - (self.version < other.version)

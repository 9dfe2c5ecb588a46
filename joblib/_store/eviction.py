"""Eviction policy of ``Memory.reduce_size``, as a pure function.

Given the items of a store and the limits, decide which items to delete:
the least recently accessed first, until the store fits every limit. No
disk access happens here, so the policy is testable on plain lists.
"""

from __future__ import annotations

import datetime
import numbers
import operator
from typing import Sequence

from ..disk import memstr_to_bytes

__all__ = ["items_to_delete", "check_limits"]


def _check_bytes_limit(bytes_limit):
    """Return ``bytes_limit`` as an int (or None), converting '10M'-style strings."""
    if bytes_limit is None:
        return None
    if isinstance(bytes_limit, str):
        return memstr_to_bytes(bytes_limit)
    if isinstance(bytes_limit, bool) or not isinstance(bytes_limit, numbers.Integral):
        raise TypeError(
            "bytes_limit should be an int or a str such as '10M', got %r (type %s)"
            % (bytes_limit, type(bytes_limit).__name__)
        )
    if bytes_limit < 0:
        raise ValueError("bytes_limit should be >= 0, got %r" % (bytes_limit,))
    return int(bytes_limit)


def _check_items_limit(items_limit):
    if items_limit is None:
        return None
    if isinstance(items_limit, bool) or not isinstance(items_limit, numbers.Integral):
        raise TypeError(
            "items_limit should be an int, got %r (type %s)"
            % (items_limit, type(items_limit).__name__)
        )
    if items_limit < 0:
        raise ValueError("items_limit should be >= 0, got %r" % (items_limit,))
    return int(items_limit)


def _check_age_limit(age_limit):
    if age_limit is None:
        return None
    if not isinstance(age_limit, datetime.timedelta):
        raise TypeError(
            "age_limit should be a datetime.timedelta, got %r (type %s)"
            % (age_limit, type(age_limit).__name__)
        )
    if age_limit.total_seconds() < 0:
        raise ValueError(
            "age_limit has to be a positive timedelta, got %r" % (age_limit,)
        )
    return age_limit


def check_limits(bytes_limit=None, items_limit=None, age_limit=None) -> tuple:
    """Validate and normalise the three limits of ``reduce_size``.

    Returns
    -------
    (bytes_limit, items_limit, age_limit)
        ``bytes_limit`` as an int of bytes or None, ``items_limit`` as an int
        or None, ``age_limit`` as a timedelta or None.
    """
    return (
        _check_bytes_limit(bytes_limit),
        _check_items_limit(items_limit),
        _check_age_limit(age_limit),
    )


def items_to_delete(
    items: Sequence,
    bytes_limit=None,
    items_limit=None,
    age_limit=None,
    now: datetime.datetime | None = None,
) -> list:
    """Select the items to delete so that the store fits the limits.

    Parameters
    ----------
    items : sequence of CacheItemInfo
        Each has ``size`` (bytes) and ``last_access`` (a naive local
        ``datetime``).
    bytes_limit : int or str, optional
        Maximum total size (``'10M'``-style strings are accepted).
    items_limit : int, optional
        Maximum number of items.
    age_limit : datetime.timedelta, optional
        Items last accessed longer ago than this are deleted.
    now : datetime.datetime, optional
        Reference time for ``age_limit`` (default: ``datetime.now()``).

    Returns
    -------
    list
        The items to delete, least recently accessed first.

    Examples
    --------
    >>> from collections import namedtuple
    >>> Item = namedtuple("Item", "path size last_access")
    >>> from datetime import datetime
    >>> items = [Item("a", 10, datetime(2020, 1, 2)),
    ...          Item("b", 10, datetime(2020, 1, 1))]
    >>> [item.path for item in items_to_delete(items, items_limit=1)]
    ['b']
    """
    bytes_limit, items_limit, age_limit = check_limits(
        bytes_limit, items_limit, age_limit
    )
    if not items:
        return []
    excess_size = 0 if bytes_limit is None else sum(i.size for i in items) - bytes_limit
    excess_items = 0 if items_limit is None else len(items) - items_limit
    deadline = None
    if age_limit is not None:
        deadline = (datetime.datetime.now() if now is None else now) - age_limit
    selected, size_so_far = [], 0
    for item in sorted(items, key=operator.attrgetter("last_access")):
        too_old = deadline is not None and item.last_access <= deadline
        if size_so_far >= excess_size and len(selected) >= excess_items and not too_old:
            # Sorted by access time: every later item is newer still.
            break
        selected.append(item)
        size_so_far += item.size
    return selected

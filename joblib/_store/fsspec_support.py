"""Helpers of the fsspec store: URL detection, clear set-up errors, listings.

Kept apart from the store class so that deciding whether a location is a
URL (done for every ``Memory(...)``) never imports fsspec, and so that the
translation of the many error types of fsspec implementations (botocore,
aiohttp, OS errors) into one clear message lives in one place.
"""

from __future__ import annotations

import datetime
import inspect
import re
from typing import Any, Callable

from .scan import is_item_dir_name

__all__ = [
    "LOCAL_PROTOCOLS",
    "ACCESS_MARKER",
    "access_error",
    "has_glob_chars",
    "import_fsspec",
    "is_url",
    "list_items",
    "one_request_kwargs",
    "split_url",
]

# "s3://", "gs://", "memory://", "file://", "abfs://", "simplecache::s3://".
# Two characters at least, so that a Windows drive ("C:\\", "C://") is a path.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://|^[A-Za-z][A-Za-z0-9+.-]+::")
LOCAL_PROTOCOLS = ("file", "local")
# Empty object written in an entry when it is read (object stores have no
# access time): its modification time is the entry's last access.
ACCESS_MARKER = "last_access"
_INSTALL_HINT = 'pip install "joblib[fsspec]" (or "joblib[s3]" for s3:// URLs)'


def has_glob_chars(path: str) -> bool:
    """True if fsspec would read ``path`` as a glob pattern."""
    return any(c in path for c in "*?[")


def is_url(location: Any) -> bool:
    """True if ``location`` is a str with a URL scheme (``s3://...``)."""
    return isinstance(location, str) and _URL.match(location) is not None


def split_url(location: str) -> tuple[str, str]:
    """``(scheme, rest)`` of a URL; the scheme of a chained URL is its first."""
    scheme, _, rest = location.partition("://")
    return scheme.split("::")[0], rest


def import_fsspec():
    """Import fsspec, or raise an ImportError that names the extra to install."""
    try:
        import fsspec  # optional dependency (joblib[fsspec])
    except ImportError as exc:
        raise ImportError(
            "Memory with a URL location needs the fsspec package, which is "
            "not installed: %s." % _INSTALL_HINT
        ) from exc
    return fsspec


def make_filesystem(location: str, storage_options: dict) -> tuple[Any, str]:
    """``(filesystem, root path)`` for ``location``; a missing driver is named."""
    fsspec = import_fsspec()
    try:
        return fsspec.core.url_to_fs(location, **storage_options)
    except ImportError as exc:
        scheme = split_url(location)[0]
        extra = ' (pip install "joblib[s3]")' if scheme in ("s3", "s3a") else ""
        raise ImportError(
            "Memory(%r) needs the fsspec driver of %r URLs, which is not "
            "installed%s: %s" % (location, scheme, extra, exc)
        ) from exc


def one_request_kwargs(fs) -> dict:
    """Arguments of ``fs.cat_file`` that read a file with ONE GET request.

    s3fs reads files larger than a block with several concurrent ranged
    GETs, after a HEAD for the size: faster for big files on real S3, but
    two requests more for every hit. One GET keeps a hit's cost fixed.
    """
    try:
        parameters = inspect.signature(fs.cat_file).parameters
    except (TypeError, ValueError):
        return {}
    return {"max_concurrency": 1} if "max_concurrency" in parameters else {}


def _reason(exc: BaseException) -> tuple[type, str]:
    """The error class to raise and a plain-words reason for ``exc``."""
    name = type(exc).__name__
    text = str(exc)
    if "Credentials" in name or "credentials" in text.lower():
        return PermissionError, "no usable credentials were found"
    if isinstance(exc, PermissionError) or "AccessDenied" in text or "403" in text:
        return PermissionError, "permission denied"
    if isinstance(exc, FileNotFoundError):
        return FileNotFoundError, "the bucket or container does not exist"
    if "Connect" in name or "Endpoint" in name or isinstance(exc, ConnectionError):
        return ConnectionError, "the endpoint cannot be reached"
    if isinstance(exc, OSError):
        return type(exc), "the store refused the request"
    return OSError, "the store refused the request"


def access_error(location: str, exc: BaseException) -> OSError:
    """A clear error for a store that cannot be used at all."""
    cls, reason = _reason(exc)
    message = (
        "Cannot use the cache location %r: %s (%s: %s). Check the URL and "
        "the storage_options (endpoint_url, credentials) given to Memory."
        % (location, reason, type(exc).__name__, exc)
    )
    error = cls(message)
    error.__cause__ = exc
    return error


def _timestamp(info: dict) -> float | None:
    """Modification time (POSIX seconds) in a listing entry of any fsspec store."""
    for key in ("LastModified", "last_modified", "mtime", "updated", "created"):
        value = info.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, datetime.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=datetime.timezone.utc)
            return value.timestamp()
        if isinstance(value, str):
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return _timestamp({"mtime": parsed})
        return float(value)
    return None


def _newest(a: float | None, b: float | None) -> float | None:
    return b if a is None or (b is not None and b > a) else a


def _group_by_entry(listing: dict) -> dict:
    """entry path -> (total size, last access time or None).

    The access time is the newest of ``output.pkl`` and the access marker;
    an entry with neither (an orphan ``metadata.json``) has its files' time.
    """
    entries: dict = {}
    for path, info in listing.items():
        if info.get("type") == "directory":
            continue
        parent, _, name = path.rstrip("/").rpartition("/")
        if not is_item_dir_name(parent.rpartition("/")[2]):
            continue
        size, access, other = entries.get(parent, (0, None, None))
        stamp = _timestamp(info)
        if name in ("output.pkl", ACCESS_MARKER):
            access = _newest(access, stamp)
        else:
            other = _newest(other, stamp)
        entries[parent] = (size + int(info.get("size") or 0), access, other)
    return {
        path: (size, other if access is None else access)
        for path, (size, access, other) in entries.items()
    }


def list_items(fs, root: str, location: str, make_item: Callable) -> list:
    """``make_item(path, size, last_access)`` for every entry under ``root``.

    One recursive listing (paginated LIST requests on object stores).
    ``path`` is the entry's URL under ``location`` (the URL of ``root``),
    as the local store gives paths under its location; ``last_access`` is
    a naive local datetime.
    """
    fs.invalidate_cache(root)  # other processes wrote since any cached listing
    try:
        listing = fs.find(root, detail=True)
    except FileNotFoundError:
        return []
    items = []
    fromtimestamp = datetime.datetime.fromtimestamp
    for path, (size, access) in _group_by_entry(listing).items():
        url = location + path[len(root) :]
        items.append(make_item(url, size, fromtimestamp(access or 0)))
    return items

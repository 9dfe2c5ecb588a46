"""A store on any fsspec file system: S3, GCS, Azure, ``memory://``, ``file://``.

``Memory("s3://bucket/prefix")`` picks this store. Its layout is the local
store's (``<function folder>/func_code.py``, ``<function folder>/<argument
hash>/{output.pkl, metadata.json}``), so a local cache copied to a bucket
(``aws s3 sync``) is a valid remote cache, and the other way round.

Consistency without rename (object stores have none): every file is written
in ONE put of its complete bytes. S3, GCS and Azure make an object visible
only once its upload completed (multipart uploads included), so a reader
sees the old object, the new one or none, never a part. An entry counts as
present when its ``output.pkl`` exists; the cached-call logic writes
``metadata.json`` before it, so ``output.pkl`` is the commit marker. Two
writers of one entry each put complete objects: the last put of each file
wins, and both computed the same call. On ``file://`` the files are written
aside and renamed, as in the local store.

Costs: a hit is one GET of ``output.pkl`` (``fetch_item``); asking
``contains_item`` first (``call_and_shelve``, validation callbacks) adds a
1-byte ranged GET; never a LIST. Object stores keep no
access time: a hit writes an empty ``last_access`` object in the entry at
most once per ``access_resolution`` seconds per process (default one hour),
which ``reduce_size`` reads for its least-recently-used order.
"""

from __future__ import annotations

import datetime
import io
import json
import pickle
import time
import warnings
from typing import Any

from .._persist import fast_pickle
from ..numpy_pickle import dump, load
from . import messages as reporting
from .._store_backends import (
    CacheItemInfo,
    CacheWarning,
    StoreBackendBase,
    StoreBackendMixin,
    _missing_item,
    _warn_dump_failure,
    _warn_write_failure,
)
from . import fsspec_support as support
from .atomic import replace_on_success
from .item_io import _is_plain_pickle, dumps_plain, fast_temporary_name
from .layout import check_relative

__all__ = ["FsspecStoreBackend"]

_DEFAULT_ACCESS_RESOLUTION = 3600.0
# entry URL -> time (time.time()) of this process' last write or recorded
# access of the entry (bounded).
_recent_access: dict = {}
_RECENT_ACCESS_MAX = 4096
_mmap_warned: set = set()


def _encode(value: Any, compress) -> bytes:
    """The bytes of ``output.pkl``: exactly what ``joblib.dump`` writes."""
    data = None if compress else dumps_plain(value)
    if data is None:
        buffer = io.BytesIO()
        dump(value, buffer, compress=compress)
        data = buffer.getvalue()
    return data


def _decode(data: bytes) -> Any:
    if fast_pickle.ENABLED and _is_plain_pickle(data):
        return pickle.loads(data)
    return load(io.BytesIO(data))


class FsspecStoreBackend(StoreBackendBase, StoreBackendMixin):
    """Store on an fsspec URL (``'fsspec'`` backend, chosen for URL locations).

    Options (``Memory(storage_options=...)`` or ``backend_options``):
    ``storage_options`` (dict, given to fsspec: endpoint, credentials) and
    ``access_resolution`` (seconds between two recorded accesses of an entry
    by one process; None records none).
    """

    compress = False
    mmap_mode = None
    verbose = 1
    access_resolution = _DEFAULT_ACCESS_RESOLUTION

    def configure(self, location, verbose=1, backend_options=None):
        """Bind the store to the URL ``location``; no request is made yet."""
        options = {} if backend_options is None else dict(backend_options)
        self.location = location.rstrip("/")
        self.verbose = verbose
        self.compress = options.pop("compress", False)
        self.mmap_mode = options.pop("mmap_mode", None)
        storage_options = options.pop("storage_options", None) or {}
        if not isinstance(storage_options, dict):
            raise TypeError(
                "storage_options should be a dict, got %r (type %s)"
                % (storage_options, type(storage_options).__name__)
            )
        self.storage_options = storage_options
        self.access_resolution = _check_resolution(
            options.pop("access_resolution", _DEFAULT_ACCESS_RESOLUTION)
        )
        if options:
            raise TypeError(
                "Unknown options for a store on %r: %s; expected storage_options "
                "or access_resolution." % (location, ", ".join(sorted(options)))
            )
        self._connect()
        if self.mmap_mode is not None:
            self._warn_mmap_once(self.mmap_mode)

    # Connection: a file system object now, a first request on first use.

    def _connect(self) -> None:
        fs, root = support.make_filesystem(self.location, self.storage_options)
        self._fs, self._root, self._checked = fs, root.rstrip("/"), False
        protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
        self._local = any(p in support.LOCAL_PROTOCOLS for p in protocols)
        self._cat_kwargs = support.one_request_kwargs(fs)

    def _ready(self):
        """The file system, after one cheap check that the store is usable.

        The first use in a process turns a missing bucket, missing
        credentials, a refused permission or an unreachable endpoint into a
        clear error; later failures are treated as transient.
        """
        if not self._checked:
            try:
                if self._local or self._root.startswith("/"):
                    self._fs.makedirs(self._root, exist_ok=True)
                else:
                    # Object stores ("bucket/prefix"): one HEAD of the bucket.
                    self._fs.info(self._root.split("/", 1)[0])
            except Exception as exc:
                raise support.access_error(self.location, exc) from None
            self._checked = True
        return self._fs

    def __getstate__(self):
        # Pickled to workers: the file system is re-created there.
        state = self.__dict__.copy()
        for name in ("_fs", "_root", "_checked", "_local", "_cat_kwargs"):
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._connect()  # no request: the first use checks the store

    # Paths.

    def _path(self, call_id, name: str | None = None) -> str:
        parts = list(call_id) if name is None else [*call_id, name]
        for part in parts:
            check_relative(part)
        return "/".join([self._root, *parts]).replace("\\", "/")

    def _url(self, call_id) -> str:
        return "/".join([self.location, *call_id])

    def _put(self, fs, path: str, data: bytes) -> None:
        """Write ``data`` at ``path`` so that readers see all of it or nothing."""
        if not self._local:
            fs.pipe_file(path, data)  # one PUT: atomic on object stores
            return
        fs.makedirs(path.rpartition("/")[0], exist_ok=True)
        with replace_on_success(path, fast_temporary_name(path), fs.mv, fs.rm_file) as tmp:
            fs.pipe_file(tmp, data)

    # Results.

    def fetch_item(self, call_id, *, mmap_mode=False, verbose=1, timestamp=None):
        """Memory's read of a result: one GET, KeyError if there is none."""
        return self.load_item(call_id, verbose, timestamp, mmap_mode=mmap_mode)

    def load_item(
        self, call_id, verbose=1, timestamp=None, metadata=None, *, mmap_mode=False
    ):
        """Load the result of ``call_id`` with one GET (KeyError if there is none)."""
        fs = self._ready()
        if verbose > 1:
            reporting.loading(verbose, call_id, self._url(call_id), timestamp, metadata)
        mmap_mode = self.mmap_mode if mmap_mode is False else mmap_mode
        path = self._path(call_id, "output.pkl")
        if mmap_mode is not None and self._local and not self.compress:
            if not fs.exists(path):
                raise _missing_item(self._url(call_id))
            self._record_access(fs, call_id)
            return load(fs._strip_protocol(path), mmap_mode=mmap_mode)
        if mmap_mode is not None:
            self._warn_mmap_once(mmap_mode)
        try:
            data = fs.cat_file(path, **self._cat_kwargs)
        except FileNotFoundError:
            raise _missing_item(self._url(call_id)) from None
        self._record_access(fs, call_id)
        return _decode(data)

    def dump_item(self, call_id, item, verbose=1):
        """Store ``item`` with one PUT; return False (with a warning) on failure."""
        if verbose > 10:
            reporting.persisting(verbose, self._url(call_id))
        try:
            data = _encode(item, self.compress)
            fs = self._ready()
            self._put(fs, self._path(call_id, "output.pkl"), data)
        except Exception as exc:  # reported as a CacheWarning: the value is kept
            _warn_dump_failure(self._url(call_id), exc)
            return False
        self._remember_access(call_id)
        return True

    def contains_item(self, call_id):
        """True if ``output.pkl`` exists: a 1-byte ranged GET, never a LIST."""
        fs = self._ready()
        try:
            fs.cat_file(self._path(call_id, "output.pkl"), start=0, end=1)
        except FileNotFoundError:
            return False
        except Exception as exc:  # transient: the call is computed instead
            _warn_cache(
                "Could not read the cache entry %r (%s: %s); the result is "
                "computed again." % (self._url(call_id), type(exc).__name__, exc)
            )
            return False
        return True

    def clear_item(self, call_id):
        """Delete the entry of ``call_id``, if any.

        Called when a validation callback rejects an entry: a failure to
        delete is a warning, the call computes its result anyway.
        """
        try:
            self._remove(self._path(call_id))
        except Exception as exc:
            _warn_cache(
                "Could not delete the cache entry %r (%s: %s); the result is "
                "computed again." % (self._url(call_id), type(exc).__name__, exc)
            )

    def get_item_info(self, call_id):
        """Return ``{'location': URL}`` of the entry of ``call_id``."""
        return {"location": self._url(call_id)}

    def get_metadata(self, call_id):
        """Return the metadata of ``call_id`` (``{}`` if missing or unreadable)."""
        fs = self._ready()
        try:
            path = self._path(call_id, "metadata.json")
            data = fs.cat_file(path, **self._cat_kwargs)
            return json.loads(data.decode("utf-8"))
        except Exception:  # missing, half-synced or unreachable: no metadata
            return {}

    def store_metadata(self, call_id, metadata):
        """Write ``metadata.json``; failures only cost the metadata."""
        try:
            data = json.dumps(metadata).encode("utf-8")
            self._put(self._ready(), self._path(call_id, "metadata.json"), data)
        except Exception as exc:  # reported as a CacheWarning
            _warn_write_failure("metadata", self._url(call_id), exc)

    # Function folders.

    def contains_path(self, call_id):
        """True if the function folder ``call_id`` holds anything."""
        return self._ready().exists(self._path(call_id))

    def clear_path(self, call_id):
        """Delete every entry of a function."""
        self._remove(self._path(call_id))

    def store_cached_func_code(self, call_id, func_code=None):
        """Write ``func_code.py``; a refused write raises a clear error."""
        if func_code is None:
            # Called when a function is decorated (often at import): no
            # request then; object stores need no folder.
            return
        fs = self._ready()
        try:
            self._put(fs, self._path(call_id, "func_code.py"), func_code.encode())
        except PermissionError as exc:
            raise support.access_error(self.location, exc) from None
        except Exception as exc:  # transient: results are not cached meanwhile
            _warn_write_failure("function code", self._url(call_id), exc)

    def get_cached_func_code(self, call_id):
        """Return the text of ``func_code.py``; raise OSError if unavailable."""
        fs = self._ready()
        try:
            path = self._path(call_id, "func_code.py")
            return fs.cat_file(path, **self._cat_kwargs).decode("utf-8")
        except OSError:
            raise
        except Exception as exc:  # e.g. botocore errors: not OSError
            raise ConnectionError("%s: %s" % (type(exc).__name__, exc)) from exc

    def get_cached_func_info(self, call_id):
        """Return ``{'location': URL}`` of the function folder."""
        return {"location": self._url(call_id)}

    # Whole store.

    def clear(self):
        """Delete every cached result."""
        self._remove(self._root)
        if self._local:
            self._fs.makedirs(self._root, exist_ok=True)

    def get_items(self):
        """Every entry with its size and last access (one recursive listing)."""
        fs = self._ready()
        items = support.list_items(fs, self._root, self.location, CacheItemInfo)
        # Object stores keep times to the second: the accesses this process
        # knows of are more precise (a just-written entry is the newest).
        return [_with_known_access(item) for item in items]

    # The primitives of StoreBackendBase, on fsspec paths.

    def _open_item(self, f, mode):
        return self._ready().open(f, mode)

    def _item_exists(self, location):
        return self._ready().exists(location)

    def _move_item(self, src, dst):
        self._ready().mv(src, dst)

    def create_location(self, location):
        """Create a folder (only file systems with real folders need one)."""
        if self._local:
            self._ready().makedirs(location, exist_ok=True)

    def clear_location(self, location):
        """Delete ``location`` and everything under it."""
        self._remove(location)

    # Helpers.

    def _remove(self, path: str) -> None:
        fs = self._ready()
        try:
            if support.has_glob_chars(path):
                # fs.rm would expand "[", "*", "?" as a pattern, and names
                # such as "<doctest page[2]>" are function folders.
                for name in fs.find(path):
                    fs.rm_file(name)
            else:
                fs.rm(path, recursive=True)
        except FileNotFoundError:
            pass  # already gone (another process cleared it)
        fs.invalidate_cache(path)

    def _remember_access(self, call_id) -> None:
        if len(_recent_access) >= _RECENT_ACCESS_MAX:
            _recent_access.clear()
        _recent_access[self._url(call_id)] = time.time()

    def _record_access(self, fs, call_id) -> None:
        """Write the entry's access marker, at most once per resolution."""
        resolution = self.access_resolution
        if resolution is None:
            return
        last = _recent_access.get(self._url(call_id))
        if last is not None and abs(time.time() - last) < resolution:
            return
        self._remember_access(call_id)
        try:
            self._put(fs, self._path(call_id, support.ACCESS_MARKER), b"")
        except Exception:
            pass  # read-only cache: eviction order is then only approximate

    def _warn_mmap_once(self, mmap_mode) -> None:
        if self._local or self.location in _mmap_warned:
            return
        _mmap_warned.add(self.location)
        warnings.warn(
            "mmap_mode=%r is ignored by the cache on %r: results on a remote "
            "store are loaded into memory." % (mmap_mode, self.location),
            CacheWarning,
            stacklevel=reporting.user_stacklevel(),
        )

    def __repr__(self):
        return '{}(location="{}")'.format(type(self).__name__, self.location)


def _with_known_access(item):
    known = _recent_access.get(item.path)
    if known is None:
        return item
    known = datetime.datetime.fromtimestamp(known)
    return item._replace(last_access=max(known, item.last_access))


def _check_resolution(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(
            "access_resolution should be a number of seconds >= 0 or None, got "
            "%r (type %s)" % (value, type(value).__name__)
        )
    return float(value)


def _warn_cache(message: str) -> None:
    warnings.warn(message, CacheWarning, stacklevel=reporting.user_stacklevel())

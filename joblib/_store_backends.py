"""Store backends: where and how :class:`joblib.Memory` keeps its results.

``StoreBackendBase`` is the plug-in API of joblib 1.6: a third-party store
implements its few abstract methods and inherits the cache logic of
``StoreBackendMixin``. ``FileSystemStoreBackend`` (the ``'local'`` backend)
is the built-in store; it is pickled inside ``Memory`` objects, so its
module path, class name and attributes (``location``, ``compress``,
``mmap_mode``, ``verbose``) are part of the pickle format.
"""

from __future__ import annotations

import collections
import errno
import inspect
import json
import os
import pickle
import shutil
import warnings
from abc import ABCMeta, abstractmethod
from typing import Any

from ._store import messages as reporting
from ._store.messages import user_stacklevel as _user_stacklevel
from ._store import item_io, size_index
from ._store.atomic import concurrency_safe_rename
from ._store.eviction import items_to_delete
from ._store.file_lock import FileLock
from ._store.item_io import concurrency_safe_write
from ._store.layout import create_directory, ensure_directory, item_dir, write_gitignore
from ._store.scan import scan_items

__all__ = [
    "CacheItemInfo",
    "CacheWarning",
    "FileSystemStoreBackend",
    "StoreBackendBase",
    "StoreBackendMixin",
    "concurrency_safe_write",
]

CacheItemInfo = collections.namedtuple("CacheItemInfo", "path size last_access")
CacheItemInfo.__doc__ = """One cache entry: its path, its size in bytes and its
last access time (a naive local ``datetime``)."""

_VERBOSE_DELETE = 10
_WRITE_ATTEMPTS = 4  # reduce_size reports each deleted entry above this


class CacheWarning(Warning):
    """Warning about a cache entry that could not be written or read."""


class StoreBackendBase(metaclass=ABCMeta):
    """Abstract base class of the stores used by :class:`joblib.Memory`.

    A store subclasses both this class and :class:`StoreBackendMixin`, and
    implements the abstract methods below; paths are ``str`` joined with
    ``os.path.join``. Register it with :func:`joblib.register_store_backend`.
    """

    location = None

    @abstractmethod
    def _open_item(self, f, mode):
        """Open the item ``f`` with ``mode`` ('rb' or 'wb'); return a file object."""

    @abstractmethod
    def _item_exists(self, location):
        """Return True if the item or location ``location`` exists."""

    @abstractmethod
    def _move_item(self, src, dst):
        """Move the item ``src`` to ``dst``, replacing ``dst``."""

    @abstractmethod
    def create_location(self, location):
        """Create the location (a directory on a file system)."""

    @abstractmethod
    def clear_location(self, location):
        """Delete the location and everything in it."""

    @abstractmethod
    def get_items(self):
        """Return the list of :class:`CacheItemInfo` of every cached result."""

    @abstractmethod
    def configure(self, location, verbose=0, backend_options=dict()):
        """Set up the store rooted at ``location``.

        ``backend_options`` holds ``compress``, ``mmap_mode`` and any option
        that the user passed in ``Memory(backend_options=...)``.
        """


def _warn_write_failure(what: str, path: str, exc: BaseException) -> None:
    warnings.warn(
        "Unable to cache to disk: could not write the %s in %r: %r. The "
        "result is returned but will be computed again next time." % (what, path, exc),
        CacheWarning,
        stacklevel=_user_stacklevel(),
    )


def _is_pickling_error(exc: BaseException) -> bool:
    return isinstance(exc, (pickle.PicklingError, TypeError, AttributeError))


def _warn_dump_failure(path: str, exc: BaseException) -> None:
    if not _is_pickling_error(exc):
        _warn_write_failure("result", path, exc)
        return
    warnings.warn(
        "Unable to cache to disk: failed to pickle the output (%s: %s). The "
        "result is returned but not cached; make the output picklable to "
        "cache it." % (type(exc).__name__, exc),
        CacheWarning,
        stacklevel=_user_stacklevel(),
    )


class StoreBackendMixin(object):
    """The cache logic shared by every store, written once against the
    primitives of :class:`StoreBackendBase`.

    Each public method is implemented here only. A store makes them fast by
    implementing the primitives fast: besides the abstract ones, a store may
    override ``_read_result``, ``_write_result`` and ``_write_bytes``, whose
    defaults below go through ``_open_item`` and ``_move_item`` (the local
    store reads and writes files directly). ``fetch_item`` is the one way
    :class:`joblib.Memory` reads a result.
    """

    # Set (on the instance) when a write found the store read-only.
    _jl_read_only = False

    def fetch_item(self, call_id, *, mmap_mode=False, verbose=1, timestamp=None):
        """Return the result stored for ``call_id`` for a cached call.

        ``mmap_mode`` (False: the store's own) lets each cached function
        choose its memory-map mode. A subclass written for joblib 1.6 that
        overrides ``load_item`` or ``contains_item`` is called the 1.6 way:
        ``contains_item`` first, and ``mmap_mode`` only if its ``load_item``
        accepts it.

        Raises
        ------
        KeyError
            If there is no such result (never cached, or evicted).
        """
        plan = _LOAD_PLANS.get(type(self)) or _load_plan(type(self))
        if plan is not _DIRECT and not self.contains_item(call_id):
            raise _missing_item(os.path.join(self.location, *call_id))
        if plan is _NO_MMAP_ARGUMENT:
            return self.load_item(call_id, verbose=verbose, timestamp=timestamp)
        return self.load_item(call_id, verbose, timestamp, mmap_mode=mmap_mode)

    def load_item(
        self, call_id, verbose=1, timestamp=None, metadata=None, *, mmap_mode=False
    ):
        """Load the result stored for ``call_id``.

        ``mmap_mode`` overrides the store's own (False: use the store's).

        Raises
        ------
        KeyError
            If there is no such result (never cached, or cleared).
        """
        full_path = item_dir(self.location, call_id)
        if verbose > 1:
            reporting.loading(verbose, call_id, full_path, timestamp, metadata)
        if mmap_mode is False:
            mmap_mode = getattr(self, "mmap_mode", None)
        if getattr(self, "compress", False):
            mmap_mode = None  # compressed files cannot be mapped
        return self._read_result(full_path + os.sep + "output.pkl", mmap_mode)

    def dump_item(self, call_id, item, verbose=1):
        """Store ``item`` for ``call_id``; return False (with a warning) on failure."""
        item_path = item_dir(self.location, call_id)
        if self._jl_read_only:
            return False  # said once already
        reporting.persisting(verbose, item_path)
        compress = getattr(self, "compress", False)
        filename = item_path + os.sep + "output.pkl"
        try:
            self._write_result(filename, item, compress)
        except Exception as exc:  # reported as a CacheWarning: the value is kept
            self._discard_partial(item_path, filename)
            if not self._note_read_only(exc):
                _warn_dump_failure(item_path, exc)
            return False
        return True

    def _discard_partial(self, item_path, filename):
        """Delete an entry whose result could not be written (e.g. disk full)."""
        try:
            if not self._item_exists(filename):
                self.clear_location(item_path)
        except OSError:
            pass  # nothing more can be done; an entry without output is ignored

    def _note_read_only(self, exc) -> bool:
        """True if ``exc`` says the cache is read-only (warned once per store)."""
        if getattr(exc, "errno", None) not in _READ_ONLY_ERRNOS:
            return False
        if not self._jl_read_only:
            self._jl_read_only = True
            warnings.warn(
                "The cache %s is read-only (%s): cached results are served, "
                "new results are computed and not stored." % (self.location, exc),
                CacheWarning,
                stacklevel=_user_stacklevel(),
            )
        return True

    def clear_item(self, call_id):
        """Delete the result stored for ``call_id``, if any."""
        item_path = item_dir(self.location, call_id)
        if self._item_exists(item_path):
            self.clear_location(item_path)

    def contains_item(self, call_id):
        """Return True if a result is stored for ``call_id``."""
        return self._item_exists(os.path.join(item_dir(self.location, call_id), "output.pkl"))

    def get_item_info(self, call_id):
        """Return ``{'location': path}`` of the entry of ``call_id``."""
        return {"location": item_dir(self.location, call_id)}

    def get_metadata(self, call_id):
        """Return the metadata of ``call_id`` (``{}`` if there is none)."""
        filename = os.path.join(item_dir(self.location, call_id), "metadata.json")
        try:
            with self._open_item(filename, "rb") as f:
                return json.loads(f.read().decode("utf-8"))
        except (OSError, ValueError, KeyError):
            return {}

    def store_metadata(self, call_id, metadata):
        """Write the metadata of ``call_id``; failures only cost the metadata."""
        item_path = item_dir(self.location, call_id)
        if self._jl_read_only:
            return
        try:
            data = item_io.metadata_bytes(metadata)
            # Memory writes the metadata first: the entry's location is new.
            self.create_location(item_path)
            self._write_bytes(os.path.join(item_path, "metadata.json"), data)
        except (OSError, TypeError, ValueError) as exc:
            if not self._note_read_only(exc):
                _warn_write_failure("metadata", item_path, exc)

    def contains_path(self, call_id):
        """Return True if the function directory ``call_id`` exists."""
        return self._item_exists(item_dir(self.location, call_id))

    def clear_path(self, call_id):
        """Delete every entry under ``call_id`` (a function's directory)."""
        func_path = item_dir(self.location, call_id)
        if self._item_exists(func_path):
            self.clear_location(func_path)

    def store_cached_func_code(self, call_id, func_code=None):
        """Create the function directory and write ``func_code.py`` if given."""
        func_path = item_dir(self.location, call_id)
        if not self._item_exists(func_path):
            self.create_location(func_path)
        if func_code is not None:
            # Written aside then renamed: a half-written file read by another
            # process would look like a changed function and wipe its cache.
            filename = os.path.join(func_path, "func_code.py")
            self._write_bytes(filename, func_code.encode("utf-8"))

    def get_cached_func_code(self, call_id):
        """Return the text of ``func_code.py``; raise OSError if it is missing."""
        filename = os.path.join(item_dir(self.location, call_id), "func_code.py")
        with self._open_item(filename, "rb") as f:
            return f.read().decode("utf-8")

    def get_cached_func_info(self, call_id):
        """Return ``{'location': path}`` of the function directory."""
        return {"location": item_dir(self.location, call_id)}

    def clear(self):
        """Delete every cached result of the store."""
        self.clear_location(self.location)

    def enforce_store_limits(self, bytes_limit, items_limit=None, age_limit=None):
        """Delete the least recently accessed entries until the limits hold."""
        selected = self._get_items_to_delete(bytes_limit, items_limit, age_limit)
        for item in selected:
            if getattr(self, "verbose", 0) > _VERBOSE_DELETE:
                print("Deleting item {0}".format(item))
            try:
                self.clear_location(item.path)
            except OSError:
                pass  # another process deleted it first (e.g. stale handle)

    def enforce_limits_after_write(self, call_id, limits):
        """Called by Memory after writing ``call_id``: keep the store in ``limits``.

        ``limits`` has ``bytes_limit``, ``items_limit`` and ``age_limit``.
        A store with local files keeps a size index (see
        ``joblib._store.size_index``) and lists its items only when a limit
        is exceeded or the index is stale; other stores list their items
        after each write.
        """
        root = self._local_path(self.location)
        if root is None:
            self.enforce_store_limits(
                limits.bytes_limit, limits.items_limit, limits.age_limit
            )
            return
        item_path = self._local_path(item_dir(self.location, call_id))
        size_index.after_write(self, root, item_path, limits)

    def lock_item(self, call_id):
        """A ``joblib._store.file_lock.FileLock`` for computing ``call_id``
        once across processes, or None if the store cannot lock (then
        every caller computes)."""
        path = self._local_path(item_dir(self.location, call_id))
        return None if path is None else FileLock(path + ".lock")

    def _get_items_to_delete(self, bytes_limit, items_limit=None, age_limit=None):
        """The entries to delete, least recently accessed first."""
        return items_to_delete(self.get_items(), bytes_limit, items_limit, age_limit)

    # Primitives with a default written against the abstract ones; a store
    # overrides them when it has a faster way.

    def _local_path(self, path):
        """The local file-system path of the item ``path``, or None.

        Features that need local files (memory-mapping, locks for
        ``compute_once``, the size index of limits, the statistics file)
        ask this; the default says the store has none.
        """
        return None

    def _read_result(self, path, mmap_mode):
        """Load the result file ``path``; KeyError if it does not exist."""
        from .numpy_pickle import load  # call-time: numpy_pickle is imported at the bottom

        if not self._item_exists(path):
            raise _missing_item(path)
        if mmap_mode is None:
            with self._open_item(path, "rb") as f:
                return load(f)
        # A file object cannot be memory-mapped: numpy needs the file name.
        return load(path, mmap_mode=mmap_mode)

    def _write_result(self, path, value, compress):
        """Write ``value`` in joblib's format to ``path``, atomically."""
        from .numpy_pickle import dump  # call-time: numpy_pickle is imported at the bottom

        self._write_file(path, lambda f: dump(value, f, compress=compress))

    def _write_bytes(self, path, data):
        """Write ``data`` to ``path``, atomically."""
        self._write_file(path, lambda f: f.write(data))

    def _write_file(self, path, write):
        """Call ``write(file object)`` on a temporary item moved onto ``path``."""
        folder = os.path.dirname(path)
        if not self._item_exists(folder):
            self.create_location(folder)

        def write_func(to_write, dest_filename):
            with self._open_item(dest_filename, "wb") as f:
                to_write(f)

        self._concurrency_safe_write(write, path, write_func)

    def _concurrency_safe_write(self, to_write, filename, write_func):
        """Write to a temporary name, then move it onto ``filename``."""
        temporary_filename = concurrency_safe_write(to_write, filename, write_func)
        self._move_item(temporary_filename, filename)

    def __repr__(self):
        return '{class_name}(location="{location}")'.format(
            class_name=self.__class__.__name__, location=self.location
        )


# Errors that say a cache is read-only (then warned once; writes skipped).
_READ_ONLY_ERRNOS = (errno.EROFS, errno.EACCES, errno.EPERM)

# How fetch_item reads from each store class (see fetch_item).
_DIRECT, _NO_MMAP_ARGUMENT, _CHECK_FIRST = "direct", "no mmap argument", "check first"
_LOAD_PLANS: dict = {}


def _load_plan(cls) -> str:
    if (
        cls.load_item is StoreBackendMixin.load_item
        and cls.contains_item is StoreBackendMixin.contains_item
    ):
        plan = _DIRECT  # load_item itself raises KeyError for a missing result
    else:
        try:
            params = inspect.signature(cls.load_item).parameters
        except (TypeError, ValueError):
            params = {}
        takes_mmap = "mmap_mode" in params or any(
            p.kind is p.VAR_KEYWORD for p in params.values()
        )
        plan = _CHECK_FIRST if takes_mmap else _NO_MMAP_ARGUMENT
    _LOAD_PLANS[cls] = plan
    return plan


def _ignore_concurrent_changes(func, path, exc_info) -> None:
    """rmtree error handler: other processes may delete or add files meanwhile."""
    exc = exc_info[1]
    if isinstance(exc, FileNotFoundError) or getattr(exc, "errno", None) in (
        errno.ENOTEMPTY,
        errno.EEXIST,
    ):
        return
    raise exc


def _missing_item(filename: str) -> KeyError:
    return KeyError(
        "Non-existing item (may have been cleared).\nFile %s does not exist" % filename
    )


class FileSystemStoreBackend(StoreBackendBase, StoreBackendMixin):
    """The ``'local'`` store: a directory tree on a local or network file system.

    Layout: ``<location>/<module path>/<function>/func_code.py`` and
    ``<location>/<module path>/<function>/<argument hash>/{output.pkl,
    metadata.json}``.
    """

    _open_item = staticmethod(open)
    _item_exists = staticmethod(os.path.exists)
    _move_item = staticmethod(concurrency_safe_rename)

    # Defaults for stores unpickled from joblib 1.6, whose state has only
    # location, compress, mmap_mode and verbose.
    compress = False
    mmap_mode = None
    verbose = 1

    def configure(self, location, verbose=1, backend_options=None):
        """Create ``location`` and read the ``compress`` and ``mmap_mode`` options."""
        backend_options = {} if backend_options is None else backend_options
        self.location = location
        create_directory(location)
        write_gitignore(location)
        self.compress = backend_options.get("compress", False)
        mmap_mode = backend_options.get("mmap_mode")
        if self.compress and mmap_mode is not None:
            warnings.warn(
                "Compressed items cannot be memmapped in a "
                "filesystem store. Option will be ignored.",
                stacklevel=2,
            )
        self.mmap_mode = mmap_mode
        self.verbose = verbose

    def clear_location(self, location):
        """Delete ``location``; the root keeps its own files (e.g. .gitignore)."""
        if location == self.location:
            rm_subdirs(location, onerror=_ignore_concurrent_changes)
        else:
            shutil.rmtree(location, ignore_errors=True)

    def get_items(self):
        """Return a :class:`CacheItemInfo` for every entry of the store."""
        return scan_items(self.location, CacheItemInfo)

    def create_location(self, location):
        """Create the directory ``location`` (and its parents)."""
        ensure_directory(location)

    def _local_path(self, path):
        return path

    # Fast primitives: files are read and written directly, with no
    # existence check before (a missing file is the KeyError).

    def _read_result(self, path, mmap_mode):
        try:
            return item_io.read_output(path, mmap_mode)
        except FileNotFoundError:
            raise _missing_item(path) from None

    def _write_result(self, path, value, compress):
        self._write_in_folder(path, item_io.write_output, value, compress)

    def _write_bytes(self, path, data):
        self._write_in_folder(path, item_io.write_bytes_atomic, data)

    @property
    def _jl_writes_entries(self) -> bool:
        """True if Memory may write whole entries with ``_jl_dump_entry``:
        not when a subclass changes how entries are written."""
        return _writes_whole_entries(self)

    def _jl_dump_entry(self, call_id, item, metadata, verbose=1):
        """Store ``metadata`` and ``item`` as a new entry folder renamed into
        place (see ``item_io.write_entry``); False (warned) on failure."""
        item_path = item_dir(self.location, call_id)
        if self._jl_read_only:
            return False  # said once already
        reporting.persisting(verbose, item_path)
        try:
            data = item_io.metadata_bytes(metadata)
            self._write_in_folder(item_path, item_io.write_entry, item, self.compress, data)
        except Exception as exc:  # reported as a CacheWarning: the value is kept
            if not self._note_read_only(exc):
                _warn_dump_failure(item_path, exc)
            return False
        return True

    def _write_in_folder(self, path: str, write: Any, *args) -> None:
        """Run ``write(path, ...)``, creating the folder of ``path`` as needed.

        Another process may delete the folder between its creation and the
        write (``reduce_size``, ``clear``); that race is retried.
        """
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                return write(path, *args)
            except FileNotFoundError:
                if attempt + 1 == _WRITE_ATTEMPTS:
                    raise
                create_directory(os.path.dirname(path))

# What a subclass of the local store overrides to change how entries are
# written; while it overrides none, Memory writes each new entry at once.
_ENTRY_PARTS = ("store_metadata", "dump_item", "create_location", "_write_result",
                "_write_bytes", "_write_in_folder", "_open_item", "_move_item")
_WHOLE_ENTRIES: dict = {}


def _writes_whole_entries(store) -> bool:
    cls = type(store)
    whole = _WHOLE_ENTRIES.get(cls)
    if whole is None:
        whole = _WHOLE_ENTRIES[cls] = all(
            getattr(cls, name) is getattr(FileSystemStoreBackend, name)
            for name in _ENTRY_PARTS
        )
    return whole and not (store.__dict__.keys() & _ENTRY_PARTS)


# Names joblib 1.6 imported into this module, still imported from here.
from . import numpy_pickle  # noqa: E402,F401
from .disk import memstr_to_bytes, mkdirp, rm_subdirs  # noqa: E402,F401
from .logger import format_time  # noqa: E402,F401

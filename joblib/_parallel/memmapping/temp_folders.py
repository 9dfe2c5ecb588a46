"""Where memmapped arrays are written, and how those folders go away.

One folder is used per *context* (one ``Parallel`` call, or one ``with
Parallel(...)`` block, or one pool).  Each folder is created lazily on the
first array written to it, registered with loky's resource tracker (so that it
is removed even when the parent process is killed), and deleted when its
context ends.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
import warnings
import weakref
from pickle import PicklingError
from uuid import uuid4

from loky.backend import resource_tracker

__all__ = [
    "SYSTEM_SHARED_MEM_FS",
    "SYSTEM_SHARED_MEM_FS_MIN_SIZE",
    "FOLDER_PERMISSIONS",
    "FILE_PERMISSIONS",
    "TEMP_FOLDER_PREFIX",
    "TemporaryResourcesManager",
    "resolve_temp_root",
]

# A RAM-backed file system found on most Linux systems: writing memmaps there
# never touches a disk.  These two are defaults: the values in use are
# joblib._memmapping_reducer's (see shared_mem_settings).
SYSTEM_SHARED_MEM_FS = "/dev/shm"

# /dev/shm is only chosen when it has more than this many bytes free (the
# same threshold as joblib 1.6): below that, a few large arrays could fill it.
SYSTEM_SHARED_MEM_FS_MIN_SIZE = int(2e9)

# Only the owner of the parent process may read the shared data.
FOLDER_PERMISSIONS = stat.S_IRUSR | stat.S_IWUSR | stat.S_IXUSR
FILE_PERMISSIONS = stat.S_IRUSR | stat.S_IWUSR

# Every per-context folder name starts with this (as in joblib 1.6); workers
# recognise temporary memmaps by it.
TEMP_FOLDER_PREFIX = "joblib_memmapping_folder_"

# Default of ``register_new_context``: use the manager's own root.
_MANAGER_ROOT = object()

# Resource type under which loky's resource tracker knows our folders.
_FOLDER_RTYPE = "folder"


def shared_mem_settings():
    """``(folder, min free bytes, os module)`` for the /dev/shm choice.

    Read at each use from ``joblib._memmapping_reducer``, their joblib 1.6
    home, where users and test suites patch them (including the module's
    ``os``, to fake ``statvfs``).
    """
    from ... import _memmapping_reducer as owner  # call-time: patchable globals

    return owner.SYSTEM_SHARED_MEM_FS, owner.SYSTEM_SHARED_MEM_FS_MIN_SIZE, owner.os


def _shared_mem_usable() -> bool:
    """True when /dev/shm exists, has enough free space and is writable."""
    folder, min_size, os_ = shared_mem_settings()
    if not hasattr(os_, "statvfs") or not os.path.isdir(folder):
        return False
    try:
        stats = os_.statvfs(folder)
    except OSError:
        return False
    if stats.f_bsize * stats.f_bavail <= min_size:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def resolve_temp_root(temp_folder: str | os.PathLike | None = None) -> tuple[str, bool]:
    """Return ``(root, use_shared_mem)``: the folder that holds memmap folders.

    The first of these wins: ``temp_folder``, the ``JOBLIB_TEMP_FOLDER``
    environment variable, ``/dev/shm`` (when it exists, is writable and has
    more than 2 GB free), then the system temporary folder (``TMPDIR``,
    ``TEMP``, ``TMP``, see :func:`tempfile.gettempdir`).
    """
    if temp_folder is None:
        temp_folder = os.environ.get("JOBLIB_TEMP_FOLDER") or None
    if temp_folder is not None:
        root = os.fspath(temp_folder)
        use_shared_mem = False
    elif _shared_mem_usable():
        root, use_shared_mem = shared_mem_settings()[0], True
    else:
        root, use_shared_mem = tempfile.gettempdir(), False
    return os.path.abspath(os.path.expanduser(root)), use_shared_mem


def _get_temp_dir(pool_folder_name: str, temp_folder=None) -> tuple[str, bool]:
    """joblib 1.6 helper: ``(path of pool_folder_name in the root, use_shared_mem)``."""
    root, use_shared_mem = resolve_temp_root(temp_folder)
    return os.path.join(root, pool_folder_name), use_shared_mem


def _delete_folder(folder: str) -> None:
    """Remove ``folder`` and its content; a missing folder is not an error."""
    # Ignoring only FileNotFoundError: a concurrent cleanup (atexit, the
    # resource tracker) may have removed part of it already.
    def onerror(func, path, exc_info):
        if not isinstance(exc_info[1], FileNotFoundError):
            raise exc_info[1]

    shutil.rmtree(folder, onerror=onerror)


class _WeakArrayKeyMap:
    """Map arrays (unhashable) to values by identity, without keeping them alive."""

    def __init__(self):
        self._data: dict = {}

    def get(self, obj):
        ref, value = self._data[id(obj)]
        if ref() is not obj:
            raise KeyError(obj)
        return value

    def set(self, obj, value) -> None:
        key = id(obj)
        data = self._data

        def forget(dead_ref, key=key):
            # A new array may already reuse the id: drop only our own entry.
            if data.get(key, (None,))[0] is dead_ref:
                del data[key]

        data[key] = (weakref.ref(obj, forget), value)

    def clear(self) -> None:
        self._data.clear()

    def __getstate__(self):
        raise PicklingError("_WeakArrayKeyMap is not picklable")


class _Context:
    """The temporary folder of one context and the arrays written in it."""

    __slots__ = ("folder", "written", "registered", "lock", "settings")

    def __init__(self, folder: str, settings: dict | None = None):
        self.folder = folder
        # Memmapping settings of this context (max_nbytes, mmap_mode, ...);
        # None: the reducer's own.  Per context, so that a reused executor
        # serves calls with other settings without restarting its workers.
        self.settings = settings
        # array -> (file name, order): the same array object sent to many
        # tasks of one call is written once.
        self.written = _WeakArrayKeyMap()
        self.registered = False
        self.lock = threading.Lock()


class TemporaryResourcesManager:
    """Per-context temporary folders for the memmaps of a pool or executor.

    Parameters
    ----------
    temp_folder_root : str, path-like or None
        Folder in which the per-context folders are created; None resolves it
        with :func:`resolve_temp_root` (``JOBLIB_TEMP_FOLDER``, ``/dev/shm``,
        then the system temporary folder).
    context_id : str or None
        The initial context; a random one when None.
    """

    def __init__(self, temp_folder_root=None, context_id: str | None = None):
        self._temp_folder_root = temp_folder_root
        self._id = uuid4().hex
        self._contexts: dict[str, _Context] = {}
        self._lock = threading.RLock()
        self._current_context_id = None
        # Runs when the manager is garbage collected or at interpreter exit,
        # whichever comes first, so folders of a pool that was never
        # terminated are still removed.  It must not reference ``self``.
        self._finalizer = weakref.finalize(self, _delete_all_folders, self._contexts, os.getpid())
        self.set_current_context(uuid4().hex if context_id is None else context_id)

    # ---- contexts ---------------------------------------------------------
    def set_current_context(self, context_id: str) -> None:
        """Make ``context_id`` the one whose folder new memmaps go to."""
        self.register_new_context(context_id)
        self._current_context_id = context_id

    def register_new_context(
        self, context_id: str, temp_folder_root=_MANAGER_ROOT, settings: dict | None = None
    ) -> None:
        """Prepare (without creating it) the folder of ``context_id``.

        ``temp_folder_root``, when given (None included), replaces the
        manager's root for this context only, and ``settings`` (a dict of
        ``max_nbytes``, ``mmap_mode``, ``verbose``, ``prewarm``) replace the
        reducer's, so that a reused executor honours each call's settings.
        """
        with self._lock:
            context = self._contexts.get(context_id)
            if context is not None:
                if settings is not None:
                    context.settings = settings
                return
            if temp_folder_root is _MANAGER_ROOT:
                temp_folder_root = self._temp_folder_root
            root, _ = resolve_temp_root(temp_folder_root)
            # The manager id keeps two executors serving the same Parallel
            # object (one replaced after a crash) from sharing a folder.
            name = "%s%d_%s_%s" % (TEMP_FOLDER_PREFIX, os.getpid(), self._id, context_id)
            self._contexts[context_id] = _Context(os.path.join(root, name), settings)

    def resolve_temp_folder_name(self) -> str:
        """Return the folder of the current context (it may not exist yet)."""
        return self._contexts[self._current_context_id].folder

    def current_context(self) -> _Context:
        """Return the record of the current context."""
        return self._contexts[self._current_context_id]

    # ---- folders ----------------------------------------------------------
    def ensure_folder(self, context: _Context) -> str:
        """Create the context's folder if needed and return its path."""
        with context.lock:
            if not context.registered:
                self._create_folder(context.folder)
                context.registered = True
        return context.folder

    def _create_folder(self, folder: str) -> None:
        # Registered before creation: if we are killed right after makedirs,
        # the tracker still knows about the folder.
        resource_tracker.register(folder, _FOLDER_RTYPE)
        try:
            os.makedirs(folder, mode=FOLDER_PERMISSIONS, exist_ok=True)
            os.chmod(folder, FOLDER_PERMISSIONS)
        except OSError as exc:
            resource_tracker.unregister(folder, _FOLDER_RTYPE)
            raise _folder_error(folder, exc) from exc

    def _clean_temporary_resources(
        self, context_id: str | None = None, force: bool = False, allow_non_empty: bool = False
    ) -> None:
        """Delete the folder of ``context_id`` (of every context when None).

        The folder goes with all its files: on POSIX, workers that still map
        one keep a valid mapping.  Where files still in use cannot be removed
        (Windows), the folder stays registered and the at-exit finalizer or
        the resource tracker removes it later.  ``force`` and
        ``allow_non_empty`` are accepted for joblib 1.6 compatibility: files
        are never reference-counted one by one here, so there is nothing to
        force.
        """
        with self._lock:
            ids = list(self._contexts) if context_id is None else [context_id]
            for cid in ids:
                context = self._contexts.get(cid)
                if context is not None:
                    self._clean_context(cid, context)

    def _clean_context(self, context_id: str, context: _Context) -> None:
        try:
            _clean_context_folder(context)
        except OSError:
            # Windows keeps mapped files busy: the finalizer or the resource
            # tracker removes the folder later.
            return
        if context_id != self._current_context_id:
            del self._contexts[context_id]


def _clean_context_folder(context: _Context) -> None:
    """Delete the folder of ``context`` (if created) and forget its arrays."""
    with context.lock:
        if context.registered:
            _delete_folder(context.folder)
            resource_tracker.unregister(context.folder, _FOLDER_RTYPE)
            context.registered = False
        context.written.clear()


class _ResolverContexts:
    """Contexts keyed by the folder a plain resolver callable returns.

    Used when reducers get a bare ``temp_folder_resolver`` (the joblib 1.6
    calling convention) instead of a :class:`TemporaryResourcesManager`: the
    caller then owns the folder and its removal.
    """

    def __init__(self, resolver):
        self._resolver = resolver
        self._contexts: dict[str, _Context] = {}

    def current_context(self) -> _Context:
        folder = os.fspath(self._resolver())
        context = self._contexts.get(folder)
        if context is None:
            context = self._contexts[folder] = _Context(folder)
        return context

    def ensure_folder(self, context: _Context) -> str:
        with context.lock:
            if not context.registered:
                try:
                    os.makedirs(context.folder, mode=FOLDER_PERMISSIONS, exist_ok=True)
                except OSError as exc:
                    raise _folder_error(context.folder, exc) from exc
                context.registered = True
        return context.folder


def _delete_all_folders(contexts: dict, owner_pid: int) -> None:
    """Remove every folder in ``contexts`` (at gc of a manager or at exit)."""
    if os.getpid() != owner_pid:
        # A forked child exiting normally must not delete its parent's data.
        return
    for context in list(contexts.values()):
        try:
            _clean_context_folder(context)
        except OSError as exc:
            # Exit must go on; the resource tracker gets another try.
            warnings.warn("Failed to delete temporary folder: %s (%r)" % (context.folder, exc))


def _folder_error(folder: str, exc: OSError) -> OSError:
    """An OSError naming the folder and the settings that change it."""
    return _same_kind_of_error(
        exc,
        "joblib could not create its temporary folder %r for memmapping large "
        "arrays: %s. Pass temp_folder=... (to Parallel or parallel_config) or "
        "set the JOBLIB_TEMP_FOLDER environment variable to a writable folder, "
        "or pass max_nbytes=None to disable memmapping." % (folder, exc.strerror or exc),
    )


def _same_kind_of_error(exc: OSError, message: str) -> OSError:
    """An error of ``exc``'s class and errno carrying ``message``."""
    if exc.errno is None:
        return type(exc)(message)
    return type(exc)(exc.errno, message)

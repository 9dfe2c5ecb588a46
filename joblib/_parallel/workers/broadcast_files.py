"""Files of :func:`joblib.broadcast` handles: the temporary folder, the
pickle written once per handle (large arrays as memory-mapped files) and
its loading in the workers."""

from __future__ import annotations

import os
import pickle
from collections import ChainMap

from ..._store.atomic import replace_on_success

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["create_folder", "remove_folder", "dump_shared", "load_shared"]

_RTYPE = "folder"


def create_folder(temp_folder: str | None, handle_id: str) -> str:
    """Create the handle's folder, registered with loky's resource tracker
    (which deletes it if this process dies without cleaning up)."""
    from loky.backend import resource_tracker  # lazy: loky loads only when a process pool is used

    # lazy: memmapping loads only for large broadcasts
    from ..memmapping.temp_folders import FOLDER_PERMISSIONS, resolve_temp_root

    root, _ = resolve_temp_root(temp_folder)
    folder = os.path.join(root, f"joblib_broadcast_{os.getpid()}_{handle_id}")
    resource_tracker.register(folder, _RTYPE)
    os.makedirs(folder, mode=FOLDER_PERMISSIONS, exist_ok=True)
    return folder


def remove_folder(folder: str) -> None:
    """Delete the folder (finalizer of the handle)."""
    from loky.backend import resource_tracker  # lazy: loky loads only when a process pool is used

    # lazy: memmapping loads only for large broadcasts
    from ..memmapping.temp_folders import _delete_folder

    try:
        _delete_folder(folder)
    finally:
        resource_tracker.unregister(folder, _RTYPE)


def dump_shared(obj: Any, path: str, max_nbytes, mmap_mode) -> None:
    """Pickle ``obj`` to ``path`` with cloudpickle; arrays above
    ``max_nbytes`` go to memory-mapped files of the same folder."""
    import cloudpickle  # lazy: cloudpickle only when dumping

    # lazy: memmapping loads only for large broadcasts
    from ..memmapping.forward import get_memmapping_reducers

    folder = os.path.dirname(path)
    reducers, _ = get_memmapping_reducers(
        temp_folder_resolver=lambda: folder, max_nbytes=max_nbytes,
        mmap_mode=mmap_mode)
    try:
        with replace_on_success(path, f"{path}.{os.getpid()}.tmp") as tmp:
            with open(tmp, "wb") as f:
                # The C pickler reads ``dispatch_table`` when it is created.
                pickler_class = type("SharedObjectPickler", (cloudpickle.Pickler,), {
                    "dispatch_table": ChainMap(reducers, cloudpickle.Pickler.dispatch_table)})
                pickler_class(f, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    except BaseException as exc:
        if isinstance(exc, Exception) and not isinstance(exc, OSError):
            raise pickle.PicklingError(
                f"joblib.broadcast could not pickle the shared object "
                f"{_describe(obj)}: {type(exc).__name__}: {exc}") from exc
        raise


def _describe(obj: Any) -> str:
    text = repr(obj)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} (type {type(obj).__module__}.{type(obj).__qualname__})"


def load_shared(path: str) -> Any:
    """Load a shared object in a worker."""
    with open(path, "rb") as f:
        return pickle.load(f)

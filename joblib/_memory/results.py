"""What a cached call hands back (:class:`MemorizedResult`) and the
stand-ins used when there is no cache (``Memory(location=None)``).

Users pickle these objects, so they are joblib 1.6's classes at the path
``joblib.memory`` (their ``__module__``), which re-exports them.
"""

from __future__ import annotations

from .._store.layout import check_call_id
from ..logger import Logger, pformat
from .store_factory import store_backend_factory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MemorizedResult", "NotMemorizedResult", "NotMemorizedFunc",
           "AsyncNotMemorizedFunc"]

_PUBLIC_MODULE = "joblib.memory"


class MemorizedResult(Logger):
    """Reference to a result stored in the cache (see ``call_and_shelve``).

    Parameters
    ----------
    location : str or store backend
        The store location (e.g. ``'<cachedir>/joblib'``) or the store.
    call_id : tuple of str
        ``(func_id, args_id)`` of the result.
    backend : str, default='local'
        Store backend used when ``location`` is a path.
    mmap_mode : {None, 'r+', 'r', 'w+', 'c'}
        Memory-map numpy arrays when loading.
    verbose : int, default=0
        Verbosity of ``get``.
    timestamp, metadata
        Internal use.
    func, args_id : str, optional
        Alternative to ``call_id``, so that ``eval(repr(result))`` works.

    Examples
    --------
    >>> import tempfile
    >>> from joblib import Memory
    >>> square = Memory(tempfile.mkdtemp(), verbose=0).cache(lambda x: x * x)
    >>> result = square.call_and_shelve(4)
    >>> result.get()
    16
    >>> result.clear()
    >>> result.get()
    Traceback (most recent call last):
    ...
    KeyError: ...
    """

    def __init__(
        self,
        location,
        call_id=None,
        backend="local",
        mmap_mode=None,
        verbose=0,
        timestamp=None,
        metadata=None,
        *,
        func=None,
        args_id=None,
    ):
        Logger.__init__(self)
        self._call_id = check_call_id(call_id, func, args_id)
        self.store_backend = store_backend_factory(
            backend,
            location,
            verbose=verbose,
            backend_options=dict(mmap_mode=mmap_mode),
        )
        self.mmap_mode = mmap_mode
        if metadata is None:
            metadata = self.store_backend.get_metadata(self._call_id)
        self.metadata = metadata
        self.duration = self.metadata.get("duration", None)
        self.verbose = verbose
        self.timestamp = timestamp

    @property
    def func(self) -> str:
        return self.func_id

    @property
    def func_id(self) -> str:
        return self._call_id[0]

    @property
    def args_id(self) -> str:
        return self._call_id[1]

    def get(self) -> Any:
        """Load the result from the cache.

        Returns
        -------
        object
            The cached value.

        Raises
        ------
        KeyError
            If the entry was cleared or cannot be read any more.
        """
        try:
            return self.store_backend.load_item(
                self._call_id,
                timestamp=self.timestamp,
                metadata=self.metadata,
                verbose=self.verbose,
            )
        except KeyError:
            raise
        except Exception as exc:  # re-raised as the KeyError of 1.6
            path = self.store_backend.get_item_info(self._call_id).get("location")
            raise KeyError(
                "Error while trying to load a MemorizedResult's value. "
                "It seems that this folder is corrupted : {}".format(path)
            ) from exc

    def clear(self) -> None:
        """Delete the result from the cache."""
        self.store_backend.clear_item(self._call_id)

    def __repr__(self) -> str:
        return '{}(location="{}", func="{}", args_id="{}")'.format(
            self.__class__.__name__, self.store_backend.location, *self._call_id
        )

    def __getstate__(self):
        state = self.__dict__.copy()
        state["timestamp"] = None
        return state


class NotMemorizedResult(object):
    """Holds a value where a :class:`MemorizedResult` would reference one."""

    __slots__ = ("value", "valid")

    def __init__(self, value):
        self.value = value
        self.valid = True

    def get(self):
        if self.valid:
            return self.value
        raise KeyError("No value stored.")

    def clear(self):
        self.valid = False
        self.value = None

    def __repr__(self):
        if self.valid:
            return "{}({})".format(self.__class__.__name__, pformat(self.value))
        return self.__class__.__name__ + " with no value"

    # Needed with __slots__, and the dict layout is joblib 1.6's.
    def __getstate__(self):
        return {"valid": self.valid, "value": self.value}

    def __setstate__(self, state):
        self.valid = state["valid"]
        self.value = state["value"]


class NotMemorizedFunc(object):
    """Stand-in for :class:`MemorizedFunc` when there is no cache.

    Same API; calls go straight to ``func`` and nothing is stored.
    """

    def __init__(self, func):
        self.func = func

    def __call__(self, *args, **kwargs):
        return self.func(*args, **kwargs)

    def call_and_shelve(self, *args, **kwargs):
        return NotMemorizedResult(self.func(*args, **kwargs))

    def __repr__(self):
        return "{0}(func={1})".format(self.__class__.__name__, self.func)

    def clear(self, warn=True):
        """Nothing to clear (``warn`` is accepted for API compatibility)."""

    def call(self, *args, **kwargs):
        return self.func(*args, **kwargs), {}

    def check_call_in_cache(self, *args, **kwargs):
        return False

    def stats(self):
        """All zero: nothing is cached (``Memory(location=None)``)."""
        return dict.fromkeys(
            ("hits", "misses", "stores", "failed_loads", "time_saved", "entries",
             "bytes"), 0)


class AsyncNotMemorizedFunc(NotMemorizedFunc):
    """Stand-in for :class:`AsyncMemorizedFunc` when there is no cache."""

    async def call_and_shelve(self, *args, **kwargs):
        return NotMemorizedResult(await self.func(*args, **kwargs))


for _cls in (MemorizedResult, NotMemorizedResult, NotMemorizedFunc, AsyncNotMemorizedFunc):
    # Pickles and reprs name the public path, as joblib 1.6's did.
    _cls.__module__ = _PUBLIC_MODULE
del _cls

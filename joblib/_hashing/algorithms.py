"""The hash algorithms :func:`joblib.hash` accepts, and their registry.

An algorithm is a *factory*: a callable taking no argument that returns a
fresh hash object with ``update(bytes_like)`` and ``hexdigest()`` (the
:mod:`hashlib` protocol).  ``update`` receives ``memoryview`` objects over
numpy array memory, so it must accept any buffer-protocol object.

Built in: ``md5`` (the default, digests unchanged from joblib 1.6),
``sha1`` and ``blake2b`` from :mod:`hashlib`, and ``xxh3`` / ``xxh128``
from the optional :mod:`xxhash` package (extra ``joblib[fast]``), imported
only when one of them is first used.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Callable

__all__ = ["BUILTIN_NAMES", "hash_factory", "hash_names", "new_hash", "register_hash"]

HashFactory = Callable[[], Any]


def _hashlib_factory(name: str) -> HashFactory:
    # The named constructor: hashlib.new(name) costs a microsecond more,
    # which shows in Memory's hits (one digest each).
    constructor = getattr(hashlib, name)

    def factory():
        # usedforsecurity=False: md5/sha1 stay usable on FIPS builds.
        return constructor(usedforsecurity=False)

    factory.__qualname__ = factory.__name__ = "hashlib_" + name
    return factory


def _xxhash_factory(hash_name: str, attribute: str) -> HashFactory:
    constructor = []  # xxhash's class, once imported

    def factory():
        if not constructor:
            try:
                import xxhash  # optional dependency (joblib[fast])
            except ImportError as exc:
                # ValueError, as joblib 1.6 raises for a name it does not know.
                raise ValueError(
                    "hash_name=%r needs the optional xxhash package; install "
                    'it with: pip install "joblib[fast]"' % hash_name
                ) from exc
            constructor.append(getattr(xxhash, attribute))
        return constructor[0]()

    factory.__qualname__ = factory.__name__ = "xxhash_" + attribute
    return factory


# Order matters: it is the order of the names in error messages.
_BUILTIN = {
    "md5": _hashlib_factory("md5"),
    "sha1": _hashlib_factory("sha1"),
    "blake2b": _hashlib_factory("blake2b"),
    "xxh3": _xxhash_factory("xxh3", "xxh3_64"),
    "xxh128": _xxhash_factory("xxh128", "xxh3_128"),
}
BUILTIN_NAMES = tuple(_BUILTIN)

_FACTORIES: dict[str, HashFactory] = dict(_BUILTIN)
_LOCK = threading.Lock()


def hash_names() -> tuple:
    """Return the accepted ``hash_name`` values, built-in ones first."""
    return tuple(_FACTORIES)


def hash_factory(hash_name: str) -> HashFactory:
    """Return the factory registered as ``hash_name``.

    Raises
    ------
    ValueError
        If ``hash_name`` is not registered; the message starts with joblib
        1.6's (``Valid options for 'hash_name' are ...``).
    """
    try:
        return _FACTORIES[hash_name]
    except (KeyError, TypeError):  # TypeError: unhashable hash_name
        raise ValueError(
            "Valid options for 'hash_name' are {}. Got hash_name={!r} "
            "instead.".format(hash_names(), hash_name)
        ) from None


def new_hash(hash_name: str):
    """Return a new hash object for ``hash_name``.

    Names that are not registered go to :func:`hashlib.new`, as the
    ``Hasher`` classes of joblib 1.6 did (``Hasher(hash_name="sha256")``
    works there); :func:`joblib.hash` checks names with :func:`hash_factory`.
    """
    factory = _FACTORIES.get(hash_name) if isinstance(hash_name, str) else None
    if factory is None:
        return hashlib.new(hash_name, usedforsecurity=False)
    return factory()


def register_hash(name: str, factory: HashFactory, force: bool = False) -> None:
    """Make ``factory`` available as ``joblib.hash(obj, hash_name=name)``.

    Parameters
    ----------
    name : str
        The new ``hash_name``.  The built-in names (``md5``, ``sha1``,
        ``blake2b``, ``xxh3``, ``xxh128``) cannot be replaced: caches rely on
        their digests.
    factory : callable
        Called without arguments for every digest; returns a new object with
        ``update(data)`` (``data`` is ``bytes`` or a ``memoryview``) and
        ``hexdigest() -> str``, as :mod:`hashlib` objects do.  It is called
        once here to check it.
    force : bool, default=False
        Replace a name registered before by ``register_hash``.

    Raises
    ------
    ValueError
        If ``name`` is not a non-empty string, is built in, or is already
        registered and ``force`` is False.
    TypeError
        If ``factory`` is not callable or does not return a hash object.

    Notes
    -----
    A digest is only as strong as its algorithm: a short non-cryptographic
    hash makes cache keys that can collide.  The registration lasts for the
    process; worker processes that hash must register the name as well.

    Examples
    --------
    >>> import hashlib
    >>> import joblib
    >>> joblib.register_hash("sha3_256", hashlib.sha3_256, force=True)
    >>> len(joblib.hash([1, 2, 3], hash_name="sha3_256"))
    64
    """
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string; got %r." % (name,))
    if name in _BUILTIN:
        raise ValueError(
            "%r is a built-in hash algorithm and cannot be replaced; choose "
            "another name." % name
        )
    _check_factory(factory)
    with _LOCK:
        if name in _FACTORIES and not force:
            raise ValueError(
                "A hash algorithm is already registered as %r; pass force=True "
                "to replace it." % name
            )
        _FACTORIES[name] = factory


def _check_factory(factory) -> None:
    """Raise TypeError unless ``factory()`` returns a hashlib-like object."""
    if not callable(factory):
        raise TypeError(
            "factory must be a callable returning a hash object; got %r." % (factory,)
        )
    probe = factory()
    missing = [
        method
        for method in ("update", "hexdigest")
        if not callable(getattr(probe, method, None))
    ]
    if missing:
        raise TypeError(
            "factory() must return an object with update() and hexdigest() "
            "methods; %r has no %s." % (probe, " or ".join(missing))
        )

"""The one parser of the ``compress`` option, shared by dump and Memory.

Accepted values (as in joblib 1.6):

* ``0``/``False``: no compression, unless the file extension names a
  compressor, which is then used at its default level;
* ``True``: the default compressor (zlib, or the one the extension names) at
  its default level;
* an int from 1 to 9: that level, with zlib or the extension's compressor;
* a registered method name such as ``"lz4"``: that method, default level;
* a ``(method, level)`` tuple: exactly that, whatever the extension (a level
  of 0 means no compression).
"""

from __future__ import annotations

import os

from ..compressor import _COMPRESSORS

__all__ = ["resolve_compress", "DEFAULT_METHOD"]

DEFAULT_METHOD = "zlib"
_LEVELS = range(10)


class _CompressTypeError(TypeError, ValueError):
    """Wrong type for ``compress``.

    Also a ValueError because joblib 1.6 raised ValueError for every bad
    ``compress`` value and callers may catch that.
    """


def resolve_compress(compress, filename=None) -> tuple[str | None, int | None]:
    """Turn a ``compress`` argument into ``(method, level)``.

    Parameters
    ----------
    compress : bool, int, str or tuple
        The value given to ``dump(compress=...)`` or ``Memory(compress=...)``.
    filename : str or os.PathLike, optional
        Destination path; its extension (``.z``, ``.gz``, ``.bz2``, ``.lzma``,
        ``.xz``, ``.lz4``, ``.zst`` or a registered one) picks the compressor
        unless a method is named explicitly.

    Returns
    -------
    method : str or None
        Registered compressor name, or None for an uncompressed file.
    level : int or None
        Compression level; None means the compressor's own default; 0 when
        ``method`` is None.

    Raises
    ------
    TypeError
        ``compress`` (or the level in a tuple) has the wrong type; the
        exception is also a ValueError, as in joblib 1.6.
    ValueError
        Unknown method, level outside 0-9, tuple of the wrong length, or a
        method whose package is not installed (lz4, zstd).

    Examples
    --------
    >>> resolve_compress(3)
    ('zlib', 3)
    >>> resolve_compress(0, "data.pkl.gz")
    ('gzip', None)
    >>> resolve_compress(("lzma", 0))
    (None, 0)
    >>> resolve_compress(("zlib", 12))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Non valid compress level given: "12". Possible values are [0, ...
    """
    explicit_method, level = _split(compress)
    _check_level(level)
    if explicit_method is not None:
        _check_method(explicit_method)
        return (explicit_method, level) if level != 0 else (None, 0)
    method = _method_from_extension(filename)
    if method is not None:
        _check_method(method)
        return method, (None if level == 0 else level)
    return (None, 0) if level == 0 else (DEFAULT_METHOD, level)


def _split(compress):
    """Return ``(explicit method or None, level or None)``."""
    if compress is True:
        return None, None
    if compress is False or compress is None:
        return None, 0
    if isinstance(compress, str):
        return compress, None
    if isinstance(compress, tuple):
        if len(compress) != 2:
            raise ValueError(
                "Compress argument tuple should contain exactly 2 elements: "
                "(compress method, compress level), you passed %s" % (compress,)
            )
        method, level = compress
        if not isinstance(method, str):
            raise _CompressTypeError(
                "The compress method in the tuple should be a str, got %r "
                "(type %s)" % (method, type(method).__name__)
            )
        return method, (0 if level is False else level)
    if isinstance(compress, int):
        return None, compress
    raise _CompressTypeError(
        "compress should be a bool, an int from 0 to 9, a method name or a "
        "(method, level) tuple, got %r (type %s)"
        % (compress, type(compress).__name__)
    )


def _check_level(level) -> None:
    if level is None:
        return
    # The message starts with joblib 1.6's (value in double quotes).
    if isinstance(level, bool) or not isinstance(level, int):
        raise _CompressTypeError(_level_message(level))
    if level not in _LEVELS:
        raise ValueError(_level_message(level))


def _level_message(level) -> str:
    return (
        'Non valid compress level given: "%s". Possible values are %s. '
        "Expected an int from 0 to 9, got %r (type %s)."
        % (level, list(range(10)), level, type(level).__name__)
    )


def _registry() -> dict:
    # register_compressor mutates this dict in place: it is always current.
    return _COMPRESSORS


def _check_method(method: str) -> None:
    registry = _registry()
    if method not in registry:
        raise ValueError(
            'Non valid compression method given: "%s". Possible values are %s.'
            % (method, sorted(registry))
        )
    check = getattr(registry[method], "_check_versions", None)
    if check is not None:
        check()  # e.g. raises "pip install lz4" when the package is missing


def _method_from_extension(filename) -> str | None:
    """Name of the compressor whose extension ends ``filename``, if any."""
    if filename is None or not isinstance(filename, (str, os.PathLike)):
        return None
    filename = os.fspath(filename)
    if not isinstance(filename, str):
        return None
    found = None
    for name, wrapper in _registry().items():
        extension = getattr(wrapper, "extension", "")
        # An empty extension would match every file name.
        if extension and filename.endswith(extension):
            found = name  # the last registered match wins, as in joblib 1.6
    return found

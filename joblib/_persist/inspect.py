"""``joblib.inspect_file``: what a file holds, without unpickling it."""

from __future__ import annotations

import io
import os

from .companions import scan_companions
from .file_io import detect_compressor, open_for_read
from .scan import ScanError, ScanResult, scan_stream, stream_size
from .trust import TrustPolicy

__all__ = ["inspect_file", "scan_file"]


def _open_error(filename, reason) -> ScanError:
    return ScanError(
        "Could not inspect %r: the file is truncated, corrupted or not a "
        "joblib/pickle file (%s)" % (filename, reason)
    )


def scan_file(filename: str):
    """Scan ``filename`` (any joblib or pickle file); return (compressor, result).

    Raises
    ------
    ScanError
        The file is truncated, corrupted or not a pickle.
    """
    with open(filename, "rb") as raw:
        compressor = detect_compressor(raw)
        try:
            result = _scan_opened(raw, filename, compressor)
        except ScanError as exc:
            raise _open_error(filename, exc) from exc
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except Exception as exc:  # decompressors' own errors (zlib, lzma...)
            raise _open_error(filename, "%s: %s" % (type(exc).__name__, exc)) from exc
    return compressor, result


def _scan_opened(raw, filename, compressor):
    trailing = False
    if compressor == "compat":
        from ..numpy_pickle_compat import read_zfile  # lazy: 0.9-era files only

        data = read_zfile(raw)
        result = scan_stream(io.BytesIO(data), len(data))
    else:
        with open_for_read(raw, filename) as (fobj, _):
            size = stream_size(fobj) if fobj is raw else None
            result = scan_stream(fobj, size)
            trailing = _has_trailing_bytes(fobj, size)
    scan_companions(result, os.path.dirname(filename))
    result.trailing = trailing
    return result


def _has_trailing_bytes(fobj, size) -> bool:
    if size is not None:
        return fobj.tell() < size
    return bool(fobj.read(1))


def inspect_file(filename: "str | os.PathLike[str]") -> dict:
    """Describe a joblib (or plain pickle) file without running any of it.

    The file is read as pickle opcodes only: no module it names is
    imported, no function it names is called. Array bytes are skipped
    (a seek in an uncompressed file), so the time depends on the size of
    the pickle, not on the size of the arrays.

    Parameters
    ----------
    filename : str or os.PathLike
        A file written by :func:`joblib.dump` (any joblib version, any
        compressor) or by :func:`pickle.dump`.

    Returns
    -------
    dict
        JSON-serialisable report:

        ``filename``, ``size`` (bytes on disk), ``compressor`` (a registered
        name, ``"not-compressed"``, or ``"compat"`` for the zfile format of
        joblib < 0.9.3), ``protocol`` (highest pickle protocol), ``format``
        (``"joblib"`` when arrays are stored the joblib way, ``"pickle"``
        otherwise), ``globals`` (``{"module.name": count}``: every global the
        file would import, with the number of times it is named),
        ``arrays`` (one dict per array: ``dtype``, ``shape``, ``order``,
        ``bytes``, ``offset`` in the uncompressed stream, ``subclass``;
        joblib < 0.10 companion files add ``companion``), ``array_bytes``,
        ``pickle_opcodes`` and ``needs_trust`` (the globals that
        ``load(filename, trusted=[])`` would refuse).

    Raises
    ------
    pickle.UnpicklingError
        The file is truncated, corrupted or not a pickle (the message says
        which file and why).
    FileNotFoundError, IsADirectoryError
        ``filename`` does not name a file.

    Examples
    --------
    >>> import os, tempfile
    >>> import joblib
    >>> path = os.path.join(tempfile.mkdtemp(), "data.pkl")
    >>> _ = joblib.dump({"a": [1, 2]}, path)
    >>> report = joblib.inspect_file(path)
    >>> report["compressor"], report["globals"], report["arrays"]
    ('not-compressed', {}, [])
    """
    filename = os.fsdecode(os.fspath(filename))
    compressor, result = scan_file(filename)
    return _report(filename, compressor, result)


def _report(filename: str, compressor: str, result: ScanResult) -> dict:
    arrays = result.arrays
    joblib_format = any(
        name.startswith("joblib.numpy_pickle") for name in result.globals
    )
    return {
        "filename": filename,
        "size": os.path.getsize(filename),
        "compressor": compressor,
        "protocol": result.protocol,
        "format": "joblib" if joblib_format else "pickle",
        "globals": dict(sorted(result.globals.items())),
        "arrays": arrays,
        "array_bytes": sum(a.get("bytes") or 0 for a in arrays),
        "pickle_opcodes": result.opcodes,
        "trailing_bytes": bool(getattr(result, "trailing", False)),
        "needs_trust": TrustPolicy([]).untrusted(result.globals),
    }

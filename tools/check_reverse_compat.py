"""Check that files written by this joblib load in real joblib 1.6, and back.

Usage (from the repository root)::

    python tools/check_reverse_compat.py [--ref-python /work/refvenv/bin/python]

The reference interpreter must have ``joblib==1.6.0`` and numpy installed
(lz4 optional). The script:

1. dumps a broad set of objects (every dtype family, memory orders, views,
   0-d/empty/big-endian/object arrays, nested containers, an estimator-like
   object, shared references, each compressor, several pickle protocols,
   file objects) with THIS package into a temporary directory;
2. runs itself in the reference interpreter, which loads every file with
   real joblib 1.6 (also memory-mapped where possible) and compares it with
   the same objects rebuilt there;
3. does the reverse: the reference dumps the same cases and this package
   loads them;

and prints one line per failure plus a pass/fail summary. Exit code 0 means
every case passed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


class Estimator:
    """A scikit-learn-like object holding arrays in its attributes."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, np):
        self.coef_ = np.linspace(0, 1, 12).reshape(3, 4)
        self.classes_ = np.array(["a", "b", "c"])
        self.n_iter_ = np.int64(7)
        self.history_ = [np.arange(3), {"loss": np.float32(0.5)}]
        return self

    def __eq__(self, other):
        return type(other) is type(self) and _equal(self.__dict__, other.__dict__)


def _arrays(np):
    """name -> array covering dtypes, orders and layouts."""
    base = np.arange(24).reshape(4, 6)
    cases = {
        "structured": np.array(
            [(1, 2.5, "ab"), (3, -1.0, "xyz")],
            dtype=[("a", "<i4"), ("b", ">f8"), ("c", "U3")],
        ),
        "datetime": np.array(["2020-01-01T00:00", "NaT"], dtype="M8[ns]"),
        "timedelta": np.array([1, -5, 0], dtype="m8[s]"),
        "unicode": np.array(["", "héllo", "wörld!"]),
        "bytes": np.array([b"a", b"bcd", b""]),
        "object": np.array([1, "two", None, {"k": [3]}], dtype=object),
        "fortran": np.asfortranarray(base.astype(np.float64)),
        "c_order": base.astype(np.float32).copy(),
        "view": base[::2, 1::2],
        "transposed_view": base.T[1:, ::-1],
        "zero_d": np.array(3.5),
        "empty": np.empty((0, 3), dtype=np.int16),
        "big_endian_i4": np.arange(5, dtype=">i4"),
        "big_endian_f8": np.linspace(0, 1, 5).astype(">f8"),
        "matrix": np.matrix([[1, 2], [3, 4]]),
        "large": np.random.RandomState(0).random_sample(300_000),
        "bool": np.array([True, False, True]),
    }
    for name in (
        "int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 "
        "float64 longdouble complex64 complex128 clongdouble"
    ).split():
        cases[name] = (np.arange(7) - 3).astype(name)
    return cases


def build_cases(np):
    """name -> object, identical in both interpreters."""
    arrays = _arrays(np)
    shared = np.arange(4.0)
    cases = {"array_" + k: v for k, v in arrays.items()}
    cases.update(
        {
            "plain_objects": [{"i": i, "s": str(i)} for i in range(2000)],
            "nested": {"t": (arrays["fortran"], [arrays["view"], {"z": arrays["zero_d"]}])},
            "estimator": Estimator(alpha=0.3).fit(np),
            "shared_refs": [shared, shared, {"again": shared}],
            "all_arrays": list(arrays.values()),
        }
    )
    return cases


# (file suffix, compress argument, protocol)
SETTINGS = [
    ("pkl", 0, None),
    ("pkl", 3, None),
    ("pkl", True, None),
    ("pkl", "gzip", None),
    ("pkl", ("bz2", 1), None),
    ("pkl", ("lzma", 1), None),
    ("pkl", "xz", None),
    ("pkl", "lz4", None),
    ("pkl", ("zlib", 9), None),
    ("pkl.gz", 0, None),
    ("pkl.z", 0, None),
    ("pkl.bz2", 0, None),
    ("pkl", 0, 2),
    ("pkl", 0, 3),
    ("pkl", 0, 5),
    ("pkl", 3, 5),
]


def _equal(a, b) -> bool:
    import numpy as np

    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        # Loading byte-swaps to the host order unless memory-mapping.
        native = (a.dtype.newbyteorder("="), b.dtype.newbyteorder("="))
        if native[0] != native[1] or a.shape != b.shape:
            return False
        if a.dtype.hasobject:
            return all(_equal(x, y) for x, y in zip(a.ravel(), b.ravel()))
        if a.dtype.kind in "fc" or a.dtype.kind in "mM":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        same_kind = type(a) is type(b)
        return same_kind and len(a) == len(b) and all(map(_equal, a, b))
    return type(a) is type(b) and a == b


def _file_name(name, i, suffix):
    return "%s__%02d.%s" % (name, i, suffix)


def dump_all(directory, joblib, np) -> list:
    """Dump every (case, setting) into ``directory``; return the file names."""
    have_lz4 = _have_lz4()
    written = []
    for name, obj in build_cases(np).items():
        for i, (suffix, compress, protocol) in enumerate(SETTINGS):
            if compress == "lz4" and not have_lz4:
                continue
            fname = _file_name(name, i, suffix)
            joblib.dump(obj, os.path.join(directory, fname), compress=compress,
                        protocol=protocol)
            written.append(fname)
        buf = io.BytesIO()  # a file object target
        joblib.dump(obj, buf)
        fname = _file_name(name, 99, "fileobj.pkl")
        with open(os.path.join(directory, fname), "wb") as f:
            f.write(buf.getvalue())
        written.append(fname)
    return written


def _have_lz4() -> bool:
    try:
        import lz4.frame  # noqa: F401
    except ImportError:
        return False
    return True


def verify_all(directory, joblib, np) -> list:
    """Load every file of ``directory``; return a list of failure strings."""
    import warnings

    expected = build_cases(np)
    failures = []
    for fname in sorted(os.listdir(directory)):
        name = fname.split("__")[0]
        path = os.path.join(directory, fname)
        modes = [None, "r"] if _is_uncompressed(fname) else [None]
        for mmap_mode in modes:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    got = joblib.load(path, mmap_mode=mmap_mode)
                ok = _equal(expected[name], got)
            except Exception as exc:  # reported, not raised: we want them all
                ok, got = False, "%s: %s" % (type(exc).__name__, exc)
            if not ok:
                failures.append("%s (mmap_mode=%s): got %.200r" % (fname, mmap_mode, got))
    return failures


def _is_uncompressed(fname) -> bool:
    index = int(fname.split("__")[1].split(".")[0])
    return index == 99 or SETTINGS[index][1] == 0 and SETTINGS[index][0] == "pkl"


def _child_main(args) -> int:
    """Run inside either interpreter: dump or verify with its own joblib."""
    import numpy as np

    if REPO in sys.path:
        sys.path.remove(REPO)
    if args.use_repo:
        sys.path.insert(0, REPO)
    import joblib

    if args.dump:
        dump_all(args.dump, joblib, np)
        print(json.dumps({"joblib": joblib.__version__}))
        return 0
    failures = verify_all(args.verify, joblib, np)
    print(json.dumps({"joblib": joblib.__version__, "failures": failures,
                      "files": len(os.listdir(args.verify))}))
    return 0


def _run_child(python, mode, directory, use_repo):
    cmd = [python, os.path.abspath(__file__), mode, directory]
    if use_repo:
        cmd.append("--use-repo")
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=tempfile.gettempdir())
    if out.returncode:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), out.stderr))
    return json.loads(out.stdout.strip().splitlines()[-1])


def _direction(title, dump_python, dump_repo, load_python, load_repo) -> int:
    with tempfile.TemporaryDirectory() as directory:
        writer = _run_child(dump_python, "--dump", directory, dump_repo)
        result = _run_child(load_python, "--verify", directory, load_repo)
    for failure in result["failures"]:
        print("FAIL [%s] %s" % (title, failure))
    print("%s (written by joblib %s, loaded by joblib %s): %d files, %d failures"
          % (title, writer["joblib"], result["joblib"], result["files"],
             len(result["failures"])))
    return len(result["failures"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref-python", default="/work/refvenv/bin/python")
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    parser.add_argument("--verify", help=argparse.SUPPRESS)
    parser.add_argument("--use-repo", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dump or args.verify:
        return _child_main(args)
    failures = _direction("ours -> joblib 1.6", sys.executable, True,
                          args.ref_python, False)
    failures += _direction("joblib 1.6 -> ours", args.ref_python, False,
                           sys.executable, True)
    print("PASS" if not failures else "FAIL: %d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""dump/load of plain Python objects must work, and import, without numpy."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env=env,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_persistence_without_numpy(tmp_path):
    out = _run(
        """
        import sys
        sys.modules["numpy"] = None  # any "import numpy" now fails
        import io, joblib
        from joblib import numpy_pickle, compressor, numpy_pickle_utils, backports
        obj = {"a": [1, 2.5, "x"], "b": (None, b"raw")}
        for compress in (0, 3, "gzip", "xz"):
            path = %r + "/o.pkl"
            joblib.dump(obj, path, compress=compress)
            assert joblib.load(path) == obj
        buf = io.BytesIO()
        joblib.dump(obj, buf)
        buf.seek(0)
        assert joblib.load(buf) == obj
        print("ok")
        """
        % str(tmp_path)
    )
    assert out.strip() == "ok"


def test_importing_persistence_does_not_import_numpy():
    out = _run(
        """
        import sys, joblib
        from joblib import numpy_pickle, compressor, numpy_pickle_compat
        import joblib._persist.options
        print("numpy" in sys.modules, "lz4" in sys.modules)
        """
    )
    assert out.split() == ["False", "False"]

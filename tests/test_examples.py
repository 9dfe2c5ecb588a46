"""Every script in ``examples/`` runs to completion.

The scripts are discovered by glob, so an example added later is covered.
Each one runs in a fresh interpreter, with the checkout's ``joblib`` first on
the path and a private temporary directory, and must exit with status 0.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.py")))

# An example may rely on an optional third-party package (dask, for one).
# When that package is missing the example cannot run here: skip, naming it.
_MISSING = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")


def test_examples_are_discovered():
    names = {os.path.basename(p) for p in EXAMPLES}
    assert {"quickstart.py", "parallel_progress.py", "memory_basic_usage.py",
            "nested_parallel_memory.py", "compressors_comparison.py"} <= names


@pytest.mark.parametrize(
    "script", EXAMPLES, ids=[os.path.basename(p) for p in EXAMPLES]
)
def test_example_runs(script, tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    env["TMPDIR"] = str(tmp_path)
    env["PYTHONWARNINGS"] = "default"
    proc = subprocess.run([sys.executable, script], capture_output=True,
                          text=True, timeout=120, env=env, cwd=str(tmp_path))
    if proc.returncode != 0:
        missing = _MISSING.search(proc.stderr)
        if missing and missing.group(1).split(".")[0] not in ("joblib",):
            pytest.skip("optional dependency %r is not installed"
                        % missing.group(1))
    assert proc.returncode == 0, (
        "%s exited with %d\nstdout:\n%s\nstderr:\n%s"
        % (os.path.basename(script), proc.returncode, proc.stdout[-3000:],
           proc.stderr[-5000:])
    )
    assert proc.stdout.strip(), "an example should show what it did"

"""Peak-memory checks: dump and load stream arrays without full-size copies.

Each measurement runs in a fresh interpreter and reads VmHWM (peak resident
set) from /proc/self/status, so the bounds are loose but meaningful.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("numpy")
pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/self/status"), reason="needs Linux /proc"
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MB = 1024**2
ARRAY_MB = 200

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import joblib

    def peak():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024

    mode, path, compress = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "dump":
        arr = np.ones(%d * 1024**2 // 8)
        before = peak()
        joblib.dump({"arr": arr, "meta": "x"}, path, compress=compress)
    else:
        import numpy  # baseline includes numpy, as for the dump
        before = peak()
        arr = joblib.load(path)["arr"]
        assert arr.shape == (%d * 1024**2 // 8,) and arr[-1] == 1.0
    print(json.dumps({"growth": peak() - before}))
    """
    % (ARRAY_MB, ARRAY_MB)
)


def _growth(mode, path, compress):
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, str(path), str(compress)],
        capture_output=True, text=True, env=env, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["growth"]


@pytest.mark.parametrize("compress", [0, 1])
def test_dump_and_load_peak_memory(tmp_path, compress):
    path = tmp_path / "big.pkl"
    # Dump: the array already exists; only bounded buffers may be added.
    assert _growth("dump", path, compress) < 64 * MB
    # Load: the array itself plus bounded buffers, no second full copy.
    assert _growth("load", path, compress) < (ARRAY_MB + 64) * MB

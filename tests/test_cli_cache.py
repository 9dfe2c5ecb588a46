"""``python -m joblib cache``: listing, --reduce-size, --clear."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from joblib import Memory


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run([sys.executable, "-m", "joblib", "cache", *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def cache(tmp_path):
    code = (
        "import joblib\n"
        "m = joblib.Memory(%r, verbose=0, record_stats=True)\n"
        "f = m.cache(abs); f(-1); f(-2); f(-1)\n"
        "g = m.cache(pow); g(2, 3)\n" % str(tmp_path)
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
    return str(tmp_path)


def test_lists_functions_entries_and_recorded_stats(cache):
    proc = _cli(cache, "--json")
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)["functions"]
    assert set(listing) == {"builtins/abs", "builtins/pow"}
    abs_row = listing["builtins/abs"]
    assert abs_row["entries"] == 2 and abs_row["bytes"] > 0
    assert (abs_row["hits"], abs_row["misses"], abs_row["stores"]) == (1, 2, 2)
    assert abs_row["last_access"]
    table = _cli(cache).stdout
    assert "builtins/abs" in table and "2 functions, 3 results" in table


def test_clear_and_reduce_size(cache):
    proc = _cli(cache, "--clear", "pow", "--json")
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)["functions"]
    assert listing.get("builtins/pow", {"entries": 0})["entries"] == 0
    proc = _cli(cache, "--reduce-size", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["functions"]["builtins/abs"]["entries"] == 0
    memory = Memory(cache, verbose=0)
    assert not memory.cache(abs).check_call_in_cache(-1)


def test_bad_input(cache, tmp_path):
    proc = _cli(cache, "--clear", "nope")
    assert proc.returncode == 2 and "no such function" in proc.stderr
    assert "builtins/abs" in proc.stderr
    proc = _cli(str(tmp_path / "missing"))
    assert proc.returncode == 2 and "no cache at" in proc.stderr
    proc = _cli(cache, "--reduce-size", "lots")
    assert proc.returncode == 2 and "lots" in proc.stderr

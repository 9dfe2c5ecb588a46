"""Smoke test of the benchmark suite (``python -m benchmarks``).

Runs the real runner at a tiny scale on a few workloads, in a subprocess,
and checks the shape of what it reports.  It never looks at speed: numbers
are only checked to be positive and finite.  The workloads verify their own
results, so a broken ``Parallel``/``dump``/``hash``/``Memory`` shows up
here as a reported error.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMOKE_METRICS = ["par_tiny_seq", "dump_objects", "load_objects",
                 "hash_objects", "mem_hit_small"]
ONLY = "^(" + "|".join(SMOKE_METRICS) + ")$"


def _run_suite(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-m", "benchmarks", *args],
                          cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """One tiny compare-mode run: this package against a copy of itself."""
    out = tmp_path_factory.mktemp("bench") / "results.json"
    done = _run_suite("--only", ONLY, "--scale", "0.01", "--rounds", "1",
                      "--compare-repo", REPO, "--json", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out) as handle:
        return json.load(handle), done


def test_results_are_valid_json_with_expected_metrics(compared):
    doc, _ = compared
    assert doc["suite"] == "joblib-benchmarks"
    assert doc["settings"]["scale"] == 0.01
    assert set(doc["sides"]) == {"project", "reference"}
    names = [entry["name"] for entry in doc["metrics"]]
    assert sorted(names) == sorted(SMOKE_METRICS)
    units = {entry["name"]: entry["unit"] for entry in doc["metrics"]}
    assert units["par_tiny_seq"] == "tasks/s"
    assert units["hash_objects"] == "s"


def test_every_metric_has_a_value_on_both_sides(compared):
    doc, done = compared
    for entry in doc["metrics"]:
        for side in ("project", "reference"):
            report = entry[side]
            assert report["errors"] == [], (entry["name"], side,
                                            report["errors"])
            value = report["value"]
            assert isinstance(value, float) and math.isfinite(value), entry
            assert value > 0 and report["runs"], entry
        assert entry["ratio"] is not None and entry["ratio"] > 0
    # Both sides ran the same code: joblib.hash must agree.
    hashes = [e for e in doc["metrics"] if e["name"] == "hash_objects"]
    assert hashes[0]["digest_match"] is True
    assert "bench: " in done.stdout and "of 5 metrics" in done.stdout


def test_each_side_imported_its_own_snapshot(compared):
    doc, _ = compared
    files = {key: side["joblib_file"] for key, side in doc["sides"].items()}
    # Snapshots live in the run's scratch folder, never in the checkout.
    for where in files.values():
        assert not where.startswith(os.path.join(REPO, "joblib")), files
    assert files["project"] != files["reference"]


def test_list_and_bad_pattern():
    listed = _run_suite("--list", timeout=60)
    assert listed.returncode == 0, listed.stderr
    for name in SMOKE_METRICS + ["par_bigarray", "mem_reduce_size"]:
        assert name in listed.stdout
    bad = _run_suite("--only", "^no_such_metric$", timeout=60)
    assert bad.returncode == 2
    assert "matches no group or metric" in bad.stderr


def test_ratio_orientation():
    from benchmarks.compare import combine_side, ratio

    assert ratio(200.0, 100.0, "higher") == 2.0  # more throughput: better
    assert ratio(0.5, 1.0, "lower") == 2.0  # half the time: better
    assert ratio(None, 1.0, "lower") is None
    merged = combine_side([{"value": 3.0, "runs": [3.0, 4.0]},
                           {"error": "boom"}, {"value": 2.0, "runs": [2.0]}],
                          "lower")
    assert merged["value"] == 2.0 and merged["median"] == 3.0
    assert merged["errors"] == ["boom"]


def test_chart_draws_or_names_matplotlib(compared, tmp_path):
    doc, _ = compared
    results = tmp_path / "r.json"
    results.write_text(json.dumps(doc))
    png = tmp_path / "chart.png"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "benchmarks.chart",
                           str(results), str(png)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    if importlib.util.find_spec("matplotlib") is None:
        assert done.returncode == 3
        assert "pip install matplotlib" in done.stderr
        assert not png.exists()
    else:
        assert done.returncode == 0, done.stderr
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------
# Scaling curves (python -m benchmarks.scaling), at the tiny sizes only
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scaling(tmp_path_factory):
    """One tiny run of every curve: this package against a copy of itself."""
    out = tmp_path_factory.mktemp("scaling")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scaling", "--tiny",
         "--compare-repo", REPO, "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    return out, done


@pytest.mark.timeout(400)
def test_scaling_curves_report_every_point_on_both_sides(scaling):
    import csv

    from benchmarks.scaling.catalog import CURVES

    out, done = scaling
    charts = importlib.util.find_spec("matplotlib") is not None
    has_xxhash = importlib.util.find_spec("xxhash") is not None
    assert done.returncode == (0 if charts else 3), done.stderr[-2000:]
    for curve in CURVES:
        with open(out / f"{curve.name}.csv") as handle:
            rows = list(csv.DictReader(handle))
        assert not [r for r in rows if r["error"] and "xxh" not in r["series"]], rows
        for series in curve.series:
            if series.name == "xxh3" and not has_xxhash:
                continue  # reported as skipped: hash_name='xxh3' needs it
            for side in ("project", "reference"):
                values = [float(r["y"]) for r in rows
                          if r["series"] == series.name and r["side"] == side
                          and r["y"]]
                # Peak memory may be 0 at tiny sizes; times never are.
                assert len(values) == len(curve.sizes["tiny"]), (
                    curve.name, series.name, side, rows)
                assert all(math.isfinite(v) and v >= 0 for v in values)
                if series.unit != "MB":
                    assert all(v > 0 for v in values)
        png = out / f"{curve.name}.png"
        if charts:
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            assert not png.exists()
    assert "last-step slope" in done.stdout and "memory_entries" in done.stdout


def test_scaling_growth_labels():
    from benchmarks.scaling.report import growth, slope

    assert slope([(10, 1.0), (1000, 1.0)]) == 0.0
    assert abs(slope([(10, 1.0), (100, 10.0), (1000, 100.0)]) - 1.0) < 1e-9
    assert growth(0.05) == "O(1)" and growth(1.1) == "O(n)"
    assert growth(2.0) == "O(n^2)" and growth(1.5) == "O(n^1.5)"
    assert growth(None) == "-" and slope([(10, 1.0)]) is None


def test_scaling_list_and_bad_pattern():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = [sys.executable, "-m", "benchmarks.scaling"]
    listed = subprocess.run(run + ["--list"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "memory_entries" in listed.stdout
    bad = subprocess.run(run + ["--only", "^nothing$"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "matches no curve" in bad.stderr


# --------------------------------------------------------------------------
# Bounds of the out-of-reach targets (python -m benchmarks.bounds)
# --------------------------------------------------------------------------
@pytest.mark.timeout(300)
def test_bounds_report_limit_ours_and_bounds_per_workload(tmp_path):
    out = tmp_path / "bounds.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bounds", "--tiny", "--json", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(out.read_text())
    workloads = {row["workload"] for row in rows}
    assert {"par_tiny_loky", "par_reuse", "par_tiny_mp", "par_first_call"} <= workloads
    if importlib.util.find_spec("numpy") is not None:
        assert "par_bigarray" in workloads
    for workload in workloads:
        kinds = [row["kind"] for row in rows if row["workload"] == workload]
        assert kinds.count("limit") == 1 and kinds.count("ours") == 1, kinds
        assert kinds.count("bound") >= 1, kinds
    for row in rows:
        assert math.isfinite(row["value"]) and row["value"] > 0, row
        assert row["percent"] is not None and row["percent"] > 0, row
    assert "| par_reuse | ours |" in done.stdout


def test_bounds_replay_joblib_batches_on_a_bare_executor():
    import concurrent.futures as cf

    from benchmarks.bounds.dispatch import (
        record_batches,
        run_batches,
        run_batches_lazily,
    )
    from joblib import Parallel, delayed

    pattern = record_batches(lambda progress: Parallel(n_jobs=2, progress=progress)(
        delayed(abs)(-i) for i in range(300)))
    # A fresh Parallel starts at one task per batch (joblib 1.6's policy).
    assert sum(pattern) == 300 and pattern[0] == 1, pattern
    with cf.ThreadPoolExecutor(2) as executor:
        tasks = [(abs, (-i,), {}) for i in range(300)]
        assert run_batches(executor, tasks, pattern) == list(range(300))
        assert run_batches_lazily(executor, tasks, pattern) == list(range(300))

"""Shared pytest configuration for the joblib test suite."""

from __future__ import annotations

import os
import sys

import psutil
import pytest

# Make the repository's ``joblib`` importable when the tests run from a
# checkout (``python -m pytest`` already puts the cwd first on sys.path).
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


@pytest.fixture(scope="session")
def s3_server():
    """One real S3 API server (moto) on 127.0.0.1 for the whole session."""
    pytest.importorskip("moto.server", reason='needs "joblib[test]" (moto[server])')
    pytest.importorskip("s3fs")
    from _s3_server import start_server

    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def no_leaks(tmp_path, monkeypatch):
    """Fail the test if it leaves a worker process, a pool thread or a temp
    folder behind (JOBLIB_TEMP_FOLDER points into the test's own folder)."""
    from _parallel_helpers import extra_children, joblib_threads, wait_until

    temp = tmp_path / "joblib_temp"
    temp.mkdir()
    monkeypatch.setenv("JOBLIB_TEMP_FOLDER", str(temp))
    children = {c.pid for c in psutil.Process().children()}
    threads = joblib_threads()
    yield
    assert wait_until(lambda: not (joblib_threads() - threads)), joblib_threads()
    assert wait_until(lambda: not extra_children(children)), [
        psutil.Process(pid).cmdline() for pid in extra_children(children)]
    assert wait_until(lambda: not list(temp.iterdir())), list(temp.iterdir())

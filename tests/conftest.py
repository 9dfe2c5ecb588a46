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


@pytest.fixture
def mount_tmpfs(tmp_path):
    """``mount_tmpfs(size)`` mounts a small RAM file system (e.g. ``"1M"``) for
    disk-full tests and returns its path; unmounted at teardown. Skipped where
    mounting needs rights the run does not have (root on Linux)."""
    import gc
    import subprocess

    mounted = []

    def mount(size):
        if sys.platform != "linux" or os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root on Linux")
        point = tmp_path / ("tmpfs%d" % len(mounted))
        point.mkdir()
        cmd = ["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", str(point)]
        if subprocess.run(cmd, capture_output=True).returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        mounted.append(str(point))
        return str(point)

    yield mount
    # A file a failed write opened can stay open until its traceback's
    # reference cycle is collected: collect, then detach lazily if the mount
    # is still busy (the kernel frees it once the file is closed).
    gc.collect()
    for point in mounted:
        if subprocess.run(["umount", point], capture_output=True).returncode:
            subprocess.run(["umount", "-l", point], check=True)

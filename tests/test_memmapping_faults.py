"""Temporary memmap folders never outlive their user, whatever happens.

Each scenario runs in a child interpreter whose temporary folder root is a
test-specific directory, so the checks see only that child's files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

pytest.importorskip("numpy")

import joblib  # noqa: E402

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(joblib.__file__)))

_PRELUDE = """
import os, sys, time, uuid
import numpy as np
from joblib.executor import get_memmapping_executor

def describe(a):
    return a.filename

def start(root, **kwargs):
    cid = uuid.uuid4().hex
    ex = get_memmapping_executor(2, temp_folder=root, context_id=cid, **kwargs)
    ex._temp_folder_manager.set_current_context(cid)
    return ex, cid
"""


def child(code: str, root, **popen_kwargs) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=_REPO, JOBLIB_TEMP_FOLDER=str(root))
    script = _PRELUDE + textwrap.dedent(code)
    return subprocess.Popen(
        [sys.executable, "-c", script, str(root)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen_kwargs,
    )


def wait_until_empty(root, deadline_s: float = 60.0) -> list:
    """Poll ``root`` until it is empty or the deadline passes; return its content."""
    end = time.monotonic() + deadline_s
    while os.listdir(root) and time.monotonic() < end:
        time.sleep(0.1)
    return os.listdir(root)


def assert_quiet(stderr: str) -> None:
    for marker in ("resource_tracker", "leaked", "Traceback", "Warning"):
        assert marker not in stderr, stderr


def test_normal_run_leaves_nothing_and_prints_no_warning(tmp_path):
    code = """
    if __name__ == "__main__":
        root = sys.argv[1]
        for _ in range(3):
            ex, cid = start(root)
            a = np.ones(500_000)
            files = {ex.submit(describe, a).result() for _ in range(4)}
            assert len(files) == 1
            ex._temp_folder_manager._clean_temporary_resources(context_id=cid)
            assert not os.path.exists(os.path.dirname(files.pop()))
        ex.terminate()
        print("done")
    """
    proc = child(code, tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.strip() == "done"
    assert_quiet(err)
    assert os.listdir(tmp_path) == []


def test_folders_of_unfinished_contexts_are_removed_at_exit(tmp_path):
    code = """
    if __name__ == "__main__":
        ex, cid = start(sys.argv[1])
        print(ex.submit(describe, np.ones(500_000)).result(), flush=True)
        # No cleanup, no terminate: the interpreter exit must remove it.
    """
    proc = child(code, tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.strip().startswith(str(tmp_path))
    assert_quiet(err)
    assert wait_until_empty(tmp_path) == []


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkilled_parent_folder_is_removed_by_resource_tracker(tmp_path):
    code = """
    if __name__ == "__main__":
        ex, cid = start(sys.argv[1])
        print(ex.submit(describe, np.ones(500_000)).result(), flush=True)
        print(*ex._processes, flush=True)
        time.sleep(300)
    """
    proc = child(code, tmp_path)
    try:
        filename = proc.stdout.readline().strip()
        workers = [int(pid) for pid in proc.stdout.readline().split()]
        assert os.path.exists(filename) and len(workers) == 2
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    # Orphaned loky workers only give up waiting for their dead parent after
    # 30 s, and the tracker cleans up once the last of them is gone: kill
    # them too (as a job scheduler killing the process group would), but
    # not the tracker.
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    assert wait_until_empty(tmp_path) == []
    _, err = proc.communicate(timeout=60)
    assert "leaked folder" in err  # the tracker did the cleanup


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_exit_keeps_parent_folders(tmp_path):
    code = """
    if __name__ == "__main__":
        ex, cid = start(sys.argv[1])
        filename = ex.submit(describe, np.ones(500_000)).result()
        pid = os.fork()
        if pid == 0:
            sys.exit(0)  # runs the child's at-exit hooks
        os.waitpid(pid, 0)
        print(os.path.exists(filename), flush=True)
        ex._temp_folder_manager._clean_temporary_resources(context_id=cid)
    """
    proc = child(code, tmp_path)
    out, err = proc.communicate(timeout=120)
    assert out.strip() == "True", err
    assert os.listdir(tmp_path) == []

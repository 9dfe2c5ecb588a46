"""joblib 1.6 behaviours of Memory and of the memmapping globals (issue #11).

Each test here failed before the fix it covers.
"""

from __future__ import annotations

import os
import types
import warnings

import pytest

from joblib import Memory
from joblib._store_backends import CacheWarning


def test_validation_callback_always_gets_complete_metadata(tmp_path):
    # The documented example: keep results that took more than 0.1 s.
    seen = []

    def long_enough(metadata):
        seen.append(dict(metadata))
        return metadata["duration"] > 0.1

    memory = Memory(tmp_path, verbose=0)
    f = memory.cache(lambda x: x * 2, cache_validation_callback=long_enough)
    assert f(1) == 2
    assert f(1) == 2  # rejected: computed again
    assert f(2) == 4  # a new argument: nothing to validate yet
    assert f(2) == 4
    assert len(seen) == 2
    assert all({"duration", "input_args", "time"} <= set(m) for m in seen)
    assert [m["input_args"] for m in seen] == [{"x": "1"}, {"x": "2"}]


def _corrupt_output(memory, func, *args):
    path = os.path.join(
        memory.store_backend.location, *func.func_id.split("/"),
        func._get_args_id(*args), "output.pkl",
    )
    with open(path, "wb") as f:
        f.write(b"not a pickle")


def test_load_failure_goes_through_warn_method(tmp_path):
    memory = Memory(tmp_path, verbose=0)
    f = memory.cache(lambda x: x + 1)
    assert f(1) == 2
    _corrupt_output(memory, f, 1)
    with pytest.warns(CacheWarning, match="^Exception while loading results for"):
        assert f(1) == 2  # the default warn method: a CacheWarning

    _corrupt_output(memory, f, 1)
    messages = []
    f.warn = messages.append  # as code written for 1.6's Logger API does
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(1) == 2
    assert len(messages) == 1
    assert messages[0].startswith("Exception while loading results for")


def test_shared_mem_globals_are_read_at_use_time(monkeypatch, tmp_path):
    import joblib._memmapping_reducer as mr
    from joblib._parallel.memmapping.temp_folders import resolve_temp_root

    monkeypatch.delenv("JOBLIB_TEMP_FOLDER", raising=False)
    monkeypatch.setattr(mr, "SYSTEM_SHARED_MEM_FS", str(tmp_path))
    monkeypatch.setattr(mr, "SYSTEM_SHARED_MEM_FS_MIN_SIZE", 0)
    free = types.SimpleNamespace(f_bsize=4096, f_bavail=10)
    fake_os = types.SimpleNamespace(statvfs=lambda path: free, path=os.path)
    monkeypatch.setattr(mr, "os", fake_os)
    assert resolve_temp_root() == (str(tmp_path), True)
    # Too little space according to the patched statvfs: not used.
    monkeypatch.setattr(mr, "SYSTEM_SHARED_MEM_FS_MIN_SIZE", 4096 * 10)
    assert resolve_temp_root()[1] is False
    # The module's os has no statvfs (as on Windows): not used either.
    monkeypatch.setattr(mr, "SYSTEM_SHARED_MEM_FS_MIN_SIZE", 0)
    monkeypatch.setattr(mr, "os", types.SimpleNamespace(path=os.path))
    assert resolve_temp_root()[1] is False

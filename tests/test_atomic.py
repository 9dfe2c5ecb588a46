"""Tests for joblib._store.atomic: temporary names, rename, atomic writes."""

from __future__ import annotations

import os
import threading

import pytest

from joblib._store import atomic
from joblib._store.atomic import atomic_write, concurrency_safe_rename, temporary_name


def test_temporary_name_is_a_unique_sibling(tmp_path):
    target = tmp_path / "out.pkl"
    names = {temporary_name(target) for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert os.path.dirname(name) == str(tmp_path)
        assert name.startswith(str(target) + ".")
        assert name.endswith(".tmp")
        assert "-%d-" % os.getpid() in name


def test_temporary_name_differs_between_threads(tmp_path):
    names = []
    threads = [
        threading.Thread(target=lambda: names.append(temporary_name(tmp_path / "f")))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    idents = {name.split("-")[-2] for name in names}
    assert len(set(names)) == 4
    assert len(idents) >= 1


def test_temporary_name_sanitises_hostname(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic.socket, "gethostname", lambda: "node 1/rack:2")
    name = os.path.basename(temporary_name(tmp_path / "f"))
    assert "node_1_rack_2" in name
    assert "/" not in name and " " not in name and ":" not in name


def test_concurrency_safe_rename_replaces(tmp_path):
    src, dst = tmp_path / "a", tmp_path / "b"
    src.write_bytes(b"new")
    dst.write_bytes(b"old")
    concurrency_safe_rename(src, dst)
    assert dst.read_bytes() == b"new"
    assert not src.exists()


def test_atomic_write_success(tmp_path):
    target = tmp_path / "data.bin"
    with atomic_write(target) as f:
        f.write(b"complete")
        assert not target.exists()  # not visible before the rename
    assert target.read_bytes() == b"complete"
    assert os.listdir(tmp_path) == ["data.bin"]


def test_atomic_write_text_mode(tmp_path):
    target = tmp_path / "data.txt"
    with atomic_write(str(target), "w") as f:
        f.write("héllo")
    assert target.read_text() == "héllo"


def test_atomic_write_failure_keeps_previous_file(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"previous")
    with pytest.raises(KeyError):
        with atomic_write(target) as f:
            f.write(b"partial")
            raise KeyError("boom")
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["data.bin"]


def test_atomic_write_rejects_read_mode(tmp_path):
    with pytest.raises(ValueError, match="write mode"):
        with atomic_write(tmp_path / "x", "rb"):
            pass


def test_concurrent_writers_leave_one_complete_file(tmp_path):
    target = tmp_path / "shared.bin"
    payloads = [bytes([i]) * 200_000 for i in range(6)]

    def write(payload):
        for _ in range(5):
            with atomic_write(target) as f:
                f.write(payload)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_bytes() in payloads
    assert os.listdir(tmp_path) == ["shared.bin"]

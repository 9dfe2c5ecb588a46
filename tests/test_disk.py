"""Tests for joblib.disk."""

from __future__ import annotations

import os
import shutil

import pytest

from joblib import disk
from joblib.disk import delete_folder, disk_used, memstr_to_bytes, mkdirp, rm_subdirs


@pytest.mark.parametrize(
    "text, expected",
    [
        ("10K", 10 * 1024),
        ("500M", 500 * 1024**2),
        ("2G", 2 * 1024**3),
        ("1.5K", 1536),
        ("0.5G", 512 * 1024**2),
        ("0M", 0),
    ],
)
def test_memstr_to_bytes(text, expected):
    assert memstr_to_bytes(text) == expected


@pytest.mark.parametrize("text", ["10", "10MB", "M", "", "ten M", "10k", "1T"])
def test_memstr_to_bytes_rejects_bad_strings(text):
    with pytest.raises(ValueError) as excinfo:
        memstr_to_bytes(text)
    assert repr(text) in str(excinfo.value)
    assert "'10G'" in str(excinfo.value)


@pytest.mark.parametrize("value", [10, 1.5, None, b"10M"])
def test_memstr_to_bytes_rejects_non_strings(value):
    with pytest.raises(TypeError, match=type(value).__name__):
        memstr_to_bytes(value)


def test_mkdirp_creates_parents_and_tolerates_existing(tmp_path):
    target = tmp_path / "a" / "b" / "c"
    mkdirp(target)
    assert target.is_dir()
    mkdirp(str(target))  # already there: no error
    assert target.is_dir()


def test_mkdirp_raises_other_errors(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError):
        mkdirp(blocker / "sub")


def test_disk_used_counts_direct_entries(tmp_path):
    empty = disk_used(tmp_path)
    (tmp_path / "big.bin").write_bytes(os.urandom(256 * 1024))
    used = disk_used(tmp_path)
    assert isinstance(used, int)
    assert used - empty >= 256
    assert used - empty < 512


def test_rm_subdirs_keeps_files_and_path(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    (tmp_path / "sub1" / "deep").mkdir(parents=True)
    (tmp_path / "sub1" / "deep" / "f").write_text("y")
    (tmp_path / "sub2").mkdir()
    rm_subdirs(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["keep.txt"]


def test_rm_subdirs_missing_path(tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(FileNotFoundError):
        rm_subdirs(missing)
    calls = []
    rm_subdirs(missing, onerror=lambda *args: calls.append(args))
    assert calls and calls[0][0] is os.listdir and calls[0][1] == missing
    assert calls[0][2][0] is FileNotFoundError


def test_delete_folder(tmp_path):
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "f").write_text("x")
    delete_folder(folder)
    assert not folder.exists()
    delete_folder(folder)  # missing folder: nothing to do
    (tmp_path / "file").write_text("x")
    delete_folder(tmp_path / "file")  # not a directory: left alone
    assert (tmp_path / "file").exists()


def test_delete_folder_not_empty_when_forbidden(tmp_path, monkeypatch):
    monkeypatch.setattr(disk, "RM_SUBDIRS_RETRY_TIME", 0)
    folder = tmp_path / "folder"
    folder.mkdir()
    delete_folder(folder, allow_non_empty=False)
    assert not folder.exists()
    folder.mkdir()
    (folder / "f").write_text("x")
    with pytest.raises(OSError, match="Expected empty folder .* 1 files"):
        delete_folder(folder, allow_non_empty=False)
    assert (folder / "f").exists()


def test_delete_folder_retries_then_succeeds(tmp_path, monkeypatch):
    monkeypatch.setattr(disk, "RM_SUBDIRS_RETRY_TIME", 0)
    folder = tmp_path / "folder"
    folder.mkdir()
    real_rmtree = shutil.rmtree
    failures = []

    def flaky_rmtree(path, *args, **kwargs):
        if len(failures) < 3:
            failures.append(path)
            raise PermissionError("file still in use")
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", flaky_rmtree)
    delete_folder(folder)
    assert len(failures) == 3 and not folder.exists()

    folder.mkdir()
    failures.clear()
    monkeypatch.setattr(disk, "RM_SUBDIRS_N_RETRY", 2)
    with pytest.raises(PermissionError):
        delete_folder(folder)
    assert len(failures) == 3 and folder.exists()


def test_delete_folder_onerror_gets_exc_info(tmp_path, monkeypatch):
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    real_unlink = os.unlink

    def failing_unlink(path, *args, **kwargs):
        raise PermissionError("denied: %s" % path)

    (folder / "sub" / "f").write_text("x")
    monkeypatch.setattr(os, "unlink", failing_unlink)
    calls = []
    delete_folder(folder, onerror=lambda *args: calls.append(args))
    monkeypatch.setattr(os, "unlink", real_unlink)
    assert calls
    func, path, exc_info = calls[0]
    assert exc_info[0] is PermissionError and isinstance(exc_info[1], PermissionError)
    assert os.path.basename(path) == "f"

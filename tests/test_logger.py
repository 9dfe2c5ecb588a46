"""Tests for joblib.logger."""

from __future__ import annotations

import logging
import os
import re
import sys

import pytest

from joblib.logger import Logger, PrintTime, format_time, pformat, short_format_time


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (0, "0.0s, 0.0min"),
        (12.34, "12.3s, 0.2min"),
        (75, "75.0s, 1.2min"),
        (3600, "3600.0s, 60.0min"),
    ],
)
@pytest.mark.skipif(sys.platform.startswith("win"), reason="1.6 shaves 0.1s on Windows")
def test_format_time(seconds, expected):
    assert format_time(seconds) == expected


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (0, "   0.0s"),
        (4.25, "   4.2s"),
        (59.9, "  59.9s"),
        (60, "  60.0s"),
        (61, " 1.0min"),
        (90, " 1.5min"),
        (6000, "100.0min"),
        (123.4, " 2.1min"),
    ],
)
@pytest.mark.skipif(sys.platform.startswith("win"), reason="1.6 shaves 0.1s on Windows")
def test_short_format_time(seconds, expected):
    assert short_format_time(seconds) == expected


def test_pformat_limits_depth():
    assert pformat({"a": [1, [2, [3, [4]]]]}, depth=2) == "{'a': [1, [...]]}"
    assert pformat([1, 2], indent=4) == "[1, 2]"


def test_pformat_shortens_arrays_and_restores_print_options():
    np = pytest.importorskip("numpy")
    before = np.get_printoptions()
    text = pformat(np.arange(1000.0))
    assert "..." in text and len(text) < 60
    assert np.get_printoptions() == before


class _Named(Logger):
    def __repr__(self):
        return "Named"


@pytest.mark.parametrize("level", ["warn", "info", "debug"])
def test_logger_goes_to_joblib_logger(level, caplog):
    caplog.set_level(logging.DEBUG, logger="joblib")
    getattr(_Named(), level)("hello")
    records = [r for r in caplog.records if r.name == "joblib"]
    assert [r.getMessage() for r in records] == ["[Named]: hello"]
    assert records[0].levelname == {"warn": "WARNING", "info": "INFO", "debug": "DEBUG"}[level]


def test_logger_custom_name_and_format(caplog):
    caplog.set_level(logging.DEBUG)
    logger = _Named(depth=1, name="joblib.custom")
    logger.warn("careful")
    records = [(r.name, r.getMessage()) for r in caplog.records]
    assert records == [("joblib.custom", "[Named]: careful")]
    assert logger.format({"a": {"b": 1}}) == "{'a': {...}}"


def test_logger_does_not_configure_logging():
    root_handlers = list(logging.getLogger().handlers)
    _Named().info("x")
    assert logging.getLogger().handlers == root_handlers
    assert not logging.getLogger("joblib").handlers


def test_print_time_prints_elapsed_time(capsys):
    timer = PrintTime()
    timer("step")
    timer("all", total=True)
    lines = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"step: \d+\.\ds, \d+\.\dmin", lines[0])
    assert re.fullmatch(r"all: \d+\.\d\ds, \d+\.\d min", lines[1])


def test_print_time_logfile_and_rotation(tmp_path, capsys):
    logdir = tmp_path / "logs"
    timer = PrintTime(logdir=str(logdir))
    logfile = logdir / "joblib.log"
    assert timer.logfile == str(logfile)
    timer("first")
    content = logfile.read_text()
    assert content.startswith("\nLogging joblib python script\n\n---")
    assert re.search(r"^first: ", content, re.M)

    PrintTime(logfile=str(logfile))  # rotates: the old log becomes .1
    assert "first: " in (logdir / "joblib.log.1").read_text()
    assert "first: " not in logfile.read_text()
    PrintTime(logfile=str(logfile))
    assert "first: " in (logdir / "joblib.log.2").read_text()
    assert sorted(os.listdir(logdir)) == ["joblib.log", "joblib.log.1", "joblib.log.2"]


def test_print_time_rejects_logfile_and_logdir(tmp_path):
    with pytest.raises(ValueError, match="logfile=.*logdir="):
        PrintTime(logfile=str(tmp_path / "a.log"), logdir=str(tmp_path))


def test_print_time_survives_unwritable_logfile(tmp_path, capsys):
    timer = PrintTime(logfile=str(tmp_path / "log"))
    timer.logfile = str(tmp_path / "missing_dir" / "log")
    timer("still prints")
    assert "still prints: " in capsys.readouterr().err

"""``Parallel(forward_logs=True)``: log records of process workers are
handled by the parent's logging configuration, tagged with the worker;
warnings are re-emitted in the parent once per location.  ``verbose=``
messages also go to the ``joblib`` logger."""

from __future__ import annotations

import logging
import warnings

import pytest

from joblib import Parallel, delayed

PROCESS_BACKENDS = ["loky", "multiprocessing"]


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def app_logger():
    logger = logging.getLogger("joblib_test_app")
    handler = ListHandler()
    handler.setFormatter(logging.Formatter("%(joblib_worker)s|%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, handler
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def log_things(i):
    logger = logging.getLogger("joblib_test_app")
    logger.info("info %d", i)
    logger.debug("debug %d", i)  # below the parent's level: dropped
    if i == 0:
        try:
            raise KeyError("inside")
        except KeyError:
            logger.exception("failed %d", i)
    return i


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_records_handled_by_parent_config(backend, app_logger):
    import os

    _, handler = app_logger
    out = Parallel(n_jobs=2, backend=backend, forward_logs=True)(
        delayed(log_things)(i) for i in range(6))
    assert out == list(range(6))
    # handled by the time the call returns
    messages = sorted(r.getMessage() for r in handler.records)
    assert messages == ["failed 0"] + [f"info {i}" for i in range(6)]
    assert all(r.process != os.getpid() for r in handler.records)
    formatted = [handler.format(r) for r in handler.records]
    assert all("(pid " in f.split("|")[0] for f in formatted)
    failed = [r for r in handler.records if r.getMessage() == "failed 0"][0]
    assert "KeyError: 'inside'" in handler.format(failed)


def warn_here(i):
    warnings.warn("shared warning", RuntimeWarning)
    return i


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_warnings_reemitted_once_per_location(backend):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        Parallel(n_jobs=2, backend=backend, forward_logs=True, batch_size=1)(
            delayed(warn_here)(i) for i in range(10))
    ours = [w for w in caught if str(w.message) == "shared warning"]
    assert len(ours) == 1
    assert ours[0].category is RuntimeWarning
    assert ours[0].filename.endswith("test_workers_logs.py") or "<" in ours[0].filename


@pytest.mark.timeout(120)
def test_parent_filters_apply_to_worker_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore", RuntimeWarning)
        Parallel(n_jobs=2, forward_logs=True)(delayed(warn_here)(i) for i in range(4))
    assert not [w for w in caught if str(w.message) == "shared warning"]


@pytest.mark.timeout(120)
def test_without_forwarding_nothing_reaches_parent(app_logger):
    _, handler = app_logger
    Parallel(n_jobs=2)(delayed(log_things)(i) for i in range(4))
    assert handler.records == []


def test_verbose_messages_go_to_joblib_logger(capsys):
    handler = ListHandler()
    logger = logging.getLogger("joblib")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        Parallel(n_jobs=2, backend="threading", verbose=10)(
            delayed(abs)(i) for i in range(4))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    messages = [r.getMessage() for r in handler.records]
    assert any("Using backend ThreadingBackend" in m for m in messages)
    assert any("Done" in m for m in messages)
    assert {r.levelno for r in handler.records} <= {logging.INFO, logging.DEBUG}
    # today's stderr output stays
    assert "Using backend ThreadingBackend" in capsys.readouterr().err

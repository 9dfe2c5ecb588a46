"""Free-threaded Python: with the GIL disabled (``sys._is_gil_enabled()``
False, simulated here by monkeypatching the probe), ``Parallel`` with no
backend chosen uses threads; explicit choices and hints keep their meaning.
The thread-safety of shared state is exercised with many threads."""

from __future__ import annotations

import sys
import threading

import pytest

import joblib.parallel
from joblib import Parallel, delayed, effective_n_jobs, parallel_config
from joblib._parallel import free_threading
from joblib._parallel_backends import LokyBackend, ThreadingBackend
from joblib.parallel import get_active_backend


@pytest.fixture
def gil_off(monkeypatch):
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)


@pytest.fixture
def gil_on(monkeypatch):
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: True, raising=False)


def thread_name(i):
    return threading.current_thread().name


def test_probe(monkeypatch):
    monkeypatch.delattr(sys, "_is_gil_enabled", raising=False)
    assert free_threading.gil_disabled() is False  # a GIL build
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    assert free_threading.gil_disabled() is True


def test_default_is_threads_without_gil(gil_off):
    assert isinstance(Parallel(n_jobs=2)._backend, ThreadingBackend)
    assert isinstance(get_active_backend()[0], ThreadingBackend)
    names = Parallel(n_jobs=2)(delayed(thread_name)(i) for i in range(4))
    assert all(n.startswith("joblib-threading") for n in names)


def test_default_is_loky_with_gil(gil_on):
    assert isinstance(Parallel(n_jobs=2)._backend, LokyBackend)


@pytest.mark.parametrize("kwargs", [{"prefer": "processes"}, {"backend": "loky"}])
def test_explicit_processes_kept_without_gil(gil_off, kwargs):
    assert isinstance(Parallel(n_jobs=2, **kwargs)._backend, LokyBackend)


def test_config_choices_kept_without_gil(gil_off):
    with parallel_config(backend="loky"):
        assert isinstance(Parallel(n_jobs=2)._backend, LokyBackend)
    with parallel_config(prefer="processes"):
        assert isinstance(Parallel(n_jobs=2)._backend, LokyBackend)
    with parallel_config(require="sharedmem"):
        assert isinstance(Parallel(n_jobs=2)._backend, ThreadingBackend)


def test_user_default_backend_kept_without_gil(gil_off, monkeypatch):
    monkeypatch.setattr(joblib.parallel, "DEFAULT_BACKEND", "multiprocessing")
    assert not isinstance(Parallel(n_jobs=2)._backend, ThreadingBackend)


def test_effective_n_jobs_without_gil(gil_off):
    assert effective_n_jobs(2) == 2


@pytest.mark.timeout(120)
def test_threading_backend_and_cpu_count_from_many_threads():
    # Many callers at once, each with its own Parallel on threads, nested
    # calls and cpu_count: every result complete and in order.
    from joblib import cpu_count

    errors, results = [], {}

    def caller(k):
        try:
            for _ in range(5):
                out = Parallel(n_jobs=3, backend="threading", batch_size=1)(
                    delayed(pow)(i, 2) for i in range(50))
                assert out == [i * i for i in range(50)]
                assert cpu_count() >= 1
            results[k] = True
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 8

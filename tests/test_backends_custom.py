"""Backends written by third parties against joblib 1.6's documented API:
registration, configuration hooks, legacy ``apply_async`` backends,
``FallbackToBackend`` and ``EXTERNAL_BACKENDS``."""

from __future__ import annotations


import pytest

import joblib.parallel
from joblib import (
    Parallel,
    ParallelBackendBase,
    delayed,
    parallel_config,
    register_parallel_backend,
)
from joblib._parallel_backends import (
    AutoBatchingMixin,
    FallbackToBackend,
    SequentialBackend,
    ThreadingBackend,
)
from joblib.parallel import get_active_backend

from _parallel_helpers import CustomThreadBackend


def square(x):
    return x * x


class _ImmediateResult:
    def __init__(self, batch):
        self._results = batch()

    def get(self, timeout=None):
        return self._results


class LegacyBackend(ParallelBackendBase):
    """Pre-1.5 style: ``apply_async`` and results fetched with ``get``."""

    supports_timeout = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []

    def effective_n_jobs(self, n_jobs):
        return 2 if n_jobs in (None, -1) else n_jobs

    def apply_async(self, func, callback=None):
        result = _ImmediateResult(func)
        if callback is not None:
            callback(result)
        return result

    def start_call(self):
        self.calls.append("start")

    def stop_call(self):
        self.calls.append("stop")


class CountingAutoBatching(AutoBatchingMixin, CustomThreadBackend):
    pass


class FallingBack(CustomThreadBackend):
    def configure(self, n_jobs=1, parallel=None, **kwargs):
        raise FallbackToBackend(ThreadingBackend(nesting_level=self.nesting_level))


def test_legacy_apply_async_backend():
    backend = LegacyBackend()
    with pytest.warns(DeprecationWarning, match="apply_async"):
        out = Parallel(n_jobs=2, backend=backend)(delayed(square)(i) for i in range(300))
    assert out == [i * i for i in range(300)]
    assert backend.calls == ["start", "stop"]


def test_custom_backend_receives_kwargs_and_hooks():
    register_parallel_backend("custom_kw", CustomThreadBackend)
    backend = CustomThreadBackend()
    out = Parallel(n_jobs=2, backend=backend, my_option=42)(
        delayed(square)(i) for i in range(5))
    assert out == [0, 1, 4, 9, 16]
    assert backend.configured_with["my_option"] == 42
    assert backend.configured_with["max_nbytes"] == 1024 ** 2
    assert backend.configured_with["mmap_mode"] == "r"


def test_register_make_default(monkeypatch):
    monkeypatch.setattr(joblib.parallel, "DEFAULT_BACKEND", joblib.parallel.DEFAULT_BACKEND)
    register_parallel_backend("custom_default", CustomThreadBackend, make_default=True)
    try:
        backend, _ = get_active_backend()
        assert isinstance(backend, CustomThreadBackend)
    finally:
        del joblib.parallel.BACKENDS["custom_default"]


def test_default_backend_global_is_read_at_call_time(monkeypatch):
    monkeypatch.setattr(joblib.parallel, "DEFAULT_BACKEND", "threading")
    backend, n_jobs = get_active_backend()
    assert isinstance(backend, ThreadingBackend)
    assert Parallel(n_jobs=2)._backend.__class__ is ThreadingBackend


def test_auto_batching_mixin_on_custom_backend():
    backend = CountingAutoBatching()
    out = Parallel(n_jobs=2, backend=backend)(delayed(square)(i) for i in range(2000))
    assert out == [i * i for i in range(2000)]


def test_fallback_to_backend():
    parallel = Parallel(n_jobs=2, backend=FallingBack())
    assert parallel(delayed(square)(i) for i in range(4)) == [0, 1, 4, 9]
    assert isinstance(parallel._backend, ThreadingBackend)


def test_external_backends_lazy_registration(monkeypatch):
    registered = []

    def register():
        registered.append(True)
        register_parallel_backend("lazy_one", CustomThreadBackend)

    monkeypatch.setitem(joblib.parallel.EXTERNAL_BACKENDS, "lazy_one", register)
    try:
        with parallel_config(backend="lazy_one", n_jobs=2):
            assert Parallel()(delayed(square)(i) for i in range(3)) == [0, 1, 4]
        assert registered == [True]
    finally:
        joblib.parallel.BACKENDS.pop("lazy_one", None)


def test_dask_without_dask_gives_clear_import_error(monkeypatch):
    import sys

    # Simulate an environment without dask/distributed.
    for name in ("dask", "distributed", "joblib._dask"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(joblib.parallel.BACKENDS, "dask", raising=False)
    with pytest.raises(ImportError, match="dask"):
        parallel_config(backend="dask")


def test_unknown_backend_name():
    with pytest.raises(ValueError, match="Invalid backend: nope"):
        Parallel(backend="nope")
    with pytest.raises(ValueError, match="Invalid backend: nope"):
        parallel_config(backend="nope")


def test_backend_instance_with_params_rejected():
    with pytest.raises(ValueError, match="backend_params"):
        parallel_config(backend=ThreadingBackend(), foo=1)


def test_mp_context_object_selects_multiprocessing():
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    parallel = Parallel(n_jobs=2, backend=ctx)
    assert type(parallel._backend).__name__ == "MultiprocessingBackend"
    assert parallel._backend_kwargs["context"] is ctx
    assert parallel(delayed(square)(i) for i in range(4)) == [0, 1, 4, 9]


def test_sequential_backend_never_submits():
    backend = SequentialBackend()
    with pytest.raises(RuntimeError):
        backend.submit(square)
    assert backend.effective_n_jobs(5) == 1
    with pytest.raises(ValueError):
        backend.effective_n_jobs(0)


def test_semi_public_paths():
    import joblib._parallel_backends as pb
    from joblib import _utils
    from joblib._multiprocessing_helpers import mp

    for name in ["SequentialBackend", "ThreadingBackend", "MultiprocessingBackend",
                 "LokyBackend", "ParallelBackendBase", "AutoBatchingMixin",
                 "PoolManagerMixin", "FallbackToBackend", "inside_dask_worker"]:
        assert hasattr(pb, name), name
    for name in ["BACKENDS", "DEFAULT_BACKEND", "EXTERNAL_BACKENDS",
                 "BatchCompletionCallBack", "get_active_backend", "mp",
                 "DEFAULT_THREAD_BACKEND", "parallel_config", "parallel_backend",
                 "cpu_count", "effective_n_jobs", "register_parallel_backend",
                 "AutoBatchingMixin", "ParallelBackendBase", "FallbackToBackend",
                 "delayed", "Parallel"]:
        assert hasattr(joblib.parallel, name), name
    assert joblib.parallel.mp is mp
    assert _utils.eval_expr("2*3") == 6
    assert repr(_utils._Sentinel(default_value=1)) == "default(1)"
    assert not pb.inside_dask_worker()

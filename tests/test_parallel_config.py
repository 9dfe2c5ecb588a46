"""``parallel_config`` / ``parallel_backend`` semantics and the resolution
of Parallel's settings (n_jobs rules, prefer/require, inheritance)."""

from __future__ import annotations

import threading

import pytest

from joblib import Parallel, cpu_count, delayed, parallel_backend, parallel_config
from joblib._parallel_backends import (
    LokyBackend,
    MultiprocessingBackend,
    SequentialBackend,
    ThreadingBackend,
)
from joblib.parallel import get_active_backend


def get_n_jobs_and_backend(_):
    backend, n_jobs = get_active_backend()
    return type(backend).__name__, n_jobs


def test_default_is_loky_with_unset_n_jobs():
    backend, n_jobs = get_active_backend()
    assert isinstance(backend, LokyBackend)
    assert backend.nesting_level == 0
    assert n_jobs is None
    assert Parallel().n_jobs == 1


def test_config_sets_backend_and_n_jobs():
    with parallel_config(backend="threading", n_jobs=3) as config:
        assert isinstance(config, dict)
        parallel = Parallel()
        assert isinstance(parallel._backend, ThreadingBackend)
        assert parallel.n_jobs == 3
        assert Parallel(n_jobs=2).n_jobs == 2
    assert isinstance(Parallel()._backend, LokyBackend)


def test_nested_configs_inherit_omitted_keys():
    with parallel_config(backend="threading", n_jobs=3, verbose=0):
        with parallel_config(n_jobs=2):
            backend, n_jobs = get_active_backend()
            assert isinstance(backend, ThreadingBackend) and n_jobs == 2
        with parallel_config(backend="sequential"):
            assert get_active_backend()[1] == 3


def test_config_takes_effect_without_with():
    config = parallel_config(backend="threading", n_jobs=2)
    try:
        assert isinstance(get_active_backend()[0], ThreadingBackend)
    finally:
        config.unregister()
    assert isinstance(get_active_backend()[0], LokyBackend)


def test_config_is_thread_local():
    seen = []
    with parallel_config(backend="threading", n_jobs=2):
        thread = threading.Thread(target=lambda: seen.append(get_active_backend()[0]))
        thread.start()
        thread.join()
    assert isinstance(seen[0], LokyBackend)


def test_parallel_backend_legacy_enter_value_and_default_n_jobs():
    with parallel_backend("threading") as (backend, n_jobs):
        assert isinstance(backend, ThreadingBackend)
        assert n_jobs == -1
        assert Parallel().n_jobs == -1
    with parallel_backend("threading", n_jobs=2) as value:
        assert value[1] == 2


def test_config_applies_inside_parallel_calls():
    with parallel_config(backend="threading", n_jobs=2):
        out = Parallel()(delayed(get_n_jobs_and_backend)(i) for i in range(2))
    assert out[0][0] == "ThreadingBackend"


def test_backend_params_need_a_backend_name():
    with pytest.raises(ValueError, match="only supported when backend is not None"):
        parallel_config(n_jobs=2, initializer=print)
    with pytest.raises(ValueError, match="only supported when backend is not None"):
        parallel_config(inner_max_num_threads=2)


def test_inner_max_num_threads_only_for_capable_backends():
    with pytest.raises(ValueError, match="inner_max_num_threads"):
        parallel_config(backend="threading", inner_max_num_threads=2)
    with parallel_config(backend="loky", inner_max_num_threads=2) as config:
        assert config["backend"].inner_max_num_threads == 2


@pytest.mark.parametrize("prefer, require, expected", [
    ("threads", None, ThreadingBackend),
    ("processes", None, LokyBackend),
    (None, "sharedmem", ThreadingBackend),
])
def test_prefer_and_require(prefer, require, expected):
    parallel = Parallel(n_jobs=2, prefer=prefer, require=require)
    assert isinstance(parallel._backend, expected)


def test_require_sharedmem_overrides_process_config():
    with parallel_config(backend="loky", n_jobs=2):
        assert isinstance(Parallel(require="sharedmem")._backend, ThreadingBackend)
        assert isinstance(Parallel(prefer="threads")._backend, LokyBackend)


def test_explicit_process_backend_with_sharedmem_fails():
    with pytest.raises(ValueError, match="does not support shared memory"):
        Parallel(backend="loky", require="sharedmem")


@pytest.mark.parametrize("prefer, require", [
    ("bogus", None), (None, "bogus"), ("processes", "sharedmem")])
def test_invalid_hints(prefer, require):
    with pytest.raises(ValueError):
        Parallel(prefer=prefer, require=require)


def test_n_jobs_rules():
    n_cpus = cpu_count()
    assert Parallel(n_jobs=2.7).n_jobs == 2
    assert Parallel(n_jobs=None).n_jobs == 1
    backend = LokyBackend()
    assert backend.effective_n_jobs(-1) == n_cpus
    assert backend.effective_n_jobs(-2) == max(n_cpus - 1, 1)
    assert backend.effective_n_jobs(-100) == 1
    assert backend.effective_n_jobs(n_cpus + 3) == n_cpus + 3
    with pytest.raises(ValueError, match="n_jobs == 0"):
        Parallel(n_jobs=0)(delayed(abs)(1) for _ in range(2))
    with pytest.raises(ValueError, match="could not be converted"):
        Parallel(n_jobs="many")


def test_n_jobs_zero_does_not_leave_instance_running():
    parallel = Parallel(n_jobs=0, backend="threading")
    for _ in range(2):
        with pytest.raises(ValueError):
            parallel([delayed(abs)(1)])


@pytest.mark.parametrize("kwargs, match", [
    (dict(return_as="dict"), "return_as"),
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size="big"), "batch_size"),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Parallel(**kwargs)


def test_loky_rejects_timeout_backend_kwarg():
    with pytest.raises(ValueError, match="idle_worker_timeout"):
        with parallel_config(backend="loky", timeout=3):
            Parallel(n_jobs=2)(delayed(abs)(-i) for i in range(3))


def test_loky_accepts_idle_worker_timeout():
    out = Parallel(n_jobs=2, idle_worker_timeout=100)(delayed(abs)(-i) for i in range(3))
    assert out == [0, 1, 2]


def test_mp_unavailable_backend_falls_back(monkeypatch):
    import joblib.parallel

    monkeypatch.delitem(joblib.parallel.BACKENDS, "multiprocessing")
    monkeypatch.setattr(joblib.parallel, "DEFAULT_BACKEND", "threading")
    try:
        with pytest.warns(UserWarning, match="not available"):
            parallel = Parallel(n_jobs=2, backend="multiprocessing")
        assert isinstance(parallel._backend, ThreadingBackend)
    finally:
        joblib.parallel.BACKENDS["multiprocessing"] = MultiprocessingBackend


def test_sequential_backend_nested_keeps_active():
    with parallel_config(backend="threading", n_jobs=2):
        backend, n_jobs = SequentialBackend().get_nested_backend()
        assert isinstance(backend, ThreadingBackend) and n_jobs == 2


def _mp_inside(_):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = Parallel(n_jobs=2, backend="multiprocessing")(
            delayed(abs)(-i) for i in range(3))
    return out, [str(w.message) for w in caught]


def _loky_inside(_):
    return Parallel(n_jobs=2, backend="loky")(delayed(abs)(-i) for i in range(3))


def test_multiprocessing_below_loky_runs_sequentially_with_warning():
    (out, messages), = Parallel(n_jobs=2)(delayed(_mp_inside)(i) for i in range(1))
    assert out == [0, 1, 2]
    assert any("cannot be nested, below loky" in m for m in messages)


def test_explicit_loky_below_loky_is_allowed():
    assert Parallel(n_jobs=2)(delayed(_loky_inside)(i) for i in range(1)) == [[0, 1, 2]]


def test_pre_dispatch_expressions_are_parsed_once(monkeypatch):
    import math

    from joblib import Parallel, delayed
    from joblib._parallel import batching

    batching._eval_pre_dispatch.cache_clear()
    parsed = []
    real = batching.eval_expr
    monkeypatch.setattr(batching, "eval_expr", lambda expr: parsed.append(expr) or real(expr))
    with Parallel(n_jobs=2, backend="threading", pre_dispatch="3*n_jobs") as parallel:
        for _ in range(5):
            assert parallel(delayed(math.sqrt)(i) for i in range(9)) == [
                math.sqrt(i) for i in range(9)]
    assert parsed == ["3*2"]
    assert batching.parse_pre_dispatch("3*n_jobs", 4) == 12
    with pytest.raises(ValueError):
        batching.parse_pre_dispatch("n_jobs**", 2)  # errors are not cached
    with pytest.raises(ValueError):
        batching.parse_pre_dispatch("n_jobs**", 2)

"""joblib 1.6 behaviours of Parallel and fixes to its progress option (issue #11).

Each test here failed (or hung) before the fix it covers.
"""

from __future__ import annotations

import time

import pytest

from joblib import Parallel, delayed, parallel_config
from joblib._parallel_backends import ThreadingBackend






class NoWorkerBackend(ThreadingBackend):
    """A backend whose pool has no worker (a dask cluster that lost them)."""

    def configure(self, n_jobs=1, parallel=None, **kwargs):
        super().configure(n_jobs=2, parallel=parallel, **kwargs)
        return 0


@pytest.mark.timeout(60)
def test_backend_without_workers_raises_runtime_error(no_leaks):
    with pytest.raises(RuntimeError, match="^NoWorkerBackend has no active worker."):
        Parallel(n_jobs=2, backend=NoWorkerBackend())(delayed(abs)(i) for i in range(3))
    with parallel_config(backend=NoWorkerBackend(), n_jobs=2):
        with pytest.raises(RuntimeError, match="has no active worker"):
            Parallel()(delayed(abs)(i) for i in range(3))


class ProgressBoom(Exception):
    pass


def _failing_progress(after):
    def progress(event):
        if event.n_completed >= after:
            raise ProgressBoom("progress callback failed at %d" % event.n_completed)
    return progress


# (the multiprocessing backend only returns lists)
_OUTPUTS = [(backend, return_as) for backend in ("threading", "loky")
            for return_as in ("list", "generator", "generator_unordered")]
_OUTPUTS.append(("multiprocessing", "list"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend, return_as", _OUTPUTS)
def test_raising_progress_callback_reaches_the_caller(backend, return_as, no_leaks):
    parallel = Parallel(n_jobs=2, backend=backend, return_as=return_as,
                        progress=_failing_progress(3))
    start = time.monotonic()
    with pytest.raises(ProgressBoom, match="failed at 3"):
        out = parallel(delayed(time.sleep)(0.01) for _ in range(40))
        list(out)
    assert time.monotonic() - start < 30
    # The same object runs again, and the next call works.
    assert Parallel(n_jobs=2, backend=backend)(delayed(abs)(-i) for i in range(4)) == [0, 1, 2, 3]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_generator_input_gets_a_total_once_exhausted(backend):
    events = []
    Parallel(n_jobs=2, backend=backend, progress=events.append, pre_dispatch="2*n_jobs")(
        delayed(abs)(i) for i in range(12))
    assert len(events) == 12
    assert events[-1].n_total == 12
    # Known from the moment the input ran out, at the latest for the last events.
    assert all(e.n_total in (None, 12) for e in events)
    # A sized input gives it from the first event on, as before.
    events.clear()
    Parallel(n_jobs=2, backend=backend, progress=events.append)(
        [delayed(abs)(i) for i in range(5)])
    assert {e.n_total for e in events} == {5}


def test_text_bar_shows_the_total_once_known(capsys):
    Parallel(n_jobs=2, backend="threading", progress=True)(
        delayed(abs)(i) for i in range(6))
    err = capsys.readouterr().err
    assert "6/6 tasks" in err


class ImmediateBackend(ThreadingBackend):
    """Runs each batch inside ``submit`` and calls back before returning, as a
    pool does when a task ends before ``add_done_callback`` is reached."""

    def submit(self, func, callback=None):
        import concurrent.futures

        future = concurrent.futures.Future()
        future.set_result(func())
        if callback is not None:
            callback(future)
        return future

    def retrieve_result_callback(self, out):
        return out.result()


@pytest.mark.parametrize("n_tasks", [1, 4, 12])
def test_generator_total_reaches_the_last_event_of_synchronous_completions(n_tasks):
    events = []
    Parallel(n_jobs=2, backend=ImmediateBackend(), progress=events.append,
             pre_dispatch="2*n_jobs")(delayed(abs)(i) for i in range(n_tasks))
    assert len(events) == n_tasks
    assert events[-1].n_total == n_tasks

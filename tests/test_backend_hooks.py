"""The backend hooks through which ``Parallel`` lets a backend handle its own
details (``uses_mp_context``, ``batch_reducer_callback``): a third-party
backend can implement them, and loky's memmapping relies on them."""

from __future__ import annotations

import pickle

import pytest

from joblib import Parallel, delayed
from joblib._parallel_backends import LokyBackend, MultiprocessingBackend

from _parallel_helpers import CustomThreadBackend


class PicklingBackend(CustomThreadBackend):
    """Pickles every batch as a process backend would, and records the
    hooks ``Parallel`` called."""

    def __init__(self, uses_mp_context=True, **kwargs):
        super().__init__(**kwargs)
        self.uses_mp_context = uses_mp_context
        self.pickled = []

    def batch_reducer_callback(self):
        call_id = len(self.pickled)
        self.pickled.append(0)

        def count():
            self.pickled[call_id] += 1
        return count

    def submit(self, func, callback=None):
        return super().submit(pickle.loads(pickle.dumps(func)), callback)


@pytest.mark.parametrize("uses", [True, False])
def test_context_passed_only_to_backends_using_it(uses):
    backend = PicklingBackend(uses_mp_context=uses)
    Parallel(n_jobs=2, backend=backend)(delayed(abs)(-i) for i in range(4))
    assert ("context" in backend.configured_with) is uses


def test_batch_reducer_callback_runs_per_pickled_batch():
    backend = PicklingBackend()
    first = Parallel(n_jobs=2, backend=backend, batch_size=2)
    second = Parallel(n_jobs=2, backend=backend, batch_size=1)
    assert first(delayed(abs)(-i) for i in range(8)) == list(range(8))
    second(delayed(abs)(-i) for i in range(3))
    # one callback per call, run once for each of that call's batches
    assert backend.pickled == [first.n_dispatched_batches, 3]
    assert first.n_dispatched_batches >= 2


def test_builtin_backends_declare_their_hooks():
    assert LokyBackend.uses_mp_context is False
    assert MultiprocessingBackend.uses_mp_context is True
    assert MultiprocessingBackend().batch_reducer_callback() is None


@pytest.mark.timeout(60)
def test_loky_batches_route_arrays_to_their_own_call_folder(tmp_path):
    np = pytest.importorskip("numpy")
    import os

    def folder_of(a):
        return os.path.dirname(a.filename)

    big = np.ones(10_000)
    with Parallel(n_jobs=2, backend="loky", max_nbytes=100,
                  temp_folder=str(tmp_path)) as p1:
        with Parallel(n_jobs=2, backend="loky", max_nbytes=100,
                      temp_folder=str(tmp_path)) as p2:
            f1 = set(p1(delayed(folder_of)(big) for _ in range(4)))
            f2 = set(p2(delayed(folder_of)(big) for _ in range(4)))
    assert len(f1) == 1 and len(f2) == 1 and f1 != f2

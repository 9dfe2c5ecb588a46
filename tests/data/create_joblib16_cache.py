"""Regenerate the joblib 1.6.0 Memory fixtures (run with real joblib 1.6.0).

Usage, from the repository root, in a virtualenv with joblib==1.6.0 and numpy::

    /work/refvenv/bin/python tests/data/create_joblib16_cache.py

It writes, under ``tests/data/``:

* ``joblib16_cache/``: a cache directory filled by joblib 1.6.0's Memory (minus
  the ``.gitignore`` that 1.6 writes at its root) for
  the functions of ``joblib16_memory_funcs`` (imported under that name, with
  ``tests/data`` first on ``sys.path``, exactly as the tests import it);
* ``joblib16_memory_pickles.pkl``: a pickled dict of Memory, MemorizedFunc,
  MemorizedResult, NotMemorizedResult and NotMemorizedFunc objects, whose
  location is the relative path ``joblib16_cache`` (tests chdir next to a
  copy of the cache);
* ``joblib16_memory_expected.json``: what the tests compare against
  (argument hashes, func ids, and the globals referenced by 1.6's pickles).
"""

import json
import os
import pickle
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from joblib import Memory  # noqa: E402
from joblib.memory import NotMemorizedFunc, NotMemorizedResult  # noqa: E402

import joblib16_memory_funcs as funcs  # noqa: E402

assert joblib.__version__ == "1.6.0", joblib.__version__

CACHE = "joblib16_cache"
ARRAY = np.arange(12, dtype=np.float64).reshape(3, 4)

CALLS = {
    "square": [((3,), {}), ((), {"x": 4}), ((2.5,), {})],
    "combine": [((1,), {}), ((1, 5, 7, 8), {"scale": 3, "z": 1})],
    "describe": [(("hello",), {"options": {"b": 2, "a": 1}, "debug": True})],
}


class _RecordingUnpickler(pickle.Unpickler):
    def __init__(self, file):
        super().__init__(file)
        self.names = set()

    def find_class(self, module, name):
        self.names.add("%s %s" % (module, name))
        return super().find_class(module, name)


def pickle_globals(data: bytes) -> list:
    """Sorted 'module qualname' names that a pickle imports."""
    import io

    unpickler = _RecordingUnpickler(io.BytesIO(data))
    unpickler.load()
    return sorted(unpickler.names)


def fill_cache(memory):
    expected = {}
    for name, calls in CALLS.items():
        cached = memory.cache(
            getattr(funcs, name), ignore=(["debug"] if name == "describe" else None)
        )
        for args, kwargs in calls:
            value = cached(*args, **kwargs)
            args_id = cached._get_args_id(*args, **kwargs)
            expected.setdefault(name, []).append(
                {
                    "args": list(args),
                    "kwargs": kwargs,
                    "args_id": args_id,
                    "value": repr(value),
                }
            )
        expected[name + "_func_id"] = cached.func_id
    stats = memory.cache(funcs.array_stats)
    stats(ARRAY)
    expected["array_stats"] = {
        "args_id": stats._get_args_id(ARRAY),
        "func_id": stats.func_id,
    }
    return expected


def make_pickles(memory):
    square = memory.cache(funcs.square)
    shelved = square.call_and_shelve(3)
    objects = {
        "memory": memory,
        "square": square,
        "result": shelved,
        "not_memorized_result": NotMemorizedResult([1, 2]),
        "not_memorized_func": NotMemorizedFunc(funcs.square),
        "memory_none": Memory(None),
    }
    data = pickle.dumps(objects, protocol=4)
    with open(os.path.join(HERE, "joblib16_memory_pickles.pkl"), "wb") as f:
        f.write(data)
    return {
        "globals": pickle_globals(data),
        "memory_state": sorted(memory.__getstate__()),
        "memorized_func_state": sorted(square.__getstate__()),
        "memorized_result_state": sorted(shelved.__getstate__()),
        "store_state": sorted(memory.store_backend.__dict__),
        "result_repr": repr(shelved),
        "memory_repr": repr(memory),
    }


def main():
    os.chdir(HERE)
    shutil.rmtree(CACHE, ignore_errors=True)
    memory = Memory(CACHE, verbose=0)
    expected = fill_cache(memory)
    expected["pickles"] = make_pickles(memory)
    # joblib 1.6 writes a '*' .gitignore at the cache root, which would keep
    # git from tracking this fixture; the tests do not need it.
    os.remove(os.path.join(CACHE, ".gitignore"))
    with open(os.path.join(HERE, "joblib16_memory_expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()

"""Every fast path against its plain twin (issue #17, item 6).

- hashing: the container walker that splices C-pickled atoms into the stream
  (``JOBLIB_NO_FAST_HASH=1`` / ``joblib.hashing.FAST_HASH``) must give the
  digests of one ``pickle._Pickler.save`` per value;
- persistence: the C-pickler attempt of ``dump``/``load`` and of Memory's
  local store (``JOBLIB_NO_FAST_PICKLE=1`` / ``_persist.fast_pickle.ENABLED``)
  must write the same bytes and load the same objects as joblib's pickler;
- loky's warm start (``JOBLIB_NO_WARM_START=1``): the Parallel tests pass
  without it, and the installed loky's start-up data has the layout the warm
  start knows (else the workers silently fall back: this test says so loudly).

The generated objects: nested lists/tuples/dicts/sets, numpy arrays of many
dtypes, orders and views, objects with ``__reduce__``, recursive structures
and strings with odd code points (lone surrogates, NUL, astral planes).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import textwrap

import pytest

np = pytest.importorskip("numpy")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from joblib import dump, hashing, load  # noqa: E402
from joblib._parallel.backends import loky_boot  # noqa: E402
from joblib._persist import fast_pickle  # noqa: E402
from joblib._store import item_io  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# np.matrix is one of the generated array types.
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Point:
    """An object pickled through ``__reduce__``."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __reduce__(self):
        return Point, (self.x, self.y)


class Bag:
    """An object pickled by ``__reduce_ex__`` with its ``__dict__`` as state."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


# ---- strategies ------------------------------------------------------------

odd_text = st.text(st.characters(blacklist_categories=()), max_size=12)
atoms = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-300, 300),
    st.floats(allow_nan=True, allow_infinity=True), odd_text,
    st.binary(max_size=12), st.complex_numbers(allow_nan=False),
)
hashable = st.one_of(st.none(), st.booleans(), st.integers(-50, 50), odd_text,
                     st.binary(max_size=6), st.tuples(st.integers(-5, 5), odd_text))

DTYPES = ["bool", "int8", "int16", "<i4", ">i4", "int64", "uint8", "uint64",
          "float16", "float32", ">f8", "complex64", "complex128", "U3", "S4",
          "datetime64[ns]", "timedelta64[s]", [("a", "<i2"), ("b", ">f4")]]


@st.composite
def arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
    a = draw(hnp.arrays(dtype, shape))
    if draw(st.booleans()):
        a = np.asfortranarray(a)
    view = draw(st.sampled_from(["none", "step", "transpose", "reversed", "matrix", "object"]))
    if view == "step" and a.ndim:
        a = a[::2]
    elif view == "transpose":
        a = a.T
    elif view == "reversed" and a.ndim:
        a = a[::-1]
    elif view == "matrix" and a.ndim == 2 and dtype.kind in "biuf":
        a = np.asmatrix(a)
    elif view == "object":
        a = np.array([draw(atoms) for _ in range(3)] + [None], dtype=object)
    return a


def containers(children):
    return st.one_of(
        st.lists(children, max_size=6),
        st.tuples(children, children),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(hashable, children, max_size=5),
        st.frozensets(hashable, max_size=5),
        st.sets(hashable, max_size=5),
        st.builds(Point, children, children),
        st.builds(Bag, a=children, b=children),
    )


@st.composite
def maybe_recursive(draw, base):
    """``base``, sometimes put inside a list or dict that contains itself."""
    value = draw(base)
    kind = draw(st.sampled_from(["plain", "list", "dict", "shared"]))
    if kind == "list":
        outer = [value]
        outer.append(outer)
        return outer
    if kind == "dict":
        outer = {"value": value}
        outer["self"] = outer
        return outer
    if kind == "shared":
        return [value, value, (value,)]
    return value


array_free = maybe_recursive(st.recursive(atoms, containers, max_leaves=25))
with_arrays = maybe_recursive(st.recursive(st.one_of(atoms, arrays()), containers,
                                           max_leaves=12))


# ---- helpers ---------------------------------------------------------------


@pytest.fixture
def plain_pickle(monkeypatch):
    """A function running ``f()`` once with the fast pickle path, once without."""

    def both(f):
        monkeypatch.setattr(fast_pickle, "ENABLED", True)
        fast = f()
        monkeypatch.setattr(fast_pickle, "ENABLED", False)
        plain = f()
        monkeypatch.setattr(fast_pickle, "ENABLED", True)
        return fast, plain

    return both


def _dump_bytes(obj, compress):
    buffer = io.BytesIO()
    dump(obj, buffer, compress=compress)
    return buffer.getvalue()


def _same_object(a, b):
    return pickle.dumps(a, protocol=4) == pickle.dumps(b, protocol=4)


# ---- hashing ---------------------------------------------------------------


def _both_digests(obj, monkeypatch, **kwargs):
    monkeypatch.setattr(hashing, "FAST_HASH", True)
    fast = hashing.hash(obj, **kwargs)
    monkeypatch.setattr(hashing, "FAST_HASH", False)
    plain = hashing.hash(obj, **kwargs)
    return fast, plain


@SETTINGS
@given(obj=with_arrays)
def test_hash_walker_gives_the_plain_picklers_digest(obj):
    with pytest.MonkeyPatch.context() as mp:
        fast, plain = _both_digests(obj, mp)
    assert fast == plain


@SETTINGS
@given(obj=array_free, hash_name=st.sampled_from(["md5", "sha1"]))
def test_hash_walker_without_numpy_classes(obj, hash_name):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hashing, "FAST_HASH", True)
        fast = hashing.Hasher(hash_name).hash(obj)
        plain = hashing._PlainHasher(hash_name).hash(obj)
    assert fast == plain


def test_hash_switch_is_read_from_the_environment():
    code = "import joblib.hashing as h; print(h.FAST_HASH, h.hash([1, {'a': 2}]))"
    outputs = {}
    for value in ("", "1"):
        env = {**os.environ, "JOBLIB_NO_FAST_HASH": value, "PYTHONPATH": ROOT}
        outputs[value] = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                        capture_output=True, text=True).stdout.split()
    assert outputs[""][0] == "True" and outputs["1"][0] == "False"
    assert outputs[""][1] == outputs["1"][1] == hashing.hash([1, {"a": 2}])


# ---- dump / load -----------------------------------------------------------


@SETTINGS
@given(obj=with_arrays, compress=st.sampled_from([0, 3]))
def test_dump_fast_path_writes_the_plain_picklers_bytes(obj, compress):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fast_pickle, "ENABLED", True)
        fast = _dump_bytes(obj, compress)
        mp.setattr(fast_pickle, "ENABLED", False)
        plain = _dump_bytes(obj, compress)
    assert fast == plain


@SETTINGS
@given(obj=with_arrays)
def test_load_fast_path_gives_the_plain_unpicklers_object(obj):
    data = _dump_bytes(obj, 0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fast_pickle, "ENABLED", True)
        fast = load(io.BytesIO(data))
        mp.setattr(fast_pickle, "ENABLED", False)
        plain = load(io.BytesIO(data))
    assert _same_object(fast, plain)
    assert hashing.hash(fast) == hashing.hash(plain)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("store")


@SETTINGS
@given(obj=with_arrays)
def test_memory_store_fast_path_matches_the_plain_one(store_dir, obj):
    path = os.path.join(str(store_dir), "output.pkl")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fast_pickle, "ENABLED", True)
        item_io.write_output(path, obj, 0)
        fast_bytes = open(path, "rb").read()
        fast = item_io.read_output(path)
        mp.setattr(fast_pickle, "ENABLED", False)
        item_io.write_output(path, obj, 0)
        plain_bytes = open(path, "rb").read()
        plain = item_io.read_output(path)
    assert fast_bytes == plain_bytes
    assert _same_object(fast, plain)


def test_plain_pickle_path_is_really_taken(monkeypatch):
    # The switch must bypass the C pickler, not only agree with it.
    def refuse(*args, **kwargs):
        raise AssertionError("fast path used although switched off")

    monkeypatch.setattr(fast_pickle, "fast_dump", refuse)
    monkeypatch.setattr(fast_pickle, "fast_load", refuse)
    monkeypatch.setattr(fast_pickle, "ENABLED", False)
    assert load(io.BytesIO(_dump_bytes({"a": [1, "é"]}, 0))) == {"a": [1, "é"]}
    assert item_io.dumps_plain({"a": 1}) is None


def test_plain_hash_path_is_really_taken(monkeypatch):
    monkeypatch.setattr(hashing, "FAST_HASH", False)
    calls = []
    real = hashing.Pickler.save

    def counting(self, obj, *args):
        calls.append(type(obj))
        return real(self, obj, *args)

    monkeypatch.setattr(hashing.Pickler, "save", counting)
    hashing.hash([1, "a", {"b": 2.0}])
    assert {list, int, str, dict, float} <= set(calls)


# ---- loky warm start ---------------------------------------------------------

warm = pytest.mark.skipif(not loky_boot.warm_start_supported(),
                          reason="warm start needs POSIX fd passing")


def _fresh(code, **env):
    script = "import sys; sys.path.insert(0, %r)\n" % ROOT + textwrap.dedent(code)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


FIRST_CALL = """
    import json, os
    import loky, psutil
    from joblib import Parallel, delayed
    from joblib._parallel.backends import loky_boot
    pids = set(Parallel(n_jobs=2)(delayed(os.getpid)() for _ in range(20)))
    from joblib._parallel.backends import loky_warm
    cmdlines = [" ".join(p.cmdline()) for p in psutil.Process().children() if p.pid in pids]
    print(json.dumps({"loky": loky.__version__, "fallbacks": loky_warm.FALLBACKS,
                      "enabled": loky_boot.warm_start_enabled(), "cmdlines": cmdlines}))
"""


@warm
@pytest.mark.timeout(180)
def test_installed_loky_has_the_layout_the_warm_start_knows():
    out = _fresh(FIRST_CALL, JOBLIB_NO_WARM_START="")
    assert out["enabled"] and out["cmdlines"]
    assert not out["fallbacks"], (
        "loky %s passes its workers start-up data with a descriptor the warm "
        "start cannot forward, so %s fell back to loky's launcher: teach "
        "joblib/_parallel/backends/loky_boot.py (TRACKER_FD_PATHS) the new "
        "layout" % (out["loky"], out["fallbacks"])
    )
    assert not any("popen_loky_posix" in c for c in out["cmdlines"]), out["cmdlines"]


@warm
@pytest.mark.timeout(180)
def test_warm_start_switch_uses_lokys_own_launcher():
    out = _fresh(FIRST_CALL, JOBLIB_NO_WARM_START="1")
    assert out["enabled"] is False and out["cmdlines"]
    assert all("popen_loky_posix" in c for c in out["cmdlines"]), out["cmdlines"]


# The Parallel tests, run once more without the warm start (the plain path).
PARALLEL_TESTS = ["tests/test_parallel.py"]


@warm
@pytest.mark.timeout(900)
def test_parallel_suite_passes_without_the_warm_start():
    files = [f for f in PARALLEL_TESTS if os.path.exists(os.path.join(ROOT, f))]
    env = {**os.environ, "JOBLIB_NO_WARM_START": "1", "PYTHONPATH": ROOT}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *files],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=880,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]

"""load(..., trusted=[...]): the restricted mode, against crafted files.

Every hostile file here tries to create a sentinel file; the tests check
that the unrestricted load really creates it (so the file is a real
attack) and that the restricted load does not, raising
UntrustedTypesError or UnpicklingError instead.
"""

from __future__ import annotations

import functools
import io
import operator
import os
import pickle
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

import joblib
from joblib import UntrustedTypesError

DATA = Path(__file__).parent / "data"


class Gadget:
    """Pickles as an arbitrary call: ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _touch_gadgets(sentinel: str) -> dict:
    """name -> object whose unpickling would create ``sentinel``."""
    code = "open(%r, 'w').close()" % sentinel
    return {
        "os.system": Gadget(os.system, "touch %s" % sentinel),
        "builtins.eval": Gadget(eval, code),
        "builtins.exec": Gadget(exec, code),
        "subprocess.Popen": Gadget(subprocess.Popen, ["touch", sentinel]),
        "functools.partial": Gadget(
            functools.partial(os.system, "touch %s" % sentinel)
        ),
        "numpy.save": Gadget(np.save, sentinel, np.zeros(1)),
        "numpy.savetxt": Gadget(np.savetxt, sentinel, np.zeros(1)),
    }


def _reference_posix_system():
    return "%s.system" % os.system.__module__


EXPECTED_UNTRUSTED = {
    "os.system": [_reference_posix_system()],
    "builtins.eval": ["builtins.eval"],
    "builtins.exec": ["builtins.exec"],
    "subprocess.Popen": ["subprocess.Popen"],
    "functools.partial": ["functools.partial", _reference_posix_system()],
    "numpy.save": ["numpy.save"],
    "numpy.savetxt": ["numpy.savetxt"],
}

CONTAINERS = {
    "bare": lambda g: g,
    "list": lambda g: [1, [2, g]],
    "dict": lambda g: {"model": {"coef_": np.arange(3), "bad": g}},
    "object_array": lambda g: {"a": np.array([1, g, "x"], dtype=object)},
    "array_in_object_array": lambda g: np.array(
        [np.arange(3), np.array([g], dtype=object)], dtype=object
    ),
}


@pytest.fixture
def sentinel(tmp_path):
    path = tmp_path / "SENTINEL.npy"  # np.save keeps a .npy name as is
    yield path


def _run_unrestricted(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            joblib.load(path)
        except Exception:
            pass


@pytest.mark.parametrize("container", sorted(CONTAINERS))
@pytest.mark.parametrize("compress", [0, 3])
@pytest.mark.parametrize("gadget", sorted(EXPECTED_UNTRUSTED))
def test_gadget_never_runs(tmp_path, sentinel, gadget, container, compress):
    obj = CONTAINERS[container](_touch_gadgets(str(sentinel))[gadget])
    path = tmp_path / "evil.pkl"
    joblib.dump(obj, path, compress=compress)
    for trusted in ([], ["numpy"], ["sklearn", "types.SimpleNamespace"]):
        with pytest.raises(UntrustedTypesError) as info:
            joblib.load(path, trusted=trusted)
        assert info.value.untrusted == sorted(EXPECTED_UNTRUSTED[gadget])
        assert str(path) in str(info.value)
        assert isinstance(info.value, pickle.UnpicklingError)
        assert not sentinel.exists()
    if container == "bare" and compress == 0 and gadget != "subprocess.Popen":
        # Control: the file really is an attack when loaded unrestricted.
        _run_unrestricted(path)
        assert sentinel.exists()


def test_error_lists_every_untrusted_global(tmp_path, sentinel):
    gadgets = _touch_gadgets(str(sentinel))
    obj = {
        "a": [gadgets["builtins.eval"]],
        "b": np.array([gadgets["os.system"]], dtype=object),
        "c": types.SimpleNamespace(x=operator.attrgetter("x")),
        "d": gadgets["functools.partial"],
    }
    path = tmp_path / "many.pkl"
    joblib.dump(obj, path, compress=("gzip", 3))
    with pytest.raises(UntrustedTypesError) as info:
        joblib.load(path, trusted=[])
    assert info.value.untrusted == sorted(
        {
            "builtins.eval",
            _reference_posix_system(),
            "types.SimpleNamespace",
            "operator.attrgetter",
            "functools.partial",
        }
    )
    assert not sentinel.exists()


def _raw_pickle(*parts: bytes) -> bytes:
    return b"\x80\x02" + b"".join(parts) + b"."


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def test_getattr_chain_is_refused(tmp_path, sentinel):
    # getattr(__import__('os'), 'system')('touch SENTINEL')
    data = _raw_pickle(
        _global("builtins", "getattr"),
        _global("builtins", "__import__"),
        b"X\x02\x00\x00\x00os\x85R",
        b"X\x06\x00\x00\x00system\x86R",
        b"X" + len("touch %s" % sentinel).to_bytes(4, "little")
        + ("touch %s" % sentinel).encode() + b"\x85R",
    )
    path = tmp_path / "chain.pkl"
    path.write_bytes(data)
    with pytest.raises(UntrustedTypesError) as info:
        joblib.load(path, trusted=["numpy"])
    assert info.value.untrusted == ["builtins.__import__", "builtins.getattr"]
    assert not sentinel.exists()
    _run_unrestricted(path)
    assert sentinel.exists()


@pytest.mark.parametrize(
    "body, message",
    [
        # numpy.ndarray may be named (arrays need it), never called.
        (_global("numpy", "ndarray") + b"J\x00\x00\x00\x40\x85R", "REDUCE"),
        (_global("numpy", "ndarray") + b"J\x00\x00\x00\x40\x85\x81", "NEWOBJ"),
        # The dtype stand-in takes type strings only.
        (_global("numpy", "dtype") + _global("builtins", "list") + b"\x85R",
         "numpy.dtype"),
        # The _reconstruct stand-in makes empty arrays only (no allocation).
        (_global("numpy.core.multiarray", "_reconstruct")
         + _global("numpy", "ndarray") + b"J\x00\x00\x00\x40\x85U\x01b\x87R",
         "_reconstruct"),
        # bytes(n) would allocate n bytes.
        (_global("builtins", "bytes") + b"J\x00\x00\x00\x7f\x85R", r"bytes\(n\)"),
        # _codecs.encode only decodes latin-1 text.
        (_global("_codecs", "encode") + b"X\x01\x00\x00\x00xX\x04\x00\x00\x00zlib\x86R",
         "_codecs.encode"),
        # BUILD may not set attributes on a class (monkey-patching it).
        (_global("types", "SimpleNamespace") + b"N}X\x08\x00\x00\x00__repr__"
         + _global("builtins", "str") + b"s\x86b", "BUILD"),
        # A trusted class's instance cannot get dunder attributes either.
        (_global("types", "SimpleNamespace") + b")R" + b"N}X\x0b\x00\x00\x00__getattr__"
         + _global("builtins", "str") + b"s\x86b", "attribute"),
        # Containers opcodes may not touch classes.
        (_global("types", "SimpleNamespace") + b"(K\x01e", "APPENDS"),
        # Persistent ids are refused.
        (b"X\x01\x00\x00\x00xQ", "persistent"),
    ],
    ids=["ndarray-reduce", "ndarray-newobj", "dtype-obj", "reconstruct-shape",
         "bytes-n", "codecs", "build-class", "dunder-slot", "appends-class",
         "persid"],
)
def test_allowed_names_are_not_gadgets(tmp_path, body, message):
    path = tmp_path / "gadget.pkl"
    path.write_bytes(_raw_pickle(body))
    with pytest.raises(pickle.UnpicklingError, match=message):
        joblib.load(path, trusted=["types.SimpleNamespace"])


def test_copyreg_reconstructor_needs_trusted_class(tmp_path):
    class_bytes = pickle.dumps(types.SimpleNamespace(a=1), protocol=0)
    path = tmp_path / "p0.pkl"
    path.write_bytes(pickle.dumps([types.SimpleNamespace(a=1)], protocol=1))
    with pytest.raises(UntrustedTypesError, match="types.SimpleNamespace"):
        joblib.load(path, trusted=[])
    assert joblib.load(path, trusted=[types.SimpleNamespace]) == [
        types.SimpleNamespace(a=1)
    ]
    assert b"SimpleNamespace" in class_bytes


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_plain_data_round_trips(tmp_path, protocol):
    import collections
    import datetime
    import decimal

    value = {
        "ints": [1, -2**70, 3],
        "floats": (1.5, float("inf")),
        "text": "é", "bytes": b"\x00\xff", "ba": bytearray(b"xy"),
        "set": {1, 2}, "fs": frozenset({3, 4}), "c": 1 + 2j, "none": None,
        "od": collections.OrderedDict(a=1), "dd": collections.defaultdict(list),
        "when": datetime.datetime(2024, 1, 2, 3, 4), "dec": decimal.Decimal("1.5"),
        "arr": np.arange(6).reshape(2, 3), "f": np.asfortranarray(np.eye(3)),
        "obj": np.array([1, "a", None], dtype=object), "scalar": np.float32(2.5),
        "dt": np.dtype([("a", "<i4"), ("b", ">f8")]), "m": np.matrix([[1, 2]]),
        "type": np.float64,
    }
    # Sets of ints only: a rebuilt set of strings may iterate (and repr) in
    # another order than the original.
    path = tmp_path / "plain.pkl"
    joblib.dump(value, path, protocol=protocol)
    loaded = joblib.load(path, trusted=[])
    assert repr(loaded) == repr(value)
    plain = tmp_path / "plain_pickle.pkl"
    plain.write_bytes(pickle.dumps(value, protocol=protocol))
    assert repr(joblib.load(plain, trusted=[])) == repr(value)


def test_numpy_preset_random_state_and_masked(tmp_path):
    value = {"rs": np.random.RandomState(3), "g": np.random.default_rng(4),
             "ma": np.ma.masked_array([1, 2], mask=[0, 1])}
    path = tmp_path / "np.pkl"
    joblib.dump(value, path)
    with pytest.raises(UntrustedTypesError):
        joblib.load(path, trusted=[])
    loaded = joblib.load(path, trusted=["numpy"])
    assert loaded["rs"].randint(1000) == np.random.RandomState(3).randint(1000)
    assert loaded["g"].integers(1000) == np.random.default_rng(4).integers(1000)
    assert loaded["ma"].mask.tolist() == [False, True]


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in DATA.glob("joblib_*_py311.pkl*") if p.suffix != ".npy"),
)
def test_fixtures_of_old_joblib_versions(name):
    path = DATA / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = joblib.load(path)
        with pytest.raises(UntrustedTypesError) as info:
            joblib.load(path, trusted=[])
        assert info.value.untrusted == ["types.SimpleNamespace"]
        loaded = joblib.load(path, trusted=["types.SimpleNamespace"])
    assert repr(loaded) == repr(expected)


def test_mmap_and_file_objects(tmp_path):
    value = {"a": np.arange(10.0), "b": [np.ones(3)]}
    path = tmp_path / "m.pkl"
    joblib.dump(value, path)
    loaded = joblib.load(path, mmap_mode="r", trusted=[])
    assert isinstance(loaded["a"], np.memmap)
    np.testing.assert_array_equal(loaded["a"], value["a"])
    buf = io.BytesIO(path.read_bytes())
    np.testing.assert_array_equal(joblib.load(buf, trusted=[])["a"], value["a"])


def test_trusted_forms(tmp_path):
    path = tmp_path / "ns.pkl"
    joblib.dump(types.SimpleNamespace(f=operator.add), path)
    for trusted in (
        ["types.SimpleNamespace", "_operator.add"],
        [types.SimpleNamespace, operator.add],
        ["types.*", "_operator.*"],
    ):
        assert joblib.load(path, trusted=trusted).f is operator.add
    with pytest.raises(UntrustedTypesError, match="_operator.add"):
        joblib.load(path, trusted=["types.SimpleNamespace"])


def test_package_wildcard_does_not_trust_reexports(tmp_path, monkeypatch, sentinel):
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from os import system\nclass Model:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "reexport.pkl"
    path.write_bytes(_raw_pickle(
        _global("mypkg", "system"),
        b"X" + len("touch %s" % sentinel).to_bytes(4, "little")
        + ("touch %s" % sentinel).encode() + b"\x85R",
    ))
    with pytest.raises(UntrustedTypesError, match="mypkg.system"):
        joblib.load(path, trusted=["mypkg.*"])
    assert not sentinel.exists()


@pytest.mark.parametrize("bad", ["numpy", 3, [3], ["nodots"], ["a.__class__"]])
def test_bad_trusted_argument(tmp_path, bad):
    path = tmp_path / "x.pkl"
    joblib.dump([1], path)
    if bad == "numpy":
        with pytest.raises(TypeError, match="list of dotted names"):
            joblib.load(path, trusted=bad)
        return
    with pytest.raises((TypeError, ValueError), match="trusted"):
        joblib.load(path, trusted=bad if isinstance(bad, list) else bad)


def test_default_is_unrestricted(tmp_path):
    path = tmp_path / "ns.pkl"
    joblib.dump(types.SimpleNamespace(a=np.arange(3)), path)
    assert joblib.load(path).a.tolist() == [0, 1, 2]
    assert joblib.load(path, trusted=None).a.tolist() == [0, 1, 2]


def test_error_pickles_and_is_public():
    err = UntrustedTypesError("f.pkl", ["b.c", "a.b"])
    again = pickle.loads(pickle.dumps(err))
    assert again.untrusted == ["a.b", "b.c"] and str(again) == str(err)
    assert joblib.UntrustedTypesError is UntrustedTypesError
    assert issubclass(UntrustedTypesError, pickle.UnpicklingError)


def test_restricted_load_in_fresh_interpreter_does_not_import_named_modules(tmp_path):
    # A file naming an untrusted module must not even import it.
    mod = tmp_path / "side_effect_mod.py"
    mod.write_text("open(%r, 'w').close()\nclass K:\n    pass\n"
                   % str(tmp_path / "IMPORTED"))
    path = tmp_path / "imp.pkl"
    path.write_bytes(_raw_pickle(_global("side_effect_mod", "K") + b")\x81"))
    code = (
        "import sys, joblib; sys.path.insert(0, %r)\n"
        "try:\n    joblib.load(%r, trusted=[])\n"
        "except joblib.UntrustedTypesError as e:\n    print(e.untrusted)\n"
        % (str(tmp_path), str(path))
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=60, env=dict(os.environ))
    assert out.stdout.strip() == "['side_effect_mod.K']", out.stderr
    assert not (tmp_path / "IMPORTED").exists()


def test_restricted_load_and_inspect_without_numpy(tmp_path):
    path = tmp_path / "plain.pkl"
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "import collections, joblib\n"
        "joblib.dump({'a': [1, {2}], 'o': collections.OrderedDict(x=1)}, %r)\n"
        "print(joblib.load(%r, trusted=['numpy']))\n"
        "print(joblib.inspect_file(%r)['globals'])\n" % ((str(path),) * 3)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.splitlines() == [
        "{'a': [1, {2}], 'o': OrderedDict([('x', 1)])}",
        "{'collections.OrderedDict': 1}",
    ], out.stderr


@pytest.fixture
def sklearn_like(tmp_path, monkeypatch):
    """A package laid out like scikit-learn (the real one is not a test dep)."""
    if "sklearn" in sys.modules:
        pytest.skip("a real scikit-learn is imported: the layout test needs its own")
    root = tmp_path / "pkgs"
    files = {
        "sklearn/__init__.py": "",
        "sklearn/base.py": "class BaseEstimator:\n    pass\n",
        "sklearn/linear_model.py": (
            "from sklearn.base import BaseEstimator\nimport os\n"
            "class LogisticRegression(BaseEstimator):\n"
            "    def __init__(self, C=1.0):\n        self.C = C\n"
            "def run(cmd):\n    os.system(cmd)\n"
        ),
        "sklearn/neighbors/__init__.py": "",
        "sklearn/neighbors/_kd_tree.py": (
            "from sklearn.base import BaseEstimator\n"
            "class KDTree:\n    def __reduce__(self):\n"
            "        return (newObj, (KDTree,), self.__dict__)\n"
            "def newObj(cls):\n    return cls.__new__(cls)\n"
        ),
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.syspath_prepend(str(root))
    yield
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        del sys.modules[name]


def test_sklearn_preset(tmp_path, sklearn_like, sentinel):
    from sklearn.linear_model import LogisticRegression, run
    from sklearn.neighbors._kd_tree import KDTree

    model = LogisticRegression(C=0.5)
    model.coef_ = np.arange(4.0)
    model.tree_ = KDTree()
    model.tree_.data = np.ones(3)
    path = tmp_path / "model.pkl"
    joblib.dump(model, path)
    loaded = joblib.load(path, trusted=["sklearn"])
    assert type(loaded) is LogisticRegression and loaded.C == 0.5
    assert type(loaded.tree_) is KDTree and loaded.tree_.data.tolist() == [1, 1, 1]
    for alias in ("scikit-learn", "scikit-learn estimators"):
        assert joblib.load(path, trusted=[alias]).C == 0.5
    # A function of the package is not an estimator: not trusted.
    evil = tmp_path / "evil.pkl"
    joblib.dump([model, Gadget(run, "touch %s" % sentinel)], evil)
    with pytest.raises(UntrustedTypesError) as info:
        joblib.load(evil, trusted=["sklearn"])
    assert info.value.untrusted == ["sklearn.linear_model.run"]
    assert not sentinel.exists()
    # newObj builds only the preset's classes.
    hostile = tmp_path / "newobj.pkl"
    hostile.write_bytes(_raw_pickle(
        _global("sklearn.neighbors._kd_tree", "newObj")
        + _global("collections", "OrderedDict") + b"\x85R"))
    with pytest.raises(pickle.UnpicklingError, match="newObj"):
        joblib.load(hostile, trusted=["sklearn"])


@pytest.mark.parametrize("dtype_state", [b"X\x02\x00\x00\x00f8", b"N"])
def test_array_wrapper_state_is_checked(tmp_path, dtype_state):
    # A wrapper whose dtype is not a numpy dtype never gets raw bytes.
    wrapper = (
        _global("joblib.numpy_pickle", "NumpyArrayWrapper") + b")\x81}("
        + b"X\x05\x00\x00\x00dtype" + dtype_state
        + b"X\x05\x00\x00\x00shapeK\x01\x85"
        + b"X\x05\x00\x00\x00orderX\x01\x00\x00\x00C"
        + b"X\x08\x00\x00\x00subclass" + _global("numpy", "ndarray") + b"ub"
    )
    data = b"\x80\x02" + wrapper + b"\x00" * 8 + b"."
    path = tmp_path / "w.pkl"
    path.write_bytes(data)
    # The scan refuses it first...
    with pytest.raises(pickle.UnpicklingError, match="expected a numpy dtype"):
        joblib.load(path, trusted=[])
    # ...and the guarded unpickler, the second line of defence, too.
    from joblib._persist.restricted import make_restricted_unpickler
    from joblib._persist.trust import TrustPolicy

    unpickler = make_restricted_unpickler(TrustPolicy([]))("", io.BytesIO(data), True)
    with pytest.raises(pickle.UnpicklingError, match="invalid array wrapper"):
        unpickler.load()


def test_hostile_build_on_a_class_is_still_inspectable(tmp_path):
    path = tmp_path / "b.pkl"
    path.write_bytes(_raw_pickle(
        _global("types", "SimpleNamespace") + b"N}X\x08\x00\x00\x00__repr__"
        + _global("builtins", "eval") + b"s\x86b"))
    assert joblib.inspect_file(path)["globals"] == {
        "builtins.eval": 1, "types.SimpleNamespace": 1}


def test_guarded_unpickler_alone_refuses_untrusted_globals(sentinel):
    # Second line of defence: without the scan, find_class still refuses.
    from joblib._persist.restricted import make_restricted_unpickler
    from joblib._persist.trust import TrustPolicy

    data = pickle.dumps([1, Gadget(os.system, "touch %s" % sentinel)])
    cls = make_restricted_unpickler(TrustPolicy(["numpy"]))
    with pytest.raises(UntrustedTypesError, match="system"):
        cls("", io.BytesIO(data), True).load()
    assert not sentinel.exists()


@pytest.mark.parametrize("protocol", [2, 5])
def test_numpy_subclasses_and_string_dtype_in_plain_pickles(tmp_path, protocol):
    values = [np.rec.fromrecords([(1, 2.0)], names="a,b"),
              np.rec.fromrecords([(1, 2.0)], names="a,b")[0],
              np.memmap(tmp_path / "m.dat", dtype="f8", mode="w+", shape=(3,))]
    if hasattr(np.dtypes, "StringDType"):
        values.append(np.array(["a", "bc"], dtype=np.dtypes.StringDType()))
        values.append(np.array(["a", None], dtype=np.dtypes.StringDType(na_object=None)))
    for value in values:
        data = pickle.dumps(value, protocol=protocol)
        expected = pickle.loads(data)
        got = joblib.load(io.BytesIO(data), trusted=[])
        assert type(got) is type(expected) and repr(got) == repr(expected)

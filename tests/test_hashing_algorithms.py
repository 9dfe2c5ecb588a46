"""joblib.hash with other algorithms than md5: built-in ones and register_hash.

Every algorithm digests the very byte stream md5 digests (the one joblib 1.6
hashes): this is checked against each algorithm's own reference
implementation fed with the stream a recording hash object captured.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import joblib
from joblib import hash
from joblib._hashing import algorithms

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
xxhash = pytest.importorskip("xxhash")

REFERENCES = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "blake2b": hashlib.blake2b,
    "xxh3": xxhash.xxh3_64,
    "xxh128": xxhash.xxh3_128,
}
DIGEST_SIZES = {"md5": 32, "sha1": 40, "blake2b": 128, "xxh3": 16, "xxh128": 32}


class Recorder:
    """A hash object that keeps what it is fed (and the buffer types)."""

    instances: list = []

    def __init__(self):
        self.chunks = []
        Recorder.instances.append(self)

    def update(self, data):
        self.chunks.append(bytes(data))

    def hexdigest(self):
        return hashlib.md5(b"".join(self.chunks)).hexdigest()


@pytest.fixture
def registered():
    """Register names for one test and unregister them afterwards."""
    names = []

    def register(name, factory, **kwargs):
        joblib.register_hash(name, factory, **kwargs)
        names.append(name)

    yield register
    for name in names:
        algorithms._FACTORIES.pop(name, None)
    Recorder.instances.clear()


def _stream_of(obj, register, **kwargs) -> bytes:
    if "recorder" not in algorithms.hash_names():
        register("recorder", Recorder)
    Recorder.instances.clear()
    hash(obj, hash_name="recorder", **kwargs)
    return b"".join(Recorder.instances[-1].chunks)


def _nested_objects():
    atoms = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
        st.text(max_size=8), st.binary(max_size=8),
    )
    return st.recursive(
        atoms,
        lambda children: st.one_of(
            st.lists(children, max_size=6),
            st.tuples(children, children),
            st.dictionaries(st.text(max_size=4), children, max_size=5),
            st.frozensets(st.integers(), max_size=5),
        ),
        max_leaves=30,
    )


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(obj=_nested_objects(), name=st.sampled_from(sorted(REFERENCES)))
def test_every_algorithm_digests_the_md5_stream(obj, name, registered):
    stream = _stream_of(obj, registered)
    assert hash(obj, hash_name=name) == REFERENCES[name](stream).hexdigest()
    assert hash(obj) == hashlib.md5(stream).hexdigest()


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_arrays_digest_the_md5_stream(name, registered):
    np = pytest.importorskip("numpy")
    base = np.arange(3000.0).reshape(100, 30)
    for array in (base, np.asfortranarray(base), base[::3, ::2], np.float32(2.5),
                  [base, {"k": base[:, 0]}]):
        stream = _stream_of(array, registered)
        assert hash(array, hash_name=name) == REFERENCES[name](stream).hexdigest()


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_digests_differ_between_values_and_have_the_algorithm_size(name):
    values = [None, 0, 1, "1", b"1", [1], (1,), {1: 1}, {1}, 1.0]
    digests = [hash(value, hash_name=name) for value in values]
    assert len(set(digests)) == len(values)
    assert {len(digest) for digest in digests} == {DIGEST_SIZES[name]}
    assert hash({"a": 1, "b": 2}, hash_name=name) == hash({"b": 2, "a": 1}, hash_name=name)


@pytest.mark.parametrize("name", ["xxh3", "xxh128", "blake2b"])
def test_contiguous_arrays_are_fed_without_copy(name):
    np = pytest.importorskip("numpy")
    array = np.ones((2000, 2500))  # 40 MB
    for view in (array, np.asfortranarray(array)):
        tracemalloc.start()
        try:
            hash(view, hash_name=name)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 1 << 20, peak


@pytest.mark.parametrize("bad", ["sha256", "XXH3", "", None, 5, ["md5"]])
def test_unknown_name_error_starts_with_joblib16_wording(bad):
    with pytest.raises(ValueError) as excinfo:
        hash([1, 2], hash_name=bad)
    message = str(excinfo.value)
    assert message.startswith("Valid options for 'hash_name' are (")
    assert message.endswith("Got hash_name=%r instead." % (bad,))
    for name in ("'md5'", "'sha1'", "'blake2b'", "'xxh3'", "'xxh128'"):
        assert name in message


def test_missing_xxhash_names_the_extra(tmp_path):
    code = textwrap.dedent("""
        import sys
        sys.modules["xxhash"] = None  # as if the package were not installed
        import joblib
        assert len(joblib.hash([1], hash_name="blake2b")) == 128
        for name in ("xxh3", "xxh128"):
            try:
                joblib.hash([1], hash_name=name)
            except ValueError as exc:
                print(exc)
            else:
                raise AssertionError("no error")
    """)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        env=dict(os.environ, PYTHONPATH=ROOT),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for name, line in zip(("xxh3", "xxh128"), lines):
        assert line.startswith("hash_name=%r needs the optional xxhash package" % name)
        assert 'pip install "joblib[fast]"' in line


def test_register_hash_adds_an_algorithm(registered):
    registered("sha256_test", hashlib.sha256)
    assert "sha256_test" in algorithms.hash_names()
    expected = hashlib.sha256(_stream_of({"a": [1, 2]}, registered)).hexdigest()
    assert joblib.hash({"a": [1, 2]}, hash_name="sha256_test") == expected
    # A later registration needs force=True.
    with pytest.raises(ValueError, match="already registered as 'sha256_test'"):
        joblib.register_hash("sha256_test", hashlib.sha512)
    registered("sha256_test", hashlib.sha512, force=True)
    assert len(joblib.hash(1, hash_name="sha256_test")) == 128


@pytest.mark.parametrize("name", ["md5", "sha1", "blake2b", "xxh3", "xxh128"])
def test_builtin_names_cannot_be_replaced(name):
    before = hash([1, 2], hash_name=name)
    with pytest.raises(ValueError, match="built-in hash algorithm"):
        joblib.register_hash(name, hashlib.sha256, force=True)
    assert hash([1, 2], hash_name=name) == before


@pytest.mark.parametrize(
    "name, factory, error, match",
    [
        ("", hashlib.sha256, ValueError, "non-empty string; got ''"),
        (None, hashlib.sha256, ValueError, "non-empty string; got None"),
        ("x", "sha256", TypeError, "must be a callable.*got 'sha256'"),
        ("x", object, TypeError, "has no update or hexdigest"),
        ("x", lambda: type("H", (), {"update": print})(), TypeError, "has no hexdigest"),
    ],
)
def test_register_hash_rejects_bad_input(name, factory, error, match):
    with pytest.raises(error, match=match):
        joblib.register_hash(name, factory)
    assert "x" not in algorithms.hash_names()


def test_register_hash_is_exported_lazily():
    assert joblib.register_hash is algorithms.register_hash
    assert joblib.hashing.register_hash is algorithms.register_hash
    assert "register_hash" not in joblib.__all__  # __all__ stays 1.6's


def test_hasher_classes_still_accept_any_hashlib_name():
    # joblib 1.6's Hasher passes its name to hashlib.new, with no check.
    from joblib.hashing import Hasher

    stream_digest = Hasher(hash_name="sha256").hash([1, 2])
    assert len(stream_digest) == 64
    assert Hasher(hash_name="xxh3").hash([1, 2]) == hash([1, 2], hash_name="xxh3")

"""The fast walker of joblib.hash against a plain twin (hypothesis).

``plain_hash`` is the rule joblib 1.6 follows, written the plain way: the
pure-Python pickler over the whole object, strings never memoized, dict
items in sorted order (by key digest when the keys cannot be compared).
The walker must write the very same stream, shared references (memo GETs)
included, whatever the shape: the batches of records it encodes at once,
lists longer than a pickle batch, containers held from outside.
"""

from __future__ import annotations

import hashlib
import io
import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from joblib import hash


class PlainHasher(pickle._Pickler):
    """The pure-Python pickler with joblib 1.6's two hashing rules."""

    def __init__(self):
        self.stream = io.BytesIO()
        super().__init__(self.stream, protocol=3)

    def memoize(self, obj):
        if not isinstance(obj, (str, bytes)):
            super().memoize(obj)

    def _batch_setitems(self, items, *args):
        items = list(items)
        try:
            items = sorted(items)
        except TypeError:
            items = sorted((hash(key), value) for key, value in items)
        super()._batch_setitems(iter(items), *args)


def plain_hash(obj) -> str:
    hasher = PlainHasher()
    hasher.dump(obj)
    return hashlib.md5(hasher.stream.getvalue()).hexdigest()


ATOMS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.text(max_size=4), st.binary(max_size=4),
)
RECORD_TUPLES = st.lists(ATOMS, min_size=1, max_size=4).map(tuple)
RECORD_DICTS = st.dictionaries(
    st.one_of(st.text(max_size=2), st.integers(0, 3)), ATOMS, max_size=4)
SAME_KEYS_DICTS = st.lists(ATOMS, min_size=2, max_size=2).map(
    lambda values: {"v": values[0], "k": values[1]})  # unsorted key order
RECORDS = st.one_of(
    st.lists(RECORD_TUPLES, min_size=8, max_size=30),
    st.lists(RECORD_DICTS, min_size=8, max_size=30),
    st.lists(SAME_KEYS_DICTS, min_size=8, max_size=30),
    st.lists(st.one_of(RECORD_TUPLES, RECORD_DICTS, ATOMS), max_size=30),
)


@st.composite
def shared_structures(draw):
    """Lists of records, some records referenced more than once."""
    records = draw(RECORDS)
    if records:
        picks = draw(st.lists(st.integers(0, len(records) - 1), max_size=5))
    else:
        picks = []
    again = [records[i] for i in picks]
    layout = draw(st.sampled_from(["dup_in_list", "sibling", "tuple", "dict"]))
    if layout == "dup_in_list":
        return records + again
    if layout == "sibling":
        return [records, again]
    if layout == "tuple":
        return (tuple(again), records, len(records))
    return {"b": records, "a": again, "c": {"n": records[:3]}}


@settings(max_examples=150, deadline=None)
@given(shared_structures())
def test_walker_matches_plain_pickler_with_shared_references(obj):
    assert hash(obj) == plain_hash(obj)


@settings(max_examples=60, deadline=None)
@given(st.recursive(
    ATOMS,
    lambda children: st.one_of(
        st.lists(children, max_size=10),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=3), children, max_size=5),
    ),
    max_leaves=60,
))
def test_walker_matches_plain_pickler_on_nested_values(obj):
    assert hash(obj) == plain_hash(obj)


def test_long_lists_of_records_with_shared_items():
    # Over 1000 items: the list is walked in slices (items held twice).
    rows = [(i, "r%d" % i, i * 0.5) for i in range(2500)]
    records = [{"k": i, "v": i % 7} for i in range(2500)]
    for data in (rows, records):
        assert hash(data) == plain_hash(data)
        shared = data + [data[10], data[1500]]
        assert hash(shared) == plain_hash(shared)
        assert hash([data, data[2400]]) == plain_hash([data, data[2400]])


def test_records_also_held_from_outside_hash_alike():
    rows = [(i, str(i)) for i in range(50)]
    kept = rows[3]  # an extra reference: must not change the digest
    assert hash(rows) == plain_hash(rows)
    del kept
    assert hash(rows) == plain_hash(rows) == hash([(i, str(i)) for i in range(50)])


def test_a_hasher_reused_across_objects_keeps_one_memo():
    from joblib.hashing import Hasher

    rows = [(i, str(i)) for i in range(20)]
    hasher, plain = Hasher(), PlainHasher()
    for obj in (rows, [rows, (1, 2)], rows):
        hasher.dump(obj)
        plain.dump(obj)
    assert hasher.stream.getvalue() == plain.stream.getvalue()


SMALL = st.one_of(
    ATOMS,
    st.dictionaries(st.text(max_size=6), ATOMS, max_size=8),
    st.dictionaries(st.integers(), ATOMS, max_size=8),
    st.dictionaries(st.one_of(st.text(max_size=2), st.integers(0, 3)), ATOMS,
                    max_size=4),  # often unorderable: the general path
    st.dictionaries(st.text(max_size=3), st.one_of(ATOMS, RECORD_TUPLES),
                    max_size=4),  # not all atoms: the general path
)


@settings(max_examples=200, deadline=None)
@given(SMALL, st.sampled_from(["md5", "sha1", "blake2b"]))
def test_small_objects_shortcut_matches_the_pickler(obj, hash_name):
    from joblib._hashing.small import small_stream
    from joblib.hashing import Hasher

    expected = Hasher(hash_name=hash_name).hash(obj)  # never the shortcut
    assert hash(obj, hash_name=hash_name) == expected
    if hash_name == "md5":
        assert expected == plain_hash(obj)
    stream = small_stream(obj)
    if stream is not None:
        plain = PlainHasher()
        plain.dump(obj)
        assert stream == plain.stream.getvalue()


def test_small_objects_shortcut_covers_memory_arguments():
    from joblib._hashing.small import small_stream

    assert small_stream({"x": 1, "y": "a", "z": None, "w": 2.5}) is not None
    assert small_stream(3) is not None
    assert small_stream({"x": [1]}) is None
    assert small_stream({1: 1, "a": 2}) is None
    assert small_stream(dict.fromkeys(range(1001))) is None

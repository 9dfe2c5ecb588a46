"""Record batches whose memo PUTs the C pickler writes (joblib._hashing.records).

A batch of all-atom tuples, or of dicts with the same atom keys, is queued
with a constant stem and each record's memo index, and ``bytes.replace``
turns them into 1.6's opcodes.  The forms differ with the memo index (below
256, below 65536, up to 2**31 for tuples and 2**32 for dicts), so the
streams are compared with the plain twin's at several starting indices,
reached by offsetting both picklers' memo counters.  Data that holds a
stem's encoding must take the exact slow path.  Digests of large structures
(past memo index 65536) were recorded with real joblib 1.6.0.
"""

from __future__ import annotations

import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joblib import hash
from joblib._hashing import records
from joblib.hashing import Hasher
from test_hashing_fast_path import PlainHasher

OFFSETS = [0, 200, 250, 300, 65500, 65530, 70000, 2**31 - 40, 2**32 - 2000]
# The bytes a stem turns into in the dump: data holding them must still hash
# exactly (the counts of replaced bytes disagree, the slow path is taken).
STEM_BYTES = [pattern for pattern, _ in records.KINDS] + [
    records.PUT_STEM, records.DICT_STEM, b"C\x06" + records.PUT_STEM,
    pickle.BININT + b"\x00\x00\x01\x00",
]
ATOMS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(60000, 2**40),
    st.floats(allow_nan=True), st.text(max_size=3), st.binary(max_size=3),
    st.sampled_from([0.0, -0.0, 1, True, 1.0]), st.sampled_from(STEM_BYTES),
)
KEYS = st.one_of(st.sampled_from(["k", "v", "a", 0, 1, True, 2.5, -0.0, 0.0, b"k"]), ATOMS)


@st.composite
def record_batches(draw):
    """A list of records of one shape: tuples, or dicts sharing keys."""
    count = draw(st.integers(8, 40))
    if draw(st.booleans()):
        width = draw(st.integers(1, 5))
        return [tuple(draw(st.lists(ATOMS, min_size=width, max_size=width))) for _ in range(count)]
    keys = draw(st.lists(KEYS, min_size=1, max_size=4, unique=True))
    records_ = []
    for _ in range(count):
        names = keys if draw(st.integers(0, 9)) else draw(st.permutations(keys))
        if not draw(st.integers(0, 14)):  # now and then another key set
            names = draw(st.lists(KEYS, min_size=1, max_size=4, unique=True))
        records_.append({name: draw(ATOMS) for name in names})
    return records_


def _streams(obj, offset: int) -> tuple:
    """The walker's and the plain twin's streams, memo slots from ``offset``."""

    class Offset(PlainHasher):
        def memoize(self, obj):
            if not isinstance(obj, (str, bytes)):
                index = len(self.memo) + offset
                self.write(self.put(index))
                self.memo[id(obj)] = index, obj

    hasher, plain = Hasher(), Offset()
    hasher._skipped = offset  # slots the walker counts without memo entries
    hasher.dump(obj)
    plain.dump(obj)
    return hasher.stream.getvalue(), plain.stream.getvalue()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=record_batches(), offset=st.sampled_from(OFFSETS),
       layout=st.sampled_from(["list", "tuple", "long", "shared", "dict"]))
def test_record_batches_write_the_plain_stream_at_any_memo_index(batch, offset, layout):
    if layout == "tuple":
        obj = tuple(batch)
    elif layout == "long":  # over 1000 items: walked in slices of the list
        obj = batch * (1 + 1000 // len(batch)) + [batch[0]]
        obj = [dict(r) if type(r) is dict else tuple(list(r)) for r in obj]
    elif layout == "shared":  # some records again: memo GETs
        obj = [batch, batch[len(batch) // 2], batch[:3]]
    elif layout == "dict":
        obj = {"x": batch, "y": (batch[-1], 5)}
    else:
        obj = batch
    fast, plain = _streams(obj, offset)
    assert fast == plain


@pytest.mark.parametrize("offset", [300, 70000])
@pytest.mark.parametrize("kind", ["tuples", "dicts"])
def test_data_holding_a_stem_encoding_takes_the_exact_slow_path(monkeypatch, offset, kind):
    calls = []
    expand = records.expand
    monkeypatch.setattr("joblib._hashing.walker.expand",
                        lambda *args: calls.append(1) or expand(*args))
    if kind == "tuples":
        batch = [(i, "x") for i in range(20)] + [(pattern, 1) for pattern, _ in records.KINDS]
    else:
        batch = [{"a": i, "b": pattern} for i, (pattern, _) in enumerate(records.KINDS * 5)]
    fast, plain = _streams(batch, offset)
    assert fast == plain
    assert calls, "the data held stem encodings: the slow path must run"


def test_stems_are_told_apart_from_equal_bytes_by_identity():
    # Equal bytes that are not the stem objects are data like any other.
    twins = [bytes(bytearray(records.PUT_STEM)), bytes(bytearray(records.DICT_STEM))]
    batch = [(twins[i % 2], i) for i in range(30)] + [{"s": t, "i": 1} for t in twins * 5]
    for offset in (300, 70000):
        fast, plain = _streams([batch, twins], offset)
        assert fast == plain


def test_patterns_cannot_overlap_themselves():
    # The replaced-bytes count proves exactness only if occurrences of a
    # pattern never overlap: no proper suffix of it is also a prefix.
    for pattern, _ in records.KINDS:
        assert not any(pattern.startswith(pattern[i:]) for i in range(1, len(pattern)))


# Digests recorded with joblib 1.6.0 (/work/refvenv): large structures whose
# records cross memo index 65536 (BININT indices) in one list.
JOBLIB16 = {
    "records_past_65536": "f88c6df6fc73eed8224de3d480f88f2d",
    "unsorted_int_keys_past_65536": "0aeb21e49dbab7ae07f56203f6c09142",
    "mixed_widths_past_65536": "19513691bb7523c9bc27ffeb9f40a8ab",
}


def _large_case(name):
    if name == "records_past_65536":
        return [(i, "r%d" % i, i * 0.25) for i in range(40000)] + [
            {"k": i, "v": i % 5} for i in range(40000)
        ]
    if name == "unsorted_int_keys_past_65536":
        return [{3: i, 1: "x%d" % i, 2: None, 0: i * 0.5} for i in range(70000)]
    return [(i, -i) if i % 2 else (str(i), b"b", True, None, 1.5) for i in range(70000)]


@pytest.mark.parametrize("name", sorted(JOBLIB16))
def test_large_record_lists_hash_as_joblib16(name):
    assert hash(_large_case(name)) == JOBLIB16[name]

"""Record the digests real joblib 1.6.0 gives to a fixed set of objects.

The output, ``joblib16_hashes.json`` next to this file, is the reference
``tests/test_hashing.py`` compares our ``joblib.hash`` against.  The test
imports :func:`build_cases` from this file, so both sides hash the very same
objects.

Run it with joblib 1.6.0 installed in a separate virtualenv (never in the
development one), from anywhere::

    python -m venv /tmp/joblib16
    /tmp/joblib16/bin/pip install joblib==1.6.0 numpy
    /tmp/joblib16/bin/python tests/data/create_joblib16_hashes.py

The script refuses to run with any other joblib version.  Objects only use
the standard library and numpy, so their pickled names are the same in both
environments.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import fractions
import json
import os
import pickle
import sys
import tempfile

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "joblib16_hashes.json")


def build_pure_cases() -> dict:
    """Objects made of builtins and stdlib types only."""
    reclist = [1]
    reclist.append(reclist)
    rectuple = ([],)
    rectuple[0].append(rectuple)
    shared = [0, 1]
    cases = {
        "none": None,
        "true": True,
        "false": False,
        "int_small": 7,
        "int_byte": 255,
        "int_short": 65535,
        "int_negative": -5,
        "int_32bit": 2**31 - 1,
        "int_big": 2**70,
        "int_big_negative": -(2**70) - 3,
        "float": 1.5,
        "float_negative_zero": -0.0,
        "float_inf": float("inf"),
        "complex": 1 + 2j,
        "str": "abc",
        "str_empty": "",
        "str_unicode": "h\u00e9llo \u2603 \U0001f600",
        "str_surrogate": "a\udc80b",
        "str_long": "x" * 70000,
        "bytes": b"\x00\x01ab",
        "bytes_empty": b"",
        "bytes_long": bytes(range(256)) * 300,
        "bytearray": bytearray(b"abc"),
        "list_empty": [],
        "list_one": [1],
        "list": [1, 2.0, "a", None, True, b"x"],
        "list_1000": list(range(1000)),
        "list_1001": list(range(1001)),
        "list_2500_mixed": [i if i % 3 else [i] for i in range(2500)],
        "list_repeated_strings": ["aa", "aa", "aZ"[:1] + "a", "a" * 300],
        "list_shared_sublists": [shared, shared, [0, 1]],
        "list_recursive": reclist,
        "tuple_empty": (),
        "tuple_1": (1,),
        "tuple_3": (1, "b", None),
        "tuple_5": (1, 2, 3, 4, 5),
        "tuple_nested": ((1, 2), [3, (4,)], {"a": (5, 6, 7, 8)}),
        "tuple_recursive": rectuple,
        "dict_empty": {},
        "dict_one": {"x": 1},
        "dict_kwargs": {"a": 1, "b": "foo", "c": [1.0, 2.0], "d": None},
        "dict_insertion_order_a": {"b": 2, "a": 1, "c": 3},
        "dict_int_keys": {3: "c", 1: "a", 2: "b"},
        "dict_tuple_keys": {(1, 2): "x", (0, 5): "y"},
        "dict_unorderable_keys": {1: "a", "b": 2, None: 3},
        "dict_1001": {"k%04d" % i: i for i in range(1001)},
        "dict_2500_nested": {"k%d" % i: {"v": [i, str(i)]} for i in range(2500)},
        "dict_of_dicts": {"outer": {"inner": {"leaf": (1, 2)}}},
        "set_empty": set(),
        "set_ints": {3, 1, 2},
        "set_strings": {"banana", "apple", "cherry"},
        "set_mixed": {1, "a", (2, 3)},
        "set_in_dict": {"s": {"x", "y"}, "t": {1.5, 2.5}},
        "frozenset_small_ints": frozenset({1, 2, 3}),
        "ordered_dict": collections.OrderedDict([("b", 1), ("a", 2)]),
        "ordered_dict_empty": collections.OrderedDict(),
        "ordered_dict_one": collections.OrderedDict(a=[1]),
        "ordered_dict_big": collections.OrderedDict(("k%d" % i, (i,)) for i in range(1500)),
        "counter_empty": collections.Counter(),
        "defaultdict": collections.defaultdict(list, {"k": [1]}),
        "counter": collections.Counter("abracadabra"),
        "decimal": decimal.Decimal("1.25"),
        "fraction": fractions.Fraction(3, 4),
        "date": datetime.date(2020, 1, 2),
        "timedelta": datetime.timedelta(seconds=90),
        "function": json.dumps,
        "builtin_function": len,
        "class": collections.OrderedDict,
        "builtin_class": int,
        "bound_builtin_method": [1, 2].append,
        "bound_method_of_instance": datetime.date(2020, 1, 2).isoformat,
        "method_descriptor": str.upper,
        "classmethod": datetime.date.fromordinal,
        "module_function_in_list": [os.path.join, os.getcwd],
        "func_code_like": ("def f(x):\n    return x\n", "/path/to/module.py", 12),
    }
    cases.update(build_structure_cases())
    return cases


def build_structure_cases() -> dict:
    """Larger trees: batches of records, shared references, odd bytes."""
    shared_tuple = (1, "x", 2.5)
    shared_dict = {"k": 1, "v": 2}
    # 16-20 byte strings that look like internal markers of a fast hasher.
    odd = [bytes(range(i, i + 16)) + b"A" for i in range(0, 240, 16)]
    stem = bytes.fromhex("f39a1ed705bb628ce1374fa910de76")
    odd += [stem + kind for kind in (b"A", b"L", b"D", b"T")]
    return {
        "records_tuples": [(i, "r%d" % i, i * 0.25) for i in range(2500)],
        "records_dicts": [{"k": i, "v": i % 5} for i in range(1500)],
        "records_unsorted_dicts": [{"z": i, "a": str(i), "m": None} for i in range(300)],
        "records_mixed_values": [{"a": i, "b": "s%d" % i, "c": [i, i + 1.0]} for i in range(300)],
        "records_nested": {
            "group-%d" % g: {
                "rows": [(g * 10 + i, "r%d" % i, i * 0.25) for i in range(40)],
                "meta": [{"k": g + i, "v": i % 5} for i in range(40)],
            }
            for g in range(30)
        },
        "records_with_shared_tuple": [shared_tuple] * 20 + [(1, "x", 2.5)] * 5,
        "records_with_shared_dict": [shared_dict, {"k": 1, "v": 2}] * 10 + [shared_dict],
        "records_with_empty_tuples": [(i,) if i % 3 else () for i in range(30)],
        "records_with_empty_dicts": [{} if i % 4 else {"i": i} for i in range(30)],
        "records_unorderable_keys": [{1: "a", "b": i} for i in range(20)],
        "records_dicts_with_lists": [{"x": [i, i], "y": (i,)} for i in range(50)],
        "records_varied_tuple_sizes": [tuple(range(i % 7)) for i in range(100)],
        "list_of_lists": [[i, str(i)] for i in range(1200)],
        "list_of_big_lists": [list(range(i, i + 1001)) for i in range(3)],
        "dict_of_tuples_2000": {"t%d" % i: (i, -i) for i in range(2000)},
        "tuple_of_records": tuple((i, "v") for i in range(50)),
        "deep_nesting": [[[[[[{"leaf": (1, [2, {"x": 3}])}]]]]]],
        "odd_bytes_atoms": odd,
        "odd_bytes_in_tuples": [(b, i) for i, b in enumerate(odd)],
        "odd_bytes_in_dicts": [{"b": b} for b in odd],
        "odd_bytes_in_lists": [[b, b] for b in odd],
        "odd_bytes_keys": {b: [i] for i, b in enumerate(odd)},
        "odd_strings": [b.decode("latin-1") for b in odd] + [(b.decode("latin-1"),) for b in odd],
    }


def build_numpy_cases(tmpdir: str) -> dict:
    """Objects holding numpy arrays, dtypes and scalars."""
    import numpy as np

    rng = np.random.RandomState(42)
    base = np.arange(60, dtype=np.float64).reshape(6, 10)
    path = os.path.join(tmpdir, "memmap.dat")
    mm = np.memmap(path, dtype=np.int32, mode="w+", shape=(4, 5))
    mm[:] = np.arange(20).reshape(4, 5)
    mm.flush()
    cases = {
        "array_float64": rng.rand(100),
        "array_int8": np.arange(-50, 50, dtype=np.int8),
        "array_uint16": np.arange(100, dtype=np.uint16),
        "array_int64_2d": np.arange(12, dtype=np.int64).reshape(3, 4),
        "array_float32": np.linspace(0, 1, 33, dtype=np.float32),
        "array_float16": np.ones(5, dtype=np.float16),
        "array_complex128": np.array([1 + 2j, 3 - 4j]),
        "array_bool": np.array([True, False, True]),
        "array_bytes": np.array([b"ab", b"c"]),
        "array_unicode": np.array(["abc", "de"]),
        "array_datetime": np.arange(3).astype("datetime64[D]"),
        "array_timedelta": np.arange(3).astype("timedelta64[s]"),
        "array_structured": np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")]),
        "array_big_endian": np.arange(5, dtype=">i4"),
        "array_object": np.array([1, "a", None], dtype=object),
        "array_0d": np.array(3.5),
        "array_0d_int": np.array(7, dtype=np.int16),
        "array_empty": np.zeros((0, 3)),
        "array_fortran": np.asfortranarray(base),
        "array_transposed": base.T,
        "array_strided": base[::2, ::3],
        "array_reversed": base[::-1],
        "array_column": base[:, 3],
        "array_view_as_int": base.view(np.int64),
        "array_large": np.arange(300000, dtype=np.float64),
        "memmap": mm,
        "memmap_slice": mm[1:3],
        "dtype_float32": np.dtype("f4"),
        "dtype_list_repeated": [np.dtype("f4"), np.dtype("f4")],
        "dtype_roundtrip": [np.dtype("f4"), pickle.loads(pickle.dumps(np.dtype("f4")))],
        "dtype_structured": np.dtype([("x", "<f8"), ("y", "<i2")]),
        "scalar_float64": np.float64(3.0),
        "scalar_int32": np.int32(-7),
        "scalar_bool": np.bool_(True),
        "numpy_function": np.sum,
        "numpy_ufunc": np.add,
        "numpy_class": np.ndarray,
        "args_with_arrays": {"X": rng.rand(4, 3), "y": np.arange(4), "alpha": 0.5},
        "list_of_arrays": [np.arange(3), np.arange(3.0), np.arange(3)[::-1]],
        "tuple_of_array_and_dtype": (np.ones(2), np.dtype("i8"), np.int64(1)),
    }
    return cases


def hash_all(hash_func, cases: dict) -> dict:
    """Digest every case with md5, sha1 and md5 + ``coerce_mmap``."""
    digests = {}
    for name, obj in cases.items():
        digests[name] = {
            "md5": hash_func(obj),
            "sha1": hash_func(obj, hash_name="sha1"),
            "md5_coerce_mmap": hash_func(obj, coerce_mmap=True),
        }
    return digests


def main() -> None:
    """Write ``joblib16_hashes.json`` using the installed joblib 1.6.0."""
    import joblib
    import numpy as np

    if joblib.__version__ != "1.6.0":
        sys.exit("joblib 1.6.0 required, found %s" % joblib.__version__)
    with tempfile.TemporaryDirectory() as tmpdir:
        numpy_cases = build_numpy_cases(tmpdir)
        record = {
            "python": "%d.%d" % sys.version_info[:2],
            "pickle_default_protocol": pickle.DEFAULT_PROTOCOL,
            "numpy": np.__version__,
            "pure": hash_all(joblib.hash, build_pure_cases()),
            "numpy_cases": hash_all(joblib.hash, numpy_cases),
        }
        del numpy_cases  # release the memmap before the folder goes
    with open(OUTPUT, "w") as stream:
        json.dump(record, stream, indent=1, sort_keys=True)
        stream.write("\n")


if __name__ == "__main__":
    main()

"""Error and warning messages keep joblib 1.6's text and classes (issue #11).

For every case of ``parity_cases.py``, joblib 1.6.0's outcome is read from
``data/joblib16_messages.json`` (written by ``tools/joblib16_messages.py``
with the real joblib 1.6.0). Here the same case must:

- raise an instance of 1.6's exception class, whose message contains 1.6's
  message (in practice: starts with it; our extra detail comes after);
- emit, for each 1.6 warning, a warning of that category (or a subclass)
  whose message contains 1.6's.

Deliberate differences are listed in ``DIFFERENCES`` with the reason, and
in docs/compatibility.rst.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import warnings

import pytest

import joblib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity_cases import CASES  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))
from joblib16_messages import run_case  # noqa: E402

with open(os.path.join(os.path.dirname(__file__), "data", "joblib16_messages.json"),
          encoding="utf-8") as _f:
    EXPECTED = json.load(_f)["cases"]

# case -> the part of 1.6's message we keep (the rest differs on purpose).
DIFFERENCES = {
    # 1.6 passes a bad mmap_mode on to numpy.memmap, whose message it shows
    # (numpy's text, which varies between numpy versions); we check it
    # first, naming joblib's accepted values. Same class (ValueError).
    "load_bad_mmap_mode": "",
    # 1.6 lists md5 and sha1; we list every registered algorithm (blake2b,
    # xxh3, ... and those added with register_hash).
    "hash_unknown_name": "Valid options for 'hash_name' are ('md5', 'sha1'",
    # 1.6 lists the repr of its whole compressor registry; ours names the
    # registered compressors, which include zstd when installed.
    "dump_compress_unknown_method": 'Non valid compression method given: "nope". Possible values are ',
}


# The list of backends in these messages is the registry's, which grows when
# a backend such as dask is registered (in 1.6 too): the test checks 1.6's
# text with the backends registered at the time of the call.
_BACKEND_LIST_CASES = {
    "parallel_unknown_backend", "parallel_config_unknown_backend",
    "parallel_backend_unknown",
}


def _with_current_backends(message: str) -> str:
    from joblib.parallel import BACKENDS

    head = message[:message.index("[")]
    return head + str(sorted(BACKENDS))


def _resolve(path: str) -> type:
    module, _, name = path.rpartition(".")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _kept(name: str, message: str) -> str:
    if name in _BACKEND_LIST_CASES:
        return _with_current_backends(message)
    kept = DIFFERENCES.get(name)
    if kept is None:
        return message
    assert message.startswith(kept), "DIFFERENCES entry is stale for %s" % name
    return kept


def test_every_case_was_recorded_with_joblib_16():
    assert set(EXPECTED) == set(CASES)
    assert all(e["raises"] or e["warns"] for e in EXPECTED.values() if e)


@pytest.mark.parametrize("name", sorted(CASES))
def test_message_parity(name):
    expected = EXPECTED[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are checked below
        got = run_case(CASES[name], joblib)
    if expected["raises"] is None:
        assert got["raises"] is None, got["raises"]
    else:
        assert got["raises"] is not None, "1.6 raised %s" % (expected["raises"],)
        assert issubclass(_resolve(got["raises"]["class"]),
                          _resolve(expected["raises"]["class"])), got["raises"]
        assert _kept(name, expected["raises"]["message"]) in got["raises"]["message"]
    for warned in expected["warns"]:
        category = _resolve(warned["class"])
        text = _kept(name, warned["message"])
        matching = [w for w in got["warns"]
                    if issubclass(_resolve(w["class"]), category) and text in w["message"]]
        assert matching, "1.6 warned %r; we warned %r" % (warned, got["warns"])

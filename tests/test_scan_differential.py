"""Property tests: the scanner and the restricted load agree with the real
unpickler (their plain twin) on what a file names and what it holds."""

from __future__ import annotations

import io
import pickle
from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import joblib
from joblib.numpy_pickle import NumpyUnpickler
from joblib._persist.scan import scan_stream

scalars = (st.none() | st.booleans() | st.integers() | st.text(max_size=20)
           | st.binary(max_size=20) | st.floats(allow_nan=False)
           | st.complex_numbers(allow_nan=False))
arrays = hnp.arrays(
    dtype=st.sampled_from([np.int8, np.float64, ">i4", "U3", np.bool_, "M8[s]"]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
)
object_arrays = st.lists(scalars, max_size=4).map(
    lambda items: np.array(items + [None], dtype=object))
values = st.recursive(
    scalars | arrays | object_arrays,
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(st.text(max_size=5), children, max_size=4)
                      | st.tuples(children, children)
                      | st.frozensets(st.integers(), max_size=3)),
    max_leaves=12,
)


def _recorded_globals(data: bytes) -> Counter:
    """Globals the real (unrestricted) unpickler asks for, nested streams too."""
    seen: Counter = Counter()

    class Recording(NumpyUnpickler):
        def find_class(self, module, name):
            obj = super().find_class(module, name)
            if self.proto < 3:  # names after _compat_pickle's mapping
                module, name = _mapped(module, name)
            seen["%s.%s" % (module, name)] += 1
            return obj

    Recording("", io.BytesIO(data), True).load()
    return seen


def _mapped(module, name):
    from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING

    if (module, name) in NAME_MAPPING:
        return NAME_MAPPING[(module, name)]
    return IMPORT_MAPPING.get(module, module), name


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(value=values, protocol=st.integers(0, pickle.HIGHEST_PROTOCOL))
def test_scan_and_restricted_load_agree_with_the_real_unpickler(value, protocol):
    buf = io.BytesIO()
    joblib.dump(value, buf, protocol=protocol)
    data = buf.getvalue()
    # The scanner names the same globals (set equality: the real unpickler
    # asks again for each memo-less GLOBAL, as the scanner counts them).
    scanned = scan_stream(io.BytesIO(data), len(data))
    assert set(scanned.globals) == set(_recorded_globals(data))
    # Restricted and unrestricted loads build the same value.
    plain = joblib.load(io.BytesIO(data))
    restricted = joblib.load(io.BytesIO(data), trusted=[])
    assert _canonical(restricted) == _canonical(plain)


def _canonical(value):
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape,
                [_canonical(v) for v in value.ravel().tolist()]
                if value.dtype.hasobject else value.tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_canonical(v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(k, _canonical(v)) for k, v in value.items()])
    return (type(value).__name__, repr(value))

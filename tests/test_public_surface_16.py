"""Every public name of every joblib 1.6 module exists at the same path here.

The list comes from joblib 1.6.0's installed modules
(``tools/joblib16_surface.py``, run with a joblib 1.6.0 interpreter; checked
in as ``tests/data/joblib16_public_names.json``): names a module defines or
imports from joblib itself, without a leading underscore.
"""

from __future__ import annotations

import importlib
import json
import os

import pytest

_DATA = os.path.join(os.path.dirname(__file__), "data", "joblib16_public_names.json")

with open(_DATA, encoding="utf-8") as _f:
    SURFACE = json.load(_f)


def test_the_list_is_joblib_16s():
    assert SURFACE["joblib_version"] == "1.6.0"
    # Sanity: the generator found the modules and the names we know of.
    modules = SURFACE["modules"]
    assert len(modules) >= 20
    assert "LooseVersion" in modules["joblib.backports"]
    assert "Parallel" in modules["joblib.parallel"]


@pytest.mark.parametrize("module", sorted(SURFACE["modules"]))
def test_every_16_name_exists(module):
    if module == "joblib.testing":
        pytest.importorskip("pytest")
    mod = importlib.import_module(module)
    missing = [name for name in SURFACE["modules"][module] if not hasattr(mod, name)]
    assert missing == [], f"{module} lacks joblib 1.6 names {missing}"


def test_loose_version_orders_like_16():
    from joblib.backports import LooseVersion, Version

    assert issubclass(LooseVersion, Version)
    assert LooseVersion("1.10") > LooseVersion("1.9")
    assert LooseVersion("1.6.0") >= "1.6"
    assert LooseVersion("1.6.0rc1") > "1.6.0"  # as distutils: 'rc' sorts after nothing
    assert LooseVersion("2.0a") < "2.0b"
    assert LooseVersion("1.2.3").version == [1, 2, 3]
    assert repr(LooseVersion("1.2")) == "LooseVersion ('1.2')"
    assert LooseVersion("1.0").__eq__(1.0) is NotImplemented


def test_compat_helpers_behave_as_in_16():
    import ast

    from joblib._dask import Batch
    from joblib._utils import eval_, limit, operators

    assert eval_(ast.parse("2*3+1", mode="eval").body) == 7
    assert operators[ast.Add](2, 3) == 5
    with pytest.raises(ValueError, match="is too large, max is 10"):
        limit(max_=10)(lambda: 11)()
    assert repr(Batch([(abs, (1,), {}), (abs, (2,), {})])) == "batch_of_abs_2_calls"
    from joblib.func_inspect import full_argspec_type

    assert full_argspec_type._fields == tuple(
        "args varargs varkw defaults kwonlyargs kwonlydefaults annotations".split())

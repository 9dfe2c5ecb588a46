"""Record what joblib 1.6 raises and warns on each error path of the API.

Run it with the interpreter that has the real joblib 1.6.0 installed::

    /work/refvenv/bin/python tools/joblib16_messages.py tests/data/joblib16_messages.json

The cases live in ``tests/parity_cases.py`` (plain Python, shared with
``tests/test_parity_messages.py``). For each case the file records the class
(``module.qualname``) and message of the exception raised, if any, and of
every warning emitted. Temporary paths become ``<TMP>``, the tests folder
``<TESTS>`` and memory addresses ``0x?``, so that the texts compare across
runs and checkouts. Messages may quote line numbers of parity_cases.py:
run this tool again after editing that file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from parity_cases import CASES, DATA  # noqa: E402


def normalize(text: str, tmp: str) -> str:
    """Stable form of a message: no temporary or data path, no memory address."""
    text = text.replace(os.path.realpath(tmp), "<TMP>").replace(tmp, "<TMP>")
    text = text.replace(DATA, "<DATA>").replace(os.path.dirname(DATA), "<TESTS>")
    # Objects of joblib classes, whose modules differ by design: compare the
    # class name only ("<MultiprocessingBackend object at 0x?>").
    text = re.sub(r"<joblib\.[\w.]*?(\w+) object at ", r"<\1 object at ", text)
    return re.sub(r"0x[0-9a-fA-F]+", "0x?", text)


def class_path(cls: type) -> str:
    return "%s.%s" % (cls.__module__, cls.__qualname__)


def run_case(func, joblib_module) -> dict:
    """Run one case; return what it raised and warned, normalized."""
    tmp = tempfile.mkdtemp(prefix="parity_")
    outcome: dict = {"raises": None, "warns": []}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                func(joblib_module, tmp)
            except Exception as exc:  # noqa: BLE001 - recording it is the point
                outcome["raises"] = {"class": class_path(type(exc)),
                                     "message": normalize(str(exc), tmp)}
        outcome["warns"] = [{"class": class_path(w.category),
                             "message": normalize(str(w.message), tmp)}
                            for w in caught]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return outcome


def main(argv: list[str]) -> int:
    import joblib

    data = {"joblib_version": joblib.__version__,
            "cases": {name: run_case(func, joblib) for name, func in sorted(CASES.items())}}
    with open(argv[1], "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

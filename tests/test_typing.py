"""Type checkers see the public API: a typed user script passes, a wrong one
is flagged (issue #11). ``import joblib`` stays lazy at run time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GOOD = textwrap.dedent('''
    from joblib import Memory, Parallel, delayed, dump, hash, load


    def square(x: int) -> int:
        return x * x


    memory = Memory(None, verbose=0)


    @memory.cache
    def cube(x: int) -> int:
        return x ** 3


    @memory.cache(ignore=["verbose"])
    def half(x: int, verbose: bool = False) -> float:
        return x / 2


    results = Parallel(n_jobs=2, backend="threading")(delayed(square)(i) for i in range(4))
    total: int = cube(3) + 1
    value: float = half(3, verbose=True)
    output, metadata = cube.call(2)
    in_cache: bool = cube.check_call_in_cache(3)
    digest: str = hash([1, 2])
    files: list[str] = dump([1], "data.pkl")
    obj = load("data.pkl", mmap_mode="r")
''')

BAD = textwrap.dedent('''
    from joblib import Memory, Parallel, hash

    memory = Memory(None, verbose=0)


    @memory.cache
    def cube(x: int) -> int:
        return x ** 3


    Parallel(n_jobs="x")
    cube("three")
    digest: int = hash([1, 2])
''')


@pytest.fixture
def scripts(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BAD)
    return tmp_path


def _error_lines(output: str, name: str) -> set[int]:
    found = set()
    for line in output.splitlines():
        line = line.strip()
        if line.startswith(name + ":") or ("/" + name + ":") in line:
            after = line.split(name + ":", 1)[1]
            if "error" in after:
                found.add(int(after.split(":", 1)[0]))
    return found


@pytest.mark.timeout(300)
def test_mypy_checks_user_code(scripts):
    pytest.importorskip("mypy")
    env = dict(os.environ, MYPYPATH=ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--no-error-summary", "--cache-dir", str(scripts / "cache"),
         "good.py", "bad.py"],
        cwd=scripts, env=env, capture_output=True, text=True,
    )
    assert _error_lines(proc.stdout, "good.py") == set(), proc.stdout
    # Parallel(n_jobs="x"), cube("three"), hash() is a str.
    assert _error_lines(proc.stdout, "bad.py") == {12, 13, 14}, proc.stdout


@pytest.mark.timeout(300)
def test_pyright_checks_user_code(scripts):
    pyright = shutil.which("pyright") or os.path.join(os.path.dirname(sys.executable), "pyright")
    if not os.path.exists(pyright):
        pytest.skip("pyright is not installed")
    # JSON (a repr's single quotes made pyright drop the whole file), and the
    # interpreter running the tests, not whichever ``python`` is on PATH.
    (scripts / "pyrightconfig.json").write_text(
        json.dumps({"extraPaths": [ROOT], "pythonVersion": "3.11"}))
    proc = subprocess.run([pyright, "--pythonpath", sys.executable, "good.py", "bad.py"],
                          cwd=scripts,
                          capture_output=True, text=True, timeout=240)
    if "error" not in proc.stdout and proc.returncode != 0:
        pytest.skip("pyright could not run here: %s" % (proc.stderr or proc.stdout)[-300:])
    bad = {int(line.split("bad.py:")[1].split(":")[0])
           for line in proc.stdout.splitlines() if "bad.py:" in line and "error" in line}
    good = [line for line in proc.stdout.splitlines() if "good.py:" in line and "error" in line]
    assert good == [], proc.stdout
    assert bad == {12, 13, 14}, proc.stdout


def test_import_joblib_stays_lazy():
    code = ("import sys, joblib; "
            "print(sorted(m for m in sys.modules if m.startswith('joblib.') or m == 'typing'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=ROOT), check=True).stdout
    assert out.strip() == "[]"


def test_every_lazy_name_is_visible_to_type_checkers():
    # A name added to joblib._LAZY_NAMES must also be imported in the
    # ``if TYPE_CHECKING:`` block of joblib/__init__.py, or it is Any there.
    import ast

    import joblib

    with open(joblib.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    block = next(node for node in tree.body if isinstance(node, ast.If)
                 and getattr(node.test, "id", None) == "TYPE_CHECKING")
    typed = {alias.asname or alias.name for node in block.body
             if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert set(joblib._LAZY_NAMES) - typed == set()

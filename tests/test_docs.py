"""The documentation site builds cleanly and the code in its guides runs.

Two checks, as CI needs them:

- the Sphinx site builds with warnings turned into errors (the same command
  a documentation CI job runs), in a subprocess so Sphinx's global state
  never leaks into the rest of the suite;
- every ``>>>`` example in the pages under ``docs/`` runs as a doctest and
  prints what the page says it prints.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")

# Pages whose ``>>>`` blocks are run. Discovered, so that a new guide is
# tested as soon as it is added.
PAGES = sorted(glob.glob(os.path.join(DOCS, "*.rst")))
_PROMPT = re.compile(r"^\s*>>> ", re.M)


def _has_examples(path):
    with open(path, encoding="utf-8") as f:
        return _PROMPT.search(f.read()) is not None


DOCTEST_PAGES = [p for p in PAGES if _has_examples(p)]


def _env_for_subprocess():
    env = dict(os.environ)
    # Document (and import) the checkout, not an installed copy.
    env["PYTHONPATH"] = os.pathsep.join(
        [ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    return env


def test_docs_pages_exist():
    names = {os.path.basename(p) for p in PAGES}
    for required in ("index.rst", "api.rst", "parallel.rst", "memory.rst",
                     "persistence.rst", "custom_backends.rst", "why.rst",
                     "installing.rst", "compatibility.rst", "changelog.rst"):
        assert required in names
    # The guides with runnable examples really are tested.
    tested = {os.path.basename(p) for p in DOCTEST_PAGES}
    assert {"parallel.rst", "memory.rst", "persistence.rst"} <= tested


def test_sphinx_build_has_no_warnings(tmp_path):
    pytest.importorskip("sphinx")
    out = tmp_path / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q",
           "-b", "html", "-d", str(tmp_path / "doctrees"), DOCS, str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env=_env_for_subprocess(), cwd=str(tmp_path))
    assert proc.returncode == 0, (
        "sphinx build failed (exit %d)\nstdout:\n%s\nstderr:\n%s"
        % (proc.returncode, proc.stdout[-5000:], proc.stderr[-10000:])
    )
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "joblib" in index
    # The API reference really is generated from the docstrings.
    api = (out / "api.html").read_text(encoding="utf-8")
    for name in ("joblib.Memory", "joblib.Parallel", "joblib.dump",
                 "joblib.parallel_config", "joblib.register_parallel_backend"):
        assert 'id="%s"' % name in api, name


def test_sphinx_doctest_builder_runs_page_and_docstring_examples(tmp_path):
    # The doctest builder also runs the examples of the docstrings included
    # by the API reference, as the rendered site shows them.
    pytest.importorskip("sphinx")
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q",
           "-b", "doctest", "-d", str(tmp_path / "doctrees"), DOCS,
           str(tmp_path / "out")]
    env = _env_for_subprocess()
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env=env, cwd=str(tmp_path))
    report = (tmp_path / "out" / "output.txt")
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    assert proc.returncode == 0, "sphinx doctest failed:\n%s\n%s\n%s" % (
        text[-10000:], proc.stdout[-3000:], proc.stderr[-5000:])
    tests = re.search(r"^\s*(\d+) tests?$", text, re.M)
    assert tests is not None and int(tests.group(1)) > 50, text[-2000:]
    assert re.search(r"^\s*0 failures in tests$", text, re.M), text[-2000:]


@pytest.mark.parametrize(
    "page", DOCTEST_PAGES, ids=[os.path.basename(p) for p in DOCTEST_PAGES]
)
def test_guide_code_runs_as_doctest(page, tmp_path):
    # In a fresh interpreter: the guides register backends and compressors,
    # which must not leak into the registries seen by the rest of the suite.
    # The guides create their files under tempfile.mkdtemp() and clean up;
    # pointing the temp dir at tmp_path catches a page that forgets to.
    env = _env_for_subprocess()
    env["TMPDIR"] = str(tmp_path)
    cmd = [sys.executable, "-m", "doctest", "-v", "-o", "ELLIPSIS",
           "-o", "NORMALIZE_WHITESPACE", page]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env=env, cwd=str(tmp_path))
    name = os.path.basename(page)
    assert proc.returncode == 0, "doctests failed in %s:\n%s\n%s" % (
        name, proc.stdout[-10000:], proc.stderr[-5000:])
    summary = re.search(r"^(\d+) passed and (\d+) failed\.$", proc.stdout, re.M)
    assert summary is not None, proc.stdout[-2000:]
    assert int(summary.group(1)) > 0 and summary.group(2) == "0"
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers == [], "%s left files behind: %r" % (name, leftovers)

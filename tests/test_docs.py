"""The documentation site builds cleanly and the code in its guides runs.

Two checks, as CI needs them:

- the Sphinx site builds with warnings turned into errors (the same command
  a documentation CI job runs), in a subprocess so Sphinx's global state
  never leaks into the rest of the suite;
- every ``>>>`` example in the pages under ``docs/`` runs as a doctest and
  prints what the page says it prints.
"""

from __future__ import annotations

import doctest
import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")

# Pages whose ``>>>`` blocks are run. Discovered, so that a new guide is
# tested as soon as it is added.
PAGES = sorted(glob.glob(os.path.join(DOCS, "*.rst")))
DOCTEST_PAGES = [p for p in PAGES if ">>>" in open(p, encoding="utf-8").read()]


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


@pytest.mark.parametrize(
    "page", DOCTEST_PAGES, ids=[os.path.basename(p) for p in DOCTEST_PAGES]
)
def test_guide_code_runs_as_doctest(page, tmp_path, monkeypatch):
    # The guides create their files under tempfile.mkdtemp() and clean up;
    # pointing the temp dir at tmp_path catches a page that forgets to.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(
        page,
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
        report=True,
        verbose=False,
    )
    assert result.attempted > 0
    assert result.failed == 0, "%d of %d examples failed in %s (see output)" % (
        result.failed, result.attempted, os.path.basename(page))
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert leftovers == [], "page left files behind: %r" % leftovers

"""The two sides of a run and how a workload group is run on one of them.

A *side* is an interpreter plus the folders put on its ``PYTHONPATH``:

- the project: the interpreter given by ``--python`` (default: the one
  running the suite) and a byte-compiled snapshot of the repository's
  ``joblib/`` package;
- the reference: another virtualenv's interpreter with its own installed
  joblib (``--compare PATH`` or ``--compare-version X.Y.Z``).

Both get a copy of this ``benchmarks`` package (and nothing else on
``PYTHONPATH``) and run from an empty working directory: ``python -m`` and
``-c`` put the working directory first on ``sys.path``, where a checkout's
``joblib/`` would shadow the reference's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

from benchmarks.catalog import wanted_metrics

__all__ = ["Side", "Workspace", "GroupResult", "run_group",
           "reference_python", "ref_venv_dir", "add_side_options", "run_child",
           "make_sides"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(_PACKAGE_DIR)
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


@dataclass
class Side:
    """One implementation under test."""

    key: str  # "project" or "reference": the keys used in the JSON
    python: str
    pythonpath: list[str] = field(default_factory=list)
    # The joblib the child imports must live under this folder: a guard
    # against measuring the wrong package (e.g. the checkout shadowing the
    # reference, or an installed joblib hiding the project's snapshot).
    joblib_under: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``project`` or ``joblib <version>`` once the version is known."""
        version = self.meta.get("joblib_version")
        if self.key == "reference" and version:
            # An installed release, or another checkout (--compare-repo).
            if self.joblib_under is None:
                return f"joblib {version}"
            return f"reference {version}"
        return self.key


class Workspace:
    """Scratch folder holding the package copies and an empty cwd.

    Parameters
    ----------
    repo : str
        Repository root holding ``joblib/`` (the project's package).
    """

    def __init__(self, repo: str = REPO_ROOT) -> None:
        self.root = tempfile.mkdtemp(prefix="joblib-bench-")
        self.cwd = os.path.join(self.root, "cwd")
        self.pkg = os.path.join(self.root, "pkg")
        # The children's temp files and caches live in here too, so that
        # closing the workspace cleans up after a killed child as well.
        self.tmp = os.path.join(self.root, "tmp")
        os.makedirs(self.cwd)
        os.makedirs(self.tmp)
        self.cache_parent = _cache_parent(self.root)
        shutil.copytree(_PACKAGE_DIR, os.path.join(self.pkg, "benchmarks"),
                        ignore=_IGNORE)
        self.project = self.snapshot(repo, "project")

    def snapshot(self, repo: str, name: str) -> str:
        """Copy ``repo/joblib`` to ``<scratch>/name/joblib``; return the
        folder to put on ``PYTHONPATH``.

        A frozen copy: edits made in the checkout during a long run do not
        mix two versions of the code into one comparison.
        """
        source = os.path.join(repo, "joblib")
        if not os.path.isfile(os.path.join(source, "__init__.py")):
            raise ValueError(f"no joblib package (joblib/__init__.py) in "
                             f"{repo!r}")
        target = os.path.join(self.root, name)
        shutil.copytree(source, os.path.join(target, "joblib"),
                        ignore=_IGNORE)
        return target

    def compile_for(self, python: str, folder: str) -> None:
        """Byte-compile the snapshot in ``folder`` with ``python``.

        A pip-installed reference is byte-compiled; a checkout under
        PYTHONDONTWRITEBYTECODE=1 would recompile on every import, in every
        worker too, which is not the code's own cost.
        """
        subprocess.run([python, "-m", "compileall", "-q", folder],
                       check=True, cwd=self.cwd, stdout=subprocess.DEVNULL)

    def close(self) -> None:
        """Remove the scratch folder and the cache folder."""
        shutil.rmtree(self.cache_parent, ignore_errors=True)
        shutil.rmtree(self.root, ignore_errors=True)


def _cache_parent(fallback: str) -> str:
    # Memory caches create and delete many small files; on a journaled disk
    # that costs more, and swings more with other programs' I/O, than the
    # code under test, so they go to a tmpfs when one has room.
    shm = "/dev/shm"
    if (os.path.isdir(shm) and os.access(shm, os.W_OK)
            and shutil.disk_usage(shm).free > 2 << 30):
        return tempfile.mkdtemp(prefix="joblib-bench-", dir=shm)
    folder = os.path.join(fallback, "cache")
    os.makedirs(folder)
    return folder


@dataclass
class GroupResult:
    """What one child run of a group reported."""

    meta: dict
    metrics: dict[str, dict]
    stderr_tail: str = ""


def _child_env(side: Side, workspace: Workspace) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(side.pythonpath + [workspace.pkg])
    env["TMPDIR"] = workspace.tmp
    env["JOBLIB_BENCH_CACHE_PARENT"] = workspace.cache_parent
    return env


def _parse_lines(stdout: str) -> tuple[dict, dict[str, dict]]:
    meta, metrics = {}, {}
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue  # stray prints of the code under test
        try:
            payload = json.loads(line)
        except ValueError:
            continue
        if "meta" in payload:
            meta = payload["meta"]
        elif "name" in payload:
            metrics[payload["name"]] = payload
    return meta, metrics


def _check_joblib_location(side: Side, meta: dict) -> str | None:
    where = meta.get("joblib_file")
    if where is None:
        return meta.get("joblib_error", "joblib could not be imported")
    if side.joblib_under and not os.path.realpath(where).startswith(
            os.path.realpath(side.joblib_under) + os.sep):
        return (f"the {side.key} side imported joblib from {where!r}, "
                f"expected a module under {side.joblib_under!r}")
    if side.key == "reference" and where.startswith(REPO_ROOT + os.sep):
        return f"the reference side imported the checkout's joblib ({where})"
    return None


def run_group(side: Side, workspace: Workspace, group: str, scale: float,
              only: str | None, timeout: float) -> GroupResult:
    """Run ``group`` in a fresh child of ``side`` and collect its metrics.

    Metrics the child did not report (it crashed, or its set-up failed, or
    it overran ``timeout`` per metric plus a minute) come back as errors.
    """
    wanted = wanted_metrics(group, only)
    args = ["benchmarks._child", group, "--scale", repr(scale),
            "--timeout", repr(timeout)]
    if only:
        args += ["--only", only]
    stdout, stderr, failure = run_child(
        side, workspace, args, timeout * max(1, len(wanted)) + 60)
    meta, metrics = _parse_lines(stdout)
    tail = "\n".join(stderr.strip().splitlines()[-6:])
    wrong_joblib = _check_joblib_location(side, meta) if meta else None
    for name in wanted:
        if wrong_joblib:
            metrics[name] = {"name": name, "error": wrong_joblib}
        elif name not in metrics:
            reason = failure or "not reported by the child"
            metrics[name] = {"name": name,
                             "error": f"{reason}: {tail[-400:]}"}
    return GroupResult(meta, metrics, tail)


def run_child(side: Side, workspace: Workspace, args: list,
              timeout: float) -> tuple:
    """Run ``python -m ARGS`` on ``side``; return ``(stdout, stderr,
    failure)``, ``failure`` None when it exited with status 0.

    The child is killed (with the workers it started) after ``timeout``
    seconds.
    """
    # Its own session, so that on overrun the child and the workers it
    # started can be killed together without touching anything else.
    proc = subprocess.Popen([side.python, "-m", *args], cwd=workspace.cwd,
                            env=_child_env(side, workspace),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        failure = None if proc.returncode == 0 else (
            f"child exited with status {proc.returncode}")
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        failure = "timed out and was killed"
    except KeyboardInterrupt:
        # The child is in its own session, so Ctrl-C reached only us.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    return stdout, stderr, failure


def ref_venv_dir(version: str) -> str:
    """Where ``--make-ref-venv`` puts the virtualenv for ``version``."""
    cache = os.environ.get("JOBLIB_BENCH_CACHE",
                           os.path.join(os.path.expanduser("~"), ".cache",
                                        "joblib-bench"))
    return os.path.join(cache, f"venv-joblib-{version}")


def _venv_python(folder: str) -> str:
    sub = "Scripts" if sys.platform == "win32" else "bin"
    exe = "python.exe" if sys.platform == "win32" else "python"
    return os.path.join(folder, sub, exe)


def _make_venv(folder: str, version: str) -> None:
    print(f"creating {folder} with joblib=={version} numpy lz4 ...",
          file=sys.stderr, flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", folder], check=True)
        subprocess.run([_venv_python(folder), "-m", "pip", "install", "-q",
                        f"joblib=={version}", "numpy", "lz4"], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        # A half-made virtualenv would be picked up as valid next time.
        shutil.rmtree(folder, ignore_errors=True)
        raise ValueError(f"could not create the reference virtualenv "
                         f"{folder!r}: {exc}") from exc


def reference_python(compare: str | None, version: str | None,
                     make: bool) -> str:
    """Resolve ``--compare PATH`` / ``--compare-version V`` to a python.

    ``PATH`` may be an interpreter or a virtualenv folder.  With a version,
    the virtualenv lives under ``~/.cache/joblib-bench/`` and is created
    only when ``make`` is true (``--make-ref-venv``).

    Raises
    ------
    ValueError
        If the interpreter does not exist (the message says how to fix it).
    """
    if compare is not None:
        python = _venv_python(compare) if os.path.isdir(compare) else compare
        if not os.path.isfile(python):
            raise ValueError(f"--compare {compare!r}: no interpreter at "
                             f"{python!r}")
        return python
    folder = ref_venv_dir(version)
    python = _venv_python(folder)
    if not os.path.isfile(python):
        if not make:
            raise ValueError(
                f"no reference virtualenv at {folder!r}; add --make-ref-venv "
                f"to create it (pip install joblib=={version} numpy lz4)")
        _make_venv(folder, version)
    return python


def add_side_options(p) -> None:
    """The options choosing the sides (shared by the table and the curves)."""
    ref = p.add_mutually_exclusive_group()
    ref.add_argument("--compare", metavar="PYTHON",
                     help="reference interpreter or virtualenv folder")
    ref.add_argument("--compare-version", metavar="X.Y.Z",
                     help="reference joblib version, in a virtualenv under "
                          "~/.cache/joblib-bench/")
    p.add_argument("--compare-repo", metavar="DIR",
                   help="reference: the joblib/ package in DIR (e.g. a "
                        "worktree of an older commit), run with --compare's "
                        "interpreter or --python")
    p.add_argument("--make-ref-venv", action="store_true",
                   help="create the --compare-version virtualenv if missing")
    p.add_argument("--python", default=sys.executable,
                   help="interpreter for the project side (default: this one)")
    p.add_argument("--repo", default=REPO_ROOT,
                   help="folder holding the project's joblib/ package")


def make_sides(args: argparse.Namespace, workspace: Workspace) -> list[Side]:
    """The project side and, if asked for, the reference side."""
    project = Side("project", args.python, [workspace.project],
                   joblib_under=workspace.project)
    workspace.compile_for(args.python, workspace.project)
    if args.compare_repo:
        python = (reference_python(args.compare, None, False)
                  if args.compare else args.python)
        folder = workspace.snapshot(args.compare_repo, "reference")
        workspace.compile_for(python, folder)
        return [Side("reference", python, [folder], joblib_under=folder),
                project]
    if not (args.compare or args.compare_version):
        return [project]
    python = reference_python(args.compare, args.compare_version,
                              args.make_ref_venv)
    return [Side("reference", python), project]



"""Start-up costs: importing joblib, and the first parallel call."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from benchmarks.harness import Bench, check, timed

__all__ = ["run_import", "run_first_call"]

# Timed inside the fresh process so that interpreter start-up and
# `import joblib` stay out of the number; the result is checked there too.
_FIRST_CALL = """\
import math, time
from joblib import Parallel, delayed
start = time.perf_counter()
out = Parallel(n_jobs=2)(delayed(math.sqrt)(i * i) for i in range(16))
elapsed = time.perf_counter() - start
if out != [float(i) for i in range(16)]:
    raise SystemExit('wrong result: %r' % (out,))
print(elapsed)
"""


_IMPORT_API = """\
from joblib import Parallel, delayed, Memory, dump, load, hash
print("ok" if all(callable(f) for f in (Parallel, delayed, Memory, dump,
                                         load, hash)) else "missing")
"""


def _fresh_python(args: list[str]) -> str:
    # An empty working directory: `python -c` puts the cwd first on
    # sys.path, where a checkout's joblib/ would shadow the one under test.
    with tempfile.TemporaryDirectory(prefix="joblib-bench-cwd-") as cwd:
        done = subprocess.run([sys.executable, *args], cwd=cwd, env=os.environ,
                              capture_output=True, text=True, timeout=120)
    check(done.returncode == 0,
          f"child exited with {done.returncode}: {done.stderr[-800:]}")
    return done.stdout


def run_import(bench: Bench) -> None:
    """``import_joblib*``: wall time of a fresh ``python -c 'import ...'``.

    Interpreter start-up (about 20 ms) is included rather than subtracted:
    the difference of two noisy timings can go negative for a package that
    imports lazily.  Both sides normally share the same base Python.
    """
    def once() -> float:
        seconds, out = timed(_fresh_python, [
            "-c", "import joblib, sys; print(joblib.__version__)"])
        check(out.strip() != "", "import joblib printed no version")
        return seconds

    def api_once() -> float:
        seconds, out = timed(_fresh_python, ["-c", _IMPORT_API])
        check(out.strip() == "ok", f"public names missing: {out!r}")
        return seconds

    # A lazy package pays at first attribute access instead of at import,
    # hence the second metric that touches the public names.
    bench.measure("import_joblib", once, k=5, warmup=1)
    bench.measure("import_joblib_api", api_once, k=5, warmup=1)


def run_first_call(bench: Bench) -> None:
    """``par_first_call``: the first ``Parallel(n_jobs=2)`` of a process."""
    def once() -> float:
        return float(_fresh_python(["-c", _FIRST_CALL]).strip())

    bench.measure("par_first_call", once, k=3, warmup=1)

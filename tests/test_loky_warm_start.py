"""Warm start of loky workers (joblib/_parallel/backends/loky_boot.py).

The first loky ``Parallel`` call of a program starts its worker
interpreters before it imports loky, then hands them their work over a
Unix socket. These tests run fresh Python processes, so that the first
call really is the first one, and check the outcome a user sees.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import textwrap

import pytest

from joblib._parallel import cpu as cpu_module
from joblib._parallel.backends import loky_boot

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.skipif(
    not loky_boot.warm_start_supported(), reason="warm start needs POSIX fd passing"
)


def run_fresh(code: str, cwd=None) -> dict:
    """Run ``code`` in a new interpreter; return the JSON it prints last."""
    script = "import sys; sys.path.insert(0, %r)\n" % ROOT + textwrap.dedent(code)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True,
                          text=True, timeout=120, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("cpus, ahead", [(8, 2), (2, 1)])
def test_first_call_workers_are_the_warm_processes(cpus, ahead):
    # With a core to spare for each, both workers start before the parent
    # imports loky; with fewer cores, one core is left to the parent's own
    # imports and the other worker starts when the executor launches it.
    out = run_fresh("""
        import json, os, sys
        import joblib
        from joblib._parallel import cpu
        from joblib._parallel.backends import loky_boot

        cpu.cpu_count = lambda only_physical_cores=False: %d
        started = []
        spawn = loky_boot.spawn_warm_process
        def recording_spawn(env=None):
            process = spawn(env)
            started.append((process.pid, "loky.process_executor" in sys.modules))
            return process
        loky_boot.spawn_warm_process = recording_spawn

        pids = joblib.Parallel(n_jobs=2)(joblib.delayed(os.getpid)() for _ in range(40))
        from joblib._parallel.memmapping.executor import current_reusable_executor
        workers = sorted(current_reusable_executor()._processes)
        print(json.dumps({"started": started, "task_pids": sorted(set(pids)),
                          "workers": workers, "waiting": loky_boot.warm_processes_waiting()}))
    """ % cpus)
    started_pids = sorted(pid for pid, _ in out["started"])
    assert len(started_pids) == 2
    # The first ones were started before the parent had imported loky ...
    assert [loaded for _, loaded in out["started"]] == [False] * ahead + [True] * (2 - ahead)
    # ... and all became the pool's workers, which ran the tasks.
    assert out["workers"] == started_pids
    assert set(out["task_pids"]) <= set(started_pids)
    assert out["waiting"] is False


def test_worker_gets_parent_sys_path_env_and_resource_tracker(tmp_path):
    # A module reachable only through a path the parent added at run time:
    # the worker must receive the parent's sys.path to import it.
    (tmp_path / "only_here").mkdir()
    (tmp_path / "only_here" / "helper_mod.py").write_text(textwrap.dedent("""
        import os
        def report(_):
            from loky.backend import resource_tracker
            from multiprocessing import current_process
            return {"omp": os.environ.get("OMP_NUM_THREADS"),
                    "tracker_fd_ok": os.fstat(resource_tracker._resource_tracker._fd) is not None,
                    "name": current_process().name}
    """))
    out = run_fresh("""
        import json, sys
        sys.path.insert(0, %r)
        import helper_mod
        from joblib import Parallel, delayed, parallel_config
        with parallel_config(backend="loky", inner_max_num_threads=3):
            res = Parallel(n_jobs=2)(delayed(helper_mod.report)(i) for i in range(4))
        print(json.dumps(res))
    """ % str(tmp_path / "only_here"))
    assert {r["omp"] for r in out} == {"3"}
    assert all(r["tracker_fd_ok"] for r in out)
    assert all(r["name"].startswith("LokyProcess") for r in out)


def test_failed_configure_leaves_no_warm_process():
    out = run_fresh("""
        import json, os
        import psutil
        from joblib import Parallel, delayed
        try:
            Parallel(n_jobs=2, max_nbytes="lots")(delayed(abs)(i) for i in range(4))
        except ValueError as exc:
            error = str(exc)
        children = [c.pid for c in psutil.Process().children(recursive=True)]
        print(json.dumps({"error": error, "children": children}))
    """)
    assert "'lots'" in out["error"]
    assert out["children"] == []  # killed and reaped: not even zombies


def test_warm_process_exits_when_its_pool_is_never_created():
    process = loky_boot.spawn_warm_process()
    pidfd = os.pidfd_open(process.pid)
    try:
        process._sock.close()  # the parent gives up before any hand-over
        ready, _, _ = select.select([pidfd], [], [], 60)
        assert ready, "the warm process did not exit"
        _, status = os.waitpid(process.pid, 0)
    finally:
        os.close(pidfd)
    assert os.waitstatus_to_exitcode(status) == 0


def test_dead_warm_process_is_replaced_at_hand_over():
    out = run_fresh("""
        import json, os, signal
        from joblib import Parallel, delayed
        from joblib._parallel.backends import loky_boot

        prestart = loky_boot.prestart_warm_processes
        def prestart_then_kill_one(n, env=None):
            prestart(n, env)
            victim = loky_boot._waiting()[0]
            os.kill(victim.pid, signal.SIGKILL)
            os.waitpid(victim.pid, 0)  # surely dead before the hand-over
            prestart_then_kill_one.victim = victim.pid
        import joblib._parallel.backends.loky_backend as lb
        lb.prestart_warm_processes = prestart_then_kill_one

        pids = Parallel(n_jobs=2)(delayed(os.getpid)() for _ in range(20))
        print(json.dumps({"victim": prestart_then_kill_one.victim, "pids": sorted(set(pids))}))
    """)
    assert out["victim"] not in out["pids"]
    assert out["pids"]


def test_boot_failure_gives_a_clear_error(tmp_path):
    # A ``loky`` package that fails to import, first on the workers' path only:
    # the parent's own sys.path is fixed before joblib imports loky.
    fake = tmp_path / "fake"
    (fake / "loky").mkdir(parents=True)
    (fake / "loky" / "__init__.py").write_text("raise ImportError('broken loky for the test')\n")
    env = dict(os.environ, PYTHONPATH=str(fake))
    script = "import sys; sys.path.remove(%r); sys.path.insert(0, %r)\n" % (str(fake), ROOT) + textwrap.dedent("""
        from joblib import Parallel, delayed
        Parallel(n_jobs=2)(delayed(abs)(i) for i in range(4))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode != 0
    # The worker's own traceback, then an error naming the dead worker: loky's
    # TerminatedWorkerError, or ours if it died before the hand-over.
    assert "A loky worker process failed to start" in proc.stderr
    assert "broken loky for the test" in proc.stderr
    assert ("TerminatedWorkerError" in proc.stderr
            or "exited before it could be given its work" in proc.stderr)


# --- counting CPUs without loky -------------------------------------------------


@pytest.fixture
def fake_cgroup(tmp_path, monkeypatch):
    files = {"v2": tmp_path / "cpu.max", "quota": tmp_path / "quota", "period": tmp_path / "period"}
    monkeypatch.setattr(cpu_module, "CGROUP_V2_CPU_MAX", str(files["v2"]))
    monkeypatch.setattr(cpu_module, "CGROUP_V1_QUOTA", str(files["quota"]))
    monkeypatch.setattr(cpu_module, "CGROUP_V1_PERIOD", str(files["period"]))
    monkeypatch.delenv("LOKY_MAX_CPU_COUNT", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))
    return files


@pytest.mark.parametrize("v2, v1, expected", [
    ("150000 100000", None, 2),          # rounded up
    ("max 100000", None, 64),            # no quota
    (None, ("400000", "100000"), 4),     # cgroup v1
    (None, ("-1", "100000"), 64),        # v1 quota disabled
    ("garbage", ("300000", "100000"), 3),  # malformed v2 falls back to v1
    (None, None, 64),                    # no cgroup files at all
])
def test_cgroup_quota_caps_cpu_count(fake_cgroup, v2, v1, expected):
    if v2 is not None:
        fake_cgroup["v2"].write_text(v2 + "\n")
    if v1 is not None:
        fake_cgroup["quota"].write_text(v1[0] + "\n")
        fake_cgroup["period"].write_text(v1[1] + "\n")
    assert cpu_module.cpu_count() == expected


def test_affinity_and_env_cap_cpu_count(fake_cgroup, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3, 5, 7})
    assert cpu_module.cpu_count() == 3
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "2")
    assert cpu_module.cpu_count() == 2


def test_cpu_count_agrees_with_loky(monkeypatch):
    import loky

    for value in (None, "1", "3"):
        if value is None:
            monkeypatch.delenv("LOKY_MAX_CPU_COUNT", raising=False)
        else:
            monkeypatch.setenv("LOKY_MAX_CPU_COUNT", value)
        assert cpu_module.cpu_count() == loky.cpu_count()
    assert cpu_module.cpu_count(only_physical_cores=True) == loky.cpu_count(only_physical_cores=True)


def test_second_call_reuses_the_first_calls_workers():
    # The first call runs before multiprocessing is imported, the second one
    # after: what each passes to the backend must still let loky reuse its
    # executor (a changed argument would replace the workers).
    out = run_fresh("""
        import json, os, sys
        from joblib import Parallel, delayed
        first_without_mp = "multiprocessing" not in sys.modules
        calls = [sorted(set(Parallel(n_jobs=2)(delayed(os.getpid)() for _ in range(40))))
                 for _ in range(3)]
        from joblib._parallel.memmapping.executor import current_reusable_executor
        workers = sorted(current_reusable_executor()._processes)
        print(json.dumps({"first_without_mp": first_without_mp, "calls": calls,
                          "workers": workers}))
    """)
    assert out["first_without_mp"] is True
    used = {pid for pids in out["calls"] for pid in pids}
    assert used <= set(out["workers"]) and len(out["workers"]) == 2


def test_first_call_starts_workers_before_heavy_imports():
    # Everything the parent imports before starting the warm processes delays
    # the whole first call: multiprocessing, loky and friends come after.
    out = run_fresh("""
        import json, math, sys
        import joblib
        import joblib._parallel.backends.loky_backend as lb

        seen = {}
        prestart = lb.prestart_warm_processes
        def recording_prestart(n, env=None):
            seen["loaded"] = sorted(
                m for m in ("multiprocessing", "loky", "cloudpickle", "concurrent.futures",
                            "typing", "logging", "inspect", "dataclasses", "ast",
                            "traceback", "tempfile", "shutil", "pickle", "socket")
                if m in sys.modules)
            return prestart(n, env)
        lb.prestart_warm_processes = recording_prestart
        out = joblib.Parallel(n_jobs=2)(joblib.delayed(math.sqrt)(i) for i in range(8))
        seen["ok"] = out == [math.sqrt(i) for i in range(8)]
        print(json.dumps(seen))
    """)
    assert out == {"loaded": [], "ok": True}


@pytest.mark.parametrize("n_fds", [0, 3])
def test_hand_over_reaches_the_warm_process(tmp_path, n_fds):
    # A bare hand-over: the payload and the descriptors arrive, in order.
    # The payload is not a loky worker, so the warm process reports the
    # unpickling error and exits 1 instead of running one.
    files = [open(tmp_path / f"f{i}", "w") for i in range(n_fds)]
    process = loky_boot.spawn_warm_process()
    try:
        sentinel = process.hand_over(b"not a pickle", [f.fileno() for f in files])
        ready, _, _ = select.select([sentinel], [], [], 60)
        assert ready
        _, status = os.waitpid(process.pid, 0)
        os.close(sentinel)
    finally:
        for f in files:
            f.close()
    assert os.waitstatus_to_exitcode(status) == 1


def test_first_call_worker_crash_then_recovery():
    # A worker that dies during the very first call: loky's error with the
    # exit code, then a working second call, and no process left behind.
    out = run_fresh("""
        import json, os
        import psutil
        from joblib import Parallel, delayed
        from loky.process_executor import TerminatedWorkerError

        def die_on(i):
            if i == 3:
                os._exit(7)
            return i

        try:
            Parallel(n_jobs=2)(delayed(die_on)(i) for i in range(10))
        except TerminatedWorkerError as exc:
            error = str(exc)
        second = Parallel(n_jobs=2)(delayed(abs)(-i) for i in range(10))
        workers = [c for c in psutil.Process().children() if "loky_boot" in " ".join(c.cmdline())]
        from joblib._parallel.memmapping.executor import current_reusable_executor
        current_reusable_executor().shutdown(wait=True)
        gone, alive = psutil.wait_procs(workers, timeout=30)
        print(json.dumps({"error": error, "second": second, "workers": len(workers),
                          "alive": [p.pid for p in alive]}))
    """)
    assert "EXIT(7)" in out["error"]
    assert out["second"] == list(range(10))
    assert out["workers"] == 2 and out["alive"] == []


def test_first_call_from_a_thread():
    # Warm processes belong to the thread that started them (loky keeps one
    # executor per thread); a first call made in a thread uses them too.
    out = run_fresh("""
        import json, os, threading
        from joblib import Parallel, delayed
        from joblib._parallel.backends import loky_boot

        result = {}
        def run():
            result["pids"] = sorted(set(Parallel(n_jobs=2)(delayed(os.getpid)() for _ in range(20))))
            result["waiting"] = loky_boot.warm_processes_waiting()
        thread = threading.Thread(target=run)
        thread.start(); thread.join()
        result["main_waiting"] = loky_boot.warm_processes_waiting()
        print(json.dumps(result))
    """)
    assert out["pids"] and os.getpid() not in out["pids"]
    assert out["waiting"] is False and out["main_waiting"] is False


def test_tracker_descriptors_of_every_known_loky_layout_are_forwarded():
    from joblib._parallel.backends.loky_warm import WarmPopen, _UnknownLayout

    popen = WarmPopen.__new__(WarmPopen)  # no launch: only the remapping
    popen._fds = []
    new_layout = {"sys_path": ["/x"], "tracker_fd": 11, "mp_tracker_fd": 12}
    popen._send_tracker_fds(new_layout)
    assert (new_layout["tracker_fd"], new_layout["mp_tracker_fd"]) == (0, 1)
    old_layout = {"tracker_args": {"pid": 5, "fd": 13}, "mp_tracker_args": {"fd": 14, "pid": 6}}
    popen._send_tracker_fds(old_layout)
    assert old_layout == {"tracker_args": {"pid": 5, "fd": 2}, "mp_tracker_args": {"fd": 3, "pid": 6}}
    assert popen._fds == [11, 12, 13, 14]
    # A descriptor somewhere unknown: the launch falls back to loky's own.
    with pytest.raises(_UnknownLayout):
        popen._send_tracker_fds({"tracker_fd": 11, "future_tracker": {"fd": 15}})


def test_unknown_layout_falls_back_to_lokys_launcher(monkeypatch):
    # With a preparation data layout the warm start cannot forward, workers
    # are launched by loky itself and the call still works.
    out = run_fresh("""
        import json, os
        from loky.backend import spawn
        real = spawn.get_preparation_data
        def with_unknown_descriptor(*args, **kwargs):
            data = real(*args, **kwargs)
            data["future_tracker"] = {"fd": 0}
            return data
        spawn.get_preparation_data = with_unknown_descriptor
        import psutil
        from joblib import Parallel, delayed
        pids = Parallel(n_jobs=2)(delayed(os.getpid)() for _ in range(10))
        cmdlines = [" ".join(c.cmdline()) for c in psutil.Process().children()
                    if c.pid in set(pids)]
        print(json.dumps({"cmdlines": cmdlines}))
    """)
    assert out["cmdlines"]
    assert all("popen_loky_posix" in c for c in out["cmdlines"])


def test_start_method_chosen_in_loky_is_honoured():
    out = run_fresh("""
        import json, os
        from loky.backend.context import set_start_method
        set_start_method("loky_init_main")
        import psutil
        from joblib import Parallel, delayed
        from joblib._parallel.memmapping.executor import current_reusable_executor
        pids = set(Parallel(n_jobs=2)(delayed(os.getpid)() for _ in range(10)))
        cmdlines = [" ".join(c.cmdline()) for c in psutil.Process().children() if c.pid in pids]
        method = current_reusable_executor()._context.get_start_method()
        print(json.dumps({"method": method, "cmdlines": cmdlines}))
    """)
    assert out["method"] == "loky_init_main"
    assert out["cmdlines"] and all("popen_loky_posix" in c for c in out["cmdlines"])


def test_workers_do_not_inherit_the_parents_descriptors():
    # An inheritable pipe of the parent must not stay open in the workers:
    # once the parent closes its write end, the reader sees end of file.
    out = run_fresh("""
        import json, os, select
        read_end, write_end = os.pipe()
        os.set_inheritable(write_end, True)
        from joblib import Parallel, delayed
        pids = Parallel(n_jobs=2)(delayed(os.getpid)() for _ in range(10))
        os.close(write_end)
        ready, _, _ = select.select([read_end], [], [], 5)
        print(json.dumps({"eof": bool(ready) and os.read(read_end, 1) == b""}))
    """)
    assert out == {"eof": True}


def test_cgroup_quota_is_read_at_most_once_per_second(fake_cgroup, monkeypatch):
    fake_cgroup["v2"].write_text("200000 100000\n")
    assert cpu_module.cpu_count() == 2
    reads = []
    real_read = cpu_module._read_words
    monkeypatch.setattr(cpu_module, "_read_words",
                        lambda path: reads.append(path) or real_read(path))
    fake_cgroup["v2"].write_text("300000 100000\n")
    assert [cpu_module.cpu_count() for _ in range(50)] == [2] * 50
    assert reads == []  # answered from the cache
    cpu_module._QUOTA_CACHE[1] -= cpu_module._QUOTA_TTL + 0.1  # a second later
    assert cpu_module.cpu_count() == 3  # a changed quota is seen after the TTL
    assert reads

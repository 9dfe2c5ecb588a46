"""Memory on a real S3 API server: requests per call, faults, interoperability.

The server (moto's S3 app, see ``_s3_server.py``) runs on 127.0.0.1 for the
whole session; its request log counts what each call costs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import uuid

import pytest

from joblib import Memory
from joblib._store_backends import CacheWarning
from joblib.memory import _FUNCTION_HASHES

np = pytest.importorskip("numpy")
pytest.importorskip("s3fs")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE_PYTHON = "/work/refvenv/bin/python"

MODULE = '''
def double(x, log=None):
    if log is not None:
        log.append(x)
    return 2 * x


def big(n):
    import numpy as np
    return np.arange(n, dtype=np.float64)
'''


def double(x, log):
    log.append(x)
    return 2 * x


@pytest.fixture
def url(s3_server):
    return s3_server.new_url()


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    """A module shared by this process and child interpreters (same func_id)."""
    (tmp_path / "objstore_mod.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("objstore_mod", None)
    yield tmp_path
    sys.modules.pop("objstore_mod", None)


def run_python(python, code, *args, cwd=None, check=True):
    env = dict(os.environ, PYTHONPATH=ROOT if python == sys.executable else "")
    proc = subprocess.run(
        [python, "-c", textwrap.dedent(code), *args],
        capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


# --- requests per call -----------------------------------------------------------


def test_a_hit_costs_one_get_and_no_list(s3_server, url):
    log = []
    f = Memory(url, verbose=0, storage_options=s3_server.storage_options()).cache(
        double, ignore=["log"]
    )
    f(1, log)
    s3_server.log.clear()
    assert f(1, log) == 2 and log == [1]
    hit = s3_server.log.counts()
    assert hit == {"GET": 1, "LIST": 0, "PUT": 0, "DELETE": 0}, hit
    s3_server.log.clear()
    f(2, log)
    miss = s3_server.log.counts()
    assert miss == {"GET": 1, "LIST": 0, "PUT": 2, "DELETE": 0}, miss
    # As a new process does: the function's code is checked once (one GET).
    _FUNCTION_HASHES.clear()
    s3_server.log.clear()
    assert f(1, log) == 2 and log == [1, 2]
    first = s3_server.log.counts()
    assert first == {"GET": 2, "LIST": 0, "PUT": 0, "DELETE": 0}, first
    # A process that did not write the entry records its first hit of it
    # (one PUT of the empty last_access object), then not for an hour.
    from joblib._store import fsspec_backend

    fsspec_backend._recent_access.clear()
    s3_server.log.clear()
    f(1, log), f(1, log)
    assert s3_server.log.counts() == {"GET": 2, "LIST": 0, "PUT": 1, "DELETE": 0}
    assert s3_server.log.paths("PUT")[0].endswith("/last_access")
    # A shelved hit asks whether the entry exists (a 1-byte ranged GET) and
    # reads its metadata, as in joblib 1.6; the result is read by get().
    s3_server.log.clear()
    shelved = f.call_and_shelve(1, log)
    assert s3_server.log.counts() == {"GET": 2, "LIST": 0, "PUT": 0, "DELETE": 0}
    s3_server.log.clear()
    assert shelved.get() == 2
    assert s3_server.log.counts() == {"GET": 1, "LIST": 0, "PUT": 0, "DELETE": 0}
    # A hit validated by a callback reads the metadata, then the result.
    validated = Memory(url, verbose=0, storage_options=s3_server.storage_options()).cache(
        double, ignore=["log"], cache_validation_callback=lambda metadata: "duration" in metadata
    )
    validated(1, log)
    s3_server.log.clear()
    assert validated(1, log) == 2 and log == [1, 2]
    assert s3_server.log.counts() == {"GET": 2, "LIST": 0, "PUT": 0, "DELETE": 0}


def test_a_large_result_is_read_with_one_get(s3_server, url):
    # s3fs would read a file larger than a block with a HEAD and ranged GETs.
    options = s3_server.storage_options(default_block_size=2**20)
    memory = Memory(url, verbose=0, storage_options=options)
    f = memory.cache(np.arange)
    f(500_000)  # 4 MB
    s3_server.log.clear()
    np.testing.assert_array_equal(f(500_000), np.arange(500_000))
    assert s3_server.log.counts()["GET"] == 1


# --- consistency ---------------------------------------------------------------


def test_a_writer_killed_mid_upload_leaves_nothing(s3_server, url, module_dir):
    arrived, release = threading.Event(), threading.Event()

    def gate(environ):
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] == "PUT" and path.endswith("/output.pkl"):
            arrived.set()
            release.wait(60)

    code = """
        import json, sys
        from joblib import Memory
        import objstore_mod
        memory = Memory(sys.argv[1], verbose=0, storage_options=json.loads(sys.argv[2]))
        memory.cache(objstore_mod.big)(2_000_000)
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, str(module_dir)]))
    options = json.dumps(s3_server.storage_options())
    s3_server.gate = gate
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code), url, options], env=env
        )
        try:
            assert arrived.wait(60), "the upload never reached the server"
            child.send_signal(signal.SIGKILL)
            child.wait(30)
        finally:
            child.kill()
    finally:
        s3_server.gate = None
        release.set()
    import objstore_mod

    memory = Memory(url, verbose=0, storage_options=s3_server.storage_options())
    f = memory.cache(objstore_mod.big)
    assert not f.check_call_in_cache(2_000_000)
    np.testing.assert_array_equal(f(2_000_000), np.arange(2_000_000.0))
    assert f.check_call_in_cache(2_000_000)


def test_local_joblib16_cache_synced_to_s3_and_back(s3_server, url, module_dir):
    local = module_dir / "local16"
    run_python(REFERENCE_PYTHON, """
        import sys
        sys.path.insert(0, sys.argv[2])
        from joblib import Memory
        import objstore_mod
        Memory(sys.argv[1], verbose=0, compress=3).cache(
            objstore_mod.double, ignore=["log"])(21)
    """, str(local), str(module_dir))
    fs = s3_server.filesystem()
    fs.put(str(local) + "/", url + "/", recursive=True)  # as `aws s3 sync`
    import objstore_mod

    memory = Memory(url, verbose=0, storage_options=s3_server.storage_options())
    log = []
    f = memory.cache(objstore_mod.double, ignore=["log"])
    assert f.check_call_in_cache(21, log) and f(21, log) == 42 and log == []
    assert f(5, log) == 10 and log == [5]
    back = module_dir / "back"
    fs.get(url + "/", str(back) + "/", recursive=True)
    out = run_python(REFERENCE_PYTHON, """
        import sys
        sys.path.insert(0, sys.argv[2])
        from joblib import Memory
        import objstore_mod
        f = Memory(sys.argv[1], verbose=0).cache(objstore_mod.double, ignore=["log"])
        print(f.check_call_in_cache(5), f.check_call_in_cache(21), f(5, log=[]))
    """, str(back), str(module_dir))
    assert out.stdout.split() == ["True", "True", "10"]


# --- faults ----------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Persisting input arguments")
def test_server_stopped_then_restarted(s3_server, url):
    log = []
    memory = Memory(url, verbose=0, storage_options=s3_server.storage_options())
    f = memory.cache(double, ignore=["log"])
    assert f(1, log) == 2
    s3_server.stop()
    try:
        with pytest.warns(CacheWarning):
            assert f(1, log) == 2  # hit failed: computed
        with pytest.warns(CacheWarning):
            assert f(2, log) == 4  # store failed: returned anyway
        assert log == [1, 1, 2]
    finally:
        s3_server.start()
    assert f(1, log) == 2 and f(2, log) == 4 and f(2, log) == 4
    assert log == [1, 1, 2, 2]


@pytest.mark.parametrize(
    "case, error, message",
    [
        ("unreachable", ConnectionError, "the endpoint cannot be reached"),
        ("missing bucket", FileNotFoundError, "does not exist"),
        ("no credentials", PermissionError, "no usable credentials"),
    ],
)
def test_unusable_store_is_a_clear_error_at_first_call(
    s3_server, tmp_path, monkeypatch, case, error, message
):
    monkeypatch.chdir(tmp_path)
    url = s3_server.new_url()
    options = s3_server.storage_options()
    if case == "unreachable":
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        options["endpoint_url"] = "http://127.0.0.1:%d" % port
    elif case == "missing bucket":
        url = "s3://no-such-bucket/cache"
    else:
        del options["key"], options["secret"]
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    memory = Memory(url, verbose=0, storage_options=options)
    f = memory.cache(double, ignore=["log"])
    with pytest.raises(error, match=message):
        f(1, [])
    assert os.listdir(tmp_path) == []  # no local folder named "s3:"


def test_url_without_fsspec_names_the_extra(tmp_path):
    proc = run_python(sys.executable, """
        import sys
        sys.modules["fsspec"] = None  # as if not installed
        from joblib import Memory
        try:
            Memory("s3://bucket/cache")
        except ImportError as exc:
            print(exc)
    """, cwd=tmp_path)
    assert 'pip install "joblib[fsspec]"' in proc.stdout
    assert os.listdir(tmp_path) == []


def test_mmap_mode_is_ignored_with_one_warning(s3_server, url):
    options = s3_server.storage_options()
    with pytest.warns(CacheWarning, match="mmap_mode='r' is ignored"):
        memory = Memory(url, verbose=0, mmap_mode="r", storage_options=options)
    f = memory.cache(np.arange)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(10)
        result = f(10)
    assert type(result) is np.ndarray and result.tolist() == list(range(10))


def test_storage_options_checks(s3_server, url, tmp_path):
    options = s3_server.storage_options()
    memory = Memory(url, verbose=0, backend_options={"storage_options": options})
    assert memory.cache(np.arange)(3).tolist() == [0, 1, 2]
    with pytest.raises(TypeError, match="given twice"):
        Memory(url, storage_options=options, backend_options={"storage_options": {}})
    with pytest.raises(TypeError, match="are for URL locations"):
        Memory(str(tmp_path), storage_options=options)
    with pytest.raises(TypeError, match="Unknown options.*colour"):
        Memory(url, storage_options=options, backend_options={"colour": 1})
    with pytest.raises(ValueError, match="access_resolution should be"):
        Memory(url, storage_options=options, backend_options={"access_resolution": -1})
    with pytest.raises(TypeError, match="storage_options should be a dict"):
        Memory(url, storage_options=[("key", "x")])


def test_object_store_benchmark_runs():
    # Speed is measured by the benchmark, never here: only its report's shape.
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.object_store",
         "--mb", "0.1", "--repeat", "1", "--small", "2"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines[2:5]] == ["local", "file://", "s3"]
    assert "'LIST': 0" in lines[-1] and "'GET': 1" in lines[-1]


@pytest.fixture
def s3_auth(s3_server):
    """Turn on moto's request authentication; yield a read-only user's keys."""
    import boto3
    from moto import settings
    from moto.core.responses import ActionAuthenticatorMixin

    iam = boto3.client(
        "iam", endpoint_url=s3_server.endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    name = "reader-%s" % uuid.uuid4().hex[:8]
    iam.create_user(UserName=name)
    bucket = "arn:aws:s3:::joblib-tests"
    iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        # moto names the action of a HEAD of the bucket "s3:HeadBucket".
        "Statement": [{"Effect": "Allow",
                       "Action": ["s3:ListBucket", "s3:HeadBucket", "s3:GetObject"],
                       "Resource": [bucket, bucket + "/*"]}],
    }))
    keys = iam.create_access_key(UserName=name)["AccessKey"]
    previous = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    try:
        yield keys["AccessKeyId"], keys["SecretAccessKey"]
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = previous


@pytest.mark.parametrize("who", ["unknown key", "read-only user"])
def test_permission_denied_is_a_clear_error_at_first_call(
    s3_server, s3_auth, tmp_path, monkeypatch, who
):
    monkeypatch.chdir(tmp_path)
    key, secret = s3_auth if who == "read-only user" else ("nobody", "nothing")
    options = s3_server.storage_options(key=key, secret=secret)
    f = Memory(s3_server.new_url(), verbose=0, storage_options=options).cache(
        double, ignore=["log"]
    )
    with pytest.raises(PermissionError, match="permission denied"):
        f(1, [])
    # The read-only user passes the first check (it may read); the refused
    # write of the function's code is the error.
    assert f.store_backend._checked == (who == "read-only user")
    assert os.listdir(tmp_path) == []


def test_read_only_user_serves_hits_and_computes_misses(s3_server, url, s3_auth):
    from moto import settings

    log = []
    # Seeded by a writer (authentication is on: a real user's keys are needed
    # to write, so the writer seeds it with authentication off for a moment).
    previous, settings.INITIAL_NO_AUTH_ACTION_COUNT = (
        settings.INITIAL_NO_AUTH_ACTION_COUNT, float("inf"))
    Memory(url, verbose=0, storage_options=s3_server.storage_options()).cache(
        double, ignore=["log"])(1, log)
    settings.INITIAL_NO_AUTH_ACTION_COUNT = previous
    _FUNCTION_HASHES.clear()  # as a new process: the code is checked again
    key, secret = s3_auth
    options = s3_server.storage_options(key=key, secret=secret)
    f = Memory(url, verbose=0, storage_options=options).cache(double, ignore=["log"])
    assert f(1, log) == 2 and log == [1]
    with pytest.warns(CacheWarning, match="Unable to cache"):
        assert f(2, log) == 4
    assert log == [1, 2] and not f.check_call_in_cache(2, log)


def test_failed_deletion_of_a_rejected_entry_is_a_warning(s3_server, url):
    log = []
    memory = Memory(url, verbose=0, storage_options=s3_server.storage_options())
    f = memory.cache(double, ignore=["log"], cache_validation_callback=lambda m: False)
    f(1, log)

    def gate(environ):
        deleting = environ["REQUEST_METHOD"] == "DELETE" or (
            environ["REQUEST_METHOD"] == "POST"
            and "delete" in environ.get("QUERY_STRING", "")
        )
        if deleting:
            raise RuntimeError("the server fails deletions")

    s3_server.gate = gate
    try:
        with pytest.warns(CacheWarning, match="Could not delete the cache entry"):
            assert f(1, log) == 2
    finally:
        s3_server.gate = None
    assert log == [1, 1]


def test_a_process_exits_without_requests_for_its_statistics(s3_server, url, module_dir):
    # Hit counts are saved at exit only for local caches: a process that hit
    # an S3 cache must not read the entries' metadata on its way out.
    code = """
        import json, sys
        from joblib import Memory
        import objstore_mod
        memory = Memory(sys.argv[1], verbose=0, storage_options=json.loads(sys.argv[2]))
        f = memory.cache(objstore_mod.double, ignore=["log"])
        f(1), f(1), f(1)
        # What atexit runs; at exit, fsspec's event loop is going away and a
        # request hung the process for ~25 s.
        from joblib._memory import stats
        stats.flush()
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, str(module_dir)]))
    s3_server.log.clear()
    subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), url,
         json.dumps(s3_server.storage_options())],
        env=env, check=True, timeout=60,
    )
    assert not [p for p in s3_server.log.paths("GET") if p.endswith("metadata.json")]

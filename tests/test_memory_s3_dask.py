"""A cache on S3 shared by a dask cluster, end to end.

Two ``LocalCluster`` runs of two worker processes each run the same
``Parallel(backend="dask")`` loop over a function cached in
``Memory("s3://...")`` on the session's S3 server: the first computes every
key once, the second (new cluster, new processes) computes nothing.
"""

from __future__ import annotations

import os
import uuid
import warnings

import pytest

from joblib import Memory, Parallel, delayed

distributed = pytest.importorskip("distributed")
pytest.importorskip("s3fs")


def feature(i, marker_dir):
    # Each computation leaves a file: the test counts them across processes.
    name = "%d-%d-%s" % (i, os.getpid(), uuid.uuid4().hex[:8])
    open(os.path.join(marker_dir, name), "w").close()
    return {"key": i, "square": i * i}


def run_on_new_cluster(cached, keys, marker_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # port and memory-limit notices
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True,
            dashboard_address=None,
        )
    with cluster, distributed.Client(cluster) as client:
        pids = set(client.run(os.getpid).values())
        assert len(pids) == 2 and os.getpid() not in pids
        results = Parallel(backend="dask")(
            delayed(cached)(i, marker_dir) for i in keys
        )
    return results, pids


@pytest.mark.timeout(240)
def test_cluster_computes_each_key_once_then_hits(s3_server, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    memory = Memory(
        s3_server.new_url(), verbose=0, storage_options=s3_server.storage_options()
    )
    cached = memory.cache(feature, ignore=["marker_dir"])
    keys = list(range(8))
    first, first_pids = run_on_new_cluster(cached, keys, str(markers))
    computed = sorted(int(name.split("-")[0]) for name in os.listdir(markers))
    assert computed == keys  # each key once, by the workers
    assert {int(n.split("-")[1]) for n in os.listdir(markers)} <= first_pids
    second, second_pids = run_on_new_cluster(cached, keys, str(markers))
    assert not first_pids & second_pids  # new processes
    assert len(os.listdir(markers)) == len(keys)  # every key was a hit
    assert first == second == [{"key": i, "square": i * i} for i in keys]

"""A cache on S3 shared by every worker of a dask cluster.

``Memory("s3://bucket/prefix")`` keeps results in an object store, so any
process that can reach the bucket reuses them: here two successive dask
clusters (new worker processes each time) run the same ``Parallel`` loop;
the first computes every key once, the second only loads results.

Without an S3 endpoint, the example starts a local S3 API server (moto) on
127.0.0.1. To use a real bucket, set ``JOBLIB_EXAMPLE_S3_URL`` (for example
``s3://my-bucket/joblib-example``) and the usual AWS credentials.

Needs ``pip install "joblib[s3]" "dask[distributed]"`` (and ``moto[server]``
for the local server).

    python examples/memory_on_s3_dask.py
"""

import logging
import os
import tempfile
import uuid

from dask.distributed import Client, LocalCluster

from joblib import Memory, Parallel, delayed


def feature(i, marker_dir):
    """A slow computation; each run leaves a marker file to count them."""
    open(os.path.join(marker_dir, "%d-%s" % (i, uuid.uuid4().hex)), "w").close()
    return i * i


def local_s3_server():
    """Start moto's S3 server on a free loopback port; return it and options."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request lines
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    options = {
        "endpoint_url": "http://%s:%d" % (host, port),
        "key": "testing",  # moto accepts any credentials
        "secret": "testing",
    }
    import s3fs

    s3fs.S3FileSystem(**options).mkdir("joblib-example")
    return server, "s3://joblib-example/cache", options


def run(cached, keys, marker_dir):
    # A new cluster: new worker processes, which find the results on S3.
    with LocalCluster(n_workers=2, threads_per_worker=1,
                      dashboard_address=None) as cluster, Client(cluster):
        return Parallel(backend="dask")(
            delayed(cached)(i, marker_dir) for i in keys)


def main():
    server = None
    url = os.environ.get("JOBLIB_EXAMPLE_S3_URL")
    options = {}
    if url is None:
        server, url, options = local_s3_server()
    try:
        memory = Memory(url, verbose=0, storage_options=options)
        cached = memory.cache(feature, ignore=["marker_dir"])
        marker_dir = tempfile.mkdtemp()
        keys = range(8)
        first = run(cached, keys, marker_dir)
        print("first cluster: %d computations" % len(os.listdir(marker_dir)))
        second = run(cached, keys, marker_dir)
        print("second cluster: %d new computations"
              % (len(os.listdir(marker_dir)) - len(first)))
        assert first == second == [i * i for i in keys]
        print("results equal:", second)
        memory.clear(warn=False)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()

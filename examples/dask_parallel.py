"""Run joblib tasks on a dask.distributed cluster.

Starts a local cluster of two worker processes, then sends ``Parallel``
calls to it with ``parallel_config(backend="dask")``: plain tasks, tasks
sharing a large array (scattered to the cluster once per call), results
streamed as they complete, and a nested ``Parallel`` call that stays on the
cluster.  Needs ``pip install "dask[distributed]"``.

    python examples/dask_parallel.py

To use an existing cluster instead, connect a client to its scheduler
(``Client("tcp://scheduler-host:8786")``) and run the same code.
"""

import numpy as np
from dask.distributed import Client, LocalCluster

from joblib import Parallel, delayed, parallel_config


def square(x):
    return x * x


def column_mean(data, j):
    return float(data[:, j].mean())


def sum_of_squares(n):
    # Inside a dask task, Parallel uses the dask backend again: the inner
    # tasks go back to the cluster instead of starting local workers.
    return sum(Parallel()(delayed(square)(i) for i in range(n)))


def main():
    with LocalCluster(n_workers=2, threads_per_worker=1,
                      dashboard_address=None) as cluster, Client(cluster):
        with parallel_config(backend="dask"):
            squares = Parallel()(delayed(square)(i) for i in range(1000))
            print("sum of squares:", sum(squares))

            # 8 MB array: sent to the cluster once, shared by the 16 tasks.
            data = np.random.default_rng(0).normal(size=(1000, 1000))
            means = Parallel()(delayed(column_mean)(data, j) for j in range(16))
            assert np.allclose(means, data[:, :16].mean(axis=0))
            print("column means ok")

            done = Parallel(return_as="generator_unordered")(
                delayed(square)(i) for i in range(10))
            print("unordered:", sorted(done))

            nested = Parallel()(delayed(sum_of_squares)(n) for n in range(1, 5))
            assert nested == [sum(i * i for i in range(n)) for n in range(1, 5)]
            print("nested results ok")


if __name__ == "__main__":
    main()

"""Large arrays in parallel: memmapped inputs and a shared output array.

Workers read a large input array without copying it (joblib memory-maps it
for them) and write their results into slices of one output array that lives
in a memory-mapped file shared with the parent.

    python examples/shared_memmap_output.py
"""

import os
import shutil
import tempfile

import numpy as np

from joblib import Parallel, delayed, dump, load


def row_sums(data, output, start, stop):
    """Sum rows ``start:stop`` of ``data`` into the same rows of ``output``.

    ``data`` arrives as a read-only ``np.memmap``; ``output`` is a memmap
    opened for writing, so what the worker writes is seen by the parent.
    """
    output[start:stop] = data[start:stop].sum(axis=1)


def main():
    rng = np.random.default_rng(0)
    data = rng.random((2_000, 500))  # 8 MB: above max_nbytes='1M'

    folder = tempfile.mkdtemp(prefix="joblib_example_")
    try:
        # The output array: a memmap on a file, created with mode 'w+'.
        output = np.memmap(
            os.path.join(folder, "output.mmap"), dtype=data.dtype, shape=len(data), mode="w+"
        )

        # An input array can also be memmapped by hand and reused across
        # calls: dump it once, load it with mmap_mode='r'.
        dump(data, os.path.join(folder, "data.joblib"))
        data_mm = load(os.path.join(folder, "data.joblib"), mmap_mode="r")

        chunks = [(i, min(i + 250, len(data))) for i in range(0, len(data), 250)]
        Parallel(n_jobs=2, max_nbytes="1M", mmap_mode="r")(
            delayed(row_sums)(data, output, start, stop) for start, stop in chunks
        )
        assert np.allclose(output, data.sum(axis=1))

        output[:] = 0
        Parallel(n_jobs=2)(delayed(row_sums)(data_mm, output, start, stop) for start, stop in chunks)
        assert np.allclose(output, data.sum(axis=1))
        print("row sums of a %s array computed by 2 workers into a shared memmap: OK" % (data.shape,))
        del output, data_mm  # close the maps before removing their files
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

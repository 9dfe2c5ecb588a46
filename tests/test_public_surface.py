"""The public surface that joblib 1.6 clients import must exist here.

Every name below is imported by scikit-learn, Ray, joblibspark, dask-ml,
joblib-stubs or upstream's own documentation (see CONVENTIONS.md).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

import joblib

TOP_LEVEL = [
    "Memory", "MemorizedResult", "expires_after", "Parallel", "delayed",
    "cpu_count", "effective_n_jobs", "wrap_non_picklable_objects",
    "parallel_config", "parallel_backend", "ParallelBackendBase",
    "StoreBackendBase", "register_compressor", "register_parallel_backend",
    "register_store_backend", "PrintTime", "Logger", "hash", "dump", "load",
    "TaskTimeoutError", "ParallelCancelledError",
]

SEMI_PUBLIC = {
    "joblib.memory": [
        "Memory", "MemorizedFunc", "NotMemorizedFunc", "NotMemorizedResult",
        "AsyncMemorizedFunc", "AsyncNotMemorizedFunc", "MemorizedResult",
        "JobLibCollisionWarning", "register_store_backend", "extract_first_line",
        "expires_after", "_FUNCTION_HASHES", "_STORE_BACKENDS",
    ],
    "joblib._store_backends": [
        "StoreBackendBase", "StoreBackendMixin", "FileSystemStoreBackend",
        "CacheItemInfo", "CacheWarning", "concurrency_safe_write",
    ],
    "joblib.parallel": [
        "Parallel", "delayed", "BACKENDS", "DEFAULT_BACKEND",
        "EXTERNAL_BACKENDS", "BatchCompletionCallBack", "get_active_backend",
        "mp", "parallel_config", "parallel_backend", "cpu_count",
        "effective_n_jobs", "register_parallel_backend", "AutoBatchingMixin",
        "ParallelBackendBase",
    ],
    "joblib._parallel_backends": [
        "SequentialBackend", "ThreadingBackend", "MultiprocessingBackend",
        "LokyBackend", "ParallelBackendBase", "AutoBatchingMixin",
        "FallbackToBackend",
    ],
    "joblib.pool": ["PicklingPool", "MemmappingPool"],
    "joblib.executor": ["get_memmapping_executor"],
    "joblib._memmapping_reducer": ["has_shareable_memory"],
    "joblib._multiprocessing_helpers": ["mp"],
    "joblib._dask": ["DaskDistributedBackend"],
    "joblib._cloudpickle_wrapper": ["wrap_non_picklable_objects"],
    "joblib.numpy_pickle": ["NumpyPickler", "NumpyUnpickler", "NumpyArrayWrapper", "dump", "load"],
    "joblib.numpy_pickle_compat": ["NDArrayWrapper", "ZNDArrayWrapper", "load_compatibility"],
    "joblib.compressor": ["register_compressor", "CompressorWrapper", "BinaryZlibFile"],
    "joblib.hashing": ["Hasher", "NumpyHasher", "hash", "_ConsistentSet", "_MyHash"],
    "joblib.func_inspect": [
        "filter_args", "get_func_code", "get_func_name", "format_signature", "format_call",
    ],
    "joblib.disk": ["mkdirp", "memstr_to_bytes", "disk_used", "rm_subdirs", "delete_folder"],
    "joblib.logger": ["Logger", "PrintTime", "format_time", "short_format_time", "pformat"],
    "joblib.backports": ["concurrency_safe_rename", "make_memmap"],
    "joblib._utils": ["eval_expr"],
    "joblib.testing": ["raises", "warns", "parametrize", "fixture", "check_subprocess_call"],
}


def test_all_matches_joblib_16():
    assert sorted(joblib.__all__) == sorted(TOP_LEVEL)


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_name_resolves(name):
    assert getattr(joblib, name) is not None


@pytest.mark.parametrize("module", sorted(SEMI_PUBLIC))
def test_semi_public_names(module):
    mod = importlib.import_module(module)
    missing = [n for n in SEMI_PUBLIC[module] if not hasattr(mod, n)]
    assert missing == [], "%s lacks %s" % (module, missing)


def test_version_satisfies_client_checks():
    from importlib.metadata import PackageNotFoundError, version

    parts = tuple(int(p) for p in joblib.__version__.split(".")[:2])
    assert parts == (1, 6)
    try:
        assert version("joblib") == joblib.__version__
    except PackageNotFoundError:  # running from a checkout without install
        pass


def test_externals_are_the_pypi_modules():
    import cloudpickle
    import loky
    import loky.process_executor

    import joblib.externals.cloudpickle as ext_cloudpickle
    import joblib.externals.loky as ext_loky
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    assert ext_loky is loky
    assert ext_cloudpickle is cloudpickle
    assert TerminatedWorkerError is loky.process_executor.TerminatedWorkerError
    # The real modules keep their own identity (spawned workers rely on it).
    assert loky.__spec__.name == "loky"


def test_package_is_a_regular_directory():
    init = joblib.__file__
    assert os.path.basename(init) == "__init__.py"
    assert os.path.isdir(os.path.join(os.path.dirname(init), "externals"))


def test_import_is_light_and_sets_kmp_env():
    code = (
        "import os, sys\n"
        "os.environ.pop('KMP_INIT_AT_FORK', None)\n"
        "import joblib\n"
        "heavy = [m for m in ('numpy', 'loky', 'cloudpickle', 'multiprocessing.pool',"
        " 'concurrent.futures') if m in sys.modules]\n"
        "print(heavy, os.environ.get('KMP_INIT_AT_FORK'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=os.path.dirname(os.path.dirname(joblib.__file__)),
    ).stdout.strip()
    assert out == "[] FALSE"


def test_import_without_numpy_works():
    # A finder that refuses numpy simulates an environment without it.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'numpy' or name.startswith('numpy.'):\n"
        "            raise ImportError('numpy blocked for this test')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import joblib, io\n"
        "buf = io.BytesIO()\n"
        "joblib.dump({'a': [1, 2]}, buf); buf.seek(0)\n"
        "assert joblib.load(buf) == {'a': [1, 2]}\n"
        "assert len(joblib.hash({'a': 1})) == 32\n"
        "print(joblib.Parallel(n_jobs=1)(joblib.delayed(abs)(-i) for i in range(3)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        cwd=os.path.dirname(os.path.dirname(joblib.__file__)),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[0, 1, 2]"


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        joblib.no_such_name

"""Error and warning paths of the public API, run against joblib 1.6 and us.

Each case is a function ``case(joblib, tmp)`` that triggers one error or
warning path. ``tools/joblib16_messages.py`` runs every case with the real
joblib 1.6.0 and records what it raised or warned (class and message) in
``tests/data/joblib16_messages.json``; ``tests/test_parity_messages.py``
runs the same cases here and checks that 1.6's message is a prefix of, or
contained in, ours, and that our exception is an instance of 1.6's class.

This module is plain Python (no pytest) so that the tool can import it in
an interpreter where only joblib 1.6 is installed.
"""

from __future__ import annotations

import io
import os

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
CASES = {}


def case(func):
    CASES[func.__name__] = func
    return func


def _square(x):
    return x * x


def _tasks(joblib, n=4):
    return (joblib.delayed(_square)(i) for i in range(n))


def _np():
    import numpy

    return numpy


# ---- persistence and compressors --------------------------------------------

@case
def dump_compress_level_too_high(joblib, tmp):
    joblib.dump(1, os.path.join(tmp, "a.pkl"), compress=10)


@case
def dump_compress_level_negative(joblib, tmp):
    joblib.dump(1, os.path.join(tmp, "a.pkl"), compress=("zlib", -1))


@case
def dump_compress_unknown_method(joblib, tmp):
    joblib.dump(1, os.path.join(tmp, "a.pkl"), compress=("nope", 3))


@case
def dump_compress_tuple_of_three(joblib, tmp):
    joblib.dump(1, os.path.join(tmp, "a.pkl"), compress=("zlib", 3, 1))


@case
def dump_to_an_int(joblib, tmp):
    joblib.dump(1, 42)


@case
def load_native_byte_order_with_mmap(joblib, tmp):
    path = os.path.join(tmp, "a.pkl")
    joblib.dump(1, path)
    joblib.load(path, mmap_mode="r", ensure_native_byte_order=True)


@case
def load_mmap_of_compressed_path(joblib, tmp):
    path = os.path.join(tmp, "z.pkl")
    joblib.dump(_np().arange(3), path, compress=3)
    joblib.load(path, mmap_mode="r")


@case
def load_mmap_of_bytesio(joblib, tmp):
    buf = io.BytesIO()
    joblib.dump(_np().arange(3), buf)
    buf.seek(0)
    joblib.load(buf, mmap_mode="r")


@case
def load_mmap_of_compressed_bytesio(joblib, tmp):
    buf = io.BytesIO()
    joblib.dump(_np().arange(3), buf, compress=3)
    buf.seek(0)
    joblib.load(buf, mmap_mode="c")


@case
def load_mmap_of_non_raw_file(joblib, tmp):
    buf = io.BytesIO()
    joblib.dump(_np().arange(3), buf)
    joblib.load(io.BufferedReader(io.BytesIO(buf.getvalue())), mmap_mode="r")


@case
def load_file_from_joblib_0_9(joblib, tmp):
    joblib.load(os.path.join(DATA, "joblib_0.9.4_zlib_py311.pkl"))


@case
def register_compressor_name_not_str(joblib, tmp):
    from joblib.compressor import ZlibCompressorWrapper

    joblib.register_compressor(1, ZlibCompressorWrapper())


@case
def register_compressor_not_a_wrapper(joblib, tmp):
    joblib.register_compressor("mine", object())


@case
def register_compressor_factory_not_a_file(joblib, tmp):
    from joblib.compressor import CompressorWrapper

    joblib.register_compressor("mine", CompressorWrapper(obj=int, prefix=b"XY"))


@case
def register_compressor_already_registered(joblib, tmp):
    from joblib.compressor import ZlibCompressorWrapper

    joblib.register_compressor("zlib", ZlibCompressorWrapper())


@case
def zlib_file_bad_compresslevel(joblib, tmp):
    from joblib.compressor import BinaryZlibFile

    BinaryZlibFile(os.path.join(tmp, "z"), "wb", compresslevel=10)


@case
def zlib_file_bad_mode(joblib, tmp):
    from joblib.compressor import BinaryZlibFile

    BinaryZlibFile(os.path.join(tmp, "z"), "x")


@case
def zlib_file_bad_filename(joblib, tmp):
    from joblib.compressor import BinaryZlibFile

    BinaryZlibFile(42, "rb")


@case
def zlib_file_bad_whence(joblib, tmp):
    from joblib.compressor import BinaryZlibFile

    path = os.path.join(tmp, "z")
    with BinaryZlibFile(path, "wb") as f:
        f.write(b"abc")
    with BinaryZlibFile(path, "rb") as f:
        f.seek(0, 5)


@case
def zlib_file_read_when_writing(joblib, tmp):
    from joblib.compressor import BinaryZlibFile

    with BinaryZlibFile(os.path.join(tmp, "z"), "wb") as f:
        f.read()


@case
def zlib_file_write_when_reading(joblib, tmp):
    from joblib.compressor import BinaryZlibFile

    path = os.path.join(tmp, "z")
    with BinaryZlibFile(path, "wb") as f:
        f.write(b"abc")
    with BinaryZlibFile(path, "rb") as f:
        f.write(b"x")


@case
def zlib_file_closed(joblib, tmp):
    from joblib.compressor import BinaryZlibFile

    f = BinaryZlibFile(os.path.join(tmp, "z"), "wb")
    f.close()
    f.write(b"x")


# ---- disk, hashing --------------------------------------------------------------

@case
def memstr_to_bytes_bad_unit(joblib, tmp):
    from joblib.disk import memstr_to_bytes

    memstr_to_bytes("10X")


@case
def memstr_to_bytes_not_a_number(joblib, tmp):
    from joblib.disk import memstr_to_bytes

    memstr_to_bytes("abcM")


@case
def hash_unknown_name(joblib, tmp):
    joblib.hash(1, hash_name="sha3")


# ---- Parallel and its configuration ---------------------------------------------

@case
def pre_dispatch_too_large(joblib, tmp):
    joblib.Parallel(n_jobs=2, backend="threading", pre_dispatch="10**7")(_tasks(joblib))


@case
def pre_dispatch_invalid(joblib, tmp):
    joblib.Parallel(n_jobs=2, backend="threading", pre_dispatch="n_jobs + x")(_tasks(joblib))


@case
def pre_dispatch_too_long(joblib, tmp):
    joblib.Parallel(n_jobs=2, backend="threading", pre_dispatch="1+" * 20 + "1")(
        _tasks(joblib))


@case
def parallel_n_jobs_zero(joblib, tmp):
    joblib.Parallel(n_jobs=0)(_tasks(joblib))


@case
def parallel_n_jobs_not_int(joblib, tmp):
    joblib.Parallel(n_jobs="two")


@case
def parallel_unknown_backend(joblib, tmp):
    joblib.Parallel(backend="nope")


@case
def parallel_bad_return_as(joblib, tmp):
    joblib.Parallel(return_as="tuple")


@case
def parallel_bad_batch_size(joblib, tmp):
    joblib.Parallel(batch_size=0)


@case
def parallel_sharedmem_with_processes(joblib, tmp):
    joblib.Parallel(backend="multiprocessing", require="sharedmem")


@case
def parallel_generator_with_multiprocessing(joblib, tmp):
    joblib.Parallel(backend="multiprocessing", return_as="generator")


@case
def parallel_timeout_unsupported(joblib, tmp):
    from joblib._parallel_backends import ThreadingBackend

    class NoTimeout(ThreadingBackend):
        supports_timeout = False

    joblib.Parallel(n_jobs=2, backend=NoTimeout(), timeout=10)(_tasks(joblib))


@case
def parallel_bad_prefer(joblib, tmp):
    joblib.Parallel(prefer="gpus")


@case
def parallel_bad_require(joblib, tmp):
    joblib.Parallel(require="gpus")


@case
def parallel_processes_and_sharedmem(joblib, tmp):
    joblib.Parallel(prefer="processes", require="sharedmem")


@case
def parallel_config_unknown_backend(joblib, tmp):
    with joblib.parallel_config(backend="nope"):
        pass


@case
def parallel_config_bad_prefer(joblib, tmp):
    with joblib.parallel_config(prefer="gpus"):
        joblib.Parallel()


@case
def parallel_config_bad_require(joblib, tmp):
    with joblib.parallel_config(require="gpus"):
        joblib.Parallel()


@case
def parallel_config_inner_threads_without_backend(joblib, tmp):
    with joblib.parallel_config(inner_max_num_threads=2):
        pass


@case
def parallel_config_backend_params_with_instance(joblib, tmp):
    from joblib._parallel_backends import ThreadingBackend

    with joblib.parallel_config(backend=ThreadingBackend(), some_option=1):
        pass


@case
def parallel_config_inner_threads_unsupported(joblib, tmp):
    with joblib.parallel_config(backend="threading", inner_max_num_threads=2):
        pass


@case
def parallel_backend_unknown(joblib, tmp):
    with joblib.parallel_backend("nope"):
        pass


@case
def parallel_backend_inner_threads_unsupported(joblib, tmp):
    with joblib.parallel_backend("threading", inner_max_num_threads=2):
        pass


@case
def effective_n_jobs_zero(joblib, tmp):
    joblib.effective_n_jobs(0)


# ---- Memory and store backends ---------------------------------------------------

@case
def memory_unknown_backend(joblib, tmp):
    joblib.Memory(tmp, backend="nope")


@case
def memory_compress_and_mmap(joblib, tmp):
    joblib.Memory(tmp, compress=3, mmap_mode="r", verbose=0)


@case
def memory_validation_callback_not_callable(joblib, tmp):
    joblib.Memory(tmp, verbose=0).cache(_square, cache_validation_callback=1)


@case
def memory_ignore_unknown_argument(joblib, tmp):
    joblib.Memory(tmp, verbose=0).cache(_square, ignore=["nope"])(1)


@case
def memory_ignore_not_a_list(joblib, tmp):
    joblib.Memory(tmp, verbose=0).cache(_square, ignore="x")(1)


@case
def memory_too_many_arguments(joblib, tmp):
    joblib.Memory(tmp, verbose=0).cache(_square)(1, 2)


@case
def memory_missing_argument(joblib, tmp):
    joblib.Memory(tmp, verbose=0).cache(_square)()


@case
def memory_unexpected_keyword(joblib, tmp):
    joblib.Memory(tmp, verbose=0).cache(_square)(1, y=2)


@case
def memory_argument_twice(joblib, tmp):
    joblib.Memory(tmp, verbose=0).cache(_square)(1, x=2)


@case
def memorized_result_after_clear(joblib, tmp):
    memory = joblib.Memory(tmp, verbose=0)
    result = memory.cache(_square).call_and_shelve(3)
    result.clear()
    result.get()


@case
def not_memorized_result_after_clear(joblib, tmp):
    result = joblib.Memory(None, verbose=0).cache(_square).call_and_shelve(3)
    result.clear()
    result.get()


@case
def reduce_size_negative_age(joblib, tmp):
    import datetime

    memory = joblib.Memory(tmp, verbose=0)
    memory.cache(_square)(2)
    memory.reduce_size(age_limit=datetime.timedelta(seconds=-1))


@case
def reduce_size_bad_bytes_limit(joblib, tmp):
    joblib.Memory(tmp, verbose=0).reduce_size(bytes_limit="10X")


@case
def register_store_backend_name_not_str(joblib, tmp):
    joblib.register_store_backend(1, joblib.StoreBackendBase)


@case
def register_store_backend_not_a_backend(joblib, tmp):
    joblib.register_store_backend("mine", object)


@case
def filter_args_on_partial(joblib, tmp):
    import functools

    from joblib.func_inspect import filter_args

    filter_args(functools.partial(_square, 1), ["x"], (), {})


@case
def memory_location_of_unsupported_type(joblib, tmp):
    joblib.Memory(location=42, verbose=0)


@case
def load_missing_file(joblib, tmp):
    joblib.load(os.path.join(tmp, "missing.pkl"))


@case
def load_bad_mmap_mode(joblib, tmp):
    path = os.path.join(tmp, "a.pkl")
    joblib.dump(_np().arange(3), path)
    joblib.load(path, mmap_mode="rw")


@case
def hash_unpicklable_object(joblib, tmp):
    import threading

    joblib.hash(threading.Lock())


@case
def dump_unpicklable_object(joblib, tmp):
    import threading

    joblib.dump(threading.Lock(), os.path.join(tmp, "lock.pkl"))


@case
def parallel_task_not_a_triple(joblib, tmp):
    joblib.Parallel(n_jobs=2, backend="threading")([abs])


@case
def memory_cache_not_callable(joblib, tmp):
    joblib.Memory(tmp, verbose=0).cache(42)(1)


@case
def memory_function_name_collision(joblib, tmp):
    memory = joblib.Memory(tmp, verbose=0)

    def twin(x):
        return x

    first = memory.cache(twin)

    def twin(x):  # noqa: F811 - a second function of the same name
        return x + 1

    second = memory.cache(twin)
    first(1)
    second(1)


@case
def memory_cache_of_a_lambda_twice(joblib, tmp):
    memory = joblib.Memory(tmp, verbose=0)
    memory.cache(lambda x: x)(1)
    memory.cache(lambda x: x + 1)(1)

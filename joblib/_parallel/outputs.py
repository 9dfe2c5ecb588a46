"""The generator behind every parallel ``Parallel`` call: starts the
dispatch, yields results, and on errors or early close aborts the backend
and cleans up."""

from __future__ import annotations

import threading
import warnings

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any, Iterator

from .results import iter_batches
from .warnings_text import exit_early_message

__all__ = ["output_stream"]


def output_stream(parallel: Any, call: Any, iterator: Iterator,
                  original: Iterator | None, sink: Any) -> Iterator:
    """Yield ``None`` once dispatching started, then the results.

    Results come one by one for generators, one list per batch otherwise.
    """
    dispatch_thread = threading.get_ident()
    detached = False
    try:
        call.start(iterator, original)
        yield
        with parallel._backend.retrieval_context():
            for batch in iter_batches(call, parallel.timeout):
                if not parallel.return_generator:
                    yield batch
                    continue
                for result in batch:
                    call.nb_consumed += 1
                    yield result
    except GeneratorExit:
        call.exception = True
        if threading.get_ident() != dispatch_thread:
            # Dropped (garbage collected) in another thread: clean up from a
            # fresh thread rather than block whatever thread that is.
            detached = True
            threading.Thread(target=close_early, args=(parallel,), daemon=True,
                             name="joblib-generator-exit").start()
            return
        close_early(parallel, terminate=False)
        raise
    except BaseException:
        call.exception = True
        parallel._abort()
        raise
    finally:
        parallel._running = False
        if not detached:
            parallel._terminate_and_reset()
        if sink is not None and hasattr(sink, "close"):
            sink.close()


def close_early(parallel: Any, terminate: bool = True) -> None:
    """Abort after the consumer closed the generator; warn about waste."""
    parallel._abort()
    if parallel.return_generator:
        msg = exit_early_message(parallel._call)
        if msg:
            warnings.warn(msg, stacklevel=4)
    if terminate:
        parallel._terminate_and_reset()

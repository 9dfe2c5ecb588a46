"""Resolution of ``Parallel``'s own arguments into settings: ``return_as``,
``n_jobs``, backend kwargs and the consistency checks, each in one place."""

from __future__ import annotations

from numbers import Integral

TYPE_CHECKING = False  # typing stays unimported at run time
if TYPE_CHECKING:
    from typing import Any

from ..disk import memstr_to_bytes
from .config import default_parallel_config, get_param

__all__ = ["RETURN_AS", "check_return_as", "collect_backend_kwargs",
           "resolve_n_jobs", "check_consistency"]

RETURN_AS = ("list", "generator", "generator_unordered")

# Parallel's verbosity above this is passed on to the memmapping machinery.
_BACKEND_VERBOSITY_OFFSET = 50


def check_return_as(return_as: Any) -> None:
    """Raise ValueError unless ``return_as`` is one of :data:`RETURN_AS`."""
    if return_as not in RETURN_AS:
        raise ValueError(
            'Expected `return_as` parameter to be a string equal to "list"'
            f',"generator" or "generator_unordered", but got {return_as} instead.'
        )


def collect_backend_kwargs(backend_kwargs: dict, config: dict, context: Any,
                           **params) -> dict:
    """The kwargs passed to ``backend.configure``, with config fallbacks."""
    kwargs = {**backend_kwargs,
              **{k: get_param(v, config, k) for k, v in params.items()}}
    if isinstance(kwargs["max_nbytes"], str):
        kwargs["max_nbytes"] = memstr_to_bytes(kwargs["max_nbytes"])
    kwargs["verbose"] = max(0, kwargs["verbose"] - _BACKEND_VERBOSITY_OFFSET)
    if context is not None:
        kwargs["context"] = context
    return kwargs


def resolve_n_jobs(n_jobs: Any, config: dict, backend: Any) -> int:
    """Explicit ``n_jobs``, else the config's, else the backend's default."""
    if n_jobs is None:
        n_jobs = default_parallel_config["n_jobs"]
    n_jobs = get_param(n_jobs, config, "n_jobs")
    if n_jobs is None:
        n_jobs = backend.default_n_jobs
    try:
        return int(n_jobs)
    except (TypeError, ValueError) as exc:
        raise type(exc)(
            f"n_jobs could not be converted to int: got {n_jobs!r} "
            f"(type {type(n_jobs).__name__}); expected an int such as 2 or -1"
        ) from exc


def check_consistency(backend: Any, require: Any, batch_size: Any,
                      return_as: str, is_sequential: bool) -> None:
    """Raise ValueError for settings the chosen backend cannot honour."""
    if require == "sharedmem" and not getattr(backend, "supports_sharedmem", False):
        raise ValueError("Backend %s does not support shared memory" % backend)
    if not (batch_size == "auto"
            or (isinstance(batch_size, Integral) and batch_size > 0)):
        raise ValueError(
            "batch_size must be 'auto' or a positive integer, got: %r" % batch_size)
    if (not is_sequential and return_as != "list"
            and not backend.supports_return_generator):
        raise ValueError(
            f"Backend {backend} does not support return_as={return_as}")

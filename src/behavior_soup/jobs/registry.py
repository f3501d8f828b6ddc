"""The registry of row-level jobs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import JobError
from ..schema import STATUS_NAMESPACES
from .context import TrialContext

JobFunc = Callable[[TrialContext, Mapping[str, Any]], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Job:
    """A registered row-level job.

    Attributes
    ----------
    name
        Unique name, e.g. ``"video_stats"``.
    namespace
        The status namespace it records under (``"behavior"``, ``"pose"``, ...).
    func
        ``func(ctx, params) -> summary`` where ``summary`` is a small JSON-able dict (or None)
        kept in the run record. It writes its results itself via ``ctx.write``.
    module
        Module defining it; worker processes import it to find the job.
    description
        One line for listings.
    """

    name: str
    namespace: str
    func: JobFunc
    module: str
    description: str = ""


JOBS: dict[str, Job] = {}


def register_job(name: str, namespace: str, description: str = "") -> Callable[[JobFunc], JobFunc]:
    """Decorator registering ``func(ctx, params)`` as the job ``name``."""
    if namespace not in STATUS_NAMESPACES:
        raise ValueError(f"expected a namespace in {list(STATUS_NAMESPACES)}, got {namespace!r}")

    def deco(func: JobFunc) -> JobFunc:
        existing = JOBS.get(name)
        if existing is not None and existing.func is not func and existing.module != func.__module__:
            raise ValueError(f"expected a new job name, got {name!r} already registered by {existing.module}")
        JOBS[name] = Job(
            name, namespace, func, func.__module__, description or (func.__doc__ or "").strip().split("\n")[0]
        )
        return func

    return deco


def get_job(name: str) -> Job:
    try:
        return JOBS[name]
    except KeyError:
        raise JobError(f"expected a registered job name in {sorted(JOBS)}, got {name!r}") from None

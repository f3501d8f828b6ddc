"""The registry of row-level jobs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import JobError
from ..params import Params
from ..schema import STATUS_NAMESPACES
from .context import TrialContext

JobFunc = Callable[[TrialContext, Any], Mapping[str, Any] | None]


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
    params
        Its :class:`~behavior_soup.params.Params` class, or None: the runner checks the
        parameters with it before any row runs, and ``func`` receives the checked object.
    """

    name: str
    namespace: str
    func: JobFunc
    module: str
    description: str = ""
    params: type[Params] | None = None

    def check(self, params: Mapping[str, Any] | Params | None) -> Params | dict[str, Any]:
        """The parameters as the job receives them: checked by :attr:`params` if it has one.

        Parameters
        ----------
        params
            A mapping of parameters, a :class:`~behavior_soup.params.Params` object, or
            ``None`` for the defaults.

        Returns
        -------
        Params or dict
            An instance of :attr:`params` (see :meth:`Params.from_mapping`), or, for a job
            without a Params class, ``params`` as a plain dict (``{}`` for ``None``).

        Raises
        ------
        TypeError
            If the job has no Params class and gets a Params object, or has one and ``params``
            names a field it lacks.
        ValueError
            If a value fails its field's check.
        """
        if self.params is not None:
            return self.params.from_mapping(params)
        if isinstance(params, Params):
            raise TypeError(f"expected a mapping of parameters for job {self.name!r}, got {type(params).__name__}")
        return dict(params or {})


JOBS: dict[str, Job] = {}


def register_job(
    name: str, namespace: str, description: str = "", params: type[Params] | None = None
) -> Callable[[JobFunc], JobFunc]:
    """Decorator registering ``func(ctx, params)`` as the job ``name``.

    Parameters
    ----------
    name
        Unique job name.
    namespace
        Status namespace (one of :data:`behavior_soup.schema.STATUS_NAMESPACES`).
    description
        One line for listings (default: the first line of the docstring).
    params
        The job's :class:`~behavior_soup.params.Params` class: ``func`` then receives an
        instance of it, checked before any row runs.

    Returns
    -------
    callable
        The decorator; it records the job in :data:`JOBS` and returns ``func`` unchanged.

    Raises
    ------
    ValueError
        If ``namespace`` is not a status namespace, or (when decorating) ``name`` is already
        registered by another module.
    """
    if namespace not in STATUS_NAMESPACES:
        raise ValueError(f"expected a namespace in {list(STATUS_NAMESPACES)}, got {namespace!r}")

    def deco(func: JobFunc) -> JobFunc:
        existing = JOBS.get(name)
        if existing is not None and existing.func is not func and existing.module != func.__module__:
            raise ValueError(f"expected a new job name, got {name!r} already registered by {existing.module}")
        JOBS[name] = Job(
            name, namespace, func, func.__module__, description or (func.__doc__ or "").strip().split("\n")[0], params
        )
        return func

    return deco


def get_job(name: str) -> Job:
    """The registered job ``name``.

    Parameters
    ----------
    name
        A name in :data:`JOBS`.

    Returns
    -------
    Job
        The job's registration.

    Raises
    ------
    JobError
        If no job of that name is registered.
    """
    try:
        return JOBS[name]
    except KeyError:
        raise JobError(f"expected a registered job name in {sorted(JOBS)}, got {name!r}") from None


TaskFunc = Callable[..., Mapping[str, Any] | None]


@dataclass(frozen=True)
class Task:
    """A registered table-level task (training a model, fitting across trials).

    Attributes
    ----------
    name
        Unique name, e.g. ``"train_flow_generator"``.
    func
        ``func(**params) -> summary`` (a small JSON-able dict).
    module
        Module defining it; worker processes import it to find the task.
    description
        One line for listings.
    params
        The :class:`~behavior_soup.params.Params` class of the task's settings, when it has
        one: callers check settings with it before the task runs.
    """

    name: str
    func: TaskFunc
    module: str
    description: str = ""
    params: type[Params] | None = None


TASKS: dict[str, Task] = {}


def register_task(
    name: str, description: str = "", params: type[Params] | None = None
) -> Callable[[TaskFunc], TaskFunc]:
    """Decorator registering ``func(**params)`` as the table-level task ``name``, run with
    :func:`behavior_soup.jobs.run_task` (in this process or a fresh one).

    Parameters
    ----------
    name
        Unique task name.
    description
        One line for listings (default: the first line of the docstring).
    params
        The :class:`~behavior_soup.params.Params` class of the task's settings, if it has one;
        kept as :attr:`Task.params`.

    Returns
    -------
    callable
        The decorator; it records the task in :data:`TASKS` and returns ``func`` unchanged.

    Raises
    ------
    ValueError
        When decorating, if ``name`` is already registered by another module.

    Examples
    --------
    >>> from behavior_soup.jobs import register_task, run_task
    >>> @register_task("count_trials")
    ... def count_trials(contexts):
    ...     return {"n": len(contexts)}
    >>> run_task("count_trials", {"contexts": [1, 2, 3]})["summary"]
    {'n': 3}
    """

    def deco(func: TaskFunc) -> TaskFunc:
        existing = TASKS.get(name)
        if existing is not None and existing.module != func.__module__:
            raise ValueError(f"expected a new task name, got {name!r} already registered by {existing.module}")
        first_line = description or (func.__doc__ or "").strip().split("\n")[0]
        TASKS[name] = Task(name, func, func.__module__, first_line, params)
        return func

    return deco


def get_task(name: str) -> Task:
    """The registered table-level task ``name``.

    Parameters
    ----------
    name
        A name in :data:`TASKS`.

    Returns
    -------
    Task
        The task's registration.

    Raises
    ------
    JobError
        If no task of that name is registered.
    """
    try:
        return TASKS[name]
    except KeyError:
        raise JobError(f"expected a registered task name in {sorted(TASKS)}, got {name!r}") from None

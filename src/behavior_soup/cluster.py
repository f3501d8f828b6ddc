"""Running jobs on a cluster: the settings a worker needs, and a SLURM cluster with the
library's defaults.

Any ``dask.distributed.Client`` runs behavior_soup's row jobs and table-level tasks
(``backend="dask", client=client``). A worker needs only what a :class:`~behavior_soup.jobs.TrialContext`
names: the table's path and the data roots, on a filesystem it shares with the client. Two
kinds of setting travel to the workers:

- with every job and task the dask backend sends, the settings this process has made
  (:func:`worker_environment`: the lock kind, and any ``BEHAVIOR_SOUP_*`` variable set here);
- in the job script of a cluster made by :func:`slurm`, the per-node ones of
  :class:`WorkerSettings` (threads, JAX's preallocation and compile cache), exported before
  the worker starts.

Other schedulers (PBS, SGE, LSF, HTCondor) work the same way through their dask-jobqueue
classes: pass ``job_script_prologue=WorkerSettings(...).prologue()``.

Examples
--------
>>> import behavior_soup as bs                                            # doctest: +SKIP
>>> from dask.distributed import Client
>>> cluster = bs.cluster.slurm(cores=4, memory="16GB", walltime="02:00:00", gpus=1, jobs=8)
>>> df.behavior.infer(mode="fast", backend="dask", client=Client(cluster))
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import require
from .locking import LOCK_KINDS, LockKind, lock_kind

__all__ = ["WorkerSettings", "apply_environment", "slurm", "worker_environment"]

#: Variables of this process the dask backend passes on to its workers' jobs.
PASSED_ON = ("BEHAVIOR_SOUP_", "XLA_PYTHON_CLIENT_", "JAX_PLATFORMS")
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BEHAVIOR_SOUP_TORCH_THREADS")


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker process is started with.

    Parameters
    ----------
    threads
        Threads for torch, OpenMP and BLAS in each worker (a worker runs one job at a time);
        ``None`` leaves them to the libraries (all the node's cores, which oversubscribes a
        shared node).
    lock
        The lock kind (see :mod:`behavior_soup.locking`); ``None``: this process's.
    xla_preallocate
        Whether JAX may take most of a GPU's memory at start (``XLA_PYTHON_CLIENT_PREALLOCATE``);
        off, so that JAX and torch share a card.
    jax_cache_dir
        JAX's persistent compilation cache (``BEHAVIOR_SOUP_JAX_CACHE``); ``None`` keeps the
        default, ``<output root>/moseq/jax_cache`` on the shared filesystem.
    env
        More variables to set.
    """

    threads: int | None = None
    lock: LockKind | None = None
    xla_preallocate: bool = False
    jax_cache_dir: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.threads is not None and (not isinstance(self.threads, int) or isinstance(self.threads, bool)
                                         or self.threads < 1):  # fmt: skip
            raise ValueError(f"expected threads to be a positive int or None, got {self.threads!r}")
        if self.lock is not None and self.lock not in LOCK_KINDS:
            raise ValueError(f"expected lock to be one of {list(LOCK_KINDS)} or None, got {self.lock!r}")
        bad = {k: v for k, v in dict(self.env).items() if not (isinstance(k, str) and isinstance(v, str))}
        if bad:
            raise ValueError(f"expected env to map names to strings, got {bad!r}")

    def environment(self) -> dict[str, str]:
        """The variables, as a dict of strings.

        Returns
        -------
        dict
            Name -> value.
        """
        env = {
            "BEHAVIOR_SOUP_LOCK": self.lock or lock_kind(),
            "XLA_PYTHON_CLIENT_PREALLOCATE": "true" if self.xla_preallocate else "false",
        }
        if self.threads is not None:
            env.update(dict.fromkeys(_THREAD_VARS, str(self.threads)))
        if self.jax_cache_dir is not None:
            env["BEHAVIOR_SOUP_JAX_CACHE"] = str(self.jax_cache_dir)
        env.update(self.env)
        return env

    def prologue(self) -> list[str]:
        """Shell lines exporting :meth:`environment`, for a job script.

        Returns
        -------
        list of str
            ``export NAME=value`` lines, values quoted.
        """
        return [f"export {k}={shlex.quote(v)}" for k, v in self.environment().items()]


def worker_environment() -> dict[str, str]:
    """The settings of this process that every dask job and task carries to its worker: the
    lock kind, and every ``BEHAVIOR_SOUP_*``, ``XLA_PYTHON_CLIENT_*`` and ``JAX_PLATFORMS``
    variable set here.

    Returns
    -------
    dict
        Name -> value.
    """
    env = {k: v for k, v in os.environ.items() if k.startswith(PASSED_ON)}
    env["BEHAVIOR_SOUP_LOCK"] = lock_kind()
    return env


def apply_environment(env: Mapping[str, str] | None) -> None:
    """Set ``env`` in this (worker) process before a job runs, and give a GPU job the GPUs of
    its SLURM allocation where the scheduler did not set ``CUDA_VISIBLE_DEVICES`` itself.

    Parameters
    ----------
    env
        From :func:`worker_environment`; ``None`` sets nothing but the GPUs.
    """
    if env:
        os.environ.update(env)
    if "CUDA_VISIBLE_DEVICES" not in os.environ:
        gpus = os.environ.get("SLURM_STEP_GPUS") or os.environ.get("SLURM_JOB_GPUS")
        if gpus:
            os.environ["CUDA_VISIBLE_DEVICES"] = gpus
    threads = os.environ.get("BEHAVIOR_SOUP_TORCH_THREADS")
    torch = sys.modules.get("torch")
    if threads and torch is not None and torch.get_num_threads() != int(threads):
        torch.set_num_threads(int(threads))


def slurm(
    *,
    cores: int = 1,
    memory: str = "4GB",
    walltime: str = "01:00:00",
    gpus: int = 0,
    jobs: int | None = None,
    settings: WorkerSettings | None = None,
    queue: str | None = None,
    account: str | None = None,
    job_extra_directives: Sequence[str] = (),
    **kwargs: Any,
) -> Any:
    """A dask-jobqueue ``SLURMCluster`` whose workers run one behavior_soup job at a time with
    ``cores`` CPUs (and ``gpus`` GPUs) each.

    Each SLURM job is one worker process with one task thread (a job uses the cores itself,
    through torch or JAX); ``settings`` go into the job script (default:
    ``WorkerSettings(threads=cores)``).

    Parameters
    ----------
    cores
        CPUs booked per job (``--cpus-per-task``), and the threads a job's libraries use.
    memory
        Memory per job, e.g. ``"16GB"``.
    walltime
        Time limit per job, ``HH:MM:SS``.
    gpus
        GPUs per job (``--gres=gpu:<n>``).
    jobs
        Scale to this many jobs at once; ``None`` leaves the cluster at zero (call
        ``cluster.scale(jobs=...)`` or ``cluster.adapt(...)``).
    settings
        The workers' settings.
    queue, account
        SLURM partition and account.
    job_extra_directives
        More ``#SBATCH`` options.
    **kwargs
        Passed to ``dask_jobqueue.SLURMCluster`` (e.g. ``log_directory``, ``local_directory``).

    Returns
    -------
    dask_jobqueue.SLURMCluster
        The cluster; ``dask.distributed.Client(cluster)`` to use it.

    Raises
    ------
    MissingDependencyError
        If dask-jobqueue is not installed (the ``cluster`` extra).
    ValueError
        If ``cores``, ``gpus`` or ``jobs`` is not a whole number in range.
    """
    for name, value, low in (("cores", cores, 1), ("gpus", gpus, 0), ("jobs", jobs, 0)):
        if value is None and name == "jobs":
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"expected {name} to be an int >= {low}, got {value!r}")
    jobqueue = require("dask_jobqueue", "cluster", "SLURM clusters")
    settings = settings or WorkerSettings(threads=cores)
    directives = list(job_extra_directives) + ([f"--gres=gpu:{gpus}"] if gpus else [])
    prologue = settings.prologue() + list(kwargs.pop("job_script_prologue", []))
    kwargs.setdefault("python", sys.executable)
    cluster = jobqueue.SLURMCluster(
        cores=1,
        processes=1,
        job_cpu=cores,
        memory=memory,
        walltime=walltime,
        queue=queue,
        account=account,
        job_extra_directives=directives,
        job_script_prologue=prologue,
        **kwargs,
    )
    if jobs:
        cluster.scale(jobs=jobs)
    return cluster

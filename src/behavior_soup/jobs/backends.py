"""The backends that run jobs: where one job runs on one trial, and how its run record is made.

:func:`execute` (a row job) and :func:`execute_task` (a table-level task) run the work and
return its run record without raising for a failure; :data:`BACKENDS` maps each backend name
to the function that runs a batch of rows on it: ``local`` (this process), ``subprocess``
(a fresh Python process per row, see :mod:`behavior_soup.jobs.worker`) and ``dask`` (a
``dask.distributed`` cluster). :mod:`behavior_soup.jobs.runner` drives them and records the
statuses in the table.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from typing import Any, Literal

from ..errors import require
from ..provenance import now_iso
from .context import TrialContext
from .registry import get_job, get_task

__all__ = [
    "BACKENDS",
    "Backend",
    "dask_client",
    "execute",
    "execute_task",
    "recorded",
    "run_in_subprocess",
    "run_task_on_dask",
]

Backend = Literal["local", "subprocess", "dask"]


def recorded(head: Mapping[str, Any], call: Callable[[], Mapping[str, Any] | None]) -> dict[str, Any]:
    """Run ``call`` and return its run record (``head`` plus where, when, how long, and the
    summary or the error and traceback). Never raises for a failure of ``call``.

    Parameters
    ----------
    head
        The record's first fields (e.g. ``job``, ``params``, ``backend``).
    call
        The work to run; returns a JSON-serialisable summary mapping, or ``None``.

    Returns
    -------
    dict
        ``head`` plus ``host``, ``pid``, ``started``, ``status`` (``"done"`` or ``"failed"``),
        ``summary`` or ``error`` and ``traceback``, ``duration_s`` (seconds) and ``updated``.
    """
    record: dict[str, Any] = {
        **head,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": now_iso(),
    }
    t0 = time.perf_counter()
    try:
        summary = call() or {}
        json.dumps(summary, default=str)
        record.update(status="done", summary=dict(summary))
    except Exception as exc:  # the row (or task) fails, the run goes on
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    record["duration_s"] = time.perf_counter() - t0
    record["updated"] = now_iso()
    return record


def execute(
    job_name: str,
    module: str,
    ctx: TrialContext,
    params: Mapping[str, Any],
    backend: str,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run one job on one trial and return its run record. Never raises for a job failure.

    Parameters
    ----------
    job_name
        A registered job name.
    module
        The module registering the job; imported first, so that a fresh worker process finds it.
    ctx
        The trial.
    params
        The job's parameters (checked here by the job's Params class, if it has one).
    backend
        Backend name, recorded in the run record.
    env
        Settings to make in this (worker) process first (see
        :func:`behavior_soup.cluster.apply_environment`); ``None`` makes none.

    Returns
    -------
    dict
        The run record: ``job``, ``params``, ``backend``, ``host``, ``pid``, ``started``,
        ``status`` (``"done"`` or ``"failed"``), ``summary`` (the job's returned dict) or
        ``error`` and ``traceback``, ``duration_s`` (seconds) and ``updated``.
    """

    def call() -> Mapping[str, Any] | None:
        if env is not None:
            from ..cluster import apply_environment

            apply_environment(env)
        importlib.import_module(module)  # registers the job in a fresh worker process
        spec = get_job(job_name)
        return spec.func(ctx, spec.check(params))

    return recorded({"job": job_name, "params": dict(params), "backend": backend}, call)


def execute_task(
    name: str, module: str, params: Mapping[str, Any], backend: str, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Run one table-level task and return its run record; never raises for a task failure.

    Parameters
    ----------
    name
        A registered task name.
    module
        The module registering the task; imported first, so that a fresh worker process finds it.
    params
        Keyword arguments of the task.
    backend
        Backend name, recorded in the run record.
    env
        As for :func:`execute`.

    Returns
    -------
    dict
        The run record: ``task``, ``params``, ``backend``, ``host``, ``pid``, ``started``,
        ``status`` (``"done"`` or ``"failed"``), ``summary`` or ``error`` and ``traceback``,
        ``duration_s`` (seconds) and ``updated``.
    """

    def call() -> Mapping[str, Any] | None:
        if env is not None:
            from ..cluster import apply_environment

            apply_environment(env)
        importlib.import_module(module)  # registers the task in a fresh worker process
        return get_task(name).func(**params)

    return recorded({"task": name, "params": dict(params), "backend": backend}, call)


def _run_local(
    items: Sequence[tuple[TrialContext, dict]],
    job_name: str,
    module: str,
    params: dict,
    on_start: Callable,
    on_done: Callable,
    **_: Any,
) -> None:
    for ctx, _rec in items:
        on_start(ctx)
        on_done(ctx, execute(job_name, module, ctx, params, "local"))


def run_in_subprocess(job_name: str, module: str, ctx: TrialContext | None, params: dict) -> dict[str, Any]:
    """A row job (``ctx`` given) or a table-level task (``ctx`` None, ``job_name`` its target)
    in a fresh Python process (``python -m behavior_soup.jobs.worker``).

    Parameters
    ----------
    job_name
        The registered job's name, or the task's name when ``ctx`` is ``None``.
    module
        The module registering it; the worker imports it first.
    ctx
        The trial of a row job; ``None`` for a table-level task.
    params
        The job's or task's parameters, JSON-serialisable.

    Returns
    -------
    dict
        The worker's run record (see :func:`execute` and :func:`execute_task`); if the
        process fails without writing one, a ``"failed"`` record with its exit code and the
        end of its stderr as ``traceback``.
    """
    with tempfile.TemporaryDirectory(prefix="behavior_soup_job_") as tmp:
        spec = os.path.join(tmp, "spec.json")
        result = os.path.join(tmp, "result.json")
        body = (
            {"job": job_name, "module": module, "ctx": asdict(ctx), "params": params}
            if ctx is not None
            else {"task": job_name, "module": module, "params": params}
        )
        with open(spec, "w") as fh:
            json.dump(body, fh, default=str)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "behavior_soup.jobs.worker", spec, result],
            capture_output=True,
            text=True,
        )
        if proc.returncode == 0 and os.path.exists(result):
            with open(result) as fh:
                return json.load(fh)
        return {
            ("job" if ctx is not None else "task"): job_name,
            "params": params,
            "backend": "subprocess",
            "status": "failed",
            "error": f"worker process exited with code {proc.returncode}",
            "traceback": proc.stderr[-4000:],
            "duration_s": time.perf_counter() - t0,
            "updated": now_iso(),
        }


def _run_subprocess(items, job_name, module, params, on_start, on_done, n_workers=None, **_: Any) -> None:
    with ThreadPoolExecutor(max_workers=n_workers or 1) as pool:
        futures = {}
        for ctx, _rec in items:
            on_start(ctx)
            futures[pool.submit(run_in_subprocess, job_name, module, ctx, params)] = ctx
        for fut in as_completed(futures):
            on_done(futures[fut], fut.result())


@contextlib.contextmanager
def dask_client(n_workers: int | None = None, client: Any = None) -> Iterator[Any]:
    """``client``, or a client of a new ``LocalCluster`` of ``n_workers`` single-threaded
    processes (closed when the block ends), with the workers' stack sampling off (see
    :mod:`behavior_soup.jobs.dask_plugin`).

    Parameters
    ----------
    n_workers
        Worker processes of a new local cluster (default: up to 4, one per CPU).
    client
        A ``dask.distributed.Client`` to use as it is.

    Yields
    ------
    dask.distributed.Client
        The client to submit to.

    Raises
    ------
    MissingDependencyError
        If dask.distributed is not installed.
    """
    distributed = require("dask.distributed", "distributed", "the dask backend")
    from .dask_plugin import install

    if client is not None:
        install(client)
        yield client
        return
    cluster = distributed.LocalCluster(
        n_workers=n_workers or min(4, os.cpu_count() or 1),
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )
    own = distributed.Client(cluster)
    try:
        install(own)
        yield own
    finally:
        own.close()
        cluster.close()


#: Seconds the dask backend waits, once every worker it has seen is gone, before it records the
#: work still waiting as failed (``BEHAVIOR_SOUP_WORKER_LOST_S`` overrides it). While no
#: worker has ever joined (jobs still queued), it waits without limit.
WORKER_LOST_S = 120.0

_LOST = "its dask worker was lost (the worker's job cancelled, its node lost, or out of memory)"


def _lost(head: Mapping[str, Any], exc: BaseException | None, why: str = _LOST) -> dict[str, Any]:
    """The run record of work whose worker died or could not be reached."""
    detail = f": {type(exc).__name__}: {exc}" if exc is not None else ""
    return {
        **head,
        "backend": "dask",
        "status": "failed",
        "error": f"{why}{detail}",
        "traceback": traceback.format_exc() if exc is not None else "",
        "duration_s": 0.0,
        "updated": now_iso(),
    }


def _lost_after() -> float:
    raw = os.environ.get("BEHAVIOR_SOUP_WORKER_LOST_S")
    return WORKER_LOST_S if not raw else float(raw)


def _collect(client: Any, futures: Mapping[Any, Any], on_result: Callable[[Any, dict], None], head: dict) -> None:
    """Wait for ``futures`` (future -> item), calling ``on_result(item, record)`` as each ends.

    A future whose worker died is a failed record saying so; if every worker leaves and none
    comes back within :func:`_lost_after` seconds, every future still waiting is cancelled and
    recorded failed the same way (a cancelled SLURM job leaves no worker to retry on).
    """
    distributed = require("dask.distributed", "distributed", "the dask backend")
    pending = dict(futures)
    seen = False
    gone_since: float | None = None
    while pending:
        try:
            done, _ = distributed.wait(list(pending), timeout=1.0, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        for fut in done:
            item = pending.pop(fut)
            try:
                rec = fut.result()
            except Exception as exc:  # the worker died running it (KilledWorker), or it could not be sent
                killed = type(exc).__name__ == "KilledWorker"
                rec = _lost(head, exc, _LOST if killed else "dask could not run it (outside the job itself)")
            on_result(item, rec)
        if not pending:
            break
        try:
            n_workers = len(client.scheduler_info().get("workers", {}))
        except Exception:  # the scheduler itself is gone
            n_workers = 0
            seen = True
        if n_workers:
            seen, gone_since = True, None
            continue
        if not seen:
            continue
        gone_since = gone_since or time.monotonic()
        if time.monotonic() - gone_since >= _lost_after():
            why = f"{_LOST}; no worker came back within {_lost_after():g} s"
            for fut, item in pending.items():
                fut.cancel()
                on_result(item, _lost(head, None, why))
            return


def run_task_on_dask(name: str, module: str, params: dict, n_workers: int | None = None, client: Any = None) -> dict:
    """A table-level task on a dask cluster (see :func:`dask_client`); returns its run record.

    Parameters
    ----------
    name
        The registered task's name.
    module
        The module registering it; the worker imports it first.
    params
        The task's keyword arguments.
    n_workers
        Worker processes of a new local cluster, when no ``client`` is given (default 1).
    client
        A ``dask.distributed.Client`` to run on.

    Returns
    -------
    dict
        The run record (see :func:`execute_task`); a failed one if the worker was lost.
    """
    from ..cluster import worker_environment

    out: dict[str, dict] = {}
    with dask_client(n_workers or 1, client) as c:
        fut = c.submit(
            execute_task, name, module, params, "dask", worker_environment(), pure=False, key=f"{name}-{time.time_ns()}"
        )
        _collect(c, {fut: name}, lambda _item, rec: out.setdefault("rec", rec), {"task": name, "params": params})
    return out["rec"]


def _run_dask(items, job_name, module, params, on_start, on_done, n_workers=None, client=None, **_: Any) -> None:
    from ..cluster import worker_environment

    env = worker_environment()
    with dask_client(n_workers, client) as c:
        futures = {}
        for ctx, _rec in items:
            on_start(ctx)
            fut = c.submit(
                execute,
                job_name,
                module,
                ctx,
                params,
                "dask",
                env,
                pure=False,
                key=f"{job_name}-{ctx.uuid}-{time.time_ns()}",
            )
            futures[fut] = ctx
        _collect(c, futures, on_done, {"job": job_name, "params": params})


#: Backend name -> runner function.
BACKENDS: dict[str, Callable[..., None]] = {"local": _run_local, "subprocess": _run_subprocess, "dask": _run_dask}

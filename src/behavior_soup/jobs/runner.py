"""Run a registered job over trials, on one of several backends, recording each row's status.

Every row-level job in behavior_soup goes through :func:`run_job`. For each trial it records
in the table (merged by uuid under the table's lock, see :func:`behavior_soup.store.update_rows`):

- ``<ns>_status``: ``pending`` -> ``running`` -> ``done`` or ``failed``;
- ``<ns>_run``: job name, parameters, backend, host, pid, start time, duration, and for a
  failure the error and its traceback.

A failing row never stops the others. Status writes are batched (at most one table write per
``flush_interval`` seconds, plus one at the start and one at the end), so the bookkeeping stays
cheap for many short jobs while a crashed run still leaves recent statuses on disk.

Backends
--------
``local``
    In this process, one row after another (default).
``subprocess``
    Each row in a fresh Python process (``n_workers`` at a time): a crash or a memory leak in
    one job cannot take the session down, and GPU memory is returned after each row.
``dask``
    On a ``dask.distributed`` cluster: a ``LocalCluster`` of ``n_workers`` processes by
    default, or any ``Client`` passed as ``client=`` (e.g. one on a SLURM cluster made with
    dask-jobqueue; the table and data must then be on a shared filesystem).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from typing import Any, Literal

import pandas as pd

from .. import schema, store
from ..errors import JobError, require
from ..provenance import now_iso
from .context import TrialContext
from .registry import get_job

log = logging.getLogger(__name__)

Backend = Literal["local", "subprocess", "dask"]


def _recorded(head: Mapping[str, Any], call: Callable[[], Mapping[str, Any] | None]) -> dict[str, Any]:
    """Run ``call`` and return its run record (``head`` plus where, when, how long, and the
    summary or the error and traceback). Never raises for a failure of ``call``."""
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


def execute(job_name: str, module: str, ctx: TrialContext, params: Mapping[str, Any], backend: str) -> dict[str, Any]:
    """Run one job on one trial and return its run record. Never raises for a job failure."""

    def call() -> Mapping[str, Any] | None:
        importlib.import_module(module)  # registers the job in a fresh worker process
        return get_job(job_name).func(ctx, params)

    return _recorded({"job": job_name, "params": dict(params), "backend": backend}, call)


def _resolve_target(target: str) -> Callable[..., Any]:
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"expected a task target 'package.module:function', got {target!r}")
    return getattr(importlib.import_module(module), name)


def execute_task(target: str, params: Mapping[str, Any], backend: str) -> dict[str, Any]:
    """Run one table-level task (e.g. training a model) and return its run record; never raises
    for a task failure."""
    return _recorded(
        {"task": target, "params": dict(params), "backend": backend}, lambda: _resolve_target(target)(**params)
    )


def run_task(target: str, params: Mapping[str, Any], *, backend: Literal["local", "subprocess"] = "local") -> dict:
    """Run a table-level task through the same machinery as row jobs.

    ``target`` is ``"package.module:function"``, called as ``function(**params)``. With
    ``backend="subprocess"`` it runs in a fresh Python process (its memory, GPU memory
    included, is returned when it ends). Returns the run record: status, parameters, times,
    the function's summary, or the error and traceback of a failure.
    """
    if backend not in ("local", "subprocess"):
        raise ValueError(f"expected backend 'local' or 'subprocess' for a task, got {backend!r}")
    params = dict(params)
    try:
        json.dumps(params)
    except TypeError as exc:
        raise ValueError(f"expected JSON-serialisable task parameters, got {params!r}: {exc}") from exc
    _resolve_target(target)  # fail early on a bad target
    if backend == "local":
        rec = execute_task(target, params, "local")
    else:
        rec = _run_in_subprocess(target, "", None, params)
    if rec["status"] == "failed":
        log.error("%s failed: %s", target, rec.get("error"))
    return rec


class _StatusRecorder:
    def __init__(self, table_path: str, ns: str, lock_timeout: float | None, flush_interval: float) -> None:
        self.table_path = table_path
        self.status_col = schema.status_column(ns)
        self.run_col = schema.run_column(ns)
        self.lock_timeout = lock_timeout
        self.flush_interval = flush_interval
        self.pending: dict[str, dict[str, Any]] = {}
        self.last = 0.0

    def set(self, uuid: str, status: str, run: Mapping[str, Any]) -> None:
        self.pending[uuid] = {self.status_col: status, self.run_col: dict(run)}

    def flush(self, force: bool = False) -> None:
        if not self.pending or (not force and time.monotonic() - self.last < self.flush_interval):
            return
        try:
            store.update_rows(self.table_path, self.pending, lock_timeout=self.lock_timeout)
        except Exception:
            if force:
                raise
            log.warning("could not record run status in %s yet; will retry", self.table_path, exc_info=True)
            return
        self.pending = {}
        self.last = time.monotonic()


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


def _run_in_subprocess(job_name: str, module: str, ctx: TrialContext | None, params: dict) -> dict[str, Any]:
    """A row job (``ctx`` given) or a table-level task (``ctx`` None, ``job_name`` its target)
    in a fresh Python process."""
    with tempfile.TemporaryDirectory(prefix="behavior_soup_job_") as tmp:
        spec = os.path.join(tmp, "spec.json")
        result = os.path.join(tmp, "result.json")
        body = (
            {"job": job_name, "module": module, "ctx": asdict(ctx), "params": params}
            if ctx is not None
            else {"task": job_name, "params": params}
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
            futures[pool.submit(_run_in_subprocess, job_name, module, ctx, params)] = ctx
        for fut in as_completed(futures):
            on_done(futures[fut], fut.result())


def _run_dask(items, job_name, module, params, on_start, on_done, n_workers=None, client=None, **_: Any) -> None:
    distributed = require("dask.distributed", "distributed", "the dask backend")
    own = client is None
    cluster = None
    if own:
        cluster = distributed.LocalCluster(
            n_workers=n_workers or min(4, os.cpu_count() or 1),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = distributed.Client(cluster)
    try:
        futures = {}
        for ctx, _rec in items:
            on_start(ctx)
            fut = client.submit(
                execute,
                job_name,
                module,
                ctx,
                params,
                "dask",
                pure=False,
                key=f"{job_name}-{ctx.uuid}-{time.time_ns()}",
            )
            futures[fut] = ctx
        for fut in distributed.as_completed(list(futures)):
            ctx = futures[fut]
            try:
                rec = fut.result()
            except Exception as exc:  # worker died, or the task could not be sent
                rec = {
                    "job": job_name,
                    "params": params,
                    "backend": "dask",
                    "status": "failed",
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(),
                    "duration_s": 0.0,
                    "updated": now_iso(),
                }
            on_done(ctx, rec)
    finally:
        if own:
            client.close()
            cluster.close()


#: Backend name -> runner function.
BACKENDS: dict[str, Callable[..., None]] = {"local": _run_local, "subprocess": _run_subprocess, "dask": _run_dask}


def run_job(
    contexts: Iterable[TrialContext],
    job: str,
    params: Mapping[str, Any] | None = None,
    *,
    backend: Backend = "local",
    progress: bool = True,
    n_workers: int | None = None,
    client: Any = None,
    lock_timeout: float | None = None,
    flush_interval: float = 2.0,
) -> pd.DataFrame:
    """Run the registered ``job`` on each trial and record its status in the table.

    Parameters
    ----------
    contexts
        The trials (see :meth:`TrialContext.from_row`), all from one table.
    job
        A name in :data:`behavior_soup.jobs.JOBS`.
    params
        Keyword parameters of the job; must be JSON-serialisable (they are recorded).
    backend
        ``"local"``, ``"subprocess"`` or ``"dask"`` (see the module docstring).
    progress
        Show a tqdm progress bar over rows.
    n_workers
        Parallel workers for ``subprocess`` and a default dask ``LocalCluster``.
    client
        A ``dask.distributed.Client`` to use instead of starting a local cluster.

    Returns
    -------
    pandas.DataFrame
        One row per trial: ``uuid, animal_id, session_id, trial_id, status, duration_s, error``.
    """
    spec = get_job(job)
    if backend not in BACKENDS:
        raise ValueError(f"expected backend in {list(BACKENDS)}, got {backend!r}")
    if n_workers is not None and (not isinstance(n_workers, int) or n_workers < 1):
        raise ValueError(f"expected n_workers to be a positive int, got {n_workers!r}")
    params = dict(params or {})
    try:
        json.dumps(params)
    except TypeError as exc:
        raise ValueError(f"expected JSON-serialisable job parameters, got {params!r}: {exc}") from exc
    ctxs = list(contexts)
    if not ctxs:
        raise JobError(f"expected at least one trial to run {job!r} on, got none")
    tables = {c.table_path for c in ctxs}
    if len(tables) > 1:
        raise ValueError(f"expected trials of one table, got trials of {sorted(tables)}")
    from tqdm.auto import tqdm

    recorder = _StatusRecorder(ctxs[0].table_path, spec.namespace, lock_timeout, flush_interval)
    base = {"job": job, "params": params, "backend": backend}
    items = []
    for c in ctxs:
        rec = {**base, "submitted": now_iso(), "updated": now_iso()}
        recorder.set(c.uuid, "pending", rec)
        items.append((c, rec))
    recorder.flush(force=True)
    results: dict[str, dict[str, Any]] = {}
    bar = tqdm(total=len(ctxs), desc=job, unit="trial", disable=not progress)

    def on_start(ctx: TrialContext) -> None:
        if backend == "local":
            recorder.set(
                ctx.uuid,
                "running",
                {**base, "started": now_iso(), "host": socket.gethostname(), "pid": os.getpid(), "updated": now_iso()},
            )
            recorder.flush()

    def on_done(ctx: TrialContext, rec: dict[str, Any]) -> None:
        results[ctx.uuid] = rec
        recorder.set(ctx.uuid, rec["status"], rec)
        if rec["status"] == "failed":
            log.error("%s failed on %s: %s", job, ctx.label, rec.get("error"))
        bar.update(1)
        recorder.flush()

    try:
        BACKENDS[backend](items, job, spec.module, params, on_start, on_done, n_workers=n_workers, client=client)
    finally:
        bar.close()
        recorder.flush(force=True)
    rows = []
    for c in ctxs:
        r = results.get(c.uuid, {})
        rows.append(
            {
                "uuid": c.uuid,
                "animal_id": c.animal_id,
                "session_id": c.session_id,
                "trial_id": c.trial_id,
                "status": r.get("status", "pending"),
                "duration_s": r.get("duration_s", float("nan")),
                "error": r.get("error", ""),
            }
        )
    return pd.DataFrame(rows)


def run_rows(
    df: pd.DataFrame,
    job: str,
    params: Mapping[str, Any] | None = None,
    *,
    rows: pd.DataFrame | None = None,
    backend: Backend = "local",
    progress: bool = True,
    n_workers: int | None = None,
    client: Any = None,
    lock_timeout: float | None = None,
) -> pd.DataFrame:
    """:func:`run_job` over the rows of a trial table (all, or ``rows``, a subset of it),
    then refresh ``df`` in place with the statuses recorded. Returns one summary row per trial."""
    info = store.table_info(df)
    subset = df if rows is None else rows
    ctxs = [TrialContext.from_row(r, info, lock_timeout=lock_timeout) for _, r in subset.iterrows()]
    out = run_job(
        ctxs,
        job,
        params,
        backend=backend,
        progress=progress,
        n_workers=n_workers,
        client=client,
        lock_timeout=lock_timeout,
    )
    store.refresh(df, lock_timeout)
    return out


def run_row(
    row: pd.Series,
    job: str,
    params: Mapping[str, Any] | None = None,
    *,
    backend: Backend = "local",
    lock_timeout: float | None = None,
) -> dict[str, Any]:
    """:func:`run_job` on one row of a trial table; returns its summary row as a dict (the
    status is recorded in the table file: reload or ``df.behavior.refresh()`` to see it)."""
    ctx = TrialContext.from_row(row, store.table_info(row), lock_timeout=lock_timeout)  # type: ignore[arg-type]
    out = run_job([ctx], job, params, backend=backend, progress=False, lock_timeout=lock_timeout)
    return out.iloc[0].to_dict()

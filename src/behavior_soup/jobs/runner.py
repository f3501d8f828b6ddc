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

The backends themselves, and :func:`execute`/:func:`execute_task` that run one job or task
and make its run record, are in :mod:`behavior_soup.jobs.backends`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from .. import schema, store
from ..errors import JobError
from ..locking import check_timeout
from ..params import Params
from ..provenance import now_iso
from .backends import BACKENDS, Backend, execute, execute_task, run_in_subprocess, run_task_on_dask
from .context import TrialContext
from .registry import get_job, get_task

__all__ = [
    "BACKENDS",
    "Backend",
    "execute",
    "execute_task",
    "rows_of",
    "run_job",
    "run_row",
    "run_rows",
    "run_task",
    "where_it_ran",
]

log = logging.getLogger(__name__)


def run_task(
    task: str,
    params: Mapping[str, Any],
    *,
    backend: Backend = "local",
    n_workers: int | None = None,
    client: Any = None,
) -> dict:
    """Run a registered table-level task (see :func:`behavior_soup.jobs.register_task`)
    through the same machinery as row jobs.

    Parameters
    ----------
    task
        A name in :data:`behavior_soup.jobs.TASKS`.
    params
        Keyword arguments of the task; JSON-serialisable (they are recorded).
    backend
        ``"local"`` (this process), ``"subprocess"`` (a fresh Python process: its memory,
        GPU memory included, is returned when it ends) or ``"dask"`` (one dask worker: a
        local cluster's, or ``client``'s, e.g. a SLURM job's).
    n_workers
        Ignored but for ``"dask"`` without a client: workers of the local cluster (default 1).
    client
        A ``dask.distributed.Client`` to run on, for ``"dask"``.

    Returns
    -------
    dict
        The run record: status, parameters, times, the task's summary, or the error and
        traceback of a failure.
    """
    if backend not in BACKENDS:
        raise ValueError(f"expected backend in {list(BACKENDS)} for a task, got {backend!r}")
    spec = get_task(task)
    params = dict(params)
    try:
        json.dumps(params)
    except TypeError as exc:
        raise ValueError(f"expected JSON-serialisable task parameters, got {params!r}: {exc}") from exc
    if backend == "local":
        rec = execute_task(task, spec.module, params, "local")
    elif backend == "dask":
        rec = run_task_on_dask(task, spec.module, params, n_workers, client)
    else:
        rec = run_in_subprocess(task, spec.module, None, params)
    if rec["status"] == "failed":
        log.error("%s failed: %s", task, rec.get("error"))
    return rec


def where_it_ran(rec: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a run record that says where and for how long a task ran.

    Parameters
    ----------
    rec
        A run record of :func:`run_task`.

    Returns
    -------
    dict
        ``backend``, ``host``, ``pid``, ``started`` (ISO 8601) and ``duration_s``, those the
        record has (a worker lost before it started has no ``host``).
    """
    return {k: rec[k] for k in ("backend", "host", "pid", "started", "duration_s") if k in rec}


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


def run_job(
    contexts: Iterable[TrialContext],
    job: str,
    params: Mapping[str, Any] | Params | None = None,
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
        The job's parameters: its :class:`~behavior_soup.params.Params` object (or a mapping
        of its fields), checked before any row runs; or, for a job without one, a
        JSON-serialisable mapping. They are recorded with every run.
    backend
        ``"local"``, ``"subprocess"`` or ``"dask"`` (see the module docstring).
    progress
        Show a tqdm progress bar over rows.
    n_workers
        Parallel workers for ``subprocess`` and a default dask ``LocalCluster``.
    client
        A ``dask.distributed.Client`` to use instead of starting a local cluster.
    lock_timeout
        Seconds to wait for the table's and outputs' locks; ``None`` means the default.
    flush_interval
        Least seconds between two writes of the recorded statuses to the table (besides the
        first and the last).

    Returns
    -------
    pandas.DataFrame
        One row per trial: ``uuid, animal_id, session_id, trial_id, status, duration_s, error``.

    Raises
    ------
    JobError
        If ``job`` is not registered, or ``contexts`` is empty.
    ValueError
        If ``backend``, ``n_workers`` or ``lock_timeout`` is not valid, the parameters fail
        their checks or are not JSON-serialisable, or the trials belong to more than one table.
    """
    spec = get_job(job)
    if backend not in BACKENDS:
        raise ValueError(f"expected backend in {list(BACKENDS)}, got {backend!r}")
    if n_workers is not None and (not isinstance(n_workers, int) or n_workers < 1):
        raise ValueError(f"expected n_workers to be a positive int, got {n_workers!r}")
    check_timeout(lock_timeout)
    checked = spec.check(params)  # bad parameters fail here, before any row
    params = checked.to_dict() if isinstance(checked, Params) else checked
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


def rows_of(df: pd.DataFrame, rows: Any) -> pd.DataFrame:
    """``rows`` checked to be rows of the table ``df`` belongs to (a slice of it, or of the
    same table loaded again), so that they run under ``df``'s roots.

    Parameters
    ----------
    df
        A trial table from :func:`~behavior_soup.create_df`/:func:`~behavior_soup.load_df`.
    rows
        The rows asked for.

    Returns
    -------
    pandas.DataFrame
        ``rows``.

    Raises
    ------
    TypeError
        If ``rows`` is not a DataFrame.
    ValueError
        If ``rows`` comes from another table file, or holds uuids that are not in ``df``.
    """
    if not isinstance(rows, pd.DataFrame):
        raise TypeError(f"expected rows to be a DataFrame of the table's rows, got {type(rows).__name__}")
    mine = store.table_info(df).table_path
    theirs = rows.attrs.get(store.ATTRS_KEY, {}).get("table_path")
    if theirs is not None and str(theirs) != str(mine):
        raise ValueError(f"expected rows of the table {str(mine)!r}, got rows of {str(theirs)!r}")
    missing = ~rows["uuid"].isin(df["uuid"]) if "uuid" in rows.columns else None
    if missing is None or missing.any():
        found = "no uuid column" if missing is None else f"uuids not in it: {rows['uuid'][missing].tolist()[:5]}"
        raise ValueError(f"expected rows of the table {str(mine)!r}, found {found}")
    return rows


def run_rows(
    df: pd.DataFrame,
    job: str,
    params: Mapping[str, Any] | Params | None = None,
    *,
    rows: pd.DataFrame | None = None,
    backend: Backend = "local",
    progress: bool = True,
    n_workers: int | None = None,
    client: Any = None,
    lock_timeout: float | None = None,
    skip_done: bool = False,
) -> pd.DataFrame:
    """:func:`run_job` over the rows of a trial table (all, or ``rows``, a subset of it),
    then refresh ``df`` in place with the statuses recorded. Returns one summary row per trial.

    Parameters
    ----------
    df
        A trial table from :func:`~behavior_soup.create_df`/:func:`~behavior_soup.load_df`.
    job
        A name in :data:`behavior_soup.jobs.JOBS`.
    params
        The job's parameters, as for :func:`run_job`.
    rows
        Rows of ``df`` to run on; ``None`` runs on every row.
    backend, progress, n_workers, client, lock_timeout
        As for :func:`run_job`.
    skip_done
        Leave out the rows whose last run of ``job`` with these parameters is ``done`` (as the
        table file records it now): a rerun after failures or a cancelled cluster job runs only
        what is left.

    Returns
    -------
    pandas.DataFrame
        One row per trial run: ``uuid, animal_id, session_id, trial_id, status, duration_s,
        error`` (empty when ``skip_done`` left none).
    """
    info = store.table_info(df)
    subset = df if rows is None else rows_of(df, rows)
    if skip_done:
        subset = _not_done(df, subset, job, params, lock_timeout)
        if subset.empty:
            log.info("%s: every row asked for is done with these parameters; nothing to run", job)
            return pd.DataFrame(
                columns=["uuid", "animal_id", "session_id", "trial_id", "status", "duration_s", "error"]
            )
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


def _not_done(
    df: pd.DataFrame,
    subset: pd.DataFrame,
    job: str,
    params: Mapping[str, Any] | Params | None,
    lock_timeout: float | None,
) -> pd.DataFrame:
    """The rows of ``subset`` whose last ``job`` run with ``params`` is not recorded ``done``."""
    spec = get_job(job)
    checked = spec.check(params)
    want = checked.to_dict() if isinstance(checked, Params) else dict(checked or {})
    store.refresh(df, lock_timeout)
    status = df.set_index("uuid")[f"{spec.namespace}_status"]
    runs = df.set_index("uuid")[f"{spec.namespace}_run"]

    def done(uuid: str) -> bool:
        run = runs.get(uuid) or {}
        return (
            status.get(uuid) == "done" and run.get("job") == job and run.get("params") == json.loads(json.dumps(want))
        )

    return subset[[not done(u) for u in subset["uuid"]]]


def run_row(
    row: pd.Series,
    job: str,
    params: Mapping[str, Any] | Params | None = None,
    *,
    backend: Backend = "local",
    lock_timeout: float | None = None,
) -> dict[str, Any]:
    """:func:`run_job` on one row of a trial table; returns its summary row as a dict (the
    status is recorded in the table file: reload or ``df.behavior.refresh()`` to see it).

    Parameters
    ----------
    row
        A row of a trial table.
    job
        A name in :data:`behavior_soup.jobs.JOBS`.
    params
        The job's parameters, as for :func:`run_job`.
    backend, lock_timeout
        As for :func:`run_job`.

    Returns
    -------
    dict
        ``uuid``, ``animal_id``, ``session_id``, ``trial_id``, ``status``, ``duration_s``
        (seconds) and ``error`` (``""`` unless it failed).
    """
    ctx = TrialContext.from_row(row, store.table_info(row), lock_timeout=lock_timeout)  # type: ignore[arg-type]
    out = run_job([ctx], job, params, backend=backend, progress=False, lock_timeout=lock_timeout)
    return out.iloc[0].to_dict()

"""Table-level entry points the accessors call: training tasks and inference over rows.

Each function takes the trial table (or rows of it), resolves model paths (relative paths
are relative to the table's folder; ``None`` means the model registered for the mode, see
:mod:`.models`), and runs the work through the job runner.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema, store
from ..errors import ItemNotFoundError, JobError, OutputsError
from ..jobs import TrialContext, get_task, run_task, where_it_ran
from ..jobs.runner import Backend
from .jobs import LABELS_KEY
from .kinds import get_model_kind
from .models import model_path
from .modes import get_mode

__all__ = ["import_deepethogram", "resolve_model", "train"]


def _table_dir(df: pd.DataFrame) -> Path:
    return Path(store.table_info(df).table_path).parent


def _abs(df: pd.DataFrame, path: str | os.PathLike) -> str:
    p = Path(path).expanduser()
    return str(p if p.is_absolute() else _table_dir(df) / p)


def resolve_model(df: pd.DataFrame, mode: str, kind: str, path: str | os.PathLike | None) -> str:
    """Absolute checkpoint path: ``path`` (a ``.pt`` file, or a training folder holding
    ``model.pt``; relative to the table's folder) or the model registered for ``mode``.

    Parameters
    ----------
    df
        The trial table (or one of its rows).
    mode
        The mode of the registered model, when ``path`` is ``None``.
    kind
        The model kind of the registered model, when ``path`` is ``None``.
    path
        A checkpoint file or training folder, relative to the table's folder (``~``
        expanded) or absolute; ``None`` for the registered model.

    Returns
    -------
    str
        The checkpoint's absolute path (not checked to exist).

    Raises
    ------
    ItemNotFoundError
        If ``path`` is ``None`` and no ``kind`` model is registered for ``mode``.
    """
    if path is None:
        return str(model_path(store.table_info(df).table_path, mode, kind))
    p = Path(_abs(df, path))
    return str(p / "model.pt" if p.is_dir() else p)


def _contexts(df: pd.DataFrame, rows: pd.DataFrame | None, lock_timeout: float | None = None) -> list[TrialContext]:
    info = store.table_info(df)
    subset = df[schema.video_trials(df)] if rows is None else rows
    return [TrialContext.from_row(r, info, lock_timeout=lock_timeout) for _, r in subset.iterrows()]


def _has_labels(ctx: TrialContext) -> bool:
    try:
        ctx.provenance(LABELS_KEY)
    except OutputsError:
        return False
    return True


def train(
    df: pd.DataFrame,
    kind: str,
    mode: str,
    model_out: str | os.PathLike,
    *,
    rows: pd.DataFrame | None = None,
    parent: str | os.PathLike | None = None,
    model_in: str | os.PathLike | None = None,
    backend: Backend = "local",
    client: Any = None,
    lock_timeout: float | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Train a model of ``kind`` for ``mode`` through the runner and register it.

    ``rows`` defaults to every video trial for a flow generator, and to the trials with
    ground-truth labels for the other kinds. ``parent`` is the flow generator (for a feature
    extractor) or feature extractor (for a sequence model) to build on; default: the one
    registered for ``mode``. Returns the training summary (checkpoint, model id, best epoch,
    validation metrics).

    Parameters
    ----------
    df
        The trial table.
    kind
        A registered model kind (``"flow_generator"``, ``"feature_extractor"``,
        ``"sequence"``, ...).
    mode
        A registered mode.
    model_out
        Folder for ``model.pt``, ``last.pt`` and ``metrics.csv``, relative to the table's
        folder or absolute.
    rows
        Rows of ``df`` to train on (see above).
    parent
        The parent model's checkpoint or folder (see above), as for :func:`resolve_model`.
    model_in
        A checkpoint of the same kind and mode to start from.
    backend
        ``"local"``, ``"subprocess"`` or ``"dask"`` (see :func:`behavior_soup.jobs.run_task`).
    client
        For ``"dask"``: the ``dask.distributed.Client`` to train on (e.g. a SLURM job with a
        GPU, see :func:`behavior_soup.cluster.slurm`); ``None`` starts a local cluster.
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.
    **params
        Fields of the kind's training config (``epochs``, ``batch_size``, ``device``, ...),
        checked before any trial is read.

    Returns
    -------
    dict
        The training summary: ``checkpoint``, ``model_id``, ``best_epoch``, ``epochs``,
        ``metrics``, and ``run``: where and when it ran (``backend``, ``host``, ``pid``,
        ``started``, ``duration_s``).

    Raises
    ------
    ItemNotFoundError
        No trials with labels (for the supervised kinds), or no parent model.
    JobError
        Training failed; the message carries the error.
    """
    get_mode(mode)
    spec = get_model_kind(kind)
    importlib.import_module(spec.task_module)  # registers the task
    task = get_task(spec.task)
    if task.params is not None:  # bad settings fail here, before any trial is read
        params = task.params.from_mapping(params).to_dict()
    info = store.table_info(df)
    ctxs = _contexts(df, rows, lock_timeout)
    if spec.supervised and rows is None:
        ctxs = [c for c in ctxs if _has_labels(c)]
        if not ctxs:
            raise ItemNotFoundError(
                "expected trials with ground-truth labels to train on, found none; load them with "
                "df.behavior.load_labels() or row.behavior.set_labels()"
            )
    task_params: dict[str, Any] = {
        **params,
        "contexts": [asdict(c) for c in ctxs],
        "mode": mode,
        "model_out": _abs(df, model_out),
        "table_path": info.table_path,
        "model_in": None if model_in is None else resolve_model(df, mode, kind, model_in),
        "lock_timeout": lock_timeout,
    }
    if spec.parent is not None:
        task_params[spec.parent_param] = resolve_model(df, mode, spec.parent, parent)
    rec = run_task(spec.task, task_params, backend=backend, client=client)
    store.refresh(df, lock_timeout)
    if rec["status"] != "done":
        raise JobError(f"expected {kind} training to finish, it failed: {rec.get('error')}")
    return {**rec["summary"], "run": where_it_ran(rec)}


def import_deepethogram(
    df: pd.DataFrame,
    kind: str,
    path: str | os.PathLike,
    mode: str,
    model_out: str | os.PathLike | None = None,
    **fields: Any,
) -> Path:
    """Convert a DeepEthogram checkpoint and register it in the table as the mode's ``kind``
    (see :func:`.convert.import_deepethogram`).

    Parameters
    ----------
    df
        The trial table.
    kind
        ``"flow_generator"`` or ``"feature_extractor"``.
    path
        The DeepEthogram checkpoint, relative to the table's folder or absolute.
    mode
        ``"fast"``, ``"medium"`` or ``"slow"``.
    model_out
        The ``.pt`` to write, relative to the table's folder; None for
        ``models/deepethogram/<mode>_<kind>.pt``.
    **fields
        ``norm``, ``input_size``, ``behaviors``, ``views``, ``thresholds``.

    Returns
    -------
    pathlib.Path
        The converted checkpoint.
    """
    from .convert import import_deepethogram as convert

    out = _abs(df, model_out if model_out is not None else f"models/deepethogram/{mode}_{kind}.pt")
    table_path = store.table_info(df).table_path
    return convert(_abs(df, path), out, kind, mode, table_path=table_path, **fields)  # type: ignore[arg-type]

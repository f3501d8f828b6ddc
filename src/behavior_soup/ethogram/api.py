"""Table-level entry points the accessors call: training tasks and inference over rows.

Each function takes the trial table (or rows of it), resolves model paths (relative paths
are relative to the table's folder; ``None`` means the model registered for the mode, see
:mod:`.models`), and runs the work through the job runner.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from .. import store
from ..errors import ItemNotFoundError, JobError, OutputsError
from ..jobs import TrialContext, run_rows, run_task
from ..jobs.runner import Backend
from .jobs import LABELS_KEY
from .models import model_path
from .modes import get_mode

__all__ = ["behavior_params", "infer_rows", "resolve_model", "train"]

#: Model kind -> the task that trains it.
TRAINERS: dict[str, str] = {
    "flow_generator": "behavior_soup.ethogram.train:train_flow_generator",
    "feature_extractor": "behavior_soup.ethogram.train:train_feature_extractor",
    "sequence": "behavior_soup.ethogram.train:train_sequence",
}
#: The model each kind is trained on top of, and its parameter name.
PARENT: dict[str, tuple[str, str]] = {
    "feature_extractor": ("flow_generator", "flow_model_in"),
    "sequence": ("feature_extractor", "feature_model_in"),
}


def _table_dir(df: pd.DataFrame) -> Path:
    return Path(store.table_info(df).table_path).parent


def _abs(df: pd.DataFrame, path: str | os.PathLike) -> str:
    p = Path(path).expanduser()
    return str(p if p.is_absolute() else _table_dir(df) / p)


def resolve_model(df: pd.DataFrame, mode: str, kind: str, path: str | os.PathLike | None) -> str:
    """Absolute checkpoint path: ``path`` (a ``.pt`` file, or a training folder holding
    ``model.pt``; relative to the table's folder) or the model registered for ``mode``."""
    if path is None:
        return str(model_path(store.table_info(df).table_path, mode, kind))
    p = Path(_abs(df, path))
    return str(p / "model.pt" if p.is_dir() else p)


def _contexts(df: pd.DataFrame, rows: pd.DataFrame | None, lock_timeout: float | None = None) -> list[TrialContext]:
    info = store.table_info(df)
    subset = df[df["exp_type"] != "ephys"] if rows is None else rows
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
    lock_timeout: float | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Train a model of ``kind`` for ``mode`` through the runner and register it.

    ``rows`` defaults to every video trial for a flow generator, and to the trials with
    ground-truth labels for the other kinds. ``parent`` is the flow generator (for a feature
    extractor) or feature extractor (for a sequence model) to build on; default: the one
    registered for ``mode``. Returns the training summary (checkpoint, model id, best epoch,
    validation metrics).

    Raises
    ------
    ItemNotFoundError
        No trials with labels (for the supervised kinds), or no parent model.
    JobError
        Training failed; the message carries the error.
    """
    get_mode(mode)
    if kind not in TRAINERS:
        raise ValueError(f"expected a model kind in {list(TRAINERS)}, got {kind!r}")
    info = store.table_info(df)
    ctxs = _contexts(df, rows, lock_timeout)
    if kind != "flow_generator" and rows is None:
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
    if kind in PARENT:
        parent_kind, name = PARENT[kind]
        task_params[name] = resolve_model(df, mode, parent_kind, parent)
    rec = run_task(TRAINERS[kind], task_params, backend=backend)  # type: ignore[arg-type]
    store.refresh(df, lock_timeout)
    if rec["status"] != "done":
        raise JobError(f"expected {kind} training to finish, it failed: {rec.get('error')}")
    return rec["summary"]


def infer_rows(
    df: pd.DataFrame,
    job: str,
    params: Mapping[str, Any],
    *,
    rows: pd.DataFrame | None = None,
    **kw: Any,
) -> pd.DataFrame:
    """Run an inference job over rows (default: every video trial) through
    :func:`behavior_soup.jobs.run_rows`, which refreshes ``df``."""
    return run_rows(df, job, params, rows=df[df["exp_type"] != "ephys"] if rows is None else rows, **kw)


def behavior_params(
    obj: pd.DataFrame | pd.Series,
    mode: str,
    feature_extractor: str | os.PathLike | None,
    sequence: str | os.PathLike | None,
    **params: Any,
) -> dict[str, Any]:
    """Parameters of the ``behavior_infer`` job: the two checkpoints resolved (default: this
    mode's registered models) plus ``params``."""
    get_mode(mode)
    return {
        "mode": mode,
        "feature_extractor": resolve_model(obj, mode, "feature_extractor", feature_extractor),  # type: ignore[arg-type]
        "sequence": resolve_model(obj, mode, "sequence", sequence),  # type: ignore[arg-type]
        **params,
    }

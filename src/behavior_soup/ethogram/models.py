"""The table's registry of trained ethogram models, kept in the table file's metadata.

For each mode and kind (flow generator, feature extractor, sequence) the registry records
the model trained last: its checkpoint path relative to the table's folder (POSIX, so a moved
project keeps working), model id, behaviors and the final validation metrics. Training
registers what it made; inference uses the registered models unless given checkpoints.
Changes happen under the table's lock (:func:`behavior_soup.store.update_meta`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .. import store
from ..errors import ItemNotFoundError
from ..paths import is_inside
from .kinds import get_model_kind

__all__ = ["list_models", "model_path", "register_trained", "registry"]

META_KEY = "ethogram_models"


def _table_dir(table_path: str | os.PathLike) -> Path:
    return Path(table_path).resolve().parent


def registry(table_path: str | os.PathLike) -> dict[str, dict[str, dict[str, Any]]]:
    """``{mode: {kind: entry}}`` as stored (paths relative to the table's folder).

    Parameters
    ----------
    table_path
        The trial table's file.

    Returns
    -------
    dict
        mode -> kind -> entry (``path``, ``model_id``, ``behaviors``, ``created``,
        ``best_epoch``, ``metrics``); empty if no model is registered.
    """
    raw = store.read_meta(table_path).get(META_KEY)
    return json.loads(raw) if raw else {}


def register_trained(
    table_path: str | os.PathLike,
    mode: str,
    kind: str,
    checkpoint: str | os.PathLike,
    entry: Mapping[str, Any],
    lock_timeout: float | None = None,
) -> dict[str, Any]:
    """Record ``checkpoint`` as the ``kind`` model of ``mode`` (replacing the previous one).

    Parameters
    ----------
    table_path
        The trial table's file.
    mode
        The mode the model was trained for.
    kind
        ``"flow_generator"``, ``"feature_extractor"``, ``"sequence"`` or another registered
        kind.
    checkpoint
        The model's checkpoint; recorded relative to the table's folder when inside it.
    entry
        Fields recorded with it (``model_id``, ``behaviors``, ``created``, ``best_epoch``,
        ``metrics``, ...).
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.

    Returns
    -------
    dict
        The record stored: ``entry``'s fields and ``path`` (POSIX, relative to the table's
        folder when inside it, else absolute).
    """
    ck = Path(checkpoint).resolve()
    root = _table_dir(table_path)
    rel = ck.relative_to(root).as_posix() if is_inside(ck, root) else str(ck)
    record = {**dict(entry), "path": rel}

    def change(meta: dict[str, str]) -> dict[str, str]:
        reg = json.loads(meta.get(META_KEY) or "{}")
        reg.setdefault(mode, {})[kind] = record
        return {**meta, META_KEY: json.dumps(reg, default=str)}

    store.update_meta(table_path, change, lock_timeout=lock_timeout)
    return record


def model_path(table_path: str | os.PathLike, mode: str, kind: str) -> Path:
    """Absolute checkpoint path of the registered ``kind`` model of ``mode``.

    Parameters
    ----------
    table_path
        The trial table's file.
    mode
        The mode.
    kind
        The model kind.

    Returns
    -------
    pathlib.Path
        The registered checkpoint (a relative record taken under the table's folder).

    Raises
    ------
    ItemNotFoundError
        None registered; the message says which training call makes one.
    """
    entry = registry(table_path).get(mode, {}).get(kind)
    if entry is None:
        call = get_model_kind(kind).train_call
        raise ItemNotFoundError(
            f"expected a trained {kind} model for mode {mode!r} in this table, found none; "
            f"train one with {call}(mode={mode!r}, ...) or pass a checkpoint path"
        )
    p = Path(entry["path"])
    return p if p.is_absolute() else _table_dir(table_path) / p


def list_models(table_path: str | os.PathLike) -> pd.DataFrame:
    """One row per registered model: mode, kind, path, model id, behaviors, created, metrics.

    Parameters
    ----------
    table_path
        The trial table's file.

    Returns
    -------
    pandas.DataFrame
        Columns ``mode, kind, path, model_id, behaviors, created, metrics``, then any other
        recorded fields (e.g. ``best_epoch``); no rows if none is registered.
    """
    rows = []
    for mode, kinds in registry(table_path).items():
        for kind, e in kinds.items():
            rows.append({"mode": mode, "kind": kind, **e})
    cols = ["mode", "kind", "path", "model_id", "behaviors", "created", "metrics"]
    df = pd.DataFrame(rows)
    return df.reindex(columns=[*cols, *[c for c in df.columns if c not in cols]])

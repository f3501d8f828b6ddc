"""The table's registry of fitted MoSeq models, kept in the table file's metadata.

Each entry records what the model is and how it was made: its checkpoint (relative to the
table's folder, POSIX), the fit's parameters, the pose source and view, the bodyparts (all,
used, anterior, posterior), the rows fitted on (uuid -> recording name), the frame rate, the
segment length inference uses, the latent dimension and the variance it explains (with the
scree), every seed's expected marginal likelihood and the chosen seed, the syllable
durations, package versions, start and duration. Changes happen under the table's lock.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .. import store
from ..errors import ItemExistsError, ItemNotFoundError
from ..paths import is_inside

__all__ = [
    "checkpoint_path",
    "get_model",
    "list_models",
    "models_frame",
    "register_model",
    "relative_to_table",
    "update_model",
]

META_KEY = "moseq_models"


def _table_dir(table_path: str | os.PathLike) -> Path:
    return Path(table_path).resolve().parent


def relative_to_table(table_path: str | os.PathLike, path: str | os.PathLike) -> str:
    """``path`` as recorded: POSIX relative to the table's folder when inside it, else absolute.

    Parameters
    ----------
    table_path
        The trial table's file.
    path
        A file or folder.

    Returns
    -------
    str
        The recorded form of ``path``.
    """
    p, root = Path(path).resolve(), _table_dir(table_path)
    return p.relative_to(root).as_posix() if is_inside(p, root) else str(p)


def _registry(meta: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    raw = meta.get(META_KEY)
    return json.loads(raw) if raw else {}


def list_models(table_path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The registered MoSeq models of a table.

    Parameters
    ----------
    table_path
        The trial table's file.

    Returns
    -------
    dict
        Model name -> entry (see the module docstring); empty if none is registered.
    """
    return _registry(store.read_meta(table_path))


def _entry(reg: Mapping[str, dict[str, Any]], name: str) -> dict[str, Any]:
    if name not in reg:
        raise ItemNotFoundError(
            f"expected a registered MoSeq model in {sorted(reg)}, got {name!r}; fit one with df.moseq.fit(name=...)"
        )
    return reg[name]


def get_model(table_path: str | os.PathLike, name: str) -> dict[str, Any]:
    """A registered MoSeq model's entry.

    Parameters
    ----------
    table_path
        The trial table's file.
    name
        The model's registered name.

    Returns
    -------
    dict
        The entry, as stored.

    Raises
    ------
    ItemNotFoundError
        If no MoSeq model of that name is registered.
    """
    return _entry(list_models(table_path), name)


def checkpoint_path(table_path: str | os.PathLike, entry: Mapping[str, Any]) -> Path:
    """Absolute path of a registered model's checkpoint.

    Parameters
    ----------
    table_path
        The trial table's file.
    entry
        The model's registry entry.

    Returns
    -------
    pathlib.Path
        ``entry["checkpoint"]``, a relative record taken under the table's folder.
    """
    p = Path(entry["checkpoint"])
    return p if p.is_absolute() else _table_dir(table_path) / p


def register_model(
    table_path: str | os.PathLike,
    name: str,
    entry: Mapping[str, Any],
    *,
    overwrite: bool = False,
    lock_timeout: float | None = None,
) -> dict[str, Any]:
    """Record a fitted model under ``name``.

    Parameters
    ----------
    table_path
        The trial table's file.
    name
        The registry name.
    entry
        The fields to record (JSON-able).
    overwrite
        Replace an existing entry of that name.
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.

    Returns
    -------
    dict
        The entry as stored.

    Raises
    ------
    ItemExistsError
        If ``name`` is registered and ``overwrite`` is False.
    """
    record = json.loads(json.dumps(dict(entry), default=str))

    def change(meta: dict[str, str]) -> dict[str, str]:
        reg = _registry(meta)
        if name in reg and not overwrite:
            raise ItemExistsError(
                f"expected a new MoSeq model name, got {name!r} already registered; pass overwrite=True to replace it"
            )
        reg[name] = record
        return {**meta, META_KEY: json.dumps(reg, sort_keys=True)}

    store.update_meta(table_path, change, lock_timeout=lock_timeout)
    return record


def update_model(
    table_path: str | os.PathLike, name: str, lock_timeout: float | None = None, **fields: Any
) -> dict[str, Any]:
    """Set fields of a registered model's entry (e.g. the paths of its grid movies).

    Parameters
    ----------
    table_path
        The trial table's file.
    name
        The model's registered name.
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.
    **fields
        Field -> new JSON-able value.

    Returns
    -------
    dict
        The entry as now stored.

    Raises
    ------
    ItemNotFoundError
        If no MoSeq model of that name is registered.
    """
    out: list[dict[str, Any]] = []
    new = json.loads(json.dumps(fields, default=str))

    def change(meta: dict[str, str]) -> dict[str, str]:
        reg = _registry(meta)
        _entry(reg, name).update(new)
        out.append(reg[name])
        return {**meta, META_KEY: json.dumps(reg, sort_keys=True)}

    store.update_meta(table_path, change, lock_timeout=lock_timeout)
    return out[0]


def models_frame(table_path: str | os.PathLike) -> pd.DataFrame:
    """One row per registered model, for listings.

    Parameters
    ----------
    table_path
        The trial table's file.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``pose_model``, ``view``, ``bodyparts``, ``latent_dim``,
        ``variance_explained``, ``n_rows``, ``n_frames``, ``seeds``, ``chosen_seed``,
        ``n_syllables``, ``median_duration_ms``, ``created``, ``checkpoint``; no columns if
        none is registered.
    """
    rows = []
    for name, e in sorted(list_models(table_path).items()):
        rows.append(
            {
                "name": name,
                "pose_model": e["pose_model"],
                "view": e["view"],
                "bodyparts": e["use_bodyparts"],
                "latent_dim": e["latent_dim"],
                "variance_explained": e["variance_explained"],
                "n_rows": len(e["recordings"]),
                "n_frames": e["n_frames"],
                "seeds": e["seeds"],
                "chosen_seed": e["chosen_seed"],
                "n_syllables": e["n_syllables"],
                "median_duration_ms": e["median_duration_ms"],
                "created": e["created"],
                "checkpoint": e["checkpoint"],
            }
        )
    return pd.DataFrame(rows)

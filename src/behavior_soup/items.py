"""Adding trials to a table from the raw-data tree, and removing them.

The raw tree is ``<raw_root>/<animal_id>/<session_id>/`` with trial videos named by the
table's :class:`~behavior_soup.naming.NamingRule`. Everything here is a plain function of a
table; the ``df.behavior`` accessor calls them.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import schema, store
from .discovery import Found, discover_trials, find_trials, found_columns
from .errors import DataRootError, ItemExistsError, ItemNotFoundError, MissingViewError
from .paths import resolve, to_relative_posix, validate_relative

__all__ = ["add_items", "add_row", "discover_trials", "remove_items"]

log = logging.getLogger(__name__)

OnMissingView = Literal["warn", "raise", "skip"]


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_DIGITS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def new_uuids(n: int) -> np.ndarray:
    """``n`` random (version 4) UUIDs as :func:`uuid.uuid4` writes them: an object array of
    ``str``, shape ``(n,)``, made from one draw of random bytes.

    Parameters
    ----------
    n
        How many.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` object array of ``str``, each 36 characters (lowercase hexadecimal in groups
        of 8-4-4-4-12, separated by ``-``).
    """
    b = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40  # version 4
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    chars = np.full((n, 36), ord("-"), dtype=np.uint8)
    chars[:, _UUID_DIGITS] = np.stack([_HEX[b >> 4], _HEX[b & 0x0F]], axis=-1).reshape(n, 32)
    return chars.view("S36").ravel().astype("U36").astype(object)


def _new_rows(found: Found, exp_type: str, model_params: Mapping[str, Any], notes: str) -> pd.DataFrame:
    """Table rows (in the schema's in-memory form) for discovered trials (see :data:`Found`)."""
    n = len(found["trial_id"])
    now = pd.Timestamp.now(tz="UTC").as_unit("us")

    def strings(values: Any) -> np.ndarray:
        out = np.empty(n, dtype=object)
        out[:] = values
        return out

    params = np.empty(n, dtype=object)
    for i in range(n):  # a dict per row: no aliasing between rows
        params[i] = dict(model_params)
    animals, sessions = found["animal_id"], found["session_id"]
    values: dict[str, Any] = {
        "uuid": new_uuids(n),
        "animal_id": animals,
        "session_id": sessions,
        "trial_id": found["trial_id"],
        "exp_type": strings(exp_type),
        "output_path": animals + "/" + sessions + "/outputs.h5",
        "model_params": params,
        "notes": strings(notes),
        "added_time": pd.DatetimeIndex(np.full(n, now.tz_localize(None).asm8), tz="UTC"),
    }
    for view in schema.VIEWS:
        col = schema.view_column(view)
        values[col] = found[col]
    return schema.from_columns(n, values)


def _refuse_existing(table: pd.DataFrame, new: pd.DataFrame) -> None:
    if not len(table):
        return
    have = set(schema.identities(table))
    dup = [i for i in schema.identities(new) if i in have]
    if dup:
        raise ItemExistsError(
            f"expected trials not yet in the table, found {len(dup)} already there, e.g. "
            f"{[f'{a}/{s}/trial {t}' for a, s, t in dup[:5]]}; pass skip_existing=True to add only new ones"
        )


def add_items(
    df: pd.DataFrame,
    animal_id: str,
    session_id: str | None = None,
    trial_id: int | None = None,
    *,
    exp_type: str | None = None,
    views: tuple[str, ...] = schema.VIEWS,
    on_missing_view: OnMissingView = "warn",
    skip_existing: bool = False,
    model_params: Mapping[str, Any] | None = None,
    notes: str = "",
    lock_timeout: float | None = None,
) -> pd.DataFrame:
    """Discover trials on disk and add them to the table (saved; ``df`` updated in place).

    Parameters
    ----------
    df
        A table from :func:`~behavior_soup.create_df`/:func:`~behavior_soup.load_df`.
    animal_id, session_id, trial_id
        A whole animal (every session), one session, or one trial.
    exp_type
        One of :data:`behavior_soup.schema.EXP_TYPES`.
    views
        The views each trial is expected to have.
    on_missing_view
        A trial lacking one of ``views``: ``"warn"`` adds it with an empty path and warns,
        ``"raise"`` raises :class:`MissingViewError` (nothing added), ``"skip"`` leaves it out
        and warns.
    skip_existing
        Add only trials not in the table yet instead of raising :class:`ItemExistsError`.
    model_params
        Recorded in each new row's ``model_params`` (a copy per row).
    notes
        Each new row's ``notes``.
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.

    Returns
    -------
    pandas.DataFrame
        The rows added.
    """
    if on_missing_view not in ("warn", "raise", "skip"):
        raise ValueError(f"expected on_missing_view in ('warn', 'raise', 'skip'), got {on_missing_view!r}")
    for v in views:
        schema.view_column(v)
    exp_type = schema.validate_exp_type(exp_type)
    info = store.table_info(df)
    trials = find_trials(info.raw_root, animal_id, session_id, trial_id, info.naming_rule)
    lacking = np.zeros(len(trials["trial_id"]), dtype=bool)
    for v in views:
        lacking |= trials[schema.view_column(v)] == ""
    if lacking.any():
        desc = [
            f"{trials['animal_id'][i]}/{trials['session_id'][i]}/trial {trials['trial_id'][i]} "
            f"(found {[v for v in schema.VIEWS if trials[schema.view_column(v)][i]]})"
            for i in np.flatnonzero(lacking)[:10]
        ]
        msg = f"expected views {list(views)} for every trial, {int(lacking.sum())} lack some: {desc}"
        if on_missing_view == "raise":
            raise MissingViewError(msg)
        if on_missing_view == "skip":
            warnings.warn(msg + "; they were not added", stacklevel=2)
            trials = {c: v[~lacking] for c, v in trials.items()}
        else:
            warnings.warn(msg + "; they were added with the missing paths empty", stacklevel=2)
    new = _new_rows(trials, exp_type, model_params or {}, notes)
    return _append(df, new, skip_existing, lock_timeout)


def _append(df: pd.DataFrame, new: pd.DataFrame, skip_existing: bool, lock_timeout: float | None) -> pd.DataFrame:
    added: list[pd.DataFrame] = []

    def change(table: pd.DataFrame) -> pd.DataFrame:
        rows = new
        if not skip_existing:
            _refuse_existing(table, new)
        elif len(table):
            have = set(schema.identities(table))
            rows = new[[i not in have for i in schema.identities(new)]].reset_index(drop=True)
        added.append(rows)
        # the table gets its own copy: the rows handed back to the caller must not alias it
        return pd.concat([table, rows], ignore_index=True) if len(table) else rows.copy()

    store.transact(df, change, lock_timeout=lock_timeout)
    log.info("added %d trial(s) to %s", len(added[0]), store.table_info(df).table_path)
    return added[0]


def add_row(
    df: pd.DataFrame,
    animal_id: str,
    session_id: str,
    trial_id: int,
    *,
    exp_type: str | None = None,
    videos: Mapping[str, str | os.PathLike] | None = None,
    files: Mapping[str, str | os.PathLike] | None = None,
    model_params: Mapping[str, Any] | None = None,
    notes: str = "",
    lock_timeout: float | None = None,
) -> pd.DataFrame:
    """Add one trial whose files are given explicitly (paths relative to the raw-data root,
    or absolute paths inside it). Each file must exist.

    Parameters
    ----------
    df
        A table from :func:`~behavior_soup.create_df`/:func:`~behavior_soup.load_df`; saved,
        and updated in place.
    animal_id, session_id, trial_id
        The new trial's ids.
    exp_type
        One of :data:`behavior_soup.schema.EXP_TYPES`, or ``None`` for "not given".
    videos
        View -> the trial's video of that view.
    files
        Role -> another file of the trial, recorded in the row's ``files``.
    model_params
        Recorded in the row's ``model_params``.
    notes
        The row's ``notes``.
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.

    Returns
    -------
    pandas.DataFrame
        The row added.

    Raises
    ------
    DataRootError
        If the raw-data root does not exist.
    ItemNotFoundError
        If a given file does not exist.
    ItemExistsError
        If the trial is already in the table.
    """
    info = store.table_info(df)
    root = Path(info.raw_root)
    if not root.is_dir():
        raise DataRootError(f"expected the raw-data root {info.raw_root!r} to exist, found nothing there")
    ids = (
        schema.validate_id(animal_id, "animal_id"),
        schema.validate_id(session_id, "session_id"),
        schema.validate_trial_id(trial_id),
    )

    def rel_of(p: str | os.PathLike, what: str) -> str:
        rel = to_relative_posix(p, root, what) if Path(p).is_absolute() else validate_relative(str(p), what)
        if not resolve(root, rel).is_file():
            raise ItemNotFoundError(f"expected the {what} at {str(resolve(root, rel))!r}, found no file")
        return rel

    for v in videos or {}:
        schema.view_column(v)
    vids = {v: rel_of(p, f"{v} video") for v, p in (videos or {}).items()}
    row = _new_rows(
        found_columns(*ids, vids),
        schema.validate_exp_type(exp_type),
        model_params or {},
        notes,
    )
    row.at[0, "files"] = {str(k): rel_of(p, f"{k!r} file") for k, p in (files or {}).items()}
    return _append(df, row, False, lock_timeout)


def _select(table: pd.DataFrame, animal_id: Any, session_id: Any, trial_id: Any, uuid: Any) -> np.ndarray:
    if uuid is not None:
        uuids = [uuid] if isinstance(uuid, str) else list(uuid)
        return table["uuid"].isin(uuids).to_numpy()
    if animal_id is None:
        raise ValueError("expected animal_id (optionally with session_id, trial_id) or uuid, got neither")
    mask = (table["animal_id"] == str(animal_id)).to_numpy()
    if session_id is not None:
        mask = mask & (table["session_id"] == str(session_id)).to_numpy()
    elif trial_id is not None:
        raise ValueError("expected session_id when trial_id is given, got session_id=None")
    if trial_id is not None:
        mask = mask & (table["trial_id"] == schema.validate_trial_id(trial_id)).to_numpy()
    return mask


def remove_items(
    df: pd.DataFrame,
    animal_id: str | None = None,
    session_id: str | None = None,
    trial_id: int | None = None,
    *,
    uuid: str | list[str] | None = None,
    remove_outputs: bool = False,
    lock_timeout: float | None = None,
) -> pd.DataFrame:
    """Remove trials from the table (saved; ``df`` updated in place).

    Parameters
    ----------
    animal_id, session_id, trial_id
        A whole animal, one session, or one trial; or give ``uuid`` (one or a list).
    remove_outputs
        Also delete the trials' groups from their ``outputs.h5`` (a file with no trial left
        is deleted). Raw data are never touched.

    Returns
    -------
    pandas.DataFrame
        The rows removed.

    Raises
    ------
    ItemNotFoundError
        If nothing matches.
    """
    removed: list[pd.DataFrame] = []

    def change(table: pd.DataFrame) -> pd.DataFrame:
        mask = _select(table, animal_id, session_id, trial_id, uuid)
        if not mask.any():
            what = (
                f"uuid {uuid!r}"
                if uuid is not None
                else f"animal_id={animal_id!r}, session_id={session_id!r}, trial_id={trial_id!r}"
            )
            raise ItemNotFoundError(f"expected trials matching {what} in the table, found none")
        removed.append(table[mask])
        return table[~mask]

    def mark(meta: dict[str, str]) -> dict[str, str]:
        # the rows and the intent to delete their results are committed together; the
        # deletion runs right after, and any later write finishes it after a crash
        pending = json.loads(meta.get(store.PENDING_KEY, "[]"))
        gone = removed[0]
        pending += [
            {"output_path": o, "trial_id": int(t), "uuid": u}
            for o, t, u in zip(gone["output_path"], gone["trial_id"], gone["uuid"])
        ]
        return {**meta, store.PENDING_KEY: json.dumps(pending)}

    store.transact(df, change, lock_timeout=lock_timeout, meta_change=mark if remove_outputs else None)
    gone = removed[0].reset_index(drop=True)
    if remove_outputs:
        store.transact(df, None, lock_timeout=lock_timeout)  # deletes the results, clears the mark
    log.info("removed %d trial(s)", len(gone))
    return gone

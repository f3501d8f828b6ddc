"""The trial table on disk: create, load, save, and locked read-modify-write.

See :mod:`.format` (what is in the file), :mod:`.stamp` (the user block: the write id and a
checksum), :mod:`.merge` (three-way merge with the table on disk) and :mod:`.commit`
(writing and checking a revision).

A DataFrame returned by :func:`create_df`/:func:`load_df` carries where it came from in
``df.attrs["behavior_soup"]`` (table path, raw and output roots, the revision it was loaded
at). Every change goes through :func:`transact`: under the table's file lock, read what is on
disk (only when another writer saved, or when the DataFrame is a slice), merge it with the
DataFrame in memory row by row (by ``uuid``), apply the change, write a temporary file, check
it, fsync, and ``os.replace`` it over the table. Readers never see a half-written table and
concurrent writers never lose each other's rows.

Slices: pandas copies ``attrs`` into every slice, so ``df[df.animal_id == "m1"]`` can be
edited and saved like the whole table. A DataFrame that lacks rows of the table saves the rows
it holds (merged by uuid) and keeps the others: rows leave the table only through
:func:`behavior_soup.items.remove_items` (``df.behavior.remove_item``), never because a
DataFrame lacks them. After the save it still holds only its own rows (plus any it added).
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema
from ..errors import BehaviorSoupError, StaleTableError, TableEditError
from ..locking import locked
from .commit import commit as _commit
from .commit import replace_contents as _replace_contents
from .format import FORMAT_NAME, META_NODE, read_meta
from .info import ATTRS_KEY, TableInfo, set_info, table_info
from .load import create_df, current_meta, load_df, read_checked_meta, read_disk, reload
from .merge import held_all, loaded_hashes, merge_tables
from .stamp import STAMP_MAGIC, STAMP_SIZE, read_stamp
from .validate import check_table

__all__ = [
    "ATTRS_KEY",
    "FORMAT_NAME",
    "META_NODE",
    "PENDING_KEY",
    "STAMP_MAGIC",
    "STAMP_SIZE",
    "TableInfo",
    "create_df",
    "load_df",
    "read_meta",
    "read_stamp",
    "refresh",
    "reload",
    "save_df",
    "set_info",
    "table_info",
    "transact",
    "update_meta",
    "update_rows",
]

log = logging.getLogger(__name__)

#: Metadata key of result files to delete once their rows are gone (see :func:`transact`).
PENDING_KEY = "pending_output_removal"


def _check_columns(df: pd.DataFrame) -> None:
    missing = [c for c in schema.COLUMNS if c not in df.columns]
    if missing:
        raise TableEditError(
            f"expected every column of the trial table in the DataFrame being saved, found {missing} missing "
            "(dropped or renamed?); saving would blank them for every row: put them back, or reload with bs.load_df()"
        )


def _sweep_pending(meta: dict[str, str], info: TableInfo, lock_timeout: float | None) -> None:
    """Delete the result files of removed trials recorded in ``meta`` (lock held); entries
    whose deletion fails stay for the next write."""
    from .. import outputs
    from ..paths import resolve

    try:
        pending = json.loads(meta.get(PENDING_KEY, "[]"))
    except ValueError:
        pending = []
    if not pending:
        meta.pop(PENDING_KEY, None)
        return
    left = []
    for e in pending:
        try:
            outputs.delete_trial(
                resolve(info.output_root, e["output_path"]), int(e["trial_id"]), str(e["uuid"]), lock_timeout
            )
        except Exception as exc:  # kept for the next write, which retries
            log.warning("could not delete the results of removed trial %s yet: %s", e.get("uuid"), exc)
            left.append(e)
    if left:
        meta[PENDING_KEY] = json.dumps(left)
    else:
        meta.pop(PENDING_KEY, None)


def transact(
    df: pd.DataFrame,
    change: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    *,
    merge: bool = True,
    lock_timeout: float | None = None,
    meta_change: Callable[[dict[str, str]], Mapping[str, str]] | None = None,
) -> pd.DataFrame:
    """Locked read-modify-write of the table behind ``df``; ``df`` is updated in place.

    Under the table's lock: read the table on disk; if another process saved since ``df``
    was loaded, merge the two by ``uuid`` (see :func:`merge_tables`), or raise
    :class:`StaleTableError` when ``merge`` is false; apply ``change`` (a function from the
    whole table to a new table, which must not modify its argument); write the result as the
    next revision. If ``change`` raises, nothing is written and ``df`` is unchanged.
    ``meta_change`` likewise maps the metadata read under the lock to the metadata to write
    (used for table-level registries such as the pose models). Result files of trials removed
    earlier whose deletion did not finish (:data:`PENDING_KEY`) are deleted on the way.

    A ``df`` lacking rows of the table (a slice) saves its own rows and keeps the others
    (see the module docstring), and afterwards holds its own rows and those ``change`` added.

    Parameters
    ----------
    df
        A DataFrame made by :func:`create_df` or :func:`load_df` (or a slice of one).
    change
        Maps the whole (merged) table to the table to write; ``None`` writes it unchanged.
    merge
        Whether to merge with a table another writer saved meanwhile, instead of raising.
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default
        (:data:`behavior_soup.locking.DEFAULT_LOCK_TIMEOUT`).
    meta_change
        Maps the table's metadata (a dict of strings) to the metadata to write; ``None``
        keeps it. Keys and values are converted to strings.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself, now holding the saved revision (its own rows only, if a slice).

    Raises
    ------
    TableFormatError
        ``df`` was not made by behavior_soup, or the file on disk is not a readable table.
    TableEditError
        ``df`` lacks columns of the table's schema (dropped or renamed), or the table to write
        breaks its rules (see :mod:`.validate`: ids, types, experiment types, statuses, paths).
    FileNotFoundError
        The table file is gone (moved or deleted).
    LockTimeoutError
        Another writer held the table's lock for longer than ``lock_timeout``.
    StaleTableError
        Another writer saved and ``merge`` is false.
    BehaviorSoupError
        ``change`` returned something other than a DataFrame.
    ItemExistsError
        The new table has duplicate uuids or ``(animal_id, session_id, trial_id)``.
    WriteError
        The new revision could not be written completely (a full disk); the old one is kept.
    """
    info = table_info(df)
    _check_columns(df)
    path = Path(info.table_path)
    with locked(path, lock_timeout, what="trial table"):
        if not path.is_file():
            raise FileNotFoundError(f"expected the trial table at {str(path)!r}, found no file (moved or deleted?)")
        meta = current_meta(path, info.write_id)
        same = meta.get("write_id") == info.write_id
        whole = held_all(df, info.write_id)
        if same and whole:
            base = df
        else:
            if not same and not merge:
                raise StaleTableError(
                    f"expected the table on disk to be revision {info.revision} (the one this "
                    f"DataFrame was loaded at), found revision {meta.get('revision')} saved at "
                    f"{meta.get('saved')} by another writer; reload with bs.load_df() or save "
                    "with merge=True to merge by uuid"
                )
            disk = read_disk(path, meta)
            loaded = loaded_hashes(info.write_id)
            if loaded is None and not same:
                warnings.warn(
                    "the table changed on disk and the revision this DataFrame was loaded at is "
                    "unknown here; merging keeps every row from both (rows removed elsewhere may come back)",
                    stacklevel=3,
                )
            base = merge_tables(df, disk, loaded)
            if whole is None:
                whole = bool(pd.Index(disk["uuid"]).isin(pd.Index(df["uuid"])).all())
        if not whole:
            log.info(
                "saving a DataFrame of %d rows that lacks %d rows of the table (a slice): those rows are kept; "
                "remove trials with df.behavior.remove_item()",
                len(df),
                int((~base["uuid"].isin(df["uuid"])).sum()),
            )
        new = base if change is None else change(base.copy(deep=False))
        if not isinstance(new, pd.DataFrame):
            raise BehaviorSoupError(f"expected the change to return a DataFrame, got {type(new).__name__}")
        try:
            new = schema.coerce(new)
        except (TypeError, ValueError) as exc:
            raise TableEditError(f"the table was not saved: {exc}") from exc
        check_table(new)
        meta = dict(meta)
        _sweep_pending(meta, info, lock_timeout)
        if meta_change is not None:
            meta = {str(k): str(v) for k, v in meta_change(dict(meta)).items()}
        rev, wid = _commit(path, new, meta)
    shown = new
    if not whole:  # a slice stays a slice: its own rows, and those the change added
        keep = new["uuid"].isin(df["uuid"]) | ~new["uuid"].isin(base["uuid"])
        shown = new[keep.to_numpy()]
    _replace_contents(df, shown, replace(info, revision=rev, write_id=wid))
    return df


def save_df(df: pd.DataFrame, merge: bool = False, lock_timeout: float | None = None) -> pd.DataFrame:
    """Save ``df`` over its table file.

    Refuses (:class:`StaleTableError`) when the file changed on disk since ``df`` was
    loaded, unless ``merge=True``, which merges the two by ``uuid``.

    Parameters
    ----------
    df
        A DataFrame made by :func:`create_df` or :func:`load_df` (or a slice of one).
    merge
        Merge with the table on disk by ``uuid`` when another writer saved meanwhile.
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself, updated in place to the saved revision.

    Raises
    ------
    StaleTableError
        The file changed on disk since ``df`` was loaded and ``merge`` is false.
    TableEditError, TableFormatError, LockTimeoutError, WriteError
        As for :func:`transact`.
    """
    return transact(df, None, merge=merge, lock_timeout=lock_timeout)


def update_rows(
    table_path: str | os.PathLike,
    updates: Mapping[str, Mapping[str, Any]],
    lock_timeout: float | None = None,
) -> int:
    """Set columns of rows identified by uuid directly in the table file (locked).

    Used by the job runner to record run status without needing the user's DataFrame.
    Unknown uuids (rows removed meanwhile) are skipped.

    Parameters
    ----------
    table_path
        The table's ``.h5`` file.
    updates
        ``{uuid: {column: value}}``: the values to set in each row.
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.

    Returns
    -------
    int
        How many rows were updated.

    Raises
    ------
    KeyError
        A column in ``updates`` is not a column of the table.
    TableFormatError
        The file is not a readable behavior_soup table (or fails its checksum).
    LockTimeoutError
        Another writer held the table's lock for longer than ``lock_timeout``.
    WriteError
        The new revision could not be written completely; the old one is kept.
    """
    path = Path(table_path)
    with locked(path, lock_timeout, what="trial table"):
        meta = read_checked_meta(path)
        disk = read_disk(path, meta)
        pos = pd.Index(disk["uuid"]).get_indexer(list(updates))
        n = 0
        for (uuid, cols), i in zip(updates.items(), pos):
            if i < 0:
                log.warning("row %s is no longer in %s; its status update is dropped", uuid, path)
                continue
            for col, value in cols.items():
                if col not in disk.columns:
                    raise KeyError(f"expected a table column, got {col!r}")
                disk.iat[i, disk.columns.get_loc(col)] = value
            n += 1
        _commit(path, schema.coerce(disk), meta)
    return n


def update_meta(
    table_path: str | os.PathLike,
    change: Callable[[dict[str, str]], Mapping[str, str]],
    lock_timeout: float | None = None,
) -> dict[str, str]:
    """Locked read-modify-write of a table file's metadata alone (rows kept as they are on
    disk); for table-level registries changed by jobs. Returns the metadata written.

    Parameters
    ----------
    table_path
        The table's ``.h5`` file.
    change
        Maps the metadata on disk (a dict of strings) to the metadata to write; keys and
        values are converted to strings.
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.

    Returns
    -------
    dict of str to str
        The metadata returned by ``change``, as strings (before the revision fields that the
        write adds).

    Raises
    ------
    TableFormatError
        The file is not a readable behavior_soup table (or fails its checksum).
    LockTimeoutError
        Another writer held the table's lock for longer than ``lock_timeout``.
    WriteError
        The new revision could not be written completely; the old one is kept.
    """
    path = Path(table_path)
    with locked(path, lock_timeout, what="trial table"):
        meta = read_checked_meta(path)
        disk = read_disk(path, meta)
        new_meta = {str(k): str(v) for k, v in change(dict(meta)).items()}
        _commit(path, disk, new_meta)
    return new_meta


def refresh(df: pd.DataFrame, lock_timeout: float | None = None) -> pd.DataFrame:
    """Bring ``df`` up to date with its table on disk without writing: rows changed on disk
    (e.g. run statuses recorded by a job) are taken, edits made in memory are kept. Returns
    ``df``, updated in place.

    Parameters
    ----------
    df
        A DataFrame made by :func:`create_df` or :func:`load_df` (or a slice of one; it then
        gets no rows it did not hold).
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself, unchanged if the table on disk is still the revision it reflects.

    Raises
    ------
    TableFormatError
        ``df`` was not made by behavior_soup, or the file is not a readable table.
    LockTimeoutError
        Another writer held the table's lock for longer than ``lock_timeout``.
    """
    info = table_info(df)
    path = Path(info.table_path)
    with locked(path, lock_timeout, what="trial table"):
        meta = current_meta(path, info.write_id)
        if meta.get("write_id") == info.write_id:
            return df
        disk = read_disk(path, meta)
        whole = held_all(df, info.write_id)
        merged = schema.coerce(merge_tables(df, disk, loaded_hashes(info.write_id)))
    if whole is False:  # a slice: its own rows brought up to date, no others added
        merged = merged[merged["uuid"].isin(df["uuid"]).to_numpy()]
    _replace_contents(df, merged, replace(info, revision=int(meta["revision"]), write_id=meta["write_id"]))
    return df

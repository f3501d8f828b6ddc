"""The three-way merge of a DataFrame in memory with the table on disk.

The encoded rows of the last few revisions loaded or saved in this process are kept (by
write id), so a save can tell which rows the user changed in memory since loading, which rows
that DataFrame was loaded with, and whether it still holds all of them (a whole table) or
only some (a slice: ``df[df.animal_id == "m1"]`` carries the whole table's ``attrs``).
Hashes are computed only when a merge needs them, so loads and saves pay nothing for this.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema
from .format import decode, encode

__all__ = ["held_all", "loaded_hashes", "merge_tables", "remember", "snapshot"]

_SNAPSHOTS: OrderedDict[str, pd.DataFrame] = OrderedDict()
_SNAPSHOT_LIMIT = 64
_SNAPSHOT_MAX_ROWS = 2_000_000


def remember(write_id: str, enc: pd.DataFrame) -> None:
    """Keep the encoded rows of revision ``write_id`` (a DataFrame, checked by the reader).

    The oldest revisions are forgotten beyond a bound on their number and total rows.

    Parameters
    ----------
    write_id
        The revision's write id.
    enc
        Its rows in the on-disk form (see :func:`~.format.encode`).

    Raises
    ------
    TypeError
        If ``enc`` is not a DataFrame.
    """
    if not isinstance(enc, pd.DataFrame):
        raise TypeError(f"expected the encoded rows of a revision, got {type(enc).__name__}")
    _SNAPSHOTS[write_id] = enc
    _SNAPSHOTS.move_to_end(write_id)
    # row jobs write statuses several times per run; keep enough revisions that a DataFrame
    # loaded before a few runs can still be merged three-way, within a bound on memory
    while len(_SNAPSHOTS) > 1 and (
        len(_SNAPSHOTS) > _SNAPSHOT_LIMIT or sum(len(e) for e in _SNAPSHOTS.values()) > _SNAPSHOT_MAX_ROWS
    ):
        _SNAPSHOTS.popitem(last=False)


def snapshot(write_id: str) -> pd.DataFrame | None:
    """The rows of revision ``write_id`` in the in-memory form, if remembered.

    Parameters
    ----------
    write_id
        The revision's write id.

    Returns
    -------
    pandas.DataFrame or None
        A new decoded DataFrame (see :func:`~.format.decode`), or ``None`` if not remembered.
    """
    enc = _SNAPSHOTS.get(write_id)
    return None if enc is None else decode(enc)


def _row_hashes(enc: pd.DataFrame) -> pd.Series:
    h = pd.util.hash_pandas_object(enc, index=False)
    return pd.Series(h.to_numpy(), index=enc["uuid"].to_numpy())


def loaded_hashes(write_id: str) -> pd.Series | None:
    """Hash of each row (by uuid) as revision ``write_id`` had it; None if not remembered.

    Parameters
    ----------
    write_id
        The revision's write id.

    Returns
    -------
    pandas.Series or None
        uint64 row hashes of the re-encoded rows, indexed by uuid, or ``None``.
    """
    enc = _SNAPSHOTS.get(write_id)
    return None if enc is None else _row_hashes(encode(decode(enc)))


def held_all(mem: pd.DataFrame, write_id: str) -> bool | None:
    """Whether ``mem`` holds every row of the revision it was loaded at (None: unknown).

    Parameters
    ----------
    mem
        The DataFrame in memory.
    write_id
        The write id of the revision it was loaded at.

    Returns
    -------
    bool or None
        ``True`` if every uuid of that revision is in ``mem``, ``False`` if some are missing
        (a slice), ``None`` if the revision is not remembered.
    """
    enc = _SNAPSHOTS.get(write_id)
    if enc is None:
        return None
    return bool(pd.Index(enc["uuid"]).isin(pd.Index(mem["uuid"])).all())


def _newer_run(a: Mapping, b: Mapping) -> Mapping:
    return a if str(a.get("updated", "")) >= str(b.get("updated", "")) else b


def merge_tables(mem: pd.DataFrame, disk: pd.DataFrame, loaded: pd.Series | None) -> pd.DataFrame:
    """Three-way merge by ``uuid`` of an in-memory table with the table now on disk.

    ``loaded`` holds the hash of each row as it was when ``mem`` was loaded (None if
    unknown). Rows only on disk are kept: a DataFrame lacking rows is a slice (or rows were
    dropped from it), and rows leave the table only through an explicit removal. Rows only in
    memory were added in memory (kept) unless they were loaded and then removed on disk
    (dropped). For rows in both, an unchanged in-memory row takes the disk version; a changed
    one wins, except that each run-status pair takes the more recent run.

    Parameters
    ----------
    mem
        The table in memory (in-memory form).
    disk
        The table now on disk (in-memory form).
    loaded
        Row hashes by uuid of the revision ``mem`` was loaded at (see :func:`loaded_hashes`),
        or ``None``: then every row in both is taken as changed in memory.

    Returns
    -------
    pandas.DataFrame
        The merged table with a ``RangeIndex``: in ``mem``'s order when it holds every row of
        ``disk``, else in ``disk``'s order with the rows added in memory last.
    """
    mem_h = _row_hashes(encode(mem))
    disk_u = pd.Index(disk["uuid"])
    mem_u = pd.Index(mem["uuid"])
    loaded_u = pd.Index([]) if loaded is None else loaded.index
    in_disk = mem_u.isin(disk_u)
    if loaded is not None:
        changed = in_disk & (mem_h.to_numpy() != loaded.reindex(mem_u).to_numpy())
    else:
        changed = in_disk.copy()
    take_mem = changed | (~in_disk & ~mem_u.isin(loaded_u))
    order = np.arange(len(mem))
    # rows changed in memory win, but each run-status pair keeps the more recent run
    mine = mem[take_mem].copy()
    disk_by_u = disk.set_index("uuid", drop=False)
    for ns in schema.STATUS_NAMESPACES:
        rc, sc = schema.run_column(ns), schema.status_column(ns)
        for j, u in enumerate(mine["uuid"]):
            if u in disk_by_u.index:
                d_run, m_run = disk_by_u.at[u, rc], mine.iat[j, mine.columns.get_loc(rc)]
                if d_run != m_run and _newer_run(d_run, m_run) is d_run:
                    mine.iat[j, mine.columns.get_loc(rc)] = d_run
                    mine.iat[j, mine.columns.get_loc(sc)] = disk_by_u.at[u, sc]
    theirs = disk_by_u.loc[mem_u[in_disk & ~changed]]
    lacks = ~disk_u.isin(mem_u)
    only_disk = disk[lacks]
    if lacks.any():  # a slice: the table keeps its order on disk, rows added in memory go last
        pos = pd.Series(np.arange(len(disk)), index=disk_u)
        at = pos.reindex(mem_u).to_numpy()
        mem_key = np.where(in_disk, at, len(disk) + order)
        keys = np.concatenate([mem_key[take_mem], mem_key[in_disk & ~changed], np.flatnonzero(lacks)])
    else:  # the whole table: its order in memory, rows added elsewhere last
        keys = np.concatenate([order[take_mem], order[in_disk & ~changed], len(mem) + np.arange(len(only_disk))])
    parts = [mine, theirs.reset_index(drop=True), only_disk]
    out = pd.concat([p.reset_index(drop=True) for p in parts], ignore_index=True)
    return out.iloc[np.argsort(keys, kind="stable")].reset_index(drop=True)

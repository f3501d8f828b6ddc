"""Opening tables: create, load (lock-free, one consistent revision), reload, and the
checked reads the read-modify-write cycle uses."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema
from ..errors import DataRootError, TableExistsError, TableFormatError
from ..locking import locked
from ..naming import DEFAULT_RULE, NamingRule
from ..paths import check_root, get_parent_raw_data_path, is_inside
from .commit import commit, initial_meta, replace_contents
from .format import decode, read_meta, read_trials
from .info import TableInfo, set_info, table_info
from .merge import remember, snapshot
from .stamp import known_meta, read_stamp, remember_meta, verify_checksum

__all__ = ["create_df", "current_meta", "load_df", "read_checked_meta", "read_disk", "reload"]

log = logging.getLogger(__name__)


def read_checked_meta(path: Path) -> dict[str, str]:
    """The metadata of the file at ``path``, its checksum verified first (so HDF5 never
    parses a damaged file).

    Parameters
    ----------
    path
        The table file.

    Returns
    -------
    dict of str to str
        Its metadata (see :func:`~.format.read_meta`).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    TableFormatError
        The checksum does not match, or the file is not a behavior_soup table.
    """
    if path.is_file():
        verify_checksum(path)
    return read_meta(path)


def current_meta(path: Path, write_id: str) -> dict[str, str]:
    """The metadata of the table at ``path`` (lock held by caller): from memory when the
    file's user block says it is still revision ``write_id``, else read from the file.

    Parameters
    ----------
    path
        The table file.
    write_id
        The write id of the revision the caller last saw.

    Returns
    -------
    dict of str to str
        The metadata of the revision now on disk.

    Raises
    ------
    FileNotFoundError, TableFormatError
        As for :func:`read_checked_meta`, when it is read from the file.
    """
    meta = known_meta(path, write_id)
    if meta is None:
        meta = read_checked_meta(path)
        remember_meta(meta)
    return meta


def read_disk(path: Path, meta: Mapping[str, str]) -> pd.DataFrame:
    """The rows of the table at ``path`` in the in-memory form, given its metadata ``meta``
    (just read under the lock): from this process's memory when it wrote or loaded that
    revision, else from the file.

    Parameters
    ----------
    path
        The table file.
    meta
        Its metadata; ``write_id``, ``n_rows`` and ``schema_version`` are used.

    Returns
    -------
    pandas.DataFrame
        The rows in the in-memory form.

    Raises
    ------
    TableFormatError
        ``/trials`` is missing or unreadable, disagrees with ``meta``, or is of a newer
        schema version.
    """
    wid = meta.get("write_id", "")
    if wid and read_stamp(path) == wid:
        mem = snapshot(wid)
        if mem is not None:
            return mem
    raw_df = read_trials(path, meta)
    raw_df = schema.migrate(raw_df, int(meta.get("schema_version", "0")))
    if wid:
        remember(wid, raw_df)
    return decode(raw_df)


def _read_consistent(path: Path, attempts: int = 20) -> tuple[dict[str, str], pd.DataFrame]:
    """Metadata and rows of one and the same revision, without the lock: a writer may
    replace the file between the reads, which the write id in the user block shows; then
    the reads are repeated."""
    for _ in range(attempts):
        before = read_stamp(path)
        try:
            meta = read_checked_meta(path)
            rows = read_trials(path, meta)
        except TableFormatError:
            if before is not None and read_stamp(path) != before:
                continue  # replaced while being read
            raise
        if before is None or (read_stamp(path) == before == meta.get("write_id")):
            return meta, rows
    raise TableFormatError(f"expected to read the table {str(path)!r}, but other writers kept replacing it; retry")


def _default_output_root(table_path: Path) -> Path:
    return table_path.with_name(table_path.stem + "_outputs")


def create_df(
    path: str | os.PathLike,
    raw_root: str | os.PathLike | None = None,
    output_root: str | os.PathLike | None = None,
    naming: NamingRule | None = None,
    overwrite: bool = False,
) -> pd.DataFrame:
    """Create an empty trial table on disk and return it.

    Parameters
    ----------
    path
        The ``.h5`` file to create. Its folder is created if needed.
    raw_root
        Root of the raw data (``<raw_root>/<animal>/<session>/...``). Defaults to the path set
        with :func:`behavior_soup.set_parent_raw_data_path`.
    output_root
        Where per-session ``outputs.h5`` files go; default ``<table stem>_outputs/`` beside
        the table. Must not be inside the raw-data tree.
    naming
        How trial videos are named; default ``{view}_v{trial}{ext}``.
    overwrite
        Replace an existing table at ``path``.

    Returns
    -------
    pandas.DataFrame
        An empty table with every column of :data:`behavior_soup.schema.COLUMNS`.

    Raises
    ------
    ValueError
        If ``path`` does not end in ``.h5``.
    DataRootError
        If a root is empty or missing, or the table or output root is inside the raw data.
    TableExistsError
        If ``path`` is a folder, or a file and ``overwrite`` is false.
    """
    table_path = Path(os.path.expanduser(os.fspath(path))).absolute()
    if table_path.suffix.lower() not in (".h5", ".hdf5", ".hdf"):
        raise ValueError(f"expected a table path ending in .h5, got {str(table_path)!r}")
    if raw_root is None:
        raw = get_parent_raw_data_path()
        if raw is None:
            raise DataRootError(
                "expected a raw-data root, got none: pass raw_root= or call bs.set_parent_raw_data_path() first"
            )
    else:
        raw = check_root(raw_root, "raw-data root")
    out = _default_output_root(table_path) if output_root is None else _output_root(output_root)
    if is_inside(out, raw):
        raise DataRootError(
            f"expected the output root outside the raw-data tree {str(raw)!r}, got {str(out)!r}; "
            "results never go inside the raw data"
        )
    if is_inside(table_path, raw):
        raise DataRootError(f"expected the table outside the raw-data tree {str(raw)!r}, got {str(table_path)!r}")
    if table_path.is_dir():
        raise TableExistsError(f"expected a table file path, got the folder {str(table_path)!r}; name a .h5 file in it")
    if table_path.exists() and not overwrite:
        raise TableExistsError(
            f"expected no file at {str(table_path)!r}, found one; load it with bs.load_df() or pass overwrite=True"
        )
    table_path.parent.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    naming = naming or DEFAULT_RULE
    df = schema.empty_table()
    with locked(table_path, what="trial table"):
        rev, wid = commit(table_path, df, initial_meta(table_path, raw, out, naming))
    info = TableInfo(str(table_path), str(raw), str(out), rev, wid, naming.to_dict())
    set_info(df, info)
    log.info("created trial table %s (raw root %s)", table_path, raw)
    return df


def _output_root(output_root: str | os.PathLike) -> Path:
    text = os.fspath(output_root)
    if not isinstance(text, str) or not text.strip():
        raise DataRootError(f"expected the output root to be a folder path, got {output_root!r}")
    return Path(os.path.expanduser(text)).absolute()


def _resolve_roots(table_path: Path, meta: Mapping[str, str], raw_root: Any, output_root: Any) -> tuple[str, str]:
    if raw_root is not None:
        raw = str(check_root(raw_root, "raw-data root"))
    elif get_parent_raw_data_path() is not None:
        raw = str(get_parent_raw_data_path())
    else:
        raw = meta.get("raw_root", "")
        if not Path(raw).is_dir():
            log.warning(
                "the raw-data root stored in %s, %r, does not exist here; pass raw_root= to "
                "load_df (or bs.set_parent_raw_data_path) to resolve video paths",
                table_path,
                raw,
            )
    if output_root is not None:
        out = str(_output_root(output_root))
    elif meta.get("output_root_relative") == "1":
        out = str(table_path.parent.joinpath(*meta["output_root"].split("/")))
    else:
        out = meta.get("output_root", str(_default_output_root(table_path)))
    return raw, out


def load_df(
    path: str | os.PathLike,
    raw_root: str | os.PathLike | None = None,
    output_root: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Load a trial table.

    Parameters
    ----------
    path
        The table's ``.h5`` file.
    raw_root
        Raw-data root to use instead of the stored one (the data were moved). Without it, the
        root set by :func:`~behavior_soup.set_parent_raw_data_path` is used if any, else the
        stored one.
    output_root
        Output root to use instead of the stored one.

    Returns
    -------
    pandas.DataFrame
        The table in the in-memory form, with its :class:`TableInfo` in
        ``df.attrs["behavior_soup"]``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    TableFormatError
        The file is not a readable behavior_soup table, or was written by a newer version.
    DataRootError
        ``raw_root`` is given but is not a readable directory.
    """
    table_path = Path(os.path.expanduser(os.fspath(path))).absolute()
    meta, raw_df = _read_consistent(table_path)
    raw_df = schema.migrate(raw_df, int(meta.get("schema_version", "0")))
    if meta.get("write_id"):
        remember(meta["write_id"], raw_df)
        remember_meta(meta)
    df = decode(raw_df)
    raw, out = _resolve_roots(table_path, meta, raw_root, output_root)
    info = TableInfo(
        table_path=str(table_path),
        raw_root=raw,
        output_root=out,
        revision=int(meta.get("revision", "0")),
        write_id=meta.get("write_id", ""),
        naming=_parse_naming(meta),
    )
    set_info(df, info)
    return df


def _parse_naming(meta: Mapping[str, str]) -> dict:
    import json

    try:
        return NamingRule.from_dict(json.loads(meta["naming"])).to_dict()
    except (KeyError, ValueError, TypeError) as exc:
        raise TableFormatError(f"expected a naming rule in the table's metadata, found {meta.get('naming')!r}") from exc


def reload(df: pd.DataFrame) -> pd.DataFrame:
    """Replace ``df``'s contents with the table on disk (keeping its roots). Returns ``df``.

    Parameters
    ----------
    df
        A DataFrame made by :func:`create_df` or :func:`load_df`; edits in memory are lost.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself, holding every row of the table now on disk.

    Raises
    ------
    TableFormatError
        ``df`` was not made by behavior_soup, or the file is not a readable table.
    FileNotFoundError
        The table file is gone.
    """
    info = table_info(df)
    fresh = load_df(info.table_path, output_root=info.output_root)
    new = table_info(fresh)
    replace_contents(df, fresh, replace(new, raw_root=info.raw_root))
    return df

"""The trial table on disk: create, load, save, and locked read-modify-write.

File format (HDF5 via PyTables, readable by plain pandas)::

    /trials               pandas "table" format; dict columns as JSON strings
    /behavior_soup_meta   one UTF-8 string (a scalar HDF5 dataset, no size limit): a JSON
                          object of strings: format, schema_version, revision, write_id,
                          raw_root, output_root, naming, n_rows, saved, registries, ...

(Tables written before the metadata moved there keep it in a ``/meta`` pandas table of
key/value strings; those are still read.)

The file starts with a 512-byte HDF5 *user block*, which HDF5 readers (pandas, h5py, PyTables)
skip: it holds ``behavior_soup table`` and a JSON object with the ``write_id`` and
``revision`` of the write, padded with NUL bytes. Before every change the write id is read
from there (one small read, no HDF5 parsing); the metadata dataset is read only when the
table changed since this process last saw it (tables without the user block are read the
same way, through the metadata).

A DataFrame returned by :func:`create_df`/:func:`load_df` carries where it came from in
``df.attrs["behavior_soup"]`` (table path, raw and output roots, the revision it was loaded
at). Every change goes through :func:`transact`: under the table's file lock, read what is on
disk, merge it with the DataFrame in memory row by row (by ``uuid``), apply the change, write
a temporary file, fsync, and ``os.replace`` it over the table. Readers never see a half-written
table and concurrent writers never lose each other's rows.
"""

from __future__ import annotations

import logging
import os
import secrets
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import schema
from ._version import __version__
from .errors import BehaviorSoupError, DataRootError, ItemExistsError, StaleTableError, TableFormatError
from .locking import atomic_write, locked, remove_stale_temps
from .naming import DEFAULT_RULE, NamingRule
from .paths import check_root, get_parent_raw_data_path, is_inside

__all__ = [
    "TableInfo",
    "read_meta",
    "create_df",
    "load_df",
    "save_df",
    "table_info",
    "transact",
    "update_meta",
    "update_rows",
]

log = logging.getLogger(__name__)

FORMAT_NAME = "behavior_soup.trials"
ATTRS_KEY = "behavior_soup"
META_NODE = "behavior_soup_meta"
#: Size of the HDF5 user block at the start of a table file (the smallest HDF5 allows).
STAMP_SIZE = 512
STAMP_MAGIC = b"behavior_soup table\n"
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: What pandas writes for a missing string and reads back as NaN. Its default, "nan", would turn
#: an animal, session or note named "nan" into NaN on reload; the table never holds missing
#: strings, so this is a string no id, path or JSON text can be (ids and paths exclude control
#: characters in practice and JSON escapes them).
NAN_REP = "\x1fbehavior_soup:NA\x1f"


@dataclass(frozen=True)
class TableInfo:
    """Where a trial table lives and which on-disk revision a DataFrame reflects.

    Attributes
    ----------
    table_path
        Absolute path of the ``.h5`` table file.
    raw_root
        Absolute raw-data root in force (may differ from the one stored in the file).
    output_root
        Absolute root of the per-session ``outputs.h5`` files.
    revision
        Revision number of the table on disk when this DataFrame was loaded or last saved.
    write_id
        Random id of that write; a different id on disk means another process saved.
    naming
        The :class:`~behavior_soup.naming.NamingRule` as a dict.
    """

    table_path: str
    raw_root: str
    output_root: str
    revision: int
    write_id: str
    naming: dict

    @property
    def naming_rule(self) -> NamingRule:
        return NamingRule.from_dict(self.naming)


def table_info(df: pd.DataFrame) -> TableInfo:
    """The :class:`TableInfo` of a DataFrame made by behavior_soup.

    Raises
    ------
    TableFormatError
        If ``df`` did not come from :func:`create_df` or :func:`load_df`.
    """
    d = df.attrs.get(ATTRS_KEY)
    if not isinstance(d, Mapping):
        raise TableFormatError(
            "expected a DataFrame made by behavior_soup.create_df or load_df (with "
            f"df.attrs[{ATTRS_KEY!r}]), got one without it; use bs.load_df(path)"
        )
    return TableInfo(**d)


def _set_info(df: pd.DataFrame, info: TableInfo) -> None:
    df.attrs[ATTRS_KEY] = asdict(info)


# ------------------------------------------------------------------------------------ reading


def read_meta(path: str | os.PathLike) -> dict[str, str]:
    """The metadata of a trial table file (format, schema version, revision, roots, ...).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    TableFormatError
        Not an HDF5 file, or not a behavior_soup table.
    """
    import json

    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"expected a trial table at {str(path)!r}, found no file")
    try:  # h5py opens a file about twice as fast as PyTables; this runs before every change
        with h5py.File(path, "r", locking=False) as f:
            node = f.get(META_NODE)
            raw = bytes(node[()]).decode("utf-8") if isinstance(node, h5py.Dataset) else None
            legacy = raw is None and "meta" in f
    except Exception as exc:  # h5py raises several types for corrupt files
        raise TableFormatError(
            f"expected a readable HDF5 behavior_soup table at {str(path)!r}, found an unreadable "
            f"file ({type(exc).__name__}: {exc})"
        ) from exc
    if raw is not None:
        try:
            d = json.loads(raw)
        except ValueError as exc:
            raise TableFormatError(f"expected JSON metadata in {str(path)!r}, found {raw[:80]!r}") from exc
        if not isinstance(d, dict):
            raise TableFormatError(f"expected a JSON object of metadata in {str(path)!r}, found {raw[:80]!r}")
        d = {str(k): str(v) for k, v in d.items()}
    elif legacy:
        d = _read_legacy_meta(path)
    else:
        raise TableFormatError(
            f"expected a behavior_soup table with metadata (/{META_NODE}) in "
            f"{str(path)!r}, found an HDF5 file without it (a foreign file?)"
        )
    if d.get("format") != FORMAT_NAME:
        raise TableFormatError(f"expected format {FORMAT_NAME!r} in {str(path)!r}, found {d.get('format')!r}")
    return d


_read_meta = read_meta


def read_stamp(path: str | os.PathLike) -> str | None:
    """The ``write_id`` recorded in a table file's user block (see the module docstring), or
    None where the file has none (written by an older version) or cannot be read."""
    import json

    try:
        with open(path, "rb") as fh:
            head = fh.read(STAMP_SIZE)
    except OSError:
        return None
    if not head.startswith(STAMP_MAGIC):
        return None
    try:
        d = json.loads(head[len(STAMP_MAGIC) :].split(b"\0", 1)[0].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    wid = d.get("write_id") if isinstance(d, dict) else None
    return wid if isinstance(wid, str) and wid else None


def _stamp(meta: Mapping[str, str]) -> bytes:
    import json

    body = STAMP_MAGIC + json.dumps({"write_id": meta["write_id"], "revision": meta["revision"]}).encode("utf-8")
    if len(body) >= STAMP_SIZE:  # ids are 16 hex digits: never, unless the code changes
        raise ValueError(f"expected a user-block stamp under {STAMP_SIZE} bytes, got {len(body)}")
    return body.ljust(STAMP_SIZE, b"\0")


# The metadata of the last few revisions written or loaded here, by write_id: a change to a
# table whose user block still carries the write id this process last saw needs no metadata read.
_METAS: OrderedDict[str, dict[str, str]] = OrderedDict()
_METAS_LIMIT = 64


def _remember_meta(meta: Mapping[str, str]) -> None:
    wid = meta.get("write_id")
    if wid:
        _METAS[wid] = dict(meta)
        _METAS.move_to_end(wid)
        while len(_METAS) > _METAS_LIMIT:
            _METAS.popitem(last=False)


def _current_meta(path: Path, write_id: str) -> dict[str, str]:
    """The metadata of the table at ``path`` (lock held by caller): from memory when the
    file's user block says it is still revision ``write_id``, else read from the file."""
    known = _METAS.get(write_id) if write_id else None
    if known is not None and read_stamp(path) == write_id:
        return dict(known)
    meta = _read_meta(path)
    _remember_meta(meta)
    return meta


def _read_legacy_meta(path: Path) -> dict[str, str]:
    """Metadata of tables written before it moved to ``/behavior_soup_meta``: a ``/meta`` table."""
    try:
        meta = pd.read_hdf(path, "meta")
    except Exception as exc:
        raise TableFormatError(
            f"expected a readable /meta table in {str(path)!r} ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(meta, pd.DataFrame) or list(meta.columns) != ["key", "value"]:
        raise TableFormatError(f"expected /meta with columns ['key', 'value'] in {str(path)!r}")
    return dict(zip(meta["key"].astype(str), meta["value"].astype(str)))


def _read_trials(path: Path, meta: Mapping[str, str]) -> pd.DataFrame:
    if meta.get("n_rows") == "0":
        return _encode(schema.empty_table())
    try:
        with pd.HDFStore(path, mode="r") as st:
            raw = st.select("trials")
            stored = _stored_units(st) if int(meta.get("schema_version", "0")) < 2 else {}
    except KeyError as exc:
        raise TableFormatError(f"expected a /trials node in {str(path)!r}, found none") from exc
    except Exception as exc:
        raise TableFormatError(
            f"expected a readable /trials table in {str(path)!r}, found an unreadable one ({type(exc).__name__}: {exc})"
        ) from exc
    return _restore_units(raw, stored) if stored else raw


def _decode(raw: pd.DataFrame) -> pd.DataFrame:
    """The in-memory form (:func:`schema.coerce`) of a table read from disk; ``raw`` is not changed.

    A table in this library's format needs only its JSON columns decoded and its times in
    microseconds: its string columns hold strings (pandas reads them back as such), so they
    are not scanned again; anything else (older or hand-made tables) goes through
    :func:`schema.coerce`.
    """
    df = raw.copy()
    for col in schema.JSON_COLUMNS:
        if col in df.columns:
            df[col] = schema.decode_json_column(df[col], col)
    if "added_time" in df.columns and str(df["added_time"].dtype) != "datetime64[us, UTC]":
        t = df["added_time"]
        t = t.dt.tz_convert("UTC") if isinstance(t.dtype, pd.DatetimeTZDtype) else pd.to_datetime(t, utc=True)
        df["added_time"] = t.astype("datetime64[us, UTC]")
    df.index = pd.RangeIndex(len(df))
    ours = list(df.columns) == list(schema.COLUMNS) and all(
        df[c].dtype == (np.int64 if kind == "int" else object) for c, kind in schema.COLUMNS.items() if kind != "time"
    )
    return df if ours else schema.coerce(df)


def _encode(df: pd.DataFrame) -> pd.DataFrame:
    """The on-disk form of a table: schema columns first, JSON columns as strings."""
    return _to_disk(schema.coerce(df))


def _to_disk(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`_encode` of a table already in the schema's in-memory form (:func:`schema.coerce`)."""
    enc: dict[str, Any] = {}
    for col in table.columns:
        s = table[col]
        if col in schema.JSON_COLUMNS:
            s = schema.encode_json_column(s, col)
        elif col not in schema.COLUMNS and s.dtype == object and not schema.is_clean_str(s):
            raise ValueError(
                f"column {col!r}: expected strings, numbers or datetimes to save, got Python "
                "objects; store dicts in 'model_params' or encode them yourself"
            )
        if s.dtype.kind in "mM":
            # nanoseconds on disk: pandas writes other units' integers but reads them back as
            # nanoseconds (pandas-dev/pandas#60353), which would turn 2024 into 1970
            enc[col] = _as_ns(s, col)
        else:
            enc[col] = s.to_numpy()
    return pd.DataFrame(enc, index=pd.RangeIndex(len(table)))


def _as_ns(s: pd.Series, col: str) -> Any:
    arr = s.array
    if getattr(arr, "unit", "ns") == "ns":
        return arr
    try:
        return arr.as_unit("ns")
    except (OverflowError, ValueError) as exc:  # pandas' OutOfBoundsDatetime is a ValueError
        raise ValueError(f"column {col!r}: expected times within 1677-2262 (stored in nanoseconds), got {exc}") from exc


def _stored_units(store_: pd.HDFStore) -> dict[str, tuple[str, np.ndarray]]:
    """Columns of ``/trials`` stored as datetime64/timedelta64 of a unit other than ns, with
    the unit and the stored integers (shape ``(n_rows,)``, int64).

    Tables of schema version 1 hold ``added_time`` in microseconds, which pandas reads back
    as nanoseconds; these let :func:`_read_trials` restore the true values."""
    storer = store_.get_storer("trials")
    storer.infer_axes()
    out: dict[str, tuple[str, np.ndarray]] = {}
    for axis in storer.values_axes:
        dtype = str(axis.dtype or "")
        if not dtype.startswith(("datetime64[", "timedelta64[")):
            continue
        unit = dtype.split("[", 1)[1].split(",", 1)[0].rstrip("]").strip()
        if unit == "ns":
            continue
        ints = np.asarray(storer.table.read(field=axis.cname)).view(np.int64)
        ints = ints.reshape(len(ints), -1)
        for j, name in enumerate(axis.values):
            out[str(name)] = (unit, ints[:, j])
    return out


def _restore_units(raw: pd.DataFrame, stored: Mapping[str, tuple[str, np.ndarray]]) -> pd.DataFrame:
    for col, (unit, ints) in stored.items():
        if col not in raw.columns:
            continue
        kind = raw[col].dtype.kind
        if kind == "m":
            raw[col] = pd.to_timedelta(ints, unit=unit)
            continue
        t = pd.to_datetime(ints, unit=unit, utc=True)
        tz = getattr(raw[col].dtype, "tz", None)
        raw[col] = t.tz_convert(tz) if tz is not None else t.tz_localize(None)
    return raw


# ------------------------------------------------------------------------------ merge support
# The encoded rows of the last few revisions loaded or saved here, so a later save can tell
# which rows the user changed in memory (a three-way merge per row). Keyed by write_id; hashed
# only when a merge needs them, so loads and saves pay nothing for it.

_SNAPSHOTS: OrderedDict[str, pd.DataFrame] = OrderedDict()
_SNAPSHOT_LIMIT = 64
_SNAPSHOT_MAX_ROWS = 2_000_000


def _row_hashes(enc: pd.DataFrame) -> pd.Series:
    h = pd.util.hash_pandas_object(enc, index=False)
    return pd.Series(h.to_numpy(), index=enc["uuid"].to_numpy())


def _remember(write_id: str, enc: pd.DataFrame) -> None:
    _SNAPSHOTS[write_id] = enc
    _SNAPSHOTS.move_to_end(write_id)
    # row jobs write statuses several times per run; keep enough revisions that a DataFrame
    # loaded before a few runs can still be merged three-way, within a bound on memory
    while len(_SNAPSHOTS) > 1 and (
        len(_SNAPSHOTS) > _SNAPSHOT_LIMIT or sum(len(e) for e in _SNAPSHOTS.values()) > _SNAPSHOT_MAX_ROWS
    ):
        _SNAPSHOTS.popitem(last=False)


def _newer_run(a: Mapping, b: Mapping) -> Mapping:
    return a if str(a.get("updated", "")) >= str(b.get("updated", "")) else b


def _loaded_hashes(write_id: str) -> pd.Series | None:
    enc = _SNAPSHOTS.get(write_id)
    return None if enc is None else _row_hashes(_encode(_decode(enc)))


def merge_tables(mem: pd.DataFrame, disk: pd.DataFrame, loaded: pd.Series | None) -> pd.DataFrame:
    """Three-way merge by ``uuid`` of an in-memory table with the table now on disk.

    ``loaded`` holds the hash of each row as it was when ``mem`` was loaded (None if
    unknown). Rows only on disk were added elsewhere (kept) unless they were loaded and then
    removed in memory (dropped); rows only in memory were added in memory (kept) unless they
    were loaded and then removed on disk (dropped). For rows in both, an unchanged in-memory
    row takes the disk version; a changed one wins, except that each run-status pair takes
    the more recent run.
    """
    mem_h = _row_hashes(_encode(mem))
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
    added_elsewhere = disk[~disk_u.isin(mem_u) & ~disk_u.isin(loaded_u)]
    keys = np.concatenate([order[take_mem], order[in_disk & ~changed], len(mem) + np.arange(len(added_elsewhere))])
    parts = [mine, theirs.reset_index(drop=True), added_elsewhere]
    out = pd.concat([p.reset_index(drop=True) for p in parts], ignore_index=True)
    return out.iloc[np.argsort(keys, kind="stable")].reset_index(drop=True)


# ------------------------------------------------------------------------------------ writing


def _initial_meta(table_path: Path, raw_root: Path, output_root: Path, naming: NamingRule) -> dict[str, str]:
    tdir = table_path.parent
    rel = is_inside(output_root, tdir)
    return {
        "format": FORMAT_NAME,
        "revision": "0",
        "raw_root": str(raw_root),
        "output_root": output_root.relative_to(tdir).as_posix() if rel else str(output_root),
        "output_root_relative": "1" if rel else "0",
        "naming": schema.dumps(naming.to_dict()),
        "created": datetime.now(timezone.utc).isoformat(),
    }


def _write(path: Path, enc: pd.DataFrame, meta: Mapping[str, str]) -> None:
    import json

    text = json.dumps({k: str(v) for k, v in meta.items()}, sort_keys=True)

    stamp = _stamp(meta)

    def writer(tmp: Path) -> None:
        with pd.HDFStore(tmp, mode="w", user_block_size=STAMP_SIZE) as st:
            if len(enc):  # pandas cannot write a 0-row "table"; the metadata's n_rows says it is empty
                st.put("trials", enc, format="table", index=False, track_times=False, nan_rep=NAN_REP)
            root = st.get_node("/")
            root._v_file.create_array(root, META_NODE, obj=np.bytes_(text.encode("utf-8")))
        with open(tmp, "r+b") as fh:  # HDF5 leaves the user block to us
            fh.seek(STAMP_SIZE)
            if fh.read(len(_HDF5_SIGNATURE)) != _HDF5_SIGNATURE:  # no user block: never overwrite HDF5's own bytes
                log.debug("%s was written without a user block; it carries no stamp", tmp)
                return
            fh.seek(0)
            fh.write(stamp)

    atomic_write(path, writer)


def _check_unique(df: pd.DataFrame) -> None:
    n = len(df)
    ids = zip(df["animal_id"].tolist(), df["session_id"].tolist(), df["trial_id"].tolist())
    if len(set(df["uuid"].tolist())) == n and len(set(ids)) == n:
        return
    if df["uuid"].duplicated().any():
        dup = df.loc[df["uuid"].duplicated(), "uuid"].tolist()[:5]
        raise ItemExistsError(f"expected unique uuids, found duplicates {dup}")
    ident = df[["animal_id", "session_id", "trial_id"]]
    d = ident.duplicated()
    if d.any():
        dups = [tuple(x) for x in ident[d].itertuples(index=False)][:5]
        raise ItemExistsError(f"expected each (animal_id, session_id, trial_id) once, found duplicates {dups}")


def _commit(path: Path, new: pd.DataFrame, meta_in: Mapping[str, str]) -> tuple[int, str]:
    """Write ``new`` (in the schema's in-memory form, see :func:`schema.coerce`) as the next
    revision (lock held by caller); return (revision, write_id)."""
    _check_unique(new)
    enc = _to_disk(new)
    meta = dict(meta_in)
    meta.update(
        n_rows=str(len(enc)),
        schema_version=str(schema.SCHEMA_VERSION),
        revision=str(int(meta_in.get("revision", "0")) + 1),
        write_id=secrets.token_hex(8),
        saved=datetime.now(timezone.utc).isoformat(),
        behavior_soup_version=__version__,
    )
    remove_stale_temps(path)
    _write(path, enc, meta)
    _remember(meta["write_id"], enc)
    _remember_meta(meta)
    return int(meta["revision"]), meta["write_id"]


def _replace_contents(df: pd.DataFrame, new: pd.DataFrame, info: TableInfo) -> None:
    """Make ``df`` (the user's object) hold ``new`` (in the schema's in-memory form), in place."""
    if not isinstance(new.index, pd.RangeIndex) or new.index.start != 0 or new.index.step != 1:
        new = new.set_axis(pd.RangeIndex(len(new)))
    df._update_inplace(new)  # pandas' own in-place replacement (as used by inplace=True)
    _set_info(df, info)


# ---------------------------------------------------------------------------------- public API


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
    out = _default_output_root(table_path) if output_root is None else Path(os.path.expanduser(output_root)).absolute()
    if is_inside(out, raw):
        raise DataRootError(
            f"expected the output root outside the raw-data tree {str(raw)!r}, got {str(out)!r}; "
            "results never go inside the raw data"
        )
    if is_inside(table_path, raw):
        raise DataRootError(f"expected the table outside the raw-data tree {str(raw)!r}, got {str(table_path)!r}")
    if table_path.exists() and not overwrite:
        raise FileExistsError(
            f"expected no file at {str(table_path)!r}, found one; load it with bs.load_df() or pass overwrite=True"
        )
    table_path.parent.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    naming = naming or DEFAULT_RULE
    df = schema.empty_table()
    with locked(table_path, what="trial table"):
        rev, wid = _commit(table_path, df, _initial_meta(table_path, raw, out, naming))
    info = TableInfo(str(table_path), str(raw), str(out), rev, wid, naming.to_dict())
    _set_info(df, info)
    log.info("created trial table %s (raw root %s)", table_path, raw)
    return df


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
        out = str(Path(os.path.expanduser(output_root)).absolute())
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

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    TableFormatError
        The file is not a readable behavior_soup table, or was written by a newer version.
    """
    table_path = Path(os.path.expanduser(os.fspath(path))).absolute()
    meta = _read_meta(table_path)
    raw_df = _read_trials(table_path, meta)
    version = int(meta.get("schema_version", "0"))
    raw_df = schema.migrate(raw_df, version)
    if meta.get("write_id"):
        _remember(meta["write_id"], raw_df)
        _remember_meta(meta)
    df = _decode(raw_df)
    raw, out = _resolve_roots(table_path, meta, raw_root, output_root)
    info = TableInfo(
        table_path=str(table_path),
        raw_root=raw,
        output_root=out,
        revision=int(meta.get("revision", "0")),
        write_id=meta.get("write_id", ""),
        naming=_parse_naming(meta),
    )
    _set_info(df, info)
    return df


def _parse_naming(meta: Mapping[str, str]) -> dict:
    import json

    try:
        return NamingRule.from_dict(json.loads(meta["naming"])).to_dict()
    except (KeyError, ValueError, TypeError) as exc:
        raise TableFormatError(f"expected a naming rule in the table's metadata, found {meta.get('naming')!r}") from exc


def _read_disk(path: Path, meta: Mapping[str, str]) -> pd.DataFrame:
    """The rows of the table at ``path`` in the in-memory form, given its metadata ``meta``
    (just read under the lock)."""
    raw_df = _read_trials(path, meta)
    return _decode(schema.migrate(raw_df, int(meta.get("schema_version", "0"))))


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
    :class:`StaleTableError` when ``merge`` is false; apply ``change`` (a function from a
    table to a new table, which must not modify its argument); write the result as the next
    revision. If ``change`` raises, nothing is written and ``df`` is unchanged.
    ``meta_change`` likewise maps the metadata read under the lock to the metadata to write
    (used for table-level registries such as the pose models).

    Returns
    -------
    pandas.DataFrame
        ``df`` itself, now holding the saved table.
    """
    info = table_info(df)
    path = Path(info.table_path)
    with locked(path, lock_timeout, what="trial table"):
        if not path.is_file():
            raise FileNotFoundError(f"expected the trial table at {str(path)!r}, found no file (moved or deleted?)")
        meta = _current_meta(path, info.write_id)
        base: pd.DataFrame = df
        if meta.get("write_id") != info.write_id:
            if not merge:
                raise StaleTableError(
                    f"expected the table on disk to be revision {info.revision} (the one this "
                    f"DataFrame was loaded at), found revision {meta.get('revision')} saved at "
                    f"{meta.get('saved')} by another writer; reload with bs.load_df() or save "
                    "with merge=True to merge by uuid"
                )
            disk = _read_disk(path, meta)
            loaded = _loaded_hashes(info.write_id)
            if loaded is None:
                warnings.warn(
                    "the table changed on disk and the revision this DataFrame was loaded at is "
                    "unknown; merging keeps every row from both (rows deleted in memory may come back)",
                    stacklevel=3,
                )
            base = merge_tables(df, disk, loaded)
        new = base if change is None else change(base.copy(deep=False))
        if not isinstance(new, pd.DataFrame):
            raise BehaviorSoupError(f"expected the change to return a DataFrame, got {type(new).__name__}")
        new = schema.coerce(new)
        if meta_change is not None:
            meta = {str(k): str(v) for k, v in meta_change(dict(meta)).items()}
        rev, wid = _commit(path, new, meta)
    _replace_contents(df, new, replace(info, revision=rev, write_id=wid))
    return df


def save_df(df: pd.DataFrame, merge: bool = False, lock_timeout: float | None = None) -> pd.DataFrame:
    """Save ``df`` over its table file.

    Refuses (:class:`StaleTableError`) when the file changed on disk since ``df`` was
    loaded, unless ``merge=True``, which merges the two by ``uuid``.
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

    Returns
    -------
    int
        How many rows were updated.
    """
    path = Path(table_path)
    with locked(path, lock_timeout, what="trial table"):
        meta = _read_meta(path)
        disk = _read_disk(path, meta)
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
    disk); for table-level registries changed by jobs. Returns the metadata written."""
    path = Path(table_path)
    with locked(path, lock_timeout, what="trial table"):
        meta = _read_meta(path)
        disk = _read_disk(path, meta)
        new_meta = {str(k): str(v) for k, v in change(dict(meta)).items()}
        _commit(path, disk, new_meta)
    return new_meta


def reload(df: pd.DataFrame) -> pd.DataFrame:
    """Replace ``df``'s contents with the table on disk (keeping its roots). Returns ``df``."""
    info = table_info(df)
    fresh = load_df(info.table_path, output_root=info.output_root)
    new = table_info(fresh)
    _replace_contents(df, fresh, replace(new, raw_root=info.raw_root))
    return df


def refresh(df: pd.DataFrame, lock_timeout: float | None = None) -> pd.DataFrame:
    """Bring ``df`` up to date with its table on disk without writing: rows changed on disk
    (e.g. run statuses recorded by a job) are taken, edits made in memory are kept. Returns
    ``df``, updated in place."""
    info = table_info(df)
    path = Path(info.table_path)
    with locked(path, lock_timeout, what="trial table"):
        meta = _current_meta(path, info.write_id)
        if meta.get("write_id") == info.write_id:
            return df
        disk = _read_disk(path, meta)
        merged = schema.coerce(merge_tables(df, disk, _loaded_hashes(info.write_id)))
    _replace_contents(df, merged, replace(info, revision=int(meta["revision"]), write_id=meta["write_id"]))
    return df

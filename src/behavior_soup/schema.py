"""The trial table's columns, their types, and validation of the values that go in them.

One row is one trial. The table is persisted with PyTables in ``format="table"`` so that plain
``pandas.read_hdf(path, "trials")`` reads it; dict-valued columns are stored as JSON strings and
decoded on load. :data:`SCHEMA_VERSION` is stored with the table and bumped on any change of
columns; :func:`migrate` brings older tables up to date.

The id checks (:func:`validate_id`, :func:`validate_trial_id`, :func:`validate_exp_type`, ...)
live in :mod:`behavior_soup.ids` and the JSON encoding of dict columns (:func:`dumps`,
:func:`encode_json_column`, :func:`decode_json_column`, ...) in :mod:`behavior_soup.json_columns`;
both are importable from here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .errors import TableFormatError
from .ids import EXP_TYPES, register_exp_type, trial_key, validate_exp_type, validate_id, validate_trial_id
from .json_columns import as_dict, decode_json_column, dumps, encode_json_column, is_clean_str

__all__ = [
    "COLUMNS",
    "EXP_TYPES",
    "JSON_COLUMNS",
    "SCHEMA_VERSION",
    "STATUSES",
    "STATUS_NAMESPACES",
    "VIEWS",
    "coerce",
    "decode_json_column",
    "dumps",
    "empty_table",
    "encode_json_column",
    "first_bad",
    "from_columns",
    "identities",
    "is_clean_str",
    "migrate",
    "register_exp_type",
    "row_identity",
    "run_column",
    "status_column",
    "trial_key",
    "validate_exp_type",
    "validate_id",
    "validate_trial_id",
    "video_trials",
    "view_column",
]

#: Version of the table's on-disk layout. 1: ``added_time`` stored in microseconds, which
#: pandas reads back as nanoseconds (repaired on load from the stored unit); 2: stored in
#: nanoseconds, so plain ``pandas.read_hdf`` gets the right times.
SCHEMA_VERSION = 2

#: Camera views a behavior trial may have; each gets a ``<view>_video`` column.
VIEWS: tuple[str, ...] = ("front", "side")

#: Accessor namespaces whose row-level jobs record a run status in the table. Each gets a
#: ``<ns>_status`` column (``""``, ``"pending"``, ``"running"``, ``"done"``, ``"failed"``) and a
#: ``<ns>_run`` JSON column (job name, parameters, timings, backend, traceback of a failure).
STATUS_NAMESPACES: tuple[str, ...] = ("behavior", "pose", "moseq", "sta")

STATUSES: tuple[str, ...] = ("", "pending", "running", "done", "failed")

#: Columns holding dicts in memory and JSON strings on disk.
JSON_COLUMNS: tuple[str, ...] = (
    "files",
    "model_params",
    *(f"{ns}_run" for ns in STATUS_NAMESPACES),
)


def view_column(view: str) -> str:
    """Name of the column holding the relative video path of ``view``.

    Parameters
    ----------
    view
        A camera view in :data:`VIEWS`.

    Returns
    -------
    str
        ``"<view>_video"``.

    Raises
    ------
    ValueError
        If ``view`` is not in :data:`VIEWS`.
    """
    if view not in VIEWS:
        raise ValueError(f"expected a view in {list(VIEWS)}, got {view!r}")
    return f"{view}_video"


def video_trials(df: pd.DataFrame) -> np.ndarray:
    """``(len(df),)`` bool: the rows with at least one video (the one definition of a video
    trial, used wherever a job runs on videos by default).

    Parameters
    ----------
    df
        A trial table; ``<view>_video`` columns it lacks are taken as empty.

    Returns
    -------
    numpy.ndarray
        ``(len(df),)`` bool, ``True`` where any ``<view>_video`` cell is not ``""`` (all
        ``False`` if ``df`` has no video column).

    Examples
    --------
    >>> df[video_trials(df)]  # doctest: +SKIP
    """
    cols = [view_column(v) for v in VIEWS if view_column(v) in df.columns]
    if not cols:
        return np.zeros(len(df), bool)
    return df[cols].ne("").any(axis=1).to_numpy()


def status_column(ns: str) -> str:
    """Name of the run-status column of the accessor namespace ``ns``.

    Parameters
    ----------
    ns
        A namespace in :data:`STATUS_NAMESPACES`.

    Returns
    -------
    str
        ``"<ns>_status"``.

    Raises
    ------
    ValueError
        If ``ns`` is not in :data:`STATUS_NAMESPACES`.
    """
    if ns not in STATUS_NAMESPACES:
        raise ValueError(f"expected a status namespace in {list(STATUS_NAMESPACES)}, got {ns!r}")
    return f"{ns}_status"


def run_column(ns: str) -> str:
    """Name of the JSON run-record column of the accessor namespace ``ns``.

    Parameters
    ----------
    ns
        A namespace in :data:`STATUS_NAMESPACES`.

    Returns
    -------
    str
        ``"<ns>_run"``.

    Raises
    ------
    ValueError
        If ``ns`` is not in :data:`STATUS_NAMESPACES`.
    """
    status_column(ns)
    return f"{ns}_run"


#: Column name -> kind. Kinds: ``str``, ``int``, ``json``, ``time``.
COLUMNS: dict[str, str] = {
    "uuid": "str",
    "animal_id": "str",
    "session_id": "str",
    "trial_id": "int",
    "exp_type": "str",
    **{view_column(v): "str" for v in VIEWS},
    "files": "json",
    "output_path": "str",
    "model_params": "json",
    "notes": "str",
    "added_time": "time",
}
for _ns in STATUS_NAMESPACES:
    COLUMNS[status_column(_ns)] = "str"
    COLUMNS[run_column(_ns)] = "json"
del _ns

_DEFAULTS = {"str": "", "int": -1, "json": None, "time": pd.NaT}


def empty_table() -> pd.DataFrame:
    """A trial table with every column and no rows, in the in-memory dtypes.

    Returns
    -------
    pandas.DataFrame
        Zero rows, the columns of :data:`COLUMNS` in order, with a ``RangeIndex``.
    """
    return from_columns(0, {})


def _default_column(kind: str, n: int) -> np.ndarray | pd.DatetimeIndex:
    if kind == "json":
        out = np.empty(n, dtype=object)
        for i in range(n):  # a dict per row: no aliasing between rows
            out[i] = {}
        return out
    if kind == "int":
        return np.full(n, _DEFAULTS["int"], dtype=np.int64)
    if kind == "time":
        return pd.DatetimeIndex(np.full(n, np.datetime64("NaT", "us")), tz="UTC")
    return np.full(n, _DEFAULTS[kind], dtype=object)


def from_columns(n: int, values: Mapping[str, Any]) -> pd.DataFrame:
    """A table of ``n`` new rows from column values already in the in-memory dtypes.

    ``values`` maps schema columns to length-``n`` arrays: ``str`` columns as object arrays of
    ``str``, ``int`` as int64, ``json`` as object arrays holding a distinct dict per row,
    ``time`` as datetime64[us, UTC]. Columns not given get their defaults. The values are not
    checked (this is the fast path for rows built by the library itself); use :func:`coerce`
    for anything else. The arrays are used as they are, not copied: pass arrays nothing else holds.

    Parameters
    ----------
    n
        Number of rows.
    values
        Schema column name -> length-``n`` array, in the dtypes above.

    Returns
    -------
    pandas.DataFrame
        ``n`` rows with a ``RangeIndex``, the columns of :data:`COLUMNS` in order.

    Raises
    ------
    KeyError
        If ``values`` has a key that is not a schema column.
    """
    unknown = set(values) - set(COLUMNS)
    if unknown:
        raise KeyError(f"expected schema columns, got {sorted(unknown)}")
    data = {c: values[c] if c in values else _default_column(k, n) for c, k in COLUMNS.items()}
    return pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)


def coerce(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly the schema's columns, in order, with in-memory dtypes.

    Missing columns are added with defaults. Columns not in the schema are kept at the end
    (users may add their own), but must hold strings or numbers to be saved. A ``df`` that
    already conforms is returned as it is (not copied).

    Parameters
    ----------
    df
        A trial table, possibly partial or with other dtypes. ``str`` columns get missing values
        as ``""``, ``int`` columns are cast to int64, ``time`` columns are parsed to
        datetime64[us, UTC], ``json`` columns get ``{}`` for missing cells.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself if it already conforms, otherwise a new table with ``df``'s index: the
        schema's columns in order, then ``df``'s other columns.

    Raises
    ------
    ValueError
        If a ``json`` column holds something other than a mapping or a missing value, an
        ``int`` column holds a missing, fractional or non-numeric value, or a ``time`` column
        a value that is not a time; the message names the column, the row and the value.
    """
    out: dict[str, Any] = {}
    n = len(df)
    same = list(df.columns[: len(COLUMNS)]) == list(COLUMNS)
    for col, kind in COLUMNS.items():
        if col not in df.columns:
            out[col] = _default_column(kind, n)
            continue
        s = orig = df[col]
        if kind == "str":
            if not is_clean_str(s):
                s = s.astype(object).where(s.notna(), "").astype(str)
        elif kind == "int":
            if s.dtype != np.int64:
                s = _as_int64(s, col)
        elif kind == "time":
            if str(s.dtype) != "datetime64[us, UTC]":
                s = _as_time(s, col)
        elif n and set(map(type, s.to_numpy(dtype=object))) != {dict}:
            s = _as_dicts(s, col)
        same = same and s is orig
        out[col] = s.array if kind == "time" else s.to_numpy()
    if same:
        return df
    for c in df.columns:
        if c not in COLUMNS:
            out[c] = df[c].array
    return pd.DataFrame(out, index=df.index)


def first_bad(s: pd.Series, bad: np.ndarray, uuids: pd.Series | None = None) -> str:
    """Where a column breaks a rule, for a message: the first bad value, its row, and how
    many other rows break it.

    Parameters
    ----------
    s
        The column.
    bad
        ``(len(s),)`` bool, true on the rows that break the rule (at least one).
    uuids
        The rows' uuids, named beside the row when given.

    Returns
    -------
    str
        e.g. ``"'../etc' in row 0 (uuid '...') (and 2 more rows)"``; strings over 60 characters
        are cut.
    """
    i = int(np.flatnonzero(bad)[0])
    more = int(bad.sum()) - 1
    v = s.iloc[i]
    v = v.item() if isinstance(v, np.generic) else v
    shown = f"{v[:60]!r}..." if isinstance(v, str) and len(v) > 60 else repr(v)
    where = f"row {s.index.tolist()[i]!r}" + (f" (uuid {uuids.iloc[i]!r})" if uuids is not None else "")
    return f"{shown} in {where}" + (f" (and {more} more rows)" if more else "")


def _as_int64(s: pd.Series, col: str) -> pd.Series:
    if s.dtype.kind in "iu" and (s.dtype.kind == "i" or not len(s) or s.max() <= np.iinfo(np.int64).max):
        return s.astype("int64")
    values = s.to_numpy(dtype=object)
    bad = np.array(
        [
            isinstance(v, (bool, np.bool_))
            or not isinstance(v, (int, np.integer, float, np.floating))
            or (isinstance(v, (float, np.floating)) and not (np.isfinite(v) and float(v).is_integer()))
            or not -(2**63) <= v < 2**63
            for v in values
        ],
        dtype=bool,
    )
    if bad.any():
        raise ValueError(f"expected whole numbers in column {col!r}, found {first_bad(s, bad)}")
    return pd.Series([int(v) for v in values], index=s.index, dtype="int64")


def _as_time(s: pd.Series, col: str) -> pd.Series:
    mixed = {"format": "mixed"} if s.dtype == object else {}  # strings: each parsed on its own
    parsed = pd.to_datetime(s, utc=True, errors="coerce", **mixed)
    bad = (parsed.isna() & s.notna()).to_numpy()
    if bad.any():
        raise ValueError(
            f"expected times in column {col!r} (e.g. '2024-01-05 10:00:00+00:00'), found {first_bad(s, bad)}"
        )
    return parsed.astype("datetime64[us, UTC]")


def _as_dicts(s: pd.Series, col: str) -> pd.Series:
    values = s.to_numpy(dtype=object)
    bad = np.array(
        [not (isinstance(v, Mapping) or v is None or (isinstance(v, float) and np.isnan(v))) for v in values]
    )
    if bad.any():
        raise ValueError(f"expected dicts (or missing values) in column {col!r}, found {first_bad(s, bad)}")
    return s.astype(object).map(as_dict)


def migrate(df: pd.DataFrame, version: int) -> pd.DataFrame:
    """Bring a table read from disk at schema ``version`` to :data:`SCHEMA_VERSION`.

    Versions 1 and 2 hold the same columns; version 1's ``added_time`` is repaired while the
    file is read (it needs the stored integers and unit, see ``store.format.read_trials``).

    Parameters
    ----------
    df
        The table as read.
    version
        The schema version stored with it.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself (no version so far needs changes here).

    Raises
    ------
    TableFormatError
        If ``version`` is newer than :data:`SCHEMA_VERSION`.
    """
    if version > SCHEMA_VERSION:
        raise TableFormatError(
            f"expected a table of schema version <= {SCHEMA_VERSION}, found version {version}; "
            "upgrade behavior_soup to read it"
        )
    return df


def row_identity(row: Mapping[str, Any]) -> tuple[str, str, int]:
    """The key that identifies a trial row.

    Parameters
    ----------
    row
        A trial row (a mapping or ``pandas.Series``) with ``animal_id``, ``session_id`` and
        ``trial_id``.

    Returns
    -------
    tuple of (str, str, int)
        ``(animal_id, session_id, trial_id)``.
    """
    return (str(row["animal_id"]), str(row["session_id"]), int(row["trial_id"]))


def identities(df: pd.DataFrame) -> Iterable[tuple[str, str, int]]:
    """The keys that identify the rows of a trial table, in row order.

    Parameters
    ----------
    df
        A trial table with ``animal_id``, ``session_id`` and ``trial_id`` columns.

    Returns
    -------
    iterator of tuple
        One ``(animal_id, session_id, trial_id)`` per row, with the values as stored (not
        converted, unlike :func:`row_identity`).
    """
    return zip(df["animal_id"].tolist(), df["session_id"].tolist(), df["trial_id"].tolist())

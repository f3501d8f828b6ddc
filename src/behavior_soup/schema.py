"""The trial table's columns, their types, and validation of the values that go in them.

One row is one trial. The table is persisted with PyTables in ``format="table"`` so that plain
``pandas.read_hdf(path, "trials")`` reads it; dict-valued columns are stored as JSON strings and
decoded on load. :data:`SCHEMA_VERSION` is stored with the table and bumped on any change of
columns; :func:`migrate` brings older tables up to date.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .errors import InvalidIdError, TableFormatError

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

#: Known experiment types. ``""`` means "not given". Extend with :func:`register_exp_type`.
EXP_TYPES: dict[str, str] = {
    "": "not specified",
    "table": "head-fixed reach-to-grab on a table (front and side cameras)",
    "pez": "escape in a pez dispenser arena",
    "openfield": "freely moving animal in an open field",
    "ephys": "electrophysiology recording during a stimulus movie",
}


def view_column(view: str) -> str:
    """Name of the column holding the relative video path of ``view``."""
    if view not in VIEWS:
        raise ValueError(f"expected a view in {list(VIEWS)}, got {view!r}")
    return f"{view}_video"


def status_column(ns: str) -> str:
    if ns not in STATUS_NAMESPACES:
        raise ValueError(f"expected a status namespace in {list(STATUS_NAMESPACES)}, got {ns!r}")
    return f"{ns}_status"


def run_column(ns: str) -> str:
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

_BAD_ID = re.compile(r"[/\\\x00]")


def register_exp_type(name: str, description: str) -> None:
    """Make ``name`` an accepted ``exp_type``.

    Parameters
    ----------
    name
        Short lowercase name, letters, digits, ``_`` and ``-``.
    description
        One line for ``behavior-soup info`` and error messages.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", name):
        raise ValueError(f"expected an exp_type name of lowercase letters, digits, '_' or '-', got {name!r}")
    EXP_TYPES[name] = description


def validate_exp_type(exp_type: str | None) -> str:
    exp_type = "" if exp_type is None else exp_type
    if not isinstance(exp_type, str) or exp_type not in EXP_TYPES:
        known = [k for k in EXP_TYPES if k]
        raise InvalidIdError(
            f"expected exp_type to be one of {known} (or None), got {exp_type!r}; "
            "add new ones with behavior_soup.schema.register_exp_type()"
        )
    return exp_type


def validate_id(value: Any, what: str) -> str:
    """Check an animal or session id and return it as ``str``.

    An id becomes a directory name and an HDF5 group name, so it must be a non-empty string
    without ``/``, ``\\`` or NUL, must not be ``.`` or ``..``, and must not start or end with
    whitespace.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (str, int, np.integer)):
        raise InvalidIdError(f"expected {what} to be a string, got {type(value).__name__} {value!r}")
    text = str(value)
    if not text:
        raise InvalidIdError(f"expected a non-empty {what}, got an empty string")
    if _BAD_ID.search(text):
        raise InvalidIdError(f"expected {what} without '/', '\\' or NUL characters (it names a folder), got {text!r}")
    if text in (".", ".."):
        raise InvalidIdError(f"expected {what} to name a folder, got {text!r}")
    if text != text.strip():
        raise InvalidIdError(f"expected {what} without leading/trailing whitespace, got {text!r}")
    return text


def validate_trial_id(value: Any) -> int:
    """Check a trial id: a non-negative integer (``7``, ``"007"`` and ``np.int64(7)`` are 7)."""
    if isinstance(value, (bool, np.bool_)):
        raise InvalidIdError(f"expected trial_id to be a non-negative integer, got {value!r}")
    if isinstance(value, str):
        if not value.isdigit():
            raise InvalidIdError(f"expected trial_id to be a non-negative integer, got {value!r}")
        value = int(value)
    if not isinstance(value, (int, np.integer)) or value < 0:
        raise InvalidIdError(f"expected trial_id to be a non-negative integer, got {value!r}")
    return int(value)


def trial_key(trial_id: int) -> str:
    """HDF5 group name of a trial inside its session's ``outputs.h5``: ``trial_<id>``."""
    return f"trial_{int(trial_id)}"


def empty_table() -> pd.DataFrame:
    """A trial table with every column and no rows, in the in-memory dtypes."""
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
                s = s.astype("int64")
        elif kind == "time":
            if str(s.dtype) != "datetime64[us, UTC]":
                s = pd.to_datetime(s, utc=True).astype("datetime64[us, UTC]")
        elif n and set(map(type, s.to_numpy(dtype=object))) != {dict}:
            s = s.astype(object).map(_as_dict)
        same = same and s is orig
        out[col] = s.array if kind == "time" else s.to_numpy()
    if same:
        return df
    for c in df.columns:
        if c not in COLUMNS:
            out[c] = df[c].array
    return pd.DataFrame(out, index=df.index)


def is_clean_str(s: pd.Series) -> bool:
    """Whether ``s`` holds only strings, no missing values (pandas 2 object or pandas 3 str)."""
    if s.dtype == object:
        return pd.api.types.infer_dtype(s.to_numpy(), skipna=False) in ("string", "empty")
    return pd.api.types.is_string_dtype(s.dtype) and not s.hasnans


def _as_dict(v: Any) -> dict:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return {}
    if not isinstance(v, Mapping):
        raise ValueError(f"expected a dict in a JSON column, got {type(v).__name__} {v!r}")
    return v if isinstance(v, dict) else dict(v)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (pd.Timestamp,)):
        return o.isoformat()
    raise TypeError(f"expected JSON-serialisable values, got {type(o).__name__}")


def dumps(value: Any) -> str:
    """Encode a dict-like cell as compact, key-sorted JSON."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


def encode_json_column(s: pd.Series, name: str) -> pd.Series:
    """Encode a dict column to JSON strings."""
    try:
        out = np.empty(len(s), dtype=object)
        out[:] = [dumps(v) if v else "{}" for v in s.to_numpy(dtype=object)]
        return pd.Series(out, index=s.index, copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"column {name!r}: expected JSON-serialisable dicts; {exc}") from exc


def decode_json_column(s: pd.Series, name: str) -> pd.Series:
    """Decode a JSON string column; every row gets its own dict (no aliasing between rows)."""
    values = s.to_numpy(dtype=object)
    out = np.empty(len(values), dtype=object)
    loads = json.loads
    try:
        for i, v in enumerate(values):
            out[i] = {} if (not v or v == "{}") else loads(v)
    except (json.JSONDecodeError, TypeError) as exc:
        raise TableFormatError(f"column {name!r}: expected JSON text, found {exc}") from exc
    return pd.Series(out, index=s.index, copy=False)


def migrate(df: pd.DataFrame, version: int) -> pd.DataFrame:
    """Bring a table read from disk at schema ``version`` to :data:`SCHEMA_VERSION`.

    Versions 1 and 2 hold the same columns; version 1's ``added_time`` is repaired while the
    file is read (it needs the stored integers and unit, see ``store.format.read_trials``).
    """
    if version > SCHEMA_VERSION:
        raise TableFormatError(
            f"expected a table of schema version <= {SCHEMA_VERSION}, found version {version}; "
            "upgrade behavior_soup to read it"
        )
    return df


def row_identity(row: Mapping[str, Any]) -> tuple[str, str, int]:
    return (str(row["animal_id"]), str(row["session_id"]), int(row["trial_id"]))


def identities(df: pd.DataFrame) -> Iterable[tuple[str, str, int]]:
    return zip(df["animal_id"].tolist(), df["session_id"].tolist(), df["trial_id"].tolist())

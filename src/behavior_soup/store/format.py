"""The table's on-disk form: the metadata, the ``/trials`` node, and the codec between the
in-memory schema and what pandas stores.

File format (HDF5 via PyTables, readable by plain pandas)::

    /trials               pandas "table" format; dict columns as JSON strings
    /behavior_soup_meta   one UTF-8 string (a scalar HDF5 dataset, no size limit): a JSON
                          object of strings: format, schema_version, revision, write_id,
                          raw_root, output_root, naming, n_rows, saved, registries, ...

(Tables written before the metadata moved there keep it in a ``/meta`` pandas table of
key/value strings; those are still read.) Times are stored in nanoseconds: pandas writes other
units' integers but reads them back as nanoseconds (pandas-dev/pandas#60353); tables of
schema version 1 hold microseconds and are repaired on load from the unit pandas recorded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..errors import TableFormatError

__all__ = ["FORMAT_NAME", "META_NODE", "NAN_REP", "decode", "encode", "read_meta", "read_trials", "to_disk"]

FORMAT_NAME = "behavior_soup.trials"
META_NODE = "behavior_soup_meta"
#: What pandas writes for a missing string and reads back as NaN. Its default, "nan", would turn
#: an animal, session or note named "nan" into NaN on reload; the table never holds missing
#: strings, so this is a string no id, path or JSON text can be (ids and paths exclude control
#: characters in practice and JSON escapes them).
NAN_REP = "\x1fbehavior_soup:NA\x1f"


def read_meta(path: str | os.PathLike) -> dict[str, str]:
    """The metadata of a trial table file (format, schema version, revision, roots, ...).

    Parameters
    ----------
    path
        The table file.

    Returns
    -------
    dict of str to str
        The metadata, from ``/behavior_soup_meta`` (or the legacy ``/meta`` table).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    TableFormatError
        Not an HDF5 file, or not a behavior_soup table (no or unreadable metadata, another
        ``format``, or a revision or schema version that is not a whole number).
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
    for key in ("revision", "schema_version"):
        v = d.get(key, "0")
        if not (v.isascii() and v.isdigit()):
            raise TableFormatError(
                f"expected the {key} in the metadata of {str(path)!r} to be a whole number, found {v[:40]!r}"
            )
    return d


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


def read_trials(path: Path, meta: Mapping[str, str]) -> pd.DataFrame:
    """The ``/trials`` rows as pandas reads them (schema version 1 times repaired), checked
    against the metadata: a DataFrame with the schema's columns and ``n_rows`` rows.

    Parameters
    ----------
    path
        The table file.
    meta
        Its metadata (see :func:`read_meta`); ``n_rows`` and ``schema_version`` are used.

    Returns
    -------
    pandas.DataFrame
        The rows in the on-disk form (JSON columns as strings, times as stored); an empty
        encoded table when ``n_rows`` is ``"0"``.

    Raises
    ------
    TableFormatError
        The node is missing, unreadable, or not what the metadata says it is.
    """
    expected = meta.get("n_rows")
    if expected == "0":
        return encode(schema.empty_table())
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
    if not isinstance(raw, pd.DataFrame):
        raise TableFormatError(
            f"expected a /trials table of rows in {str(path)!r}, found {type(raw).__name__} (its data node is missing)"
        )
    if expected is not None and expected.isdigit() and len(raw) != int(expected):
        raise TableFormatError(
            f"expected {expected} rows in /trials of {str(path)!r} (its metadata says), found {len(raw)}"
        )
    missing = [c for c in ("uuid", "animal_id", "session_id", "trial_id") if c not in raw.columns]
    if missing:
        raise TableFormatError(
            f"expected the columns {missing} in /trials of {str(path)!r}, found {list(raw.columns)[:12]}"
        )
    return _restore_units(raw, stored) if stored else raw


def decode(raw: pd.DataFrame) -> pd.DataFrame:
    """The in-memory form (:func:`schema.coerce`) of a table read from disk; ``raw`` is not changed.

    A table in this library's format needs only its JSON columns decoded and its times in
    microseconds: its string columns hold strings (pandas reads them back as such), so they
    are not scanned again; anything else (older or hand-made tables) goes through
    :func:`schema.coerce`.

    Parameters
    ----------
    raw
        A table in the on-disk form (e.g. from :func:`read_trials`).

    Returns
    -------
    pandas.DataFrame
        A new DataFrame in the in-memory form: JSON columns as dicts, ``added_time`` as
        ``datetime64[us, UTC]``, a ``RangeIndex``.

    Raises
    ------
    TableFormatError
        A JSON column holds text that is not JSON.
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


def encode(df: pd.DataFrame) -> pd.DataFrame:
    """The on-disk form of a table: schema columns first, JSON columns as strings.

    Parameters
    ----------
    df
        A trial table; it is brought to the in-memory form with :func:`schema.coerce` first.

    Returns
    -------
    pandas.DataFrame
        A new DataFrame as :func:`to_disk` returns it.

    Raises
    ------
    ValueError
        As for :func:`to_disk`.
    """
    return to_disk(schema.coerce(df))


def to_disk(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`encode` of a table already in the schema's in-memory form (:func:`schema.coerce`).

    Parameters
    ----------
    table
        A table in the in-memory form.

    Returns
    -------
    pandas.DataFrame
        A new DataFrame with the same columns and a ``RangeIndex``: JSON columns as JSON
        strings, datetime and timedelta columns in nanoseconds, the others as NumPy arrays.

    Raises
    ------
    ValueError
        A JSON column holds values that are not JSON-serialisable, a column outside the schema
        holds Python objects other than strings, or a time lies outside 1677-2262.
    """
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
    as nanoseconds; these let :func:`read_trials` restore the true values."""
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

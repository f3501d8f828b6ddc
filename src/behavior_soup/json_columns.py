"""Dict-valued columns of the trial table: dicts in memory, compact JSON strings on disk.

:func:`encode_json_column` and :func:`decode_json_column` convert a whole column for saving and
loading; :func:`dumps` encodes one cell; :func:`as_dict` and :func:`is_clean_str` are the cell
and column checks :func:`behavior_soup.schema.coerce` relies on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .errors import TableFormatError

__all__ = ["as_dict", "decode_json_column", "dumps", "encode_json_column", "is_clean_str"]


def is_clean_str(s: pd.Series) -> bool:
    """Whether ``s`` holds only strings, no missing values (pandas 2 object or pandas 3 str).

    Parameters
    ----------
    s
        The column to test.

    Returns
    -------
    bool
        ``True`` for an object column of only ``str`` (or empty), or a string-dtype column
        without missing values.
    """
    if s.dtype == object:
        return pd.api.types.infer_dtype(s.to_numpy(), skipna=False) in ("string", "empty")
    return pd.api.types.is_string_dtype(s.dtype) and not s.hasnans


def as_dict(v: Any) -> dict:
    """A JSON-column cell as a dict: missing values become ``{}``.

    Parameters
    ----------
    v
        A cell of a ``json`` column: a mapping, ``None`` or NaN.

    Returns
    -------
    dict
        ``v`` itself if it is a ``dict``, a ``dict`` copy of another mapping, or a new ``{}``
        for a missing value.

    Raises
    ------
    ValueError
        If ``v`` is neither a mapping nor a missing value.
    """
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
    """Encode a dict-like cell as compact, key-sorted JSON.

    Parameters
    ----------
    value
        A JSON-serialisable value; NumPy scalars and arrays and ``pandas.Timestamp`` are
        converted (to Python numbers, lists and ISO strings).

    Returns
    -------
    str
        JSON text without spaces.

    Raises
    ------
    TypeError
        If ``value`` holds something that cannot be serialised.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


def encode_json_column(s: pd.Series, name: str) -> pd.Series:
    """Encode a dict column to JSON strings.

    Parameters
    ----------
    s
        A column of dicts (empty or falsy cells become ``"{}"``).
    name
        The column's name, for error messages.

    Returns
    -------
    pandas.Series
        Object series of JSON strings, with ``s``'s index.

    Raises
    ------
    ValueError
        If a cell cannot be serialised.
    """
    try:
        out = np.empty(len(s), dtype=object)
        out[:] = [dumps(v) if v else "{}" for v in s.to_numpy(dtype=object)]
        return pd.Series(out, index=s.index, copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"column {name!r}: expected JSON-serialisable dicts; {exc}") from exc


def decode_json_column(s: pd.Series, name: str) -> pd.Series:
    """Decode a JSON string column; every row gets its own dict (no aliasing between rows).

    Parameters
    ----------
    s
        A column of JSON strings (empty strings and missing values become ``{}``).
    name
        The column's name, for error messages.

    Returns
    -------
    pandas.Series
        Object series of the decoded values, with ``s``'s index.

    Raises
    ------
    TableFormatError
        If a cell is not valid JSON text.
    """
    values = s.to_numpy(dtype=object)
    out = np.empty(len(values), dtype=object)
    loads = json.loads
    try:
        for i, v in enumerate(values):
            out[i] = {} if (not v or v == "{}") else loads(v)
    except (json.JSONDecodeError, TypeError) as exc:
        raise TableFormatError(f"column {name!r}: expected JSON text, found {exc}") from exc
    return pd.Series(out, index=s.index, copy=False)

"""Validation of a trial table before it is written.

Every save goes through :func:`check_table` (see :func:`behavior_soup.store.transact`), so an
edit made in memory (``df.loc[i, "animal_id"] = ...``) is held to the same rules as a row the
library adds: ids that name folders, registered experiment types, known statuses, and stored
paths that are relative POSIX paths inside their roots. A table that breaks a rule is not
written; the error names the column, the rule, the value and the row.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from .. import schema
from ..errors import InvalidIdError, TableEditError
from ..ids import EXP_TYPES, MAX_ID_BYTES, validate_id

__all__ = ["check_table", "problems"]

#: A stored relative path that leaves its root, names a drive, or is not POSIX.
_BAD_PATH = r"\\|^/|^[A-Za-z]:|(?:^|/)\.\.(?:/|$)|[\x00-\x1f\x7f]"
_UUID = rf"[^\s/\\\x00-\x1f\x7f]{{1,{MAX_ID_BYTES}}}"
_PATH_RULE = "a relative POSIX path inside its root ('/' separators, no drive, no '..')"


def _found(table: pd.DataFrame, col: str, bad: np.ndarray, expected: str) -> str:
    i = int(np.flatnonzero(bad)[0])
    n = int(bad.sum())
    value = table[col].iloc[i]
    value = value.item() if isinstance(value, np.generic) else value
    shown = f"{value[:60]!r}..." if isinstance(value, str) and len(value) > 60 else repr(value)
    where = f"row {table.index[i]!r} (uuid {table['uuid'].iloc[i]!r})"
    more = f" and {n - 1} more rows" if n > 1 else ""
    return f"expected {col} to be {expected}, found {shown} in {where}{more}"


def _bad_ids(s: pd.Series, col: str) -> np.ndarray:
    bad = set()
    for v in pd.unique(s.to_numpy()):  # few distinct animals and sessions
        try:
            validate_id(v, col)
        except InvalidIdError:
            bad.add(v)
    return s.isin(bad).to_numpy() if bad else np.zeros(len(s), bool)


def _bad_paths(s: pd.Series) -> np.ndarray:
    return s.str.contains(_BAD_PATH, regex=True).to_numpy(dtype=bool)


def _bad_files(s: pd.Series) -> np.ndarray:
    import re

    pattern = re.compile(_BAD_PATH)
    return np.array(
        [any(not isinstance(v, str) or not v or pattern.search(v) for v in d.values()) if d else False for d in s],
        dtype=bool,
    )


def problems(table: pd.DataFrame) -> Iterator[str]:
    """What breaks the table's rules, one message per column and rule.

    Parameters
    ----------
    table
        A trial table in the in-memory form (see :func:`behavior_soup.schema.coerce`).

    Yields
    ------
    str
        "expected <column> to be <rule>, found <value> in row <index> (uuid ...)", with the
        number of other rows that break the same rule.
    """
    if not len(table):
        return
    uuid = table["uuid"]
    bad = ~uuid.str.fullmatch(_UUID).to_numpy(dtype=bool)
    if bad.any():
        yield _found(table, "uuid", bad, f"a non-empty id of at most {MAX_ID_BYTES} characters without '/' or spaces")
    for col in ("animal_id", "session_id"):
        bad = _bad_ids(table[col], col)
        if bad.any():
            yield _found(
                table, col, bad, f"a folder name (non-empty, <= {MAX_ID_BYTES} bytes, no '/', '\\', '..' or controls)"
            )
    bad = (table["trial_id"] < 0).to_numpy()
    if bad.any():
        yield _found(table, "trial_id", bad, "a non-negative integer")
    bad = ~table["exp_type"].isin(list(EXP_TYPES)).to_numpy()
    if bad.any():
        known = [k for k in EXP_TYPES if k]
        yield _found(table, "exp_type", bad, f"one of {known} or '' (add types with schema.register_exp_type)")
    for ns in schema.STATUS_NAMESPACES:
        col = schema.status_column(ns)
        bad = ~table[col].isin(list(schema.STATUSES)).to_numpy()
        if bad.any():
            yield _found(table, col, bad, f"a run status in {list(schema.STATUSES)}")
    for view in schema.VIEWS:
        col = schema.view_column(view)
        s = table[col]
        bad = (s != "").to_numpy() & _bad_paths(s)
        if bad.any():
            yield _found(table, col, bad, f"'' or {_PATH_RULE} of the raw-data root")
    s = table["output_path"]
    bad = (s == "").to_numpy() | _bad_paths(s)
    if bad.any():
        yield _found(table, "output_path", bad, f"{_PATH_RULE} of the output root")
    bad = _bad_files(table["files"])
    if bad.any():
        yield _found(table, "files", bad, f"a dict of role -> {_PATH_RULE} of the raw-data root")


def check_table(table: pd.DataFrame) -> None:
    """Refuse a table that breaks the rules of :func:`problems`.

    Parameters
    ----------
    table
        A trial table in the in-memory form.

    Raises
    ------
    TableEditError
        If any rule is broken; the message lists every broken rule (nothing is written).
    """
    found = list(problems(table))
    if found:
        raise TableEditError("the table was not saved: " + "; ".join(found))

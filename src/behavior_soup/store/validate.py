"""Validation of a trial table before it is written.

Every save goes through :func:`check_table` (see :func:`behavior_soup.store.transact`), so an
edit made in memory (``df.loc[i, "animal_id"] = ...``) is held to the same rules as a row the
library adds: ids that name folders, registered experiment types, known statuses, and stored
paths that are relative POSIX paths inside their roots. A table that breaks a rule is not
written; the error names the column, the rule, the value and the row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

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
    return f"expected {col} to be {expected}, found {schema.first_bad(table[col], bad, table['uuid'])}"


#: Values already found good, per rule: most values of a table are the same from one save to
#: the next (a job's status writes rewrite every row), so each is checked once per process.
_GOOD: dict[str, set] = {}
_GOOD_LIMIT = 2_000_000


def _bad(
    values: np.ndarray, rule: str, is_bad: Callable[[Any], bool], all_good: Callable[[set], bool] | None = None
) -> np.ndarray:
    """``(len(values),)`` bool: where ``is_bad`` holds, checking only values not yet seen good.

    ``all_good(unseen)``, a quick test that is true only when none of the unseen values is bad,
    clears them all at once (the common case); values are checked one by one when it is false.
    """
    good = _GOOD.setdefault(rule, set())
    unseen = set(values.tolist()).difference(good)  # in C: the set of values, less those seen
    if not unseen:
        return np.zeros(len(values), bool)
    try:
        quick = all_good is not None and all_good(unseen)
    except TypeError:  # a value that is not a string
        quick = False
    bad: set = set() if quick else {v for v in unseen if is_bad(v)}
    if sum(len(g) for g in _GOOD.values()) > _GOOD_LIMIT:
        _GOOD.clear()
        good = _GOOD.setdefault(rule, set())
    good.update(unseen - bad)
    if not bad:
        return np.zeros(len(values), bool)
    return np.fromiter((v in bad for v in values.tolist()), bool, len(values))


def _paths_good(unseen: set) -> bool:
    """No control character (``isprintable``, in C), backslash, drive colon, ``..`` or leading
    ``/`` in any of the values: substring tests over the joined text, no regex."""
    text = "\n".join(unseen)
    return (
        "".join(unseen).isprintable()
        and "\\" not in text
        and ":" not in text
        and ".." not in text
        and not text.startswith("/")
        and "\n/" not in text
    )


def _uuids_good(unseen: set) -> bool:
    joined = "".join(unseen)
    return (
        "" not in unseen
        and joined.isprintable()
        and " " not in joined
        and "/" not in joined
        and "\\" not in joined
        and max(map(len, unseen)) <= MAX_ID_BYTES
    )


def _id_is_bad(what: str) -> Callable[[Any], bool]:
    def is_bad(v: Any) -> bool:
        try:
            validate_id(v, what)
        except InvalidIdError:
            return True
        return False

    return is_bad


_PATH = re.compile(_BAD_PATH)
_UUID_RE = re.compile(_UUID)


def _bad_ids(s: pd.Series, col: str) -> np.ndarray:
    return _bad(s.to_numpy(), col, _id_is_bad(col))


def _bad_paths(s: pd.Series, nonempty: bool = False) -> np.ndarray:
    def is_bad(v: Any) -> bool:
        return not isinstance(v, str) or (not v and nonempty) or bool(v and _PATH.search(v))

    def all_good(unseen: set) -> bool:
        return not (nonempty and "" in unseen) and _paths_good(unseen)

    return _bad(s.to_numpy(), "path!" if nonempty else "path", is_bad, all_good)


def _bad_files(s: pd.Series) -> np.ndarray:
    return np.array(
        [any(not isinstance(v, str) or not v or _PATH.search(v) for v in d.values()) if d else False for d in s],
        dtype=bool,
    )


def _not_in(s: pd.Series, allowed: Iterable[Any]) -> np.ndarray:
    allowed = set(allowed)
    if set(pd.unique(s.to_numpy())) <= allowed:
        return np.zeros(len(s), bool)
    return ~s.isin(list(allowed)).to_numpy()


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
    bad = _bad(
        table["uuid"].to_numpy(), "uuid", lambda v: not (isinstance(v, str) and _UUID_RE.fullmatch(v)), _uuids_good
    )
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
    bad = _not_in(table["exp_type"], EXP_TYPES)
    if bad.any():
        known = [k for k in EXP_TYPES if k]
        yield _found(table, "exp_type", bad, f"one of {known} or '' (add types with schema.register_exp_type)")
    for ns in schema.STATUS_NAMESPACES:
        col = schema.status_column(ns)
        bad = _not_in(table[col], schema.STATUSES)
        if bad.any():
            yield _found(table, col, bad, f"a run status in {list(schema.STATUSES)}")
    for view in schema.VIEWS:
        col = schema.view_column(view)
        bad = _bad_paths(table[col])
        if bad.any():
            yield _found(table, col, bad, f"'' or {_PATH_RULE} of the raw-data root")
    bad = _bad_paths(table["output_path"], nonempty=True)
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

"""Finding trials in the raw-data tree: ``<raw_root>/<animal_id>/<session_id>/`` with trial
videos named by the table's :class:`~behavior_soup.naming.NamingRule` (one scan per session
folder, vectorised over its files)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import schema
from .errors import DataRootError, ItemExistsError, ItemNotFoundError
from .naming import NamingRule
from .paths import check_root

__all__ = ["DISCOVERY_COLUMNS", "Found", "discover_trials", "find_trials", "found_columns"]

log = logging.getLogger(__name__)


def _is(entry: os.DirEntry, kind: str) -> bool:
    """``entry.is_dir()``/``is_file()``, following symlinks; a link that cannot be followed
    (a loop) is an error naming it rather than a trial or session silently missing."""
    try:
        return entry.is_dir() if kind == "dir" else entry.is_file()
    except OSError as exc:
        raise DataRootError(
            f"expected a folder or file at {entry.path!r}, found one that cannot be opened "
            f"({exc.strerror or exc}; a symbolic link loop?); remove or fix it"
        ) from exc


def _subdirs(path: Path) -> list[str]:
    with os.scandir(path) as it:
        return sorted(e.name for e in it if not e.name.startswith(".") and _is(e, "dir"))


def _session_files(session_dir: Path, depth: int) -> list[str]:
    """Relative POSIX paths of files up to ``depth`` folder levels below ``session_dir``."""
    if depth == 0:
        with os.scandir(session_dir) as it:
            return [e.name for e in it if not e.name.startswith(".") and _is(e, "file")]
    out: list[str] = []
    stack = [(session_dir, "")]
    while stack:
        d, prefix = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                if e.name.startswith("."):
                    continue
                rel = prefix + e.name
                if _is(e, "file"):
                    out.append(rel)
                elif rel.count("/") < depth and _is(e, "dir"):
                    stack.append((Path(e.path), rel + "/"))
    return out


#: Columns of a discovery (see :func:`discover_trials`).
DISCOVERY_COLUMNS: tuple[str, ...] = (
    "animal_id",
    "session_id",
    "trial_id",
    *(schema.view_column(v) for v in schema.VIEWS),
)

Found = dict[str, np.ndarray]


def found_columns(animal_id: str, session_id: str, trial_ids: Any, videos: Mapping[str, Any]) -> Found:
    """The trials of one session as columns (:data:`DISCOVERY_COLUMNS`): trial ids and, per
    view, an array of paths (or one path for a single trial).

    Parameters
    ----------
    animal_id, session_id
        The session's ids, repeated on every row.
    trial_ids
        One trial id or a sequence of them, as integers.
    videos
        View -> a length-``n`` array of video paths, or one path for every row; views not
        given get ``""``.

    Returns
    -------
    Found
        Column -> ``(n,)`` array: ``animal_id``, ``session_id`` and the ``<view>_video`` paths
        as object arrays of ``str``, ``trial_id`` as int64.
    """
    ids = np.atleast_1d(np.asarray(trial_ids, dtype=np.int64))
    n = len(ids)
    data: Found = {
        "animal_id": np.full(n, animal_id, dtype=object),
        "session_id": np.full(n, session_id, dtype=object),
        "trial_id": ids,
    }
    for view in schema.VIEWS:
        col = np.full(n, "", dtype=object)
        col[:] = videos.get(view, "")
        data[schema.view_column(view)] = col
    return data


def _scan_session(raw_root: Path, animal_id: str, session_id: str, rule: NamingRule) -> Found:
    """Trials of one session folder, sorted by trial id."""
    paths, views, trials = rule.match_all(_session_files(raw_root / animal_id / session_id, rule.depth()))
    ids = np.unique(trials)
    prefix = f"{animal_id}/{session_id}/"
    columns: dict[str, np.ndarray] = {}
    for view in schema.VIEWS:
        mine = views == view
        t, p = trials[mine], paths[mine]
        order = np.argsort(t, kind="stable")
        t, p = t[order], p[order]
        dup = np.flatnonzero(t[1:] == t[:-1])
        if len(dup):
            i = dup[0]
            raise ItemExistsError(
                f"expected one {view!r} video for trial {t[i]} of {animal_id}/{session_id}, found "
                f"{prefix + p[i]!r} and {prefix + p[i + 1]!r}"
            )
        col = np.full(len(ids), "", dtype=object)
        col[np.searchsorted(ids, t)] = prefix + p
        columns[view] = col
    return found_columns(animal_id, session_id, ids, columns)


def discover_trials(
    raw_root: str | os.PathLike,
    animal_id: str,
    session_id: str | None = None,
    trial_id: int | None = None,
    rule: NamingRule | None = None,
) -> pd.DataFrame:
    """Find trials under ``<raw_root>/<animal_id>[/<session_id>]`` by file-name rule.

    Parameters
    ----------
    raw_root
        The raw-data root.
    animal_id
        The animal: its folder under ``raw_root``.
    session_id
        One session of it; ``None`` scans every session folder (those without trials are
        skipped with a warning).
    trial_id
        One trial of that session (needs ``session_id``); ``None`` keeps every trial found.
    rule
        How trial videos are named; ``None`` means the default :class:`NamingRule`.

    Returns
    -------
    pandas.DataFrame
        One row per trial found, sorted by session then trial: ``animal_id``, ``session_id``
        (str), ``trial_id`` (int64) and ``<view>_video`` for each view of
        :data:`~behavior_soup.schema.VIEWS` (the video's path relative to the raw-data root
        as a POSIX string, ``""`` where that view was not found).

    Raises
    ------
    ItemNotFoundError
        If the animal or session folder does not exist, or the requested trial (or any
        trial, for a single requested session) is not found.
    ItemExistsError
        If a trial has two videos of one view.
    """
    found = find_trials(raw_root, animal_id, session_id, trial_id, rule)
    return pd.DataFrame(found, index=pd.RangeIndex(len(found["trial_id"])))


def find_trials(
    raw_root: str | os.PathLike,
    animal_id: str,
    session_id: str | None,
    trial_id: int | None,
    rule: NamingRule | None,
) -> Found:
    """:func:`discover_trials` as columns (one array per :data:`DISCOVERY_COLUMNS` entry).

    Parameters
    ----------
    raw_root
        The raw-data root.
    animal_id
        The animal: its folder under ``raw_root``.
    session_id
        One session of it; ``None`` scans every session folder (those without trials are
        skipped with a warning).
    trial_id
        One trial of that session (needs ``session_id``); ``None`` keeps every trial found.
    rule
        How trial videos are named; ``None`` means the default :class:`NamingRule`.

    Returns
    -------
    Found
        Column -> array, one element per trial found.

    Raises
    ------
    ItemNotFoundError
        As for :func:`discover_trials`.
    ValueError
        If ``trial_id`` is given without ``session_id``.
    """
    root = check_root(raw_root, "raw-data root")
    rule = rule or NamingRule()
    animal_id = schema.validate_id(animal_id, "animal_id")
    animal_dir = root / animal_id
    if not animal_dir.is_dir():
        raise ItemNotFoundError(
            f"expected an animal folder {str(animal_dir)!r}, found none; animals under the root: {_subdirs(root)[:20]}"
        )
    if session_id is None:
        if trial_id is not None:
            raise ValueError("expected session_id when trial_id is given, got session_id=None")
        sessions = _subdirs(animal_dir)
        if not sessions:
            raise ItemNotFoundError(f"expected session folders in {str(animal_dir)!r}, found none")
    else:
        session_id = schema.validate_id(session_id, "session_id")
        if not (animal_dir / session_id).is_dir():
            raise ItemNotFoundError(
                f"expected a session folder {str(animal_dir / session_id)!r}, found none; sessions of "
                f"{animal_id}: {_subdirs(animal_dir)[:20]}"
            )
        sessions = [session_id]
    parts: list[Found] = []
    for s in sessions:
        schema.validate_id(s, "session_id")
        found = _scan_session(root, animal_id, s, rule)
        if not len(found["trial_id"]):
            msg = (
                f"expected trial videos matching {rule.template!r} (views {sorted(rule.views)}) in "
                f"{str(animal_dir / s)!r}, found none"
            )
            if session_id is not None:
                raise ItemNotFoundError(msg)
            log.warning("%s; session skipped", msg)
        parts.append(found)
    trials = parts[0] if len(parts) == 1 else {c: np.concatenate([p[c] for p in parts]) for c in DISCOVERY_COLUMNS}
    if trial_id is not None:
        tid = schema.validate_trial_id(trial_id)
        ids = trials["trial_id"]
        if tid not in ids:
            raise ItemNotFoundError(
                f"expected trial {tid} in {animal_id}/{session_id}, found trials {ids[:50].tolist()}"
            )
        trials = {c: v[ids == tid] for c, v in trials.items()}
    return trials

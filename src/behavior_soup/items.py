"""Adding trials to a table from the raw-data tree, and removing them.

The raw tree is ``<raw_root>/<animal_id>/<session_id>/`` with trial videos named by the
table's :class:`~behavior_soup.naming.NamingRule`. Everything here is a plain function of a
table; the ``df.behavior`` accessor calls them.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import outputs, schema, store
from .errors import DataRootError, ItemExistsError, ItemNotFoundError, MissingViewError
from .naming import NamingRule
from .paths import check_root, resolve, to_relative_posix, validate_relative

__all__ = ["DiscoveredTrial", "add_items", "add_row", "discover_trials", "remove_items"]

log = logging.getLogger(__name__)

OnMissingView = Literal["warn", "raise", "skip"]


@dataclass(frozen=True)
class DiscoveredTrial:
    """A trial found on disk: its ids and the relative POSIX path of each view found."""

    animal_id: str
    session_id: str
    trial_id: int
    videos: Mapping[str, str] = field(default_factory=dict)


def _subdirs(path: Path) -> list[str]:
    with os.scandir(path) as it:
        return sorted(e.name for e in it if e.is_dir() and not e.name.startswith("."))


def _session_files(session_dir: Path, depth: int) -> list[str]:
    """Relative POSIX paths of files up to ``depth`` folder levels below ``session_dir``."""
    out: list[str] = []
    stack = [(session_dir, "")]
    while stack:
        d, prefix = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                if e.name.startswith("."):
                    continue
                rel = prefix + e.name
                if e.is_file():
                    out.append(rel)
                elif e.is_dir() and rel.count("/") < depth:
                    stack.append((Path(e.path), rel + "/"))
    return out


def discover_session(raw_root: Path, animal_id: str, session_id: str, rule: NamingRule) -> list[DiscoveredTrial]:
    """Trials of one session folder, sorted by trial id."""
    session_dir = raw_root / animal_id / session_id
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for rel in _session_files(session_dir, rule.depth()):
        m = rule.match(rel)
        if m is None:
            continue
        view, trial = m
        full_rel = f"{animal_id}/{session_id}/{rel}"
        if view in found[trial]:
            raise ItemExistsError(
                f"expected one {view!r} video for trial {trial} of {animal_id}/{session_id}, found "
                f"{found[trial][view]!r} and {full_rel!r}"
            )
        found[trial][view] = full_rel
    return [DiscoveredTrial(animal_id, session_id, t, dict(v)) for t, v in sorted(found.items())]


def discover_trials(
    raw_root: str | os.PathLike,
    animal_id: str,
    session_id: str | None = None,
    trial_id: int | None = None,
    rule: NamingRule | None = None,
) -> list[DiscoveredTrial]:
    """Find trials under ``<raw_root>/<animal_id>[/<session_id>]`` by file-name rule.

    Raises
    ------
    ItemNotFoundError
        If the animal or session folder does not exist, or the requested trial (or any
        trial, for a single requested session) is not found.
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
    trials: list[DiscoveredTrial] = []
    for s in sessions:
        schema.validate_id(s, "session_id")
        found = discover_session(root, animal_id, s, rule)
        if not found:
            msg = (
                f"expected trial videos matching {rule.template!r} (views {sorted(rule.views)}) in "
                f"{str(animal_dir / s)!r}, found none"
            )
            if session_id is not None:
                raise ItemNotFoundError(msg)
            log.warning("%s; session skipped", msg)
        trials.extend(found)
    if trial_id is not None:
        tid = schema.validate_trial_id(trial_id)
        trials = [t for t in trials if t.trial_id == tid]
        if not trials:
            ids = [t.trial_id for t in discover_session(root, animal_id, session_id, rule)]
            raise ItemNotFoundError(f"expected trial {tid} in {animal_id}/{session_id}, found trials {ids[:50]}")
    return trials


def new_uuids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs as strings, as :func:`uuid.uuid4` makes them, in one draw."""
    b = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40  # version 4
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    h = b.tobytes().hex()
    return [
        f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-{h[i + 12 : i + 16]}-{h[i + 16 : i + 20]}-{h[i + 20 : i + 32]}"
        for i in range(0, 32 * n, 32)
    ]


def _new_rows(
    trials: list[DiscoveredTrial], exp_type: str, model_params: Mapping[str, Any], notes: str
) -> pd.DataFrame:
    n = len(trials)
    now = pd.Timestamp.now(tz="UTC").as_unit("us")
    data: dict[str, Any] = {
        "uuid": new_uuids(n),
        "animal_id": [t.animal_id for t in trials],
        "session_id": [t.session_id for t in trials],
        "trial_id": np.asarray([t.trial_id for t in trials], dtype=np.int64),
        "exp_type": [exp_type] * n,
        "files": [{} for _ in range(n)],
        "output_path": [f"{t.animal_id}/{t.session_id}/outputs.h5" for t in trials],
        "model_params": [dict(model_params) for _ in range(n)],
        "notes": [notes] * n,
        "added_time": pd.DatetimeIndex(np.full(n, now.tz_localize(None).asm8), tz="UTC"),
    }
    for view in schema.VIEWS:
        data[schema.view_column(view)] = [t.videos.get(view, "") for t in trials]
    return schema.coerce(pd.DataFrame(data))


def _refuse_existing(table: pd.DataFrame, new: pd.DataFrame) -> None:
    have = set(schema.identities(table))
    dup = [i for i in schema.identities(new) if i in have]
    if dup:
        raise ItemExistsError(
            f"expected trials not yet in the table, found {len(dup)} already there, e.g. "
            f"{[f'{a}/{s}/trial {t}' for a, s, t in dup[:5]]}; pass skip_existing=True to add only new ones"
        )


def add_items(
    df: pd.DataFrame,
    animal_id: str,
    session_id: str | None = None,
    trial_id: int | None = None,
    *,
    exp_type: str | None = None,
    views: tuple[str, ...] = schema.VIEWS,
    on_missing_view: OnMissingView = "warn",
    skip_existing: bool = False,
    model_params: Mapping[str, Any] | None = None,
    notes: str = "",
    lock_timeout: float | None = None,
) -> pd.DataFrame:
    """Discover trials on disk and add them to the table (saved; ``df`` updated in place).

    Parameters
    ----------
    df
        A table from :func:`~behavior_soup.create_df`/:func:`~behavior_soup.load_df`.
    animal_id, session_id, trial_id
        A whole animal (every session), one session, or one trial.
    exp_type
        One of :data:`behavior_soup.schema.EXP_TYPES`.
    views
        The views each trial is expected to have.
    on_missing_view
        A trial lacking one of ``views``: ``"warn"`` adds it with an empty path and warns,
        ``"raise"`` raises :class:`MissingViewError` (nothing added), ``"skip"`` leaves it out
        and warns.
    skip_existing
        Add only trials not in the table yet instead of raising :class:`ItemExistsError`.

    Returns
    -------
    pandas.DataFrame
        The rows added.
    """
    if on_missing_view not in ("warn", "raise", "skip"):
        raise ValueError(f"expected on_missing_view in ('warn', 'raise', 'skip'), got {on_missing_view!r}")
    for v in views:
        schema.view_column(v)
    exp_type = schema.validate_exp_type(exp_type)
    info = store.table_info(df)
    trials = discover_trials(info.raw_root, animal_id, session_id, trial_id, info.naming_rule)
    incomplete = [t for t in trials if any(v not in t.videos for v in views)]
    if incomplete:
        desc = [f"{t.animal_id}/{t.session_id}/trial {t.trial_id} (found {sorted(t.videos)})" for t in incomplete]
        msg = f"expected views {list(views)} for every trial, {len(incomplete)} lack some: {desc[:10]}"
        if on_missing_view == "raise":
            raise MissingViewError(msg)
        if on_missing_view == "skip":
            warnings.warn(msg + "; they were not added", stacklevel=2)
            trials = [t for t in trials if t not in incomplete]
        else:
            warnings.warn(msg + "; they were added with the missing paths empty", stacklevel=2)
    new = _new_rows(trials, exp_type, model_params or {}, notes)
    return _append(df, new, skip_existing, lock_timeout)


def _append(df: pd.DataFrame, new: pd.DataFrame, skip_existing: bool, lock_timeout: float | None) -> pd.DataFrame:
    added: list[pd.DataFrame] = []

    def change(table: pd.DataFrame) -> pd.DataFrame:
        rows = new
        if skip_existing:
            have = set(schema.identities(table))
            rows = new[[i not in have for i in schema.identities(new)]]
        else:
            _refuse_existing(table, new)
        added.append(rows)
        return pd.concat([table, rows], ignore_index=True) if len(table) else rows.reset_index(drop=True)

    store.transact(df, change, lock_timeout=lock_timeout)
    log.info("added %d trial(s) to %s", len(added[0]), store.table_info(df).table_path)
    return added[0].reset_index(drop=True)


def add_row(
    df: pd.DataFrame,
    animal_id: str,
    session_id: str,
    trial_id: int,
    *,
    exp_type: str | None = None,
    videos: Mapping[str, str | os.PathLike] | None = None,
    files: Mapping[str, str | os.PathLike] | None = None,
    model_params: Mapping[str, Any] | None = None,
    notes: str = "",
    lock_timeout: float | None = None,
) -> pd.DataFrame:
    """Add one trial whose files are given explicitly (paths relative to the raw-data root,
    or absolute paths inside it). Each file must exist.

    Returns
    -------
    pandas.DataFrame
        The row added.
    """
    info = store.table_info(df)
    root = Path(info.raw_root)
    if not root.is_dir():
        raise DataRootError(f"expected the raw-data root {info.raw_root!r} to exist, found nothing there")
    t = DiscoveredTrial(
        schema.validate_id(animal_id, "animal_id"),
        schema.validate_id(session_id, "session_id"),
        schema.validate_trial_id(trial_id),
        {},
    )

    def rel_of(p: str | os.PathLike, what: str) -> str:
        rel = to_relative_posix(p, root, what) if Path(p).is_absolute() else validate_relative(str(p), what)
        if not resolve(root, rel).is_file():
            raise ItemNotFoundError(f"expected the {what} at {str(resolve(root, rel))!r}, found no file")
        return rel

    for v in videos or {}:
        schema.view_column(v)
    vids = {v: rel_of(p, f"{v} video") for v, p in (videos or {}).items()}
    row = _new_rows(
        [DiscoveredTrial(t.animal_id, t.session_id, t.trial_id, vids)],
        schema.validate_exp_type(exp_type),
        model_params or {},
        notes,
    )
    row.at[0, "files"] = {str(k): rel_of(p, f"{k!r} file") for k, p in (files or {}).items()}
    return _append(df, row, False, lock_timeout)


def _select(table: pd.DataFrame, animal_id: Any, session_id: Any, trial_id: Any, uuid: Any) -> np.ndarray:
    if uuid is not None:
        uuids = [uuid] if isinstance(uuid, str) else list(uuid)
        return table["uuid"].isin(uuids).to_numpy()
    if animal_id is None:
        raise ValueError("expected animal_id (optionally with session_id, trial_id) or uuid, got neither")
    mask = (table["animal_id"] == str(animal_id)).to_numpy()
    if session_id is not None:
        mask = mask & (table["session_id"] == str(session_id)).to_numpy()
    elif trial_id is not None:
        raise ValueError("expected session_id when trial_id is given, got session_id=None")
    if trial_id is not None:
        mask = mask & (table["trial_id"] == schema.validate_trial_id(trial_id)).to_numpy()
    return mask


def remove_items(
    df: pd.DataFrame,
    animal_id: str | None = None,
    session_id: str | None = None,
    trial_id: int | None = None,
    *,
    uuid: str | list[str] | None = None,
    remove_outputs: bool = False,
    lock_timeout: float | None = None,
) -> pd.DataFrame:
    """Remove trials from the table (saved; ``df`` updated in place).

    Parameters
    ----------
    animal_id, session_id, trial_id
        A whole animal, one session, or one trial; or give ``uuid`` (one or a list).
    remove_outputs
        Also delete the trials' groups from their ``outputs.h5`` (a file with no trial left
        is deleted). Raw data are never touched.

    Returns
    -------
    pandas.DataFrame
        The rows removed.

    Raises
    ------
    ItemNotFoundError
        If nothing matches.
    """
    removed: list[pd.DataFrame] = []

    def change(table: pd.DataFrame) -> pd.DataFrame:
        mask = _select(table, animal_id, session_id, trial_id, uuid)
        if not mask.any():
            what = (
                f"uuid {uuid!r}"
                if uuid is not None
                else f"animal_id={animal_id!r}, session_id={session_id!r}, trial_id={trial_id!r}"
            )
            raise ItemNotFoundError(f"expected trials matching {what} in the table, found none")
        removed.append(table[mask])
        return table[~mask]

    store.transact(df, change, lock_timeout=lock_timeout)
    gone = removed[0].reset_index(drop=True)
    if remove_outputs:
        info = store.table_info(df)
        for rel, grp in gone.groupby("output_path"):
            outputs.delete_trials(resolve(info.output_root, rel), grp["trial_id"].tolist(), lock_timeout)
    log.info("removed %d trial(s)", len(gone))
    return gone

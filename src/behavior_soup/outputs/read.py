"""Reading results: lock-free and read-only, from the trial files (see :mod:`behavior_soup.outputs`)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import OutputsError
from ..schema import trial_key
from .codec import read_value, validate_key
from .layout import (
    TRIAL_FORMAT,
    legacy_file,
    open_h5,
    trial_file,
)

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------- reading


@contextlib.contextmanager
def open_trial(path: Path, trial_id: int, uuid: str, missing_ok: bool = False) -> Iterator[Any]:
    """The root group of a trial's results (read-only, no lock), from its trial file or, for
    sessions of the earlier layout, from its group in ``outputs.h5``. Yields None when the
    trial has none and ``missing_ok``.

    Parameters
    ----------
    path
        The session's ``outputs.h5``.
    trial_id
        The trial's id.
    uuid
        The trial's uuid; the results found must carry it.
    missing_ok
        Yield None instead of raising when the trial has no results.

    Yields
    ------
    h5py.Group or None
        The trial's root group, open while the context lasts.

    Raises
    ------
    OutputsError
        If the trial has no results (unless ``missing_ok``), its trial file is of another
        format, or the results are those of another uuid.
    """
    tf = trial_file(path, trial_id)
    if tf.is_file():
        with open_h5(tf) as f:
            if f.attrs.get("format") != TRIAL_FORMAT:
                raise OutputsError(f"expected format {TRIAL_FORMAT!r} in {str(tf)!r}, found {f.attrs.get('format')!r}")
            _check_uuid(f, tf, trial_id, uuid)
            yield f
            return
    g_file = legacy_file(path)
    if g_file is not None:
        with open_h5(path) as f:
            g = f.get(trial_key(trial_id))
            if g is not None:
                _check_uuid(g, path, trial_id, uuid)
                yield g
                return
    if missing_ok:
        yield None
        return
    raise OutputsError(f"expected results for {trial_key(trial_id)} in {str(tf)!r}, found none (nothing computed yet?)")


def _check_uuid(g: Any, where: Path, trial_id: int, uuid: str) -> None:
    if g.attrs.get("uuid") != uuid:
        raise OutputsError(
            f"expected results of trial uuid {uuid} in {str(where)!r}, found those of uuid "
            f"{g.attrs.get('uuid')} (a removed trial with the same id {trial_id}); rerun the job"
        )


def _node(root: Any, parts: list[str], key: str, where: Path, trial_id: int, result: bool = False) -> Any:
    node = root.get("/".join(parts))
    if node is None or (result and "job" not in node.attrs):
        raise OutputsError(
            f"expected a result {key!r} for trial {trial_id} in {str(where)!r}, found only {_list(root)}"
        )
    return node


def read_result(
    path: str | os.PathLike, *, trial_id: int, uuid: str, key: str, lock_timeout: float | None = None
) -> Any:
    """Read a result written by :func:`write_result` (``path``: the session's ``outputs.h5``).

    Parameters
    ----------
    path
        The session's ``outputs.h5``.
    trial_id, uuid
        The trial; results stored for another uuid with the same id are refused.
    key
        The result's key, e.g. ``"behavior/video_stats"``; a key below a result (one of its
        datasets, e.g. ``"behavior/video_stats/mean"``) reads only that member.
    lock_timeout
        Not used: reads take no lock.

    Returns
    -------
    numpy.ndarray, pandas.DataFrame, scalar or dict
        A dataset comes back as an array (strings as ``object``), a DataFrame group as a
        DataFrame, and a group as a dict of its members.

    Raises
    ------
    OutputsError
        No such result, results of another (removed) trial with the same id, or a damaged file.
    ValueError
        ``key`` is not a valid result key.
    """
    parts = validate_key(key)
    with open_trial(Path(path), trial_id, uuid) as root:
        return read_value(_node(root, parts, key, Path(path), trial_id))


def read_provenance(
    path: str | os.PathLike, *, trial_id: int, uuid: str, key: str, lock_timeout: float | None = None
) -> dict[str, Any]:
    """The provenance attributes of a result, JSON fields decoded.

    Parameters
    ----------
    path
        The session's ``outputs.h5``.
    trial_id, uuid
        The trial; results stored for another uuid with the same id are refused.
    key
        The result's key, e.g. ``"behavior/video_stats"``.
    lock_timeout
        Not used: reads take no lock.

    Returns
    -------
    dict
        The group's attributes (``job``, ``params``, ``versions``, ``started``, ``duration_s``,
        ``status``, ``host``, ``pid``), ``params`` and ``versions`` decoded from JSON and NumPy
        scalars as Python scalars.

    Raises
    ------
    OutputsError
        No result at ``key``, results of another (removed) trial with the same id, or a damaged
        file.
    ValueError
        ``key`` is not a valid result key.
    """
    import json

    import numpy as np

    parts = validate_key(key)
    with open_trial(Path(path), trial_id, uuid) as root:
        node = _node(root, parts, key, Path(path), trial_id, result=True)
        out = {}
        for k, v in node.attrs.items():
            if k in ("params", "versions"):
                v = json.loads(v)
            out[k] = v.item() if isinstance(v, np.generic) else v
        return out


def _list(root: Any) -> list[str]:
    keys: list[str] = []

    def visit(name: str, obj: Any) -> None:
        if "job" in obj.attrs:
            keys.append(name)

    root.visititems(visit)
    return sorted(keys)


def list_results(path: str | os.PathLike, *, trial_id: int, uuid: str, lock_timeout: float | None = None) -> list[str]:
    """Keys of the results stored for a trial (empty if it has none, or only a removed
    trial's with the same id).

    Parameters
    ----------
    path
        The session's ``outputs.h5``.
    trial_id, uuid
        The trial.
    lock_timeout
        Not used: reads take no lock.

    Returns
    -------
    list of str
        The sorted keys, e.g. ``["behavior/video_stats", "sta/unit_3"]``.

    Raises
    ------
    OutputsError
        A trial file that is unreadable or not a trial outputs file.
    """
    try:
        with open_trial(Path(path), trial_id, uuid, missing_ok=True) as root:
            return [] if root is None else _list(root)
    except OutputsError as exc:
        if "a removed trial" in str(exc):
            return []
        raise

"""Per-session results: one HDF5 file per trial, and ``outputs.h5`` as their index.

Layout of a session folder under the output root::

    outputs.h5                  the index: attrs format="behavior_soup.outputs", layout=2,
                                animal_id, session_id; one HDF5 external link per trial,
                                ``trial_<id>`` -> ``outputs/trial_<id>.h5:/``, so h5py and
                                HDFView browse it as one file
    outputs/trial_<id>.h5       one trial: attrs format="behavior_soup.trial_outputs", uuid,
                                trial_id, animal_id, session_id
    outputs/trial_<id>.h5:/<key>           a result, e.g. "behavior/video_stats", "sta/unit_3";
                                attrs: job, params (JSON), versions (JSON), started,
                                duration_s, status, host, pid
    outputs/trial_<id>.h5:/<key>/<name>    datasets (see :mod:`.codec`)

A write never modifies a file in place: under the trial file's lock, the trial's file is
written anew under a temporary name (the results kept, copied, and the new ones), read back
and checked against what was written, flushed to disk and moved over the old one with
``os.replace``. So a crash, a kill or a full disk at any instant leaves the old file or the
new one, never neither; replaced results leave no dead space behind; and a write costs what
the trial holds, whatever the session's size. The index changes only when a trial's file
appears or goes, and is itself replaced atomically and rebuilt from the trial files when
it is missing or damaged. Reads open the trial file directly, read-only and without any
lock, so results on read-only storage can be read.

Sessions written by earlier versions (every trial a group inside ``outputs.h5``) are read
as they are and converted to this layout at their next write.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import OutputsError
from ..locking import atomic_write, locked, remove_stale_temps
from ..provenance import Provenance
from ..schema import trial_key
from .codec import Digests, copy_node, read_value, validate_key, verify_digests, write_provenance, write_value
from .layout import (
    FORMAT_NAME,
    TRIAL_FORMAT,
    index_lists,
    legacy_file,
    migrate,
    open_h5,
    rebuild_index,
    refuse_foreign,
    trial_dir,
    trial_file,
)

__all__ = [
    "FORMAT_NAME",
    "TRIAL_FORMAT",
    "delete_trial",
    "delete_trials",
    "list_results",
    "read_provenance",
    "read_result",
    "rebuild_index",
    "trial_dir",
    "trial_file",
    "write_result",
    "write_results",
]

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------- reading


@contextlib.contextmanager
def _open_trial(path: Path, trial_id: int, uuid: str, missing_ok: bool = False) -> Iterator[Any]:
    """The root group of a trial's results (read-only, no lock), from its trial file or, for
    sessions of the earlier layout, from its group in ``outputs.h5``. Yields None when the
    trial has none and ``missing_ok``."""
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

    Returns
    -------
    numpy.ndarray, pandas.DataFrame, scalar or dict
        A dataset comes back as an array (strings as ``object``), a DataFrame group as a
        DataFrame, and a group as a dict of its members.

    Raises
    ------
    OutputsError
        No such result, results of another (removed) trial with the same id, or a damaged file.
    """
    parts = validate_key(key)
    with _open_trial(Path(path), trial_id, uuid) as root:
        return read_value(_node(root, parts, key, Path(path), trial_id))


def read_provenance(
    path: str | os.PathLike, *, trial_id: int, uuid: str, key: str, lock_timeout: float | None = None
) -> dict[str, Any]:
    """The provenance attributes of a result, JSON fields decoded."""
    import json

    import numpy as np

    parts = validate_key(key)
    with _open_trial(Path(path), trial_id, uuid) as root:
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
    trial's with the same id)."""
    try:
        with _open_trial(Path(path), trial_id, uuid, missing_ok=True) as root:
            return [] if root is None else _list(root)
    except OutputsError as exc:
        if "a removed trial" in str(exc):
            return []
        raise


# ---------------------------------------------------------------------------------- writing


def _check_results(results: Mapping[str, tuple[Mapping[str, Any], Provenance]]) -> dict[str, list[str]]:
    keys = {key: validate_key(key) for key in results}
    for key, (data, prov) in results.items():
        if not isinstance(data, Mapping) or not data:
            raise ValueError(f"expected a non-empty mapping of name -> array for {key!r}, got {type(data).__name__}")
        for name in data:
            if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
                raise ValueError(f"expected dataset names without '/' in result {key!r}, got {name!r}")
        if not isinstance(prov, Provenance):
            raise ValueError(f"expected a Provenance for {key!r}, got {type(prov).__name__}")
    flat = ["/".join(p) for p in keys.values()]
    for a in flat:
        for b in flat:
            if a != b and b.startswith(a + "/"):
                raise ValueError(f"expected results that do not contain each other, got {a!r} and {b!r}")
    return keys


def _copy_kept(src: Any, dst: Any, replaced: set[str], digests: Digests, prefix: str = "") -> None:
    """Copy ``src``'s results into ``dst`` except those under ``replaced`` keys."""
    for name, child in src.items():
        path = f"{prefix}{name}"
        if path in replaced:
            continue
        if "job" in child.attrs or not hasattr(child, "items"):  # a result (or a stray dataset): whole
            copy_node(child, dst, name, digests)
        else:
            g = dst.require_group(name)
            _copy_kept(child, g, replaced, digests, path + "/")


def _write_trial_file(
    path: Path,
    tf: Path,
    *,
    trial_id: int,
    uuid: str,
    results: Mapping[str, tuple[Mapping[str, Any], Provenance]],
    keys: Mapping[str, list[str]],
    session: tuple[str, str] | None,
    drop: set[str] = frozenset(),  # type: ignore[assignment]
) -> None:
    """The trial's file written anew (kept results + ``results``, minus ``drop``), checked,
    and moved into place. Lock held by the caller."""
    import h5py

    replaced = {"/".join(p) for p in keys.values()} | set(drop)
    digests: Digests = {}
    where = f"{trial_key(trial_id)} of {str(path)!r}"

    def writer(tmp: Path) -> None:
        with h5py.File(tmp, "w", locking=False) as f:
            f.attrs["format"] = TRIAL_FORMAT
            f.attrs["uuid"] = uuid
            f.attrs["trial_id"] = int(trial_id)
            if session is not None:
                f.attrs["animal_id"], f.attrs["session_id"] = session
            with _open_trial(path, trial_id, uuid, missing_ok=True) as old:
                if old is not None:
                    for k in ("animal_id", "session_id"):
                        if k in old.attrs and k not in f.attrs:
                            f.attrs[k] = old.attrs[k]
                    _copy_kept(old, f, replaced, digests)
            for key, (data, prov) in results.items():
                parts = keys[key]
                parent = f.require_group("/".join(parts[:-1])) if len(parts) > 1 else f
                g = parent.create_group(parts[-1])
                for name, value in data.items():
                    write_value(g, str(name), value, digests)
                write_provenance(g, prov)
        with h5py.File(tmp, "r", locking=False) as f:
            verify_digests(f, digests, where)
            missing = [k for k in results if "/".join(keys[k]) not in f or "job" not in f["/".join(keys[k])].attrs]
            if missing or f.attrs.get("uuid") != uuid:
                raise OutputsError(f"expected results {missing} in the file just written for {where}, found none")

    try:
        atomic_write(tf, writer)
    except OSError as exc:
        raise OutputsError(
            f"expected to write the results of {where}, got {type(exc).__name__}: {exc} (is the disk full?); "
            "the previous results are kept"
        ) from exc


def _stale(tf: Path, uuid: str) -> bool:
    """A trial file of a removed trial with the same id (replaced by the new trial's)."""
    if not tf.is_file():
        return False
    try:
        with open_h5(tf) as f:
            return f.attrs.get("uuid") != uuid
    except OutputsError:
        return False


def write_result(
    path: str | os.PathLike,
    *,
    trial_id: int,
    uuid: str,
    key: str,
    data: Mapping[str, Any],
    provenance: Provenance,
    session: tuple[str, str] | None = None,
    lock_timeout: float | None = None,
) -> None:
    """Write one result, replacing a previous one with the same key (see the module docstring).

    Parameters
    ----------
    path
        The session's ``outputs.h5`` (created if missing).
    trial_id, uuid
        The trial the result belongs to.
    key
        Slash-separated group path below the trial, e.g. ``"behavior/video_stats"``.
    data
        Name -> array, scalar, string, :class:`pandas.DataFrame`, or nested mapping.
    provenance
        Recorded as the group's attributes (finish it before calling).
    session
        ``(animal_id, session_id)``, recorded in the files.
    """
    write_results(
        path,
        trial_id=trial_id,
        uuid=uuid,
        results={key: (data, provenance)},
        session=session,
        lock_timeout=lock_timeout,
    )


def write_results(
    path: str | os.PathLike,
    *,
    trial_id: int,
    uuid: str,
    results: Mapping[str, tuple[Mapping[str, Any], Provenance]],
    session: tuple[str, str] | None = None,
    lock_timeout: float | None = None,
) -> None:
    """Write several results of one trial all-or-nothing (see :func:`write_result`).

    Raises
    ------
    ValueError
        A bad key or value; nothing is written.
    OutputsError
        The file could not be written or did not read back as written (a full disk); the
        trial's previous results are kept.
    """
    keys = _check_results(results)
    path = Path(path)
    refuse_foreign(path)
    tf = trial_file(path, trial_id)
    migrate(path, lock_timeout)
    tf.parent.mkdir(parents=True, exist_ok=True)
    with locked(tf, lock_timeout, what="trial outputs file"):
        remove_stale_temps(tf)
        if _stale(tf, uuid):
            log.warning("replacing the results of a removed trial in %s", tf)
            tf.unlink()
        new = not tf.is_file()
        _write_trial_file(path, tf, trial_id=trial_id, uuid=uuid, results=results, keys=keys, session=session)
    if new or not index_lists(path, trial_id):
        rebuild_index(path, session=session, lock_timeout=lock_timeout)


def delete_trial(path: str | os.PathLike, trial_id: int, uuid: str, lock_timeout: float | None = None) -> bool:
    """Delete the results of trial ``trial_id`` if they are those of ``uuid`` (never a newer
    trial's with the same id) and update the index. Returns whether there were any."""
    path = Path(path)
    migrate(path, lock_timeout)
    tf = trial_file(path, trial_id)
    with locked(tf, lock_timeout, what="trial outputs file"):
        if not tf.is_file() or _stale(tf, uuid):
            return False
        tf.unlink()
    rebuild_index(path, lock_timeout=lock_timeout)
    return True


def delete_trials(path: str | os.PathLike, trial_ids: list[int], lock_timeout: float | None = None) -> int:
    """Delete the result files of ``trial_ids`` and rebuild the index (removed when no trial
    is left). Returns how many trials had results."""
    path = Path(path)
    migrate(path, lock_timeout)
    n = 0
    for t in trial_ids:
        tf = trial_file(path, t)
        with locked(tf, lock_timeout, what="trial outputs file"):
            if tf.is_file():
                tf.unlink()
                n += 1
    rebuild_index(path, lock_timeout=lock_timeout)
    return n

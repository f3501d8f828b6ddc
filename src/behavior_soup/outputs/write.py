"""Writing and deleting results: each trial file replaced atomically under its lock (see
:mod:`behavior_soup.outputs`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import OutputsError
from ..locking import atomic_write, locked, remove_stale_temps
from ..provenance import Provenance
from ..schema import trial_key
from .codec import Digests, copy_node, validate_key, verify_digests, write_provenance, write_value
from .layout import (
    TRIAL_FORMAT,
    index_lists,
    migrate,
    open_h5,
    rebuild_index,
    refuse_foreign,
    trial_file,
)
from .read import open_trial

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------- writing


def _check_results(results: Mapping[str, tuple[Mapping[str, Any], Provenance]]) -> dict[str, list[str]]:
    keys = {key: validate_key(key) for key in results}
    for key, (data, prov) in results.items():
        if not isinstance(data, Mapping) or not data:
            raise ValueError(f"expected a non-empty mapping of name -> array for {key!r}, got {type(data).__name__}")
        for name in data:
            if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
                raise ValueError(
                    f"expected non-empty dataset names without '/' (and not '.' or '..') in result {key!r}, "
                    f"got {name!r}"
                )
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
            with open_trial(path, trial_id, uuid, missing_ok=True) as old:
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
    lock_timeout
        Seconds to wait for the trial file's lock; ``None`` means the default.

    Raises
    ------
    ValueError, OutputsError, LockTimeoutError
        As for :func:`write_results`.
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

    Parameters
    ----------
    path
        The session's ``outputs.h5`` (created if missing).
    trial_id, uuid
        The trial the results belong to; results of a removed trial with the same id (another
        uuid) are replaced.
    results
        Key -> ``(data, provenance)``, each as the ``data`` and ``provenance`` of
        :func:`write_result`. No key may lie below another.
    session
        ``(animal_id, session_id)``, recorded in the files.
    lock_timeout
        Seconds to wait for each lock; ``None`` means the default.

    Raises
    ------
    ValueError
        A bad key or value; nothing is written.
    OutputsError
        The file could not be written or did not read back as written (a full disk); the
        trial's previous results are kept; or ``path`` is a foreign HDF5 file.
    LockTimeoutError
        Another writer held a lock for longer than ``lock_timeout``.
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
    trial's with the same id) and update the index. Returns whether there were any.

    Parameters
    ----------
    path
        The session's ``outputs.h5``.
    trial_id, uuid
        The trial whose results to delete.
    lock_timeout
        Seconds to wait for each lock; ``None`` means the default.

    Returns
    -------
    bool
        ``True`` if a trial file of ``uuid`` was deleted, ``False`` if there was none (or only
        another trial's with the same id).

    Raises
    ------
    LockTimeoutError
        Another writer held a lock for longer than ``lock_timeout``.
    OutputsError
        ``path`` is a foreign HDF5 file.
    """
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
    is left). Returns how many trials had results.

    Unlike :func:`delete_trial`, the files are deleted whatever trial uuid they belong to.

    Parameters
    ----------
    path
        The session's ``outputs.h5``.
    trial_ids
        The trials whose results to delete.
    lock_timeout
        Seconds to wait for each lock; ``None`` means the default.

    Returns
    -------
    int
        How many of ``trial_ids`` had a trial file.

    Raises
    ------
    LockTimeoutError
        Another writer held a lock for longer than ``lock_timeout``.
    OutputsError
        ``path`` is a foreign HDF5 file.
    """
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

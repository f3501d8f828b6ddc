"""Per-session ``outputs.h5`` files: one group per trial, one subgroup per result.

Layout::

    /                           attrs: format="behavior_soup.outputs", animal_id, session_id
    /trial_<id>                 attrs: uuid, trial_id
    /trial_<id>/<key>           a result, e.g. "behavior/video_stats", "sta/unit_3";
                                attrs: job, params (JSON), versions (JSON), started,
                                duration_s, status, host, pid
    /trial_<id>/<key>/<name>    datasets; a pandas DataFrame is a subgroup with
                                attr kind="dataframe" and one dataset per column

Writes happen under the file's lock and go to a temporary group first, which is moved into
place only when complete, so an exception never leaves a half result and a second run
replaces the first cleanly. Everything is plain HDF5 (h5py): no pickled objects.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import OutputsError
from .locking import locked
from .provenance import Provenance
from .schema import dumps, trial_key

__all__ = ["delete_trials", "list_results", "read_provenance", "read_result", "write_result", "write_results"]

log = logging.getLogger(__name__)

FORMAT_NAME = "behavior_soup.outputs"
_TMP_PREFIX = ".tmp-"


def _validate_key(key: str) -> list[str]:
    parts = key.strip("/").split("/") if isinstance(key, str) else []
    if not parts or any(not p or p in (".", "..") or p.startswith(".") or "\x00" in p for p in parts):
        raise ValueError(f"expected a result key like 'behavior/video_stats', got {key!r}")
    return parts


@contextlib.contextmanager
def _open(path: Path, mode: str, lock_timeout: float | None) -> Iterator[Any]:
    import h5py

    if mode == "r" and not path.is_file():
        raise OutputsError(f"expected an outputs file at {str(path)!r}, found none (nothing computed yet?)")
    with locked(path, lock_timeout, what="outputs file"):
        try:
            f = h5py.File(path, mode)
        except OSError as exc:
            raise OutputsError(
                f"expected a readable HDF5 outputs file at {str(path)!r}, found a corrupt or foreign file ({exc})"
            ) from exc
        try:
            fmt = f.attrs.get("format")
            if fmt is None and mode != "r" and len(f) == 0:
                f.attrs["format"] = FORMAT_NAME
            elif fmt != FORMAT_NAME:
                raise OutputsError(
                    f"expected an HDF5 file with format {FORMAT_NAME!r} at {str(path)!r}, found "
                    f"format {fmt!r} (a foreign file?)"
                )
            yield f
        finally:
            f.close()


def _write_value(group: Any, name: str, value: Any) -> None:
    if isinstance(value, pd.DataFrame):
        sub = group.create_group(name)
        sub.attrs["kind"] = "dataframe"
        sub.attrs["columns"] = dumps([str(c) for c in value.columns])
        for i, col in enumerate(value.columns):
            _write_value(sub, f"c{i}", value[col].to_numpy())
        _write_value(sub, "index", value.index.to_numpy())
        return
    if isinstance(value, Mapping):
        sub = group.create_group(name)
        for k, v in value.items():
            _write_value(sub, str(k), v)
        return
    arr = np.asarray(value)
    if arr.dtype.kind in ("U", "O"):
        import h5py

        arr = np.asarray([str(x) for x in arr.ravel()], dtype=object).reshape(arr.shape)
        group.create_dataset(name, data=arr, dtype=h5py.string_dtype())
        return
    if arr.dtype.kind == "M":
        group.create_dataset(name, data=arr.astype("datetime64[ns]").astype("int64"))
        group[name].attrs["kind"] = "datetime64[ns]"
        return
    compress = arr.nbytes > 1 << 16
    group.create_dataset(
        name, data=arr, compression="gzip" if compress else None, compression_opts=1 if compress else None
    )


def _read_value(node: Any) -> Any:
    import h5py

    if isinstance(node, h5py.Group):
        if node.attrs.get("kind") == "dataframe":
            cols = json.loads(node.attrs["columns"])
            data = {c: _read_value(node[f"c{i}"]) for i, c in enumerate(cols)}
            return pd.DataFrame(data, index=_read_value(node["index"]), columns=cols)
        return {k: _read_value(v) for k, v in node.items()}
    if node.dtype.kind == "O" or h5py.check_string_dtype(node.dtype) is not None:
        data = node.asstr()[()]
        return np.asarray(data, dtype=object) if isinstance(data, np.ndarray) else data
    data = node[()]
    if node.attrs.get("kind") == "datetime64[ns]":
        return np.asarray(data).astype("datetime64[ns]")
    return data


def _trial_group(f: Any, trial_id: int, uuid: str, create: bool) -> Any:
    name = trial_key(trial_id)
    g = f.get(name)
    if g is not None and g.attrs.get("uuid") != uuid:
        if not create:
            raise OutputsError(
                f"expected results of trial uuid {uuid} in {name}, found those of uuid "
                f"{g.attrs.get('uuid')} (a removed trial with the same id); rerun the job"
            )
        log.warning("replacing stale results of a removed trial in %s/%s", f.filename, name)
        del f[name]
        g = None
    if g is None:
        if not create:
            raise OutputsError(f"expected results for {name} in {f.filename!r}, found none")
        g = f.create_group(name)
        g.attrs["uuid"] = uuid
        g.attrs["trial_id"] = int(trial_id)
    return g


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
    """Write one result group atomically, replacing a previous one with the same key.

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
        ``(animal_id, session_id)``, recorded on the file's root.
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
    """Write several result groups of one trial all-or-nothing (see :func:`write_result`).

    Every group is written under a temporary name first; only when all are complete are they
    moved into place. An exception while writing leaves the file as it was.
    """
    keys = {key: _validate_key(key) for key in results}
    for key, (data, _) in results.items():
        if not isinstance(data, Mapping) or not data:
            raise ValueError(f"expected a non-empty mapping of name -> array for {key!r}, got {type(data).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _open(path, "a", lock_timeout) as f:
        if session is not None:
            f.attrs["animal_id"], f.attrs["session_id"] = session
        trial = _trial_group(f, trial_id, uuid, create=True)
        for stale in [k for k in trial if k.startswith(_TMP_PREFIX)]:
            del trial[stale]  # left by a process killed mid-write
        temps: dict[str, str] = {}
        try:
            for key, (data, provenance) in results.items():
                tmp_name = temps[key] = f"{_TMP_PREFIX}{secrets.token_hex(6)}"
                tmp = trial.create_group(tmp_name)
                for name, value in data.items():
                    _write_value(tmp, str(name), value)
                for k, v in provenance.to_dict().items():
                    tmp.attrs[k] = dumps(v) if isinstance(v, (dict, list)) else v
            for key, tmp_name in temps.items():
                parts = keys[key]
                target = "/".join(parts)
                if target in trial:
                    del trial[target]
                parent = trial.require_group("/".join(parts[:-1])) if len(parts) > 1 else trial
                trial.move(tmp_name, f"{parent.name}/{parts[-1]}")
        except BaseException:
            for tmp_name in temps.values():
                if tmp_name in trial:
                    del trial[tmp_name]
            raise
        f.flush()


def read_result(
    path: str | os.PathLike, *, trial_id: int, uuid: str, key: str, lock_timeout: float | None = None
) -> Any:
    """Read a result written by :func:`write_result`.

    Returns
    -------
    numpy.ndarray, pandas.DataFrame, scalar or dict
        A dataset comes back as an array (strings as ``object``), a DataFrame group as a
        DataFrame, and a group as a dict of its members.
    """
    parts = _validate_key(key)
    with _open(Path(path), "r", lock_timeout) as f:
        trial = _trial_group(f, trial_id, uuid, create=False)
        node = trial.get("/".join(parts))
        if node is None:
            raise OutputsError(
                f"expected a result {key!r} for trial {trial_id} in {str(path)!r}, found only {_list(trial)}"
            )
        return _read_value(node)


def read_provenance(
    path: str | os.PathLike, *, trial_id: int, uuid: str, key: str, lock_timeout: float | None = None
) -> dict[str, Any]:
    """The provenance attributes of a result group, JSON fields decoded."""
    parts = _validate_key(key)
    with _open(Path(path), "r", lock_timeout) as f:
        trial = _trial_group(f, trial_id, uuid, create=False)
        node = trial.get("/".join(parts))
        if node is None or "job" not in node.attrs:
            raise OutputsError(f"expected a result {key!r} for trial {trial_id} in {str(path)!r}, found none")
        out = {}
        for k, v in node.attrs.items():
            if k in ("params", "versions"):
                v = json.loads(v)
            out[k] = v.item() if isinstance(v, np.generic) else v
        return out


def _list(trial: Any) -> list[str]:
    keys: list[str] = []

    def visit(name: str, obj: Any) -> None:
        if "job" in obj.attrs and not name.startswith(_TMP_PREFIX):
            keys.append(name)

    trial.visititems(visit)
    return sorted(keys)


def list_results(path: str | os.PathLike, *, trial_id: int, uuid: str, lock_timeout: float | None = None) -> list[str]:
    """Keys of the results stored for a trial (empty if the file or trial has none)."""
    path = Path(path)
    if not path.is_file():
        return []
    with _open(path, "r", lock_timeout) as f:
        g = f.get(trial_key(trial_id))
        if g is None or g.attrs.get("uuid") != uuid:  # none, or a removed trial's results
            return []
        return _list(g)


def delete_trials(path: str | os.PathLike, trial_ids: list[int], lock_timeout: float | None = None) -> int:
    """Delete the groups of ``trial_ids``; removes the file if no trial is left.

    Returns how many trial groups were deleted.
    """
    path = Path(path)
    if not path.is_file():
        return 0
    n = 0
    with _open(path, "a", lock_timeout) as f:
        for t in trial_ids:
            name = trial_key(t)
            if name in f:
                del f[name]
                n += 1
        empty = len(f) == 0
    if empty:
        with locked(path, lock_timeout, what="outputs file"):
            path.unlink(missing_ok=True)
    return n

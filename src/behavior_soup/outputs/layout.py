"""Where a session's results live: the trial files, the index of them, and the conversion of
sessions written in the earlier layout (see :mod:`behavior_soup.outputs`)."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from ..errors import OutputsError
from ..locking import atomic_write, locked, remove_stale_temps
from ..schema import trial_key
from .codec import Digests, copy_node, verify_digests

__all__ = [
    "index_lists",
    "index_state",
    "legacy_file",
    "migrate",
    "open_h5",
    "rebuild_index",
    "refuse_foreign",
    "trial_dir",
    "trial_file",
]

log = logging.getLogger(__name__)

FORMAT_NAME = "behavior_soup.outputs"
TRIAL_FORMAT = "behavior_soup.trial_outputs"
LAYOUT = 2


def trial_dir(path: str | os.PathLike) -> Path:
    """The folder of a session's trial files: ``<session>/outputs/`` beside ``outputs.h5``.

    Parameters
    ----------
    path
        The session's ``outputs.h5``.

    Returns
    -------
    pathlib.Path
        ``path`` without its suffix (``.../outputs.h5`` -> ``.../outputs``).
    """
    p = Path(path)
    return p.with_name(p.stem)


def trial_file(path: str | os.PathLike, trial_id: int) -> Path:
    """The file holding one trial's results (see the module docstring).

    Parameters
    ----------
    path
        The session's ``outputs.h5``.
    trial_id
        The trial.

    Returns
    -------
    pathlib.Path
        ``<trial_dir(path)>/trial_<id>.h5``.
    """
    return trial_dir(path) / f"{trial_key(trial_id)}.h5"


def open_h5(path: Path, mode: str = "r") -> Any:
    """Open an HDF5 file without HDF5's file locking.

    Parameters
    ----------
    path
        The file.
    mode
        The ``h5py.File`` mode.

    Returns
    -------
    h5py.File
        The open file (usable as a context manager).

    Raises
    ------
    OutputsError
        If h5py cannot open it (missing, corrupt or not HDF5).
    """
    import h5py

    try:
        return h5py.File(path, mode, locking=False)
    except OSError as exc:
        raise OutputsError(
            f"expected a readable HDF5 outputs file at {str(path)!r}, found a corrupt or foreign file ({exc})"
        ) from exc


def index_state(path: Path) -> str:
    """``"missing"``, ``"current"``, ``"legacy"`` (trials as groups inside), ``"damaged"``
    (unreadable) or ``"foreign"`` (an HDF5 file of something else).

    Parameters
    ----------
    path
        The session's ``outputs.h5``.

    Returns
    -------
    str
        The state of the index file, one of the values above.
    """
    if not path.is_file():
        return "missing"
    try:
        with open_h5(path) as f:
            fmt, layout = f.attrs.get("format"), f.attrs.get("layout")
    except OutputsError:
        return "damaged"
    if fmt != FORMAT_NAME:
        return "foreign"
    return "legacy" if layout is None else "current"


def legacy_file(path: Path) -> Path | None:
    """``path`` if it is an ``outputs.h5`` of the earlier layout (trials as groups in it).

    Parameters
    ----------
    path
        The session's ``outputs.h5``.

    Returns
    -------
    pathlib.Path or None
        ``path``, or ``None`` if it is not of the earlier layout.
    """
    return path if index_state(path) == "legacy" else None


def refuse_foreign(path: Path) -> None:
    """Refuse to use ``path`` as a results index if it is an HDF5 file of something else.

    Parameters
    ----------
    path
        The session's ``outputs.h5``.

    Raises
    ------
    OutputsError
        If ``path`` is a readable HDF5 file without this library's outputs format.
    """
    if index_state(path) == "foreign":
        raise OutputsError(
            f"expected an HDF5 file with format {FORMAT_NAME!r} at {str(path)!r}, found a foreign file; "
            "move it away (behavior_soup keeps its results index there)"
        )


def index_lists(path: Path, trial_id: int) -> bool:
    """Whether the index is of the current layout and links trial ``trial_id``.

    Parameters
    ----------
    path
        The session's ``outputs.h5``.
    trial_id
        The trial.

    Returns
    -------
    bool
        ``False`` also when the index is missing or unreadable.
    """
    try:
        with open_h5(path) as f:
            return f.attrs.get("layout") == LAYOUT and trial_key(trial_id) in f.keys()
    except (OutputsError, OSError):
        return False


def rebuild_index(
    path: str | os.PathLike, session: tuple[str, str] | None = None, lock_timeout: float | None = None
) -> list[int]:
    """Write ``outputs.h5`` anew from the trial files present (atomically); removes it when
    there are none. Returns the trial ids indexed.

    An index of the earlier layout is converted first (see :func:`migrate_locked`).

    Parameters
    ----------
    path
        The session's ``outputs.h5``.
    session
        ``(animal_id, session_id)`` to record; ``None`` takes them from the first trial file
        that records them.
    lock_timeout
        Seconds to wait for the index's lock; ``None`` means the default.

    Returns
    -------
    list of int
        The sorted trial ids with a trial file; empty when the index was removed.

    Raises
    ------
    OutputsError
        ``path`` is a foreign HDF5 file.
    LockTimeoutError
        Another writer held the index's lock for longer than ``lock_timeout``.
    """
    path = Path(path)
    with locked(path, lock_timeout, what="outputs index"):
        state = index_state(path)
        if state == "foreign":
            refuse_foreign(path)
        if state == "legacy":
            migrate_locked(path)
        if state == "damaged":
            log.warning("the results index %s is unreadable; rebuilding it from the trial files", path)
        folder = trial_dir(path)
        ids = trial_ids(folder)
        if not ids:
            path.unlink(missing_ok=True)
            return []
        if session is None:
            with contextlib.suppress(OutputsError, OSError), open_h5(folder / f"{trial_key(ids[0])}.h5") as f:
                if "animal_id" in f.attrs:
                    session = (str(f.attrs["animal_id"]), str(f.attrs["session_id"]))

        remove_stale_temps(path)
        write_index(path, ids, session)
        return sorted(ids)


def trial_ids(folder: Path) -> list[int]:
    """The trials with a file in a session's trial folder.

    Parameters
    ----------
    folder
        The folder of trial files (see :func:`trial_dir`).

    Returns
    -------
    list of int
        The sorted ids of its ``trial_<id>.h5`` files; empty if the folder does not exist.
    """
    if not folder.is_dir():
        return []
    return sorted(int(p.stem[6:]) for p in folder.glob("trial_*.h5") if p.stem[6:].isdigit())


def write_index(path: Path, ids: list[int], session: tuple[str, str] | None) -> None:
    """Write ``outputs.h5`` (atomically) with an external link to each trial's file.

    Parameters
    ----------
    path
        The session's ``outputs.h5``.
    ids
        The trials to link, ``trial_<id>`` -> ``outputs/trial_<id>.h5:/``.
    session
        ``(animal_id, session_id)`` to record as attributes, or ``None``.
    """
    import h5py

    folder = trial_dir(path)

    def writer(tmp: Path) -> None:
        with h5py.File(tmp, "w", locking=False) as f:
            f.attrs["format"] = FORMAT_NAME
            f.attrs["layout"] = LAYOUT
            if session is not None:
                f.attrs["animal_id"], f.attrs["session_id"] = session
            for t in ids:
                f[trial_key(t)] = h5py.ExternalLink(f"{folder.name}/{trial_key(t)}.h5", "/")

    atomic_write(path, writer)


def migrate(path: Path, lock_timeout: float | None) -> None:
    """Convert ``path`` to the current layout if it is of the earlier one (under its lock).

    Parameters
    ----------
    path
        The session's ``outputs.h5``.
    lock_timeout
        Seconds to wait for the index's lock; ``None`` means the default.

    Raises
    ------
    LockTimeoutError
        Another writer held the index's lock for longer than ``lock_timeout``.
    OutputsError
        A converted trial file did not read back as written.
    """
    if legacy_file(path) is not None:
        with locked(path, lock_timeout, what="outputs index"):
            if legacy_file(path) is not None:
                migrate_locked(path)


def migrate_locked(path: Path) -> None:
    """Convert an ``outputs.h5`` of the earlier layout: each trial group becomes a trial file
    (written atomically; an interrupted conversion is redone), then the index replaces it.

    The caller holds the index's lock.

    Parameters
    ----------
    path
        The session's ``outputs.h5``, of the earlier layout.

    Raises
    ------
    OutputsError
        ``path`` cannot be opened, or a converted trial file did not read back as written.
    """
    import h5py

    log.info("converting %s to one file per trial", path)
    folder = trial_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    with open_h5(path) as f:
        session = (str(f.attrs["animal_id"]), str(f.attrs["session_id"])) if "animal_id" in f.attrs else None
        for name, g in f.items():
            if not name.startswith("trial_") or "uuid" not in g.attrs:
                continue
            digests: Digests = {}
            tf = folder / f"{name}.h5"

            def writer(tmp: Path, g: Any = g, digests: Digests = digests, name: str = name) -> None:
                with h5py.File(tmp, "w", locking=False) as out:
                    out.attrs["format"] = TRIAL_FORMAT
                    for k, v in g.attrs.items():
                        out.attrs[k] = v
                    if session is not None:
                        out.attrs["animal_id"], out.attrs["session_id"] = session
                    for k, child in g.items():
                        if not k.startswith(".tmp-"):
                            copy_node(child, out, k, digests)
                with h5py.File(tmp, "r", locking=False) as out:
                    verify_digests(out, digests, f"{name} of {str(path)!r}")

            atomic_write(tf, writer)
    write_index(path, trial_ids(folder), session)

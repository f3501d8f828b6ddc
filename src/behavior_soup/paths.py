"""Relative POSIX paths under movable roots.

Every path stored in a table is relative to a root (the raw-data root for videos and
recordings, the output root for ``outputs.h5`` files) and written with ``/`` separators, so
a table keeps working after the data are moved to another folder, machine or OS: only the
root changes, and the root is given again at load time.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

from .errors import DataRootError

__all__ = [
    "get_parent_raw_data_path",
    "resolve",
    "set_parent_raw_data_path",
    "to_relative_posix",
    "validate_relative",
]

_PARENT_RAW_DATA_PATH: Path | None = None


def set_parent_raw_data_path(path: str | os.PathLike | None) -> Path | None:
    """Set the session-wide default raw-data root.

    Used by :func:`behavior_soup.create_df` when no ``raw_root`` is given, and by
    :func:`behavior_soup.load_df` in preference to the root stored in the table (the data
    were moved). An explicit ``raw_root=`` argument always wins. ``None`` clears it.

    Parameters
    ----------
    path
        The raw-data root (``~`` is expanded, a relative path is made absolute), or ``None``
        to clear the default.

    Returns
    -------
    pathlib.Path or None
        The absolute root now in force, or ``None`` if it was cleared.

    Raises
    ------
    DataRootError
        If ``path`` is not an existing, readable directory.
    """
    global _PARENT_RAW_DATA_PATH
    if path is None:
        _PARENT_RAW_DATA_PATH = None
        return None
    root = check_root(path, "parent raw-data path")
    _PARENT_RAW_DATA_PATH = root
    return root


def get_parent_raw_data_path() -> Path | None:
    """The root set by :func:`set_parent_raw_data_path`, or ``None``.

    Returns
    -------
    pathlib.Path or None
        The absolute session-wide raw-data root, or ``None`` if none is set.
    """
    return _PARENT_RAW_DATA_PATH


def check_root(path: str | os.PathLike, what: str) -> Path:
    """Return ``path`` expanded and absolute, or raise :class:`DataRootError` if it is not a
    readable directory.

    Parameters
    ----------
    path
        The directory to check; ``~`` is expanded and a relative path is made absolute
        (symlinks are not resolved).
    what
        What the directory is, for the error message (e.g. ``"raw-data root"``).

    Returns
    -------
    pathlib.Path
        The expanded, absolute path.

    Raises
    ------
    DataRootError
        If it is empty (``""`` would mean the current folder), does not exist, is not a
        directory, or is not readable and searchable.
    """
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
        raise DataRootError(f"expected the {what} to be a directory path, got {path!r}")
    root = Path(os.path.expanduser(text)).absolute()
    if not root.exists():
        raise DataRootError(f"expected the {what} to be an existing directory, got {str(root)!r} which does not exist")
    if not root.is_dir():
        raise DataRootError(f"expected the {what} to be a directory, got the file {str(root)!r}")
    if not os.access(root, os.R_OK | os.X_OK):
        raise DataRootError(f"expected the {what} {str(root)!r} to be readable, but permission is denied")
    return root


def validate_relative(rel: str, what: str = "path") -> str:
    """Check that ``rel`` is a relative POSIX path that stays inside its root.

    Parameters
    ----------
    rel
        The path to check.
    what
        What the path is, for the error message.

    Returns
    -------
    str
        ``rel`` normalised by :class:`pathlib.PurePosixPath` (e.g. ``a//b/./c`` -> ``a/b/c``).

    Raises
    ------
    ValueError
        If it is not a non-empty string, is absolute, uses ``\\``, has a drive, or climbs out
        with ``..``.
    """
    if not isinstance(rel, str) or not rel:
        raise ValueError(f"expected {what} to be a non-empty relative POSIX path, got {rel!r}")
    if "\\" in rel or PureWindowsPath(rel).drive:
        raise ValueError(f"expected {what} with '/' separators and no drive, got {rel!r}")
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts:
        raise ValueError(f"expected {what} relative to its root without '..', got {rel!r}")
    return p.as_posix()


def to_relative_posix(path: str | os.PathLike, root: str | os.PathLike, what: str = "path") -> str:
    """Express ``path`` relative to ``root`` as a POSIX string.

    Parameters
    ----------
    path
        The path to express; ``~`` is expanded, and a relative path is taken as relative to
        ``root``. Symlinks are not resolved.
    root
        The root directory.
    what
        What the path is, for error messages.

    Returns
    -------
    str
        The relative POSIX path of ``path`` under ``root`` (checked by :func:`validate_relative`).

    Raises
    ------
    DataRootError
        If ``path`` is not inside ``root``.
    ValueError
        If the relative path is not a valid stored path (see :func:`validate_relative`), e.g. a
        file name containing ``\\``.
    """
    p = Path(os.path.expanduser(os.fspath(path)))
    r = Path(root)
    if not p.is_absolute():
        p = r / p
    try:
        rel = p.absolute().relative_to(r.absolute())
    except ValueError as exc:
        raise DataRootError(f"expected {what} inside the root {str(r)!r}, got {str(p)!r}") from exc
    return validate_relative(rel.as_posix(), what)


def resolve(root: str | os.PathLike, rel: str) -> Path:
    """Absolute path of the stored relative POSIX path ``rel`` under ``root``.

    Parameters
    ----------
    root
        The root directory the path is relative to.
    rel
        A stored relative POSIX path.

    Returns
    -------
    pathlib.Path
        ``root`` joined with the parts of ``rel`` (absolute if ``root`` is).

    Raises
    ------
    ValueError
        If ``rel`` is not a valid relative POSIX path (see :func:`validate_relative`).
    """
    return Path(root).joinpath(*PurePosixPath(validate_relative(rel)).parts)


def is_inside(path: Path, root: Path) -> bool:
    """Whether ``path`` is ``root`` or below it (after resolving symlinks).

    Parameters
    ----------
    path
        The path to test.
    root
        The directory it may be inside.

    Returns
    -------
    bool
        ``True`` if the resolved ``path`` is the resolved ``root`` or inside it.
    """
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False

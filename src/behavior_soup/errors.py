"""Exceptions raised by behavior_soup.

Every error the library raises on purpose derives from :class:`BehaviorSoupError`, so a
notebook can catch them all at once. Bad *arguments* (wrong type, out-of-range value) raise
the builtin ``TypeError``/``ValueError`` instead; where a problem is both (an invalid id, say),
the class derives from both so either ``except`` works.

Messages follow one rule: say what was expected and what was found.
"""

from __future__ import annotations

__all__ = [
    "BehaviorSoupError",
    "DataRootError",
    "InvalidIdError",
    "ItemExistsError",
    "ItemNotFoundError",
    "TableExistsError",
    "JobError",
    "LockError",
    "LockTimeoutError",
    "MissingDependencyError",
    "MissingViewError",
    "OutputsError",
    "StaleTableError",
    "TableEditError",
    "WriteError",
    "TableFormatError",
    "VideoError",
    "DataFormatError",
    "DeviceError",
    "ModelError",
]


class BehaviorSoupError(Exception):
    """Base class of every error raised on purpose by behavior_soup."""


class DataRootError(BehaviorSoupError):
    """The raw-data or output root is missing, unreadable, or in the wrong place."""


class InvalidIdError(BehaviorSoupError, ValueError):
    """An animal/session/trial id or experiment type is not acceptable."""


class ItemExistsError(BehaviorSoupError):
    """A trial being added is already in the table."""


class TableExistsError(ItemExistsError, FileExistsError):
    """A new table was asked for where a file or folder already is."""


class ItemNotFoundError(BehaviorSoupError, LookupError):
    """Nothing on disk or in the table matches what was asked for."""


class MissingViewError(BehaviorSoupError):
    """A trial lacks one of the camera views it needs."""


class TableFormatError(BehaviorSoupError):
    """A file is not a readable behavior_soup table (corrupt, foreign or too new)."""


class TableEditError(BehaviorSoupError, ValueError):
    """An edit of the table in memory cannot be saved (a schema column dropped or renamed, a
    value of the wrong type); nothing was written."""


class WriteError(BehaviorSoupError, OSError):
    """A file could not be written completely (e.g. the disk is full); the previous version
    is kept."""


class StaleTableError(BehaviorSoupError):
    """The table on disk changed since this DataFrame was loaded."""


class LockError(BehaviorSoupError, OSError):
    """A file's lock cannot be taken (its ``.lock`` is not a lockable file)."""


class LockTimeoutError(LockError, TimeoutError):
    """Another process held a file lock for longer than the timeout."""


class OutputsError(BehaviorSoupError):
    """An ``outputs.h5`` file is corrupt, foreign, or lacks the requested result."""


class VideoError(BehaviorSoupError):
    """A video cannot be opened or decoded, or decodes to fewer frames than it claims."""


class DataFormatError(BehaviorSoupError):
    """A data file (stimulus, spikes, labels, pose) has an unexpected format or content."""


class JobError(BehaviorSoupError):
    """A row-level job is unknown, or failed."""


class MissingDependencyError(BehaviorSoupError, ImportError):
    """An optional dependency is not installed; the message names the pip extra."""


def require(module: str, extra: str, purpose: str):
    """Import an optional dependency or raise :class:`MissingDependencyError`.

    Parameters
    ----------
    module
        Importable module name, e.g. ``"dask.distributed"``.
    extra
        The ``behavior_soup`` pip extra that installs it, e.g. ``"distributed"``.
    purpose
        What needs it, for the message.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the optional dependency {module!r}, which is not installed; "
            f"install it with: pip install 'behavior_soup[{extra}]'"
        ) from exc


class ModelError(BehaviorSoupError):
    """A model checkpoint is missing, unreadable, or does not fit what it is used for (wrong
    kind or mode, other behaviors, other input size)."""


class DeviceError(BehaviorSoupError, ValueError):
    """A compute device was asked for that this machine does not have (e.g. CUDA without a GPU)."""

"""Pose file formats: one module each, registering a name, file suffixes, a sniffer and a
loader, so detecting a file's format is a loop and a new format is one registration.

:func:`register_pose_loader` adds a format from anywhere (a lab's own files, a tool not
supported here): ``@register_pose_loader("myformat", (".h5",), sniff=lambda p: ...)``.
Detection (:func:`detect_format`) tries every format whose suffixes match: the ones whose
sniffer recognises the file, the latest registered first (so a registration from outside
can claim files a built-in format would also read); then formats of that suffix without
a sniffer.

A loader whose file does not know its video's frame count (a SLEAP file whose video cannot be
opened: its array ends at the last labelled frame) sets ``metadata[FRAMES_FROM_LABELS] = True``;
:func:`load_pose` then pads the keypoints with NaN to the ``n_frames`` its caller knows.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import DataFormatError
from ..data import PoseData

__all__ = [
    "FRAMES_FROM_LABELS",
    "POSE_LOADERS",
    "PoseFormat",
    "detect_format",
    "load_pose",
    "pick_individual",
    "register_pose_loader",
]

log = logging.getLogger(__name__)

#: Metadata key a loader sets (to True) when its frame count is the last labelled frame + 1, not
#: the video's: :func:`load_pose` pads such keypoints to ``n_frames``.
FRAMES_FROM_LABELS = "frames_from_labels"

PoseLoader = Callable[[Path, "str | None"], PoseData]
Sniffer = Callable[[Path], bool]


@dataclass(frozen=True)
class PoseFormat:
    """A registered pose file format.

    Attributes
    ----------
    name
        Registry key, recorded with imported poses.
    suffixes
        File suffixes it reads (lower case, with the dot).
    func
        ``func(path, individual) -> PoseData``.
    sniff
        ``sniff(path) -> bool``: whether a file with a matching suffix is of this format
        (None: decided by suffix alone). It must not raise for files of other formats.
    """

    name: str
    suffixes: tuple[str, ...]
    func: PoseLoader
    sniff: Sniffer | None = None


#: Format name -> format, in registration order.
POSE_LOADERS: dict[str, PoseFormat] = {}


def register_pose_loader(
    name: str, suffixes: tuple[str, ...], sniff: Sniffer | None = None
) -> Callable[[PoseLoader], PoseLoader]:
    """Decorator registering ``func(path, individual) -> PoseData`` as the loader of format
    ``name`` for files ending in ``suffixes``, recognised by ``sniff`` (see the module
    docstring).

    Parameters
    ----------
    name
        Format name, recorded with imported poses; registering it again replaces the earlier
        loader and makes it the first tried.
    suffixes
        File suffixes it reads, with the dot (compared in lower case).
    sniff
        ``sniff(path) -> bool``: whether a file with one of ``suffixes`` is of this format;
        exceptions count as ``False``. ``None``: decided by suffix alone.

    Returns
    -------
    callable
        The decorator; it records ``func`` in :data:`POSE_LOADERS` and returns it unchanged.

    Examples
    --------
    >>> @register_pose_loader("lab_h5", (".h5",), sniff=lambda p: "lab_tracks" in h5py.File(p, "r"))  # doctest: +SKIP
    ... def load_lab_h5(path, individual):
    ...     ...  # -> PoseData
    """

    def deco(func: PoseLoader) -> PoseLoader:
        POSE_LOADERS.pop(name, None)  # a re-registration moves to the end: it is tried first
        POSE_LOADERS[name] = PoseFormat(name, tuple(s.lower() for s in suffixes), func, sniff)
        return func

    return deco


def _sniffs(fmt: PoseFormat, path: Path) -> bool:
    try:
        return bool(fmt.sniff(path))  # type: ignore[misc]
    except Exception:  # a sniffer meeting another format's file
        return False


def detect_format(path: Path) -> str:
    """The format of a pose file: from its suffix and, where several formats share it, their
    sniffers (see the module docstring).

    Parameters
    ----------
    path
        The pose file.

    Returns
    -------
    str
        A name in :data:`POSE_LOADERS`.

    Raises
    ------
    DataFormatError
        No format reads files with this suffix, or none of those recognises the file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    fits = [f for f in POSE_LOADERS.values() if suffix in f.suffixes]
    if not fits:
        known = sorted({s for f in POSE_LOADERS.values() for s in f.suffixes})
        raise DataFormatError(f"expected a pose file with a suffix in {known}, got {path.name!r}")
    for fmt in reversed([f for f in fits if f.sniff is not None]):
        if _sniffs(fmt, path):
            return fmt.name
    plain = [f for f in fits if f.sniff is None]
    if plain:
        return plain[-1].name
    if suffix in (".h5", ".hdf5"):
        _check_hdf5(path)
    raise DataFormatError(
        f"expected {path.name!r} to be one of the pose formats {[f.name for f in fits]}, none recognises it; "
        "pass format= or register a loader for it"
    )


def _check_hdf5(path: Path) -> None:
    import h5py

    try:
        with h5py.File(path, "r", locking=False):
            pass
    except OSError as exc:
        raise DataFormatError(f"expected a readable HDF5 pose file at {str(path)!r}: {exc}") from exc


def load_pose(
    path: str | os.PathLike,
    individual: str | None = None,
    format: str | None = None,
    n_frames: int | None = None,
) -> PoseData:
    """Read one subject's keypoints from a pose file.

    Parameters
    ----------
    path
        A DeepLabCut ``.h5``/``.csv`` (predictions or labelled data, single or multi-animal),
        a SLEAP ``.slp`` or analysis ``.h5``, an NWB file with ndx-pose ``PoseEstimation``, or a
        registered format's file.
    individual
        The subject to take from a multi-animal file (required there).
    format
        A name in :data:`POSE_LOADERS` to skip detection.
    n_frames
        The frame count of the video the keypoints belong to (the trial's video). A file that
        does not know it (a SLEAP file whose video has moved, sized by its last labelled frame)
        is padded with NaN to it; default: the file's own frame count.

    Returns
    -------
    PoseData
        ``positions`` ``(T, K, 2)`` float64 px, ``likelihood`` ``(T, K)`` float64, bodyparts;
        ``T == n_frames`` when given.

    Raises
    ------
    FileNotFoundError
        No such file.
    DataFormatError
        Unknown format, unreadable content, a multi-animal file without ``individual``, or a
        file with another frame count than ``n_frames`` (or labelled frames beyond it).
    ValueError
        ``format`` is not a name in :data:`POSE_LOADERS`, or ``n_frames`` is not a positive
        integer.
    """
    p = Path(path)
    if n_frames is not None and (
        isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 1
    ):
        raise ValueError(f"expected n_frames to be a positive integer or None, got {n_frames!r}")
    if not p.is_file():
        raise FileNotFoundError(f"expected a pose file at {str(p)!r}, found none")
    fmt = format or detect_format(p)
    if fmt not in POSE_LOADERS:
        raise ValueError(f"expected format in {sorted(POSE_LOADERS)}, got {fmt!r}")
    try:
        pose = POSE_LOADERS[fmt].func(p, individual)
    except DataFormatError as exc:
        if str(p.name) in str(exc):
            raise
        raise DataFormatError(f"{exc} (in the {fmt} file {str(p)!r})") from exc
    except (ValueError, TypeError, KeyError, IndexError) as exc:  # content the reader did not expect
        raise DataFormatError(
            f"expected {fmt} keypoints in {str(p)!r}, found content that cannot be read as such "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    pose.metadata.setdefault("file", p.name)
    if n_frames is not None:
        pose = _to_frames(pose, int(n_frames), p)
    return pose


def _to_frames(pose: PoseData, n_frames: int, path: Path) -> PoseData:
    """``pose`` with ``n_frames`` rows: padded with NaN where its frame count is only its last
    labelled frame + 1 (see :data:`FRAMES_FROM_LABELS`)."""
    t = pose.n_frames
    if pose.metadata.get(FRAMES_FROM_LABELS):
        if t > n_frames:
            raise DataFormatError(
                f"expected labelled frames below {n_frames} (the video's frame count) in {path.name!r}, "
                f"found labels up to frame {t - 1}"
            )
        if t < n_frames:
            log.debug("%s: padding %d labelled frames to the video's %d", path.name, t, n_frames)
            pad = n_frames - t
            k = len(pose.bodyparts)
            pose.positions = np.concatenate([pose.positions, np.full((pad, k, 2), np.nan)])
            pose.likelihood = np.concatenate([pose.likelihood, np.full((pad, k), np.nan)])
        pose.metadata.pop(FRAMES_FROM_LABELS)
    elif t != n_frames:
        raise DataFormatError(f"expected {n_frames} frames (the video's frame count) in {path.name!r}, found {t}")
    return pose


def pick_individual(individuals: list[str], individual: str | None, path: Path) -> str | None:
    """The subject to read from a pose file, for format loaders.

    Parameters
    ----------
    individuals
        The individuals the file holds (empty for a single-animal file).
    individual
        The one asked for, or ``None``.
    path
        The file, for error messages.

    Returns
    -------
    str or None
        ``individual``; or, when none was asked for, the file's only individual (``None`` if
        it names none).

    Raises
    ------
    DataFormatError
        If the file holds several individuals and none was asked for, or ``individual`` is not
        one of them.
    """
    if len(individuals) <= 1 and individual is None:
        return individuals[0] if individuals else None
    if individual is None:
        raise DataFormatError(
            f"expected individual= for the multi-animal file {path.name!r}, got none; its individuals are {individuals}"
        )
    if individual not in individuals:
        raise DataFormatError(f"expected an individual in {individuals} in {path.name!r}, got {individual!r}")
    return individual


from . import dlc, nwb, sleap  # noqa: E402, F401  (the built-in formats register themselves)

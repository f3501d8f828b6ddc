"""NWB files with ndx-pose ``PoseEstimation``: import and export, with pynwb."""

from __future__ import annotations

import logging
import os
import re
import uuid as uuidlib
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import DataFormatError, require
from ...locking import atomic_write
from ..data import PoseData
from . import pick_individual, register_pose_loader

__all__ = ["export_nwb", "pose_series"]

log = logging.getLogger(__name__)


#: How DLC2NWB describes each series (named ``<individual>_<bodypart>``), and how
#: :func:`export_nwb` describes the series of a pose with an individual (named ``<bodypart>``).
_DESCRIBED = re.compile(r"Keypoint (?P<part>.+) from individual (?P<ind>.+)\.")
#: The confidence definition :func:`export_nwb` writes: -1 stands for an unknown likelihood.
_UNKNOWN_CONFIDENCE = "-1 where unknown"


def _nodes(pe: Any) -> list[str]:
    """The bodypart names a PoseEstimation lists: its skeleton's nodes (ndx-pose >= 0.2) or its
    own ``nodes`` (ndx-pose 0.1); empty when it lists none."""
    skel = pe.fields.get("skeleton")
    nodes = skel.nodes if skel is not None else pe.fields.get("nodes")
    return [str(n) for n in nodes[:]] if nodes is not None else []


def _bodyparts(pe: Any) -> tuple[str | None, dict[str, str]]:
    """The individual a PoseEstimation says it holds (None where it says none) and, per series
    name, the bodypart.

    A series is its own bodypart unless the file says otherwise: every series described as
    ``Keypoint <bodypart> from individual <individual>.`` for one individual (DLC2NWB,
    :func:`export_nwb`), or a skeleton of bare names under series named ``<individual>_<node>``
    with one prefix for all of them.
    """
    names = [str(n) for n in pe.pose_estimation_series]
    said: dict[str, tuple[str, str]] = {}
    for name in names:
        m = _DESCRIBED.fullmatch(str(pe.pose_estimation_series[name].description or ""))
        if m and name in (m["part"], f"{m['ind']}_{m['part']}"):
            said[name] = (m["ind"], m["part"])
    inds = {ind for ind, _ in said.values()}
    parts = {part for _, part in said.values()}
    if names and len(said) == len(names) and len(inds) == 1 and len(parts) == len(names):
        return inds.pop(), {name: part for name, (_, part) in said.items()}
    nodes = _nodes(pe)
    if nodes and not set(names) & set(nodes):
        split: dict[str, tuple[str, str]] = {}
        for name in names:
            node = max((n for n in nodes if name.endswith("_" + n) and len(name) > len(n) + 1), key=len, default=None)
            if node is not None:
                split[name] = (name[: -len(node) - 1], node)
        prefixes = {ind for ind, _ in split.values()}
        if len(split) == len(names) and len(prefixes) == 1 and len({n for _, n in split.values()}) == len(names):
            return prefixes.pop(), {name: node for name, (_, node) in split.items()}
    return None, {name: name for name in names}


def _describe(path: Path) -> str:
    """What ``path`` is, for the message of a file pynwb could not read."""
    import h5py

    try:
        with h5py.File(path, "r", locking=False) as f:
            version = f.attrs.get("nwb_version")
    except OSError:
        return "a file HDF5 cannot open (truncated or not HDF5)"
    if version is None:
        return "an HDF5 file without the 'nwb_version' attribute of NWB files"
    if isinstance(version, bytes):
        version = version.decode(errors="replace")
    return f"an NWB {version} file"


def _read_pose_estimations(path: Path) -> tuple[list[dict[str, Any]], str]:
    """Every PoseEstimation in the file: ``{"name", "individual", "series": {bodypart: (data,
    confidence, rate)}, "rank": {bodypart: position}}``, and the first scorer named."""
    pynwb = require("pynwb", "pose", "reading NWB pose files")
    require("ndx_pose", "pose", "reading NWB pose files")
    found: list[dict[str, Any]] = []
    scorer = ""
    try:
        with pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True) as io:
            nwb = io.read()
            for mod in nwb.processing.values():
                for pe in mod.data_interfaces.values():
                    if type(pe).__name__ != "PoseEstimation":
                        continue
                    scorer = scorer or str(pe.scorer or "")
                    ind, parts = _bodyparts(pe)
                    nodes = _nodes(pe)
                    series: dict[str, tuple[np.ndarray, np.ndarray | None, float | None]] = {}
                    rank: dict[str, int] = {}
                    for i, (name, part) in enumerate(parts.items()):
                        s = pe.pose_estimation_series[name]
                        data = np.asarray(s.data[:], dtype=np.float64)[:, :2]
                        conf = np.asarray(s.confidence[:], dtype=np.float64) if s.confidence is not None else None
                        if conf is not None and _UNKNOWN_CONFIDENCE in str(s.confidence_definition or ""):
                            conf[conf == -1.0] = np.nan
                        series[part] = (data, conf, s.rate)
                        hit = name if name in nodes else part
                        rank[part] = nodes.index(hit) if hit in nodes else len(nodes) + i
                    found.append({"name": pe.name, "individual": ind, "series": series, "rank": rank})
    except Exception as exc:
        raise DataFormatError(
            f"expected an NWB file with ndx-pose PoseEstimation data in {str(path)!r}, found {_describe(path)} "
            f"(pynwb {_version('pynwb')} with ndx-pose {_version('ndx-pose')} raised {type(exc).__name__}: {exc})"
        ) from exc
    return found, scorer


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "(unknown version)"


@register_pose_loader("nwb", (".nwb",))
def _load_nwb(path: Path, individual: str | None) -> PoseData:
    found, scorer = _read_pose_estimations(path)
    if not found:
        raise DataFormatError(f"expected ndx-pose PoseEstimation data in {path.name!r}, found none")
    by_individual: dict[str | None, dict[str, Any]] = {}
    for pe in found:
        # several PoseEstimation objects that do not say whose they are: one per individual, by name
        key = pe["individual"] if pe["individual"] is not None or len(found) == 1 else pe["name"]
        if key in by_individual:
            raise DataFormatError(f"expected one PoseEstimation per individual in {path.name!r}, found two of {key!r}")
        by_individual[key] = pe
    inds = [i for i in by_individual if i is not None]
    ind = pick_individual(inds, individual, path) if inds else None
    pe = by_individual[ind]
    parts: dict[str, tuple[np.ndarray, np.ndarray | None, float | None]] = pe["series"]
    if not parts:
        raise DataFormatError(f"expected PoseEstimationSeries in {pe['name']!r} of {path.name!r}, found none")
    names = sorted(parts, key=lambda p: pe["rank"][p])
    lengths = {b: len(parts[b][0]) for b in names}
    if len(set(lengths.values())) != 1:
        raise DataFormatError(
            f"expected series of one length in {pe['name']!r} of {path.name!r}, found lengths {lengths}"
        )
    n = lengths[names[0]]
    pos = np.stack([parts[b][0] for b in names], axis=1)
    like = np.stack([parts[b][1] if parts[b][1] is not None else np.full(n, np.nan) for b in names], axis=1)
    rate = parts[names[0]][2]
    meta = {"fps": float(rate)} if rate else {}
    log.debug("%s: PoseEstimation %r, individual %r, bodyparts %s", path.name, pe["name"], ind, names)
    return PoseData(pos, like, tuple(names), individual=ind, scorer=scorer, source="nwb", metadata=meta)


def pose_series(
    pose: PoseData,
    rate: float,
    starting_time: float = 0.0,
    describe: Callable[[str], str] | None = None,
) -> list[Any]:
    """One ndx-pose ``PoseEstimationSeries`` per bodypart of ``pose``, named after it.

    Parameters
    ----------
    pose
        The keypoints: ``(T, 2)`` pixels per series; NaN likelihoods become confidence ``-1``
        (which :func:`~behavior_soup.pose.load_pose` reads back as NaN).
    rate
        Frames per second.
    starting_time
        Time of the first frame in the file, seconds.
    describe
        ``describe(bodypart) -> description``; default ``"keypoint <bodypart>"``.

    Returns
    -------
    list of ndx_pose.PoseEstimationSeries
        In the order of ``pose.bodyparts``.
    """
    ndx_pose = require("ndx_pose", "pose", "writing NWB pose files")
    return [
        ndx_pose.PoseEstimationSeries(
            name=b,
            description=describe(b) if describe else f"keypoint {b}",
            data=pose.positions[:, k],
            unit="pixels",
            reference_frame="(0,0) is the top-left corner of the video frame",
            rate=float(rate),
            starting_time=float(starting_time),
            confidence=np.nan_to_num(pose.likelihood[:, k], nan=-1.0),
            confidence_definition=f"detector likelihood in [0, 1]; {_UNKNOWN_CONFIDENCE}",
        )
        for k, b in enumerate(pose.bodyparts)
    ]


def export_nwb(
    pose: PoseData,
    path: str | os.PathLike,
    *,
    fps: float,
    session_description: str = "behavior_soup pose export",
    identifier: str | None = None,
    session_start_time: datetime | None = None,
    video: str | None = None,
    subject_id: str | None = None,
) -> Path:
    """Write ``pose`` to a new NWB file with ndx-pose (``processing/behavior/PoseEstimation``).

    One ``PoseEstimationSeries`` per bodypart, named after it (``(T, 2)`` pixels, confidence =
    likelihood, sampled at ``fps``), with a ``Skeleton`` of the bodyparts. A pose with an
    individual describes each series as ``Keypoint <bodypart> from individual <individual>.``
    (the DLC2NWB wording), so :func:`~behavior_soup.pose.load_pose` reads back the same
    bodyparts, individual, values and fps. The file is written to a temporary name and moved
    into place.

    Parameters
    ----------
    pose
        The keypoints; NaN likelihoods are written as confidence ``-1``.
    path
        The NWB file to write (replaced if it exists).
    fps
        Frame rate of the keypoints, frames per second (> 0).
    session_description
        The NWB file's session description.
    identifier
        The NWB file's identifier; default a new random UUID.
    session_start_time
        Default: now, in UTC.
    video
        Path of the source video, linked as an external ``ImageSeries`` named ``video``.
    subject_id
        The NWB subject's id.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``fps`` is not positive.
    MissingDependencyError
        If ``pynwb`` or ``ndx_pose`` is not installed.
    """
    pynwb = require("pynwb", "pose", "writing NWB pose files")
    ndx_pose = require("ndx_pose", "pose", "writing NWB pose files")
    if not (fps and fps > 0):
        raise ValueError(f"expected fps > 0, got {fps!r}")
    out = Path(path)
    nwb = pynwb.NWBFile(
        session_description=session_description,
        identifier=identifier or str(uuidlib.uuid4()),
        session_start_time=session_start_time or datetime.now(timezone.utc),
    )
    if subject_id:
        nwb.subject = pynwb.file.Subject(subject_id=subject_id)
    name = pose.individual or "subject"
    skeleton = ndx_pose.Skeleton(name=f"{name}_skeleton", nodes=list(pose.bodyparts))
    series = pose_series(
        pose,
        rate=float(fps),
        describe=(lambda b: f"Keypoint {b} from individual {pose.individual}.") if pose.individual else None,
    )
    source_video = None
    if video:
        source_video = pynwb.image.ImageSeries(
            name="video",
            external_file=[video],
            format="external",
            rate=float(fps),
            starting_frame=[0],
            num_samples=pose.n_frames,
        )
        nwb.add_acquisition(source_video)
    pe = ndx_pose.PoseEstimation(
        name=f"PoseEstimation_{name}",
        pose_estimation_series=series,
        description=f"keypoints of {name} from {pose.source or 'behavior_soup'}",
        source_video=source_video,
        scorer=pose.scorer or None,
        source_software="behavior_soup",
        skeleton=skeleton,
    )
    behavior = nwb.create_processing_module(name="behavior", description="pose estimates")
    behavior.add(ndx_pose.Skeletons(skeletons=[skeleton]))
    behavior.add(pe)

    def write(tmp: Path) -> None:
        with warnings.catch_warnings():  # the temporary name does not end in .nwb; the file's name does
            warnings.filterwarnings("ignore", message="The file path provided", category=UserWarning)
            with pynwb.NWBHDF5IO(str(tmp), "w") as io:
                io.write(nwb)

    atomic_write(out, write)
    return out

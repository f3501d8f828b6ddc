"""NWB files with ndx-pose ``PoseEstimation``: import and export, with pynwb."""

from __future__ import annotations

import os
import uuid as uuidlib
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ...errors import DataFormatError, require
from ...locking import atomic_write
from ..data import PoseData
from . import pick_individual, register_pose_loader

__all__ = ["export_nwb"]


def _split_series_names(names: list[str], nodes: list[str]) -> dict[str, tuple[str | None, str]]:
    """Series name -> (individual, bodypart). Series are named ``<individual>_<bodypart>`` by
    DLC2NWB and ``<bodypart>`` by others; the skeleton's nodes (when they are bare bodypart
    names) or else a prefix shared by every series tell the individual apart."""
    out: dict[str, tuple[str | None, str]] = {}
    bare = [n for n in nodes if n not in names or len(names) == 1]
    if bare and set(nodes) != set(names):
        for name in names:
            out[name] = (None, name)
            for node in sorted(bare, key=len, reverse=True):
                if name.endswith("_" + node):
                    out[name] = (name[: -len(node) - 1], node)
                    break
        return out
    prefix = os.path.commonprefix(names) if len(names) > 1 else ""
    prefix = prefix[: prefix.rfind("_") + 1] if "_" in prefix else ""
    return {n: ((prefix[:-1], n[len(prefix) :]) if prefix else (None, n)) for n in names}


@register_pose_loader("nwb", (".nwb",))
def _load_nwb(path: Path, individual: str | None) -> PoseData:
    pynwb = require("pynwb", "pose", "reading NWB pose files")
    require("ndx_pose", "pose", "reading NWB pose files")
    series: dict[str | None, dict[str, object]] = {}
    order: list[str] = []  # node order as listed in the file (pynwb sorts series by name)
    scorer = ""
    with pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True) as io:
        nwb = io.read()
        for mod in nwb.processing.values():
            for pe in mod.data_interfaces.values():
                if type(pe).__name__ != "PoseEstimation":
                    continue
                scorer = scorer or str(pe.scorer or "")
                skel = pe.fields.get("skeleton")
                nodes = [str(n) for n in skel.nodes[:]] if skel is not None else []
                listed = nodes or [str(n) for n in (pe.fields.get("nodes") or [])[:]]
                order += [n for n in listed if n not in order]
                many = sum(type(x).__name__ == "PoseEstimation" for x in mod.data_interfaces.values()) > 1
                for name, (ind, part) in _split_series_names(list(pe.pose_estimation_series), nodes).items():
                    s = pe.pose_estimation_series[name]
                    data = np.asarray(s.data[:], dtype=np.float64)[:, :2]
                    conf = np.asarray(s.confidence[:], dtype=np.float64) if s.confidence is not None else None
                    series.setdefault(ind if ind is not None or not many else pe.name, {})[part] = (data, conf, s.rate)
    if not series:
        raise DataFormatError(f"expected ndx-pose PoseEstimation data in {path.name!r}, found none")
    inds = [i for i in series if i is not None]
    ind = pick_individual(inds, individual, path) if inds else None
    parts = series[ind]
    rank = {p: i for i, p in enumerate(order)}
    rank.update(
        {part: rank[full] for full in order for part in parts if full.endswith("_" + part) and part not in rank}
    )
    names = sorted(parts, key=lambda p: rank.get(p, len(rank)))
    n = len(next(iter(parts.values()))[0])
    pos = np.stack([parts[b][0] for b in names], axis=1)
    like = np.stack([parts[b][1] if parts[b][1] is not None else np.full(n, np.nan) for b in names], axis=1)
    rate = next(iter(parts.values()))[2]
    meta = {"fps": float(rate)} if rate else {}
    return PoseData(pos, like, tuple(names), individual=ind, scorer=scorer, source="nwb", metadata=meta)


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

    One ``PoseEstimationSeries`` per bodypart (``(T, 2)`` pixels, confidence = likelihood,
    sampled at ``fps``), with a ``Skeleton`` of the bodyparts. The file is written to a
    temporary name and moved into place.

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
    series = [
        ndx_pose.PoseEstimationSeries(
            name=b,
            description=f"keypoint {b}",
            data=pose.positions[:, k],
            unit="pixels",
            reference_frame="(0,0) is the top-left corner of the video frame",
            rate=float(fps),
            confidence=np.nan_to_num(pose.likelihood[:, k], nan=-1.0),
            confidence_definition="detector likelihood in [0, 1]; -1 where unknown",
        )
        for k, b in enumerate(pose.bodyparts)
    ]
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
        with pynwb.NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwb)

    atomic_write(out, write)
    return out

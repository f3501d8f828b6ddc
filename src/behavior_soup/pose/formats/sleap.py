"""SLEAP files: ``.slp`` and analysis ``.h5``, read with sleap-io.

Point scores become likelihoods clipped to [0, 1] (SLEAP's confidence-map peaks overshoot 1).
When the file's video cannot be opened (the usual case once data has moved), sleap-io sizes the
keypoints by the last labelled frame: the result is marked with
:data:`~behavior_soup.pose.formats.FRAMES_FROM_LABELS` so that ``load_pose(n_frames=)`` pads it
to the video's frame count.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import DataFormatError, require
from ..data import PoseData
from . import FRAMES_FROM_LABELS, pick_individual, register_pose_loader

log = logging.getLogger(__name__)


def _video_frames(video: Any) -> int | None:
    """The frame count of a SLEAP file's video, or None when its file cannot be opened (moved
    data: sleap-io then gives no shape, or its backend raises)."""
    try:
        shape = video.shape
    except Exception:  # a backend failing on the missing file
        return None
    return int(shape[0]) if shape else None


def _from_sleap(path: Path, individual: str | None, source: str) -> PoseData:
    sio = require("sleap_io", "pose", "reading SLEAP files")
    try:
        labels = sio.load_file(str(path))
    except Exception as exc:
        raise DataFormatError(f"expected a SLEAP file in {path.name!r}: {type(exc).__name__}: {exc}") from exc
    if len(labels.videos) != 1:
        raise DataFormatError(f"expected SLEAP labels of one video in {path.name!r}, found {len(labels.videos)}")
    tracks = [t.name for t in labels.tracks]
    arr = labels.numpy(video=0, untracked=not tracks, return_confidence=True)  # (T, n_tracks, K, 3)
    nodes = tuple(n.name for n in labels.skeleton.nodes)
    ind = pick_individual(tracks, individual, path) if tracks else None
    i = tracks.index(ind) if ind is not None else 0
    if not tracks and arr.shape[1] > 1:
        raise DataFormatError(
            f"expected tracked instances in the multi-animal file {path.name!r}, found {arr.shape[1]} untracked ones"
        )
    sub = arr[:, i].astype(np.float64)
    meta: dict[str, Any] = {}
    fps = getattr(labels.videos[0], "fps", None)
    if fps:
        meta["fps"] = float(fps)
    if _video_frames(labels.videos[0]) is None:
        # sleap-io sizes the array by the last labelled frame; load_pose(n_frames=) pads it to the video's length
        meta[FRAMES_FROM_LABELS] = True
        log.info(
            "%s: its video %r cannot be opened, so its frame count (%d) is the last labelled frame + 1",
            path.name,
            str(getattr(labels.videos[0], "filename", "")),
            len(sub),
        )
    # SLEAP scores are confidence-map peaks, which overshoot 1 a little; a likelihood is in [0, 1]
    score = sub[..., 2]
    over = int(np.sum(score > 1.0))
    if over:
        log.debug("%s: %d point scores above 1 clipped to 1", path.name, over)
    like = np.clip(score, 0.0, 1.0)
    return PoseData(sub[..., :2], like, nodes, individual=ind, scorer="SLEAP", source=source, metadata=meta)


@register_pose_loader("slp", (".slp",))
def _load_slp(path: Path, individual: str | None) -> PoseData:
    return _from_sleap(path, individual, "slp")


def _is_sleap_analysis(path: Path) -> bool:
    import h5py

    with h5py.File(path, "r", locking=False) as f:
        return "tracks" in f and "node_names" in f


@register_pose_loader("sleap_analysis_h5", (".h5",), sniff=_is_sleap_analysis)
def _load_sleap_analysis(path: Path, individual: str | None) -> PoseData:
    return _from_sleap(path, individual, "sleap_analysis_h5")

"""SLEAP files: ``.slp`` and analysis ``.h5``, read with sleap-io."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import DataFormatError, require
from ..data import PoseData
from . import pick_individual, register_pose_loader


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
    meta = {}
    fps = getattr(labels.videos[0], "fps", None)
    if fps:
        meta["fps"] = float(fps)
    return PoseData(sub[..., :2], sub[..., 2], nodes, individual=ind, scorer="SLEAP", source=source, metadata=meta)


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

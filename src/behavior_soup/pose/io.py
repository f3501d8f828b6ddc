"""Import pose estimates made elsewhere (DeepLabCut, SLEAP, NWB/ndx-pose) and export to NWB.

One loader per format, in a registry: a new format is one function registered with
:func:`register_pose_loader`. DeepLabCut tables are read with pandas, SLEAP files with
sleap-io, NWB files with pynwb and ndx-pose; nothing is parsed by hand where a library does it.
"""

from __future__ import annotations

import logging
import os
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFormatError, require
from .data import PoseData

__all__ = ["POSE_LOADERS", "detect_format", "export_nwb", "load_pose", "register_pose_loader"]

log = logging.getLogger(__name__)

PoseLoader = Callable[[Path, "str | None"], PoseData]


@dataclass(frozen=True)
class _Loader:
    name: str
    suffixes: tuple[str, ...]
    func: PoseLoader


#: Format name -> loader.
POSE_LOADERS: dict[str, _Loader] = {}


def register_pose_loader(name: str, suffixes: tuple[str, ...]) -> Callable[[PoseLoader], PoseLoader]:
    """Decorator registering ``func(path, individual) -> PoseData`` as the loader of format ``name``."""

    def deco(func: PoseLoader) -> PoseLoader:
        POSE_LOADERS[name] = _Loader(name, tuple(s.lower() for s in suffixes), func)
        return func

    return deco


def detect_format(path: Path) -> str:
    """The format of a pose file, from its suffix (and, for ``.h5``, its contents)."""
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        import h5py

        try:
            with h5py.File(path, "r") as f:
                if "tracks" in f and "node_names" in f:
                    return "sleap_analysis_h5"
        except OSError as exc:
            raise DataFormatError(f"expected a readable HDF5 pose file at {str(path)!r}: {exc}") from exc
        return "dlc_h5"
    for name, loader in POSE_LOADERS.items():
        if suffix in loader.suffixes and name not in ("dlc_h5", "sleap_analysis_h5"):
            return name
    known = sorted({s for ld in POSE_LOADERS.values() for s in ld.suffixes})
    raise DataFormatError(f"expected a pose file with a suffix in {known}, got {path.name!r}")


def load_pose(path: str | os.PathLike, individual: str | None = None, format: str | None = None) -> PoseData:
    """Read one subject's keypoints from a pose file.

    Parameters
    ----------
    path
        A DeepLabCut ``.h5``/``.csv`` (single or multi-animal), a SLEAP ``.slp`` or analysis
        ``.h5``, or an NWB file with ndx-pose ``PoseEstimation``.
    individual
        The subject to take from a multi-animal file (required there).
    format
        A name in :data:`POSE_LOADERS` to skip detection.

    Raises
    ------
    FileNotFoundError
        No such file.
    DataFormatError
        Unknown format, unreadable content, or a multi-animal file without ``individual``.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"expected a pose file at {str(p)!r}, found none")
    fmt = format or detect_format(p)
    if fmt not in POSE_LOADERS:
        raise ValueError(f"expected format in {sorted(POSE_LOADERS)}, got {fmt!r}")
    pose = POSE_LOADERS[fmt].func(p, individual)
    pose.metadata.setdefault("file", p.name)
    return pose


def _pick(individuals: list[str], individual: str | None, path: Path) -> str | None:
    if len(individuals) <= 1 and individual is None:
        return individuals[0] if individuals else None
    if individual is None:
        raise DataFormatError(
            f"expected individual= for the multi-animal file {path.name!r}, got none; its individuals are {individuals}"
        )
    if individual not in individuals:
        raise DataFormatError(f"expected an individual in {individuals} in {path.name!r}, got {individual!r}")
    return individual


def _from_dlc_frame(df: pd.DataFrame, path: Path, individual: str | None, source: str) -> PoseData:
    names = list(df.columns.names)
    if df.columns.nlevels not in (3, 4) or names[-2:] != ["bodyparts", "coords"]:
        raise DataFormatError(
            f"expected DeepLabCut columns (scorer, [individuals,] bodyparts, coords) in {path.name!r}, "
            f"got levels {names}"
        )
    scorer = str(df.columns.get_level_values(0)[0])
    df = df.droplevel(0, axis=1)
    ind = None
    if df.columns.nlevels == 3:
        inds = list(dict.fromkeys(df.columns.get_level_values(0)))
        ind = _pick(inds, individual, path)
        df = df.xs(ind, axis=1, level=0)
    elif individual is not None:
        raise DataFormatError(f"expected a multi-animal file for individual={individual!r}, got a single-animal one")
    bodyparts = list(dict.fromkeys(df.columns.get_level_values(0)))
    coords = set(df.columns.get_level_values(1))
    if not {"x", "y"} <= coords:
        raise DataFormatError(f"expected coords x and y in {path.name!r}, got {sorted(coords)}")
    n = len(df)
    pos = np.stack([df[b][["x", "y"]].to_numpy(dtype=np.float64) for b in bodyparts], axis=1)
    like = (
        np.stack([df[b]["likelihood"].to_numpy(dtype=np.float64) for b in bodyparts], axis=1)
        if "likelihood" in coords
        else np.full((n, len(bodyparts)), np.nan)
    )
    return PoseData(pos, like, tuple(bodyparts), individual=ind, scorer=scorer, source=source)


@register_pose_loader("dlc_h5", (".h5", ".hdf5"))
def _load_dlc_h5(path: Path, individual: str | None) -> PoseData:
    try:
        with pd.HDFStore(path, mode="r") as st:
            keys = st.keys()
            key = "/df_with_missing" if "/df_with_missing" in keys else (keys[0] if len(keys) == 1 else None)
            if key is None:
                raise DataFormatError(
                    f"expected one DataFrame (or 'df_with_missing') in the DeepLabCut file {path.name!r}, found {keys}"
                )
            df = st[key]
    except DataFormatError:
        raise
    except Exception as exc:
        raise DataFormatError(f"expected a DeepLabCut .h5 table in {path.name!r}: {type(exc).__name__}: {exc}") from exc
    return _from_dlc_frame(df, path, individual, "dlc_h5")


@register_pose_loader("dlc_csv", (".csv",))
def _load_dlc_csv(path: Path, individual: str | None) -> PoseData:
    with open(path) as fh:
        head = [fh.readline().split(",", 1)[0].strip() for _ in range(4)]
    n_header = 4 if head[1] == "individuals" else 3
    try:
        df = pd.read_csv(path, header=list(range(n_header)), index_col=0)
    except Exception as exc:
        raise DataFormatError(f"expected a DeepLabCut .csv in {path.name!r}: {exc}") from exc
    df.columns = df.columns.set_names(["scorer", "individuals", "bodyparts", "coords"][-n_header:])
    return _from_dlc_frame(df, path, individual, "dlc_csv")


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
    ind = _pick(tracks, individual, path) if tracks else None
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


@register_pose_loader("sleap_analysis_h5", (".h5",))
def _load_sleap_analysis(path: Path, individual: str | None) -> PoseData:
    return _from_sleap(path, individual, "sleap_analysis_h5")


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
    ind = _pick(inds, individual, path) if inds else None
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
    tmp = out.with_name(f".{out.stem}.tmp-{os.getpid()}{out.suffix or '.nwb'}")
    try:
        with pynwb.NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwb)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out

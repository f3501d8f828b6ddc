"""NWB sections of a trial's videos, keypoints, tracking and video statistics.

- videos: one external-file ``ImageSeries`` per view in ``acquisition``, the path relative to
  the NWB file's folder;
- ``pose/<source>/<view>``: an ndx-pose ``PoseEstimation`` ``pose_<source>_<view>`` in the
  ``behavior`` module, one series per bodypart, linked to the view's video and to a shared
  ``Skeleton``;
- ``tracking/<method>``: ``Position`` ``position_<method>`` (``SpatialSeries`` ``xy``),
  ``CompassDirection`` ``head_direction_<method>`` (``head_angle``, radians) for methods with an
  angle, and ``BehavioralTimeSeries`` ``kinematics_<method>`` (``speed``, ``acceleration``,
  ``angular_velocity``, ``valid``);
- ``behavior/video_stats``: ``BehavioralTimeSeries`` ``video_stats`` (``<view>_mean``,
  ``<view>_motion``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import BehaviorSoupError
from ..pose.formats.nwb import pose_series
from ..pose.jobs import read_pose, read_tracking
from .registry import TrialTarget, register_nwb_section

log = logging.getLogger(__name__)

_SOFTWARE = {"pose_infer": "DeepLabCut", "dlc_h5": "DeepLabCut", "dlc_csv": "DeepLabCut", "slp": "SLEAP"}
_SOFTWARE |= {"sleap_analysis_h5": "SLEAP", "nwb": "NWB (ndx-pose) import"}


def _relative(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` with ``/`` (absolute where no relative path exists)."""
    try:
        return Path(os.path.relpath(path.resolve(), folder)).as_posix()
    except ValueError:  # another drive
        return path.resolve().as_posix()


def spatial(
    container: Literal["position", "compass"],
    name: str,
    series: str,
    data: np.ndarray,
    unit: str,
    description: str,
    reference_frame: str,
    timing: dict[str, float],
) -> Any:
    """A ``Position`` (or ``CompassDirection``) ``name`` holding one ``SpatialSeries`` ``series``.

    Parameters
    ----------
    container
        ``"position"`` or ``"compass"`` (directions).
    name, series
        The container's and the series' names.
    data
        ``(T,)`` or ``(T, 2)`` values.
    unit, description, reference_frame
        The series' fields.
    timing
        ``rate`` (1/s) and ``starting_time`` (s).

    Returns
    -------
    pynwb.behavior.Position or pynwb.behavior.CompassDirection
        The container, to add to a processing module.
    """
    from pynwb.behavior import CompassDirection, Position, SpatialSeries

    kind = Position if container == "position" else CompassDirection
    return kind(
        name=name,
        spatial_series=SpatialSeries(
            name=series,
            description=description,
            data=data,
            unit=unit,
            reference_frame=reference_frame,
            **timing,
        ),
    )


@register_nwb_section("video", claims=lambda key: False, order=0)
def write_videos(t: TrialTarget, keys: list[str]) -> None:
    """The trial's videos as external-file ImageSeries (none with ``videos=False``)."""
    import pynwb

    if not t.builder.params.videos:
        return
    for view, rel in sorted(t.ctx.videos.items()):
        try:
            path = t.ctx.video_path(view)
        except BehaviorSoupError as exc:
            t.report.missing.append(f"the {view} video is not linked: {exc}")
            continue
        if not path.is_file() or not t.n_frames:
            t.report.missing.append(f"the {view} video is not linked: expected a readable video at {str(path)!r}")
            continue
        series = pynwb.image.ImageSeries(
            name=t.name(f"video_{view}"),
            description=f"the trial's {view} camera video ({rel} under the raw-data root)",
            external_file=[_relative(path, t.builder.folder)],
            format="external",
            starting_frame=[0],
            num_samples=t.n_frames,
            rate=t.rate(f"{view} video"),
            starting_time=t.offset,
            unit="n.a.",
        )
        t.builder.nwb.add_acquisition(series)
        t.videos[view] = series


@register_nwb_section(
    "pose",
    claims=lambda key: key.startswith("pose/"),
    missing="no keypoints (row.pose.load or df.pose.infer)",
    applies=lambda ctx: bool(ctx.videos),
    order=10,
)
def write_pose(t: TrialTarget, keys: list[str]) -> None:
    """Each stored pose as a PoseEstimation linked to its video and skeleton."""
    import ndx_pose

    mod = t.builder.behavior()
    for key in keys:
        _, source, view = key.split("/", 2)
        pose = read_pose(t.ctx, source, view)
        prov = t.provenance(key)
        t.extent(pose.n_frames)
        job = str(prov.get("job", ""))
        software = _SOFTWARE.get(job) or _SOFTWARE.get(str(prov.get("params", {}).get("format", "")), "behavior_soup")
        # a model run here has the version it ran with; an imported file's maker is not known
        version = (prov.get("versions") or {}).get("deeplabcut") if job == "pose_infer" else None
        series = pose_series(
            pose,
            rate=t.rate(f"{source!r} keypoints"),
            starting_time=t.offset,
            describe=lambda b, s=source, v=view: f"keypoint {b} from {s!r} in the {v} view",
        )
        pe = ndx_pose.PoseEstimation(
            name=t.name(f"pose_{source}_{view}"),
            pose_estimation_series=series,
            description=f"keypoints of {t.ctx.animal_id} from {source!r} ({job}) in the {view} view",
            source_video=t.videos.get(view),
            scorer=pose.scorer or None,
            source_software=software,
            source_software_version=str(version) if version else None,
            skeleton=t.builder.skeleton(f"skeleton_{source}", pose.bodyparts),
        )
        mod.add(pe)
        t.builder.poses[(source, view, t.suffix)] = pe


@register_nwb_section(
    "tracking",
    claims=lambda key: key.startswith("tracking/"),
    missing="no tracking (df.pose.track)",
    applies=lambda ctx: bool(ctx.videos),
    order=20,
)
def write_tracking(t: TrialTarget, keys: list[str]) -> None:
    """Each tracking method's state as Position, CompassDirection and BehavioralTimeSeries."""
    from pynwb import TimeSeries
    from pynwb.behavior import BehavioralTimeSeries

    mod = t.builder.behavior()
    for key in keys:
        method = key.split("/", 1)[1]
        st = read_tracking(t.ctx, method)
        t.provenance(key)
        t.extent(len(st))
        cm = st.attrs.get("units") == "cm"
        length = "centimeters" if cm else "pixels"
        rate = float(st.attrs.get("fps") or t.rate(f"{method!r} tracking"))
        start = t.offset + float(st["time_s"].iloc[0]) if len(st) else t.offset
        timing = {"rate": rate, "starting_time": start}
        frame = "(0,0) is the top-left corner of the video frame, x to the right, y down"
        mod.add(
            spatial("position", t.name(f"position_{method}"), "xy", st[["x", "y"]].to_numpy(np.float64), length,
                    f"x, y of the subject ({method})", frame, timing)
        )  # fmt: skip
        if "head_angle" in st:
            mod.add(
                spatial("compass", t.name(f"head_direction_{method}"), "head_angle",
                        st["head_angle"].to_numpy(np.float64), "radians",
                        f"head direction ({method}), wrapped to [-pi, pi]",
                        "0 along +x of the video frame, counter-clockwise in image coordinates", timing)
            )  # fmt: skip
        per_s = "cm" if cm else "px"
        units = {
            "speed": f"{per_s}/s",
            "acceleration": f"{per_s}/s^2",
            "angular_velocity": "rad/s",
            "valid": "n.a.",
        }
        series = [
            TimeSeries(
                name=col,
                description=f"{col.replace('_', ' ')} of the subject ({method})"
                + ("; 1 where x and y are known" if col == "valid" else ""),
                data=st[col].to_numpy(np.uint8 if col == "valid" else np.float64),
                unit=unit,
                **timing,
            )
            for col, unit in units.items()
            if col in st
        ]
        mod.add(BehavioralTimeSeries(name=t.name(f"kinematics_{method}"), time_series=series))


@register_nwb_section("video_stats", claims=lambda key: key == "behavior/video_stats", order=30)
def write_video_stats(t: TrialTarget, keys: list[str]) -> None:
    """Mean intensity and motion energy per frame of each view."""
    from pynwb import TimeSeries
    from pynwb.behavior import BehavioralTimeSeries

    data = t.ctx.read(keys[0])
    t.provenance(keys[0])
    series = []
    for view in sorted(k for k, v in data.items() if isinstance(v, dict)):
        for what, doc in (
            ("mean", "mean pixel intensity"),
            ("motion", "mean absolute difference to the previous frame"),
        ):
            values = np.asarray(data[view][what], dtype=np.float32)
            t.extent(len(values))
            series.append(
                TimeSeries(
                    name=f"{view}_{what}",
                    description=f"{doc} of the {view} video, 0-255 grey levels",
                    data=values,
                    unit="n.a.",
                    rate=t.rate("video statistics"),
                    starting_time=t.offset,
                )
            )
    if series:
        t.builder.behavior().add(BehavioralTimeSeries(name=t.name("video_stats"), time_series=series))

"""Keypoints of trials gathered for keypoint-moseq, checked once, and cleaned of outliers.

A *recording* (keypoint-moseq's word) is one trial's keypoints from one pose source and view;
its name is ``<animal>_<session>_t<trial>`` (ids never contain ``/``, which keypoint-moseq's
HDF5 files cannot take), and :attr:`Keypoints.recordings` maps each trial's uuid to it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DataFormatError, ItemNotFoundError, OutputsError
from ..jobs import TrialContext
from ..pose.jobs import pose_key, read_pose

__all__ = ["Keypoints", "check_sources", "clean", "gather", "has_source", "recording_name"]

log = logging.getLogger(__name__)


def recording_name(ctx: TrialContext) -> str:
    """The recording name of a trial: ``<animal>_<session>_t<trial, 3 digits>``.

    Parameters
    ----------
    ctx
        The trial.

    Returns
    -------
    str
        A name without ``/``.
    """
    return f"{ctx.animal_id}_{ctx.session_id}_t{ctx.trial_id:03d}"


@dataclass
class Keypoints:
    """Keypoints of several trials, ready for keypoint-moseq.

    Attributes
    ----------
    coordinates
        Recording name -> ``(T, K, 2)`` float64 px; NaN where missing or not finite.
    confidences
        Recording name -> ``(T, K)`` float64 in [0, 1] (1 where the source has none).
    bodyparts
        The ``K`` bodypart names, the same for every trial.
    recordings
        Trial uuid -> recording name.
    scorers
        Who made the keypoints (the pose's scorer names).
    fps
        Frame rate, frames per second.
    """

    coordinates: dict[str, np.ndarray]
    confidences: dict[str, np.ndarray]
    bodyparts: tuple[str, ...]
    recordings: dict[str, str] = field(default_factory=dict)
    scorers: tuple[str, ...] = ()
    fps: float = 30.0

    @property
    def n_frames(self) -> int:
        return int(sum(c.shape[0] for c in self.coordinates.values()))


def _fps(ctx: TrialContext, view: str) -> float | None:
    if view not in ctx.videos:
        return None
    from ..video import probe

    try:
        return probe(ctx.video_path(view)).fps or None
    except Exception:  # a missing or unreadable video: the frame rate must then be given
        return None


def _no_keypoints(ctx: TrialContext, source: str, view: str) -> ItemNotFoundError:
    return ItemNotFoundError(
        f"expected stored keypoints {pose_key(source, view)!r} for {ctx.label}, found none; "
        "make them with row.pose.load(...) or row.pose.infer(...), or choose other rows"
    )


def _check_parts(
    ctx: TrialContext, source: str, parts: Sequence[str], first: Sequence[str] | None, needed: Sequence[str]
) -> None:
    """``parts`` (a trial's bodyparts) equal the first trial's, or, for the first, hold ``needed``."""
    if first is None:
        missing = [b for b in needed if b not in parts]
        if missing:
            raise DataFormatError(
                f"expected bodyparts {missing} in the {source!r} keypoints of {ctx.label}, found only {list(parts)}"
            )
    elif list(parts) != list(first):
        raise DataFormatError(
            f"expected the bodyparts {list(first)} in every trial, found {list(parts)} in {ctx.label}"
        )


def gather(
    contexts: Sequence[TrialContext],
    source: str,
    view: str,
    *,
    needed: Sequence[str] = (),
    fps: float | None = None,
) -> Keypoints:
    """Read and check the stored keypoints of ``source`` in ``view`` for each trial.

    Parameters
    ----------
    contexts
        The trials, at least one.
    source
        The pose source: a registered model's or an import's name.
    view
        The camera view.
    needed
        Bodyparts that must be present (used, anterior, posterior).
    fps
        Frame rate; ``None`` takes it from the first trial's video of ``view``.

    Returns
    -------
    Keypoints
        Copies of the keypoints (the stored arrays are never changed), non-finite positions
        as NaN, missing confidences as 1, confidences clipped to [0, 1].

    Raises
    ------
    ItemNotFoundError
        A trial has no stored pose from ``source`` in ``view``, or none is given.
    DataFormatError
        Trials with different bodyparts, a needed bodypart missing, a trial whose keypoints are
        all missing, or no frame rate found.
    """
    if not contexts:
        raise ItemNotFoundError("expected at least one trial with keypoints, got none")
    coords: dict[str, np.ndarray] = {}
    confs: dict[str, np.ndarray] = {}
    recordings: dict[str, str] = {}
    scorers: set[str] = set()
    bodyparts: tuple[str, ...] | None = None
    for ctx in contexts:
        try:
            pose = read_pose(ctx, source, view)
        except OutputsError:
            raise _no_keypoints(ctx, source, view) from None
        _check_parts(ctx, source, pose.bodyparts, bodyparts, needed)
        bodyparts = bodyparts or pose.bodyparts
        xy = np.array(pose.positions, dtype=np.float64)
        xy[~np.isfinite(xy).all(axis=-1)] = np.nan
        if np.isnan(xy).all():
            raise DataFormatError(f"expected some keypoints in the {source!r} pose of {ctx.label}, found all missing")
        conf = np.array(pose.likelihood, dtype=np.float64)
        conf = np.clip(np.where(np.isfinite(conf), conf, 1.0), 0.0, 1.0)
        name = recording_name(ctx)
        coords[name], confs[name], recordings[ctx.uuid] = xy, conf, name
        if pose.scorer:
            scorers.add(pose.scorer)
        if fps is None:
            fps = _fps(ctx, view)
    if fps is None:
        raise DataFormatError(f"expected a {view!r} video to take the frame rate from, found none; pass fps=")
    assert bodyparts is not None
    return Keypoints(coords, confs, bodyparts, recordings, tuple(sorted(scorers)), float(fps))


def clean(kpms: Any, kp: Keypoints, outlier_scale_factor: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keypoint-moseq's outlier removal: keypoints far from the medoid, and missing ones,
    interpolated with confidence 0 (``find_medoid_distance_outliers`` and
    ``interpolate_keypoints``, without the diagnostic plots ``outlier_removal`` draws).

    Parameters
    ----------
    kpms
        The ``keypoint_moseq`` module.
    kp
        The keypoints; not changed.
    outlier_scale_factor
        keypoint-moseq's threshold factor (higher: fewer outliers).

    Returns
    -------
    coordinates, confidences : dict
        New arrays per recording: ``(T, K, 2)`` float64 and ``(T, K)`` float64.
    """
    coords, confs = {}, {}
    n_out = 0
    for name, xy in kp.coordinates.items():
        out = kpms.find_medoid_distance_outliers(xy.copy(), outlier_scale_factor=outlier_scale_factor)["mask"]
        bad = out | np.isnan(xy).any(axis=-1)
        n_out += int(out.sum())
        coords[name] = kpms.interpolate_keypoints(xy.copy(), bad)
        confs[name] = np.where(bad, 0.0, kp.confidences[name])
    log.info("outlier removal: %d keypoints of %d frames interpolated", n_out, kp.n_frames)
    return coords, confs


def check_sources(contexts: Sequence[TrialContext], source: str, view: str, needed: Sequence[str] = ()) -> None:
    """Cheap check, before any work: every trial has stored keypoints of ``source`` in
    ``view`` with the same bodyparts, among them ``needed`` (read from the provenance only).

    Parameters
    ----------
    contexts
        The trials, at least one.
    source
        The pose source: a registered model's or an import's name.
    view
        The camera view.
    needed
        Bodyparts that must be present.

    Raises
    ------
    ItemNotFoundError
        No trials, or a trial without those keypoints.
    DataFormatError
        Trials with different bodyparts, or a needed one missing.
    """
    if not contexts:
        raise ItemNotFoundError("expected at least one trial with keypoints, got none")
    first: list[str] | None = None
    for ctx in contexts:
        try:
            parts = list(ctx.provenance(pose_key(source, view)).get("params", {}).get("bodyparts") or [])
        except OutputsError:
            raise _no_keypoints(ctx, source, view) from None
        if parts:  # older results may not record their bodyparts: gather checks those
            _check_parts(ctx, source, parts, first, needed)
            first = first or parts


def has_source(ctx: TrialContext, source: str, view: str) -> bool:
    """Whether a trial has stored keypoints of ``source`` in ``view``.

    Parameters
    ----------
    ctx
        The trial.
    source
        The pose source.
    view
        The camera view.

    Returns
    -------
    bool
        True if ``outputs.h5`` holds them.
    """
    try:
        ctx.provenance(pose_key(source, view))
    except OutputsError:
        return False
    return True

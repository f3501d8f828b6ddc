"""The pose row jobs (``pose_infer``, ``pose_load``, ``pose_track``) and the training task.

Results in the session's ``outputs.h5``::

    <trial>/pose/<source>/<view>      positions (T, K, 2) float32 px, likelihood (T, K) float32,
                                      bodyparts (K,) str; provenance attrs
    <trial>/tracking/<method>         state: DataFrame (time_s, x, y, speed, acceleration,
                                      valid[, head_angle, angular_velocity]); units

``<source>`` is the registered model's name for DeepLabCut inference, or the name given to an
import (default ``"imported"``).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import DataFormatError
from ..jobs import TrialContext, register_job, register_task
from ..paths import is_inside
from ..provenance import Provenance, now_iso
from ..schema import validate_id
from ..video import probe
from .data import PoseData
from .io import load_pose
from .job_params import PoseInferParams, PoseLoadParams
from .models import get_model, update_model
from .tracking import TrackingParams, process_tracking

__all__ = ["pose_key", "read_pose", "read_tracking", "train_model"]

log = logging.getLogger(__name__)

POSE_PACKAGES = ("deeplabcut", "torch", "sleap-io", "pynwb", "ndx-pose")


def pose_key(source: str, view: str) -> str:
    """The result key of a trial's keypoints from ``source`` in ``view``.

    Parameters
    ----------
    source
        A registered model's name or an import's name.
    view
        The camera view.

    Returns
    -------
    str
        ``"pose/<source>/<view>"``.

    Raises
    ------
    InvalidIdError
        If ``source`` is not a valid name (it becomes an HDF5 group name).
    """
    validate_id(source, "pose source name")
    return f"pose/{source}/{view}"


def read_pose(ctx: TrialContext, source: str, view: str = "front") -> PoseData:
    """A trial's stored keypoints from ``source`` (model or import name) in ``view``.

    Parameters
    ----------
    ctx
        The trial.
    source
        A registered model's name or an import's name.
    view
        The camera view.

    Returns
    -------
    PoseData
        ``(T, K, 2)`` float64 positions in pixels and ``(T, K)`` likelihoods, with the scorer
        and individual recorded with them, ``source`` and ``metadata={"view": view}``.

    Raises
    ------
    OutputsError
        If the trial has no such stored pose.
    """
    data = ctx.read(pose_key(source, view))
    params = ctx.provenance(pose_key(source, view)).get("params", {})
    return PoseData.from_result(
        data,
        scorer=str(params.get("scorer", "")),
        source=source,
        individual=params.get("individual"),
        metadata={"view": view},
    )


def read_tracking(ctx: TrialContext, method: str) -> Any:
    """A trial's stored subject state; ``df.attrs`` holds the parameters it was made with.

    Parameters
    ----------
    ctx
        The trial.
    method
        The tracking method it was made with (a name in ``TRACKING_METHODS``).

    Returns
    -------
    pandas.DataFrame
        One row per frame: ``time_s``, ``x``, ``y``, ``speed``, ``acceleration``, ``valid``
        and, for methods with an angle, ``head_angle`` and ``angular_velocity`` (see
        :func:`~behavior_soup.pose.process_tracking` for the units).

    Raises
    ------
    OutputsError
        If the trial has no stored state of ``method``.
    """
    state = ctx.read(f"tracking/{method}")["state"]
    state.attrs.update(ctx.provenance(f"tracking/{method}").get("params", {}))
    return state


def _check_frames(ctx: TrialContext, view: str, pose: PoseData, what: str) -> float | None:
    """The view's fps, after checking the pose has one row per video frame."""
    if view not in ctx.videos:
        return None
    info = probe(ctx.video_path(view))
    if info.n_frames and pose.n_frames != info.n_frames:
        raise DataFormatError(
            f"expected {info.n_frames} frames of {what} for the {view!r} video of {ctx.label} "
            f"(its frame count), found {pose.n_frames}"
        )
    return info.fps or None


def _write_pose(ctx: TrialContext, entries: dict[str, tuple[PoseData, Provenance]]) -> None:
    ctx.write_many({k: (p.to_result(), prov) for k, (p, prov) in entries.items()})


@register_job("pose_infer", "pose", params=PoseInferParams)
def pose_infer_job(ctx: TrialContext, p: PoseInferParams) -> dict[str, Any]:
    """DeepLabCut inference on each view of a trial -> ``pose/<model>/<view>``.

    The model's scorer name is updated in the registry when inference reports another one.

    Parameters
    ----------
    ctx
        The trial.
    p
        The parameters: model, views (default: every view of the trial), device, batch size.

    Returns
    -------
    dict
        ``{"model": str, "views": list of str, "scorer": str}``.

    Raises
    ------
    ItemNotFoundError
        If the model is not registered, or its config or a video is missing.
    DataFormatError
        If the predictions do not have one row per video frame.
    """
    from .dlc import analyze_video

    model = get_model(ctx.table_path, p.model)
    config = model.config_path(ctx.table_path, ctx.raw_root)
    views: Sequence[str] = p.views or sorted(ctx.videos)
    entries = {}
    scorer = model.scorer
    for view in views:
        prov = Provenance("pose_infer", {**p.to_dict(), "view": view}, versions=_versions())
        pose = analyze_video(
            config,
            ctx.video_path(view),
            shuffle=model.shuffle,
            trainingsetindex=model.trainingsetindex,
            snapshotindex=model.snapshotindex,
            device=p.device,
            batch_size=p.batch_size,
        )
        _check_frames(ctx, view, pose, "DeepLabCut predictions")
        scorer = pose.scorer
        prov.params.update(scorer=pose.scorer, bodyparts=list(pose.bodyparts))
        entries[pose_key(model.name, view)] = (pose, prov.finish())
    _write_pose(ctx, entries)
    if scorer and scorer != model.scorer:
        update_model(ctx.table_path, model.name, scorer=scorer, lock_timeout=ctx.lock_timeout)
    return {"model": model.name, "views": list(views), "scorer": scorer}


@register_job("pose_load", "pose", params=PoseLoadParams)
def pose_load_job(ctx: TrialContext, p: PoseLoadParams) -> dict[str, Any]:
    """Import a DLC/SLEAP/NWB pose file for one view -> ``pose/<name>/<view>``.

    Parameters
    ----------
    ctx
        The trial.
    p
        The parameters, resolved (see :meth:`PoseLoadParams.resolve`).

    Returns
    -------
    dict
        ``{"name": str, "view": str, "n_frames": int, "bodyparts": list of str}``.

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    DataFormatError
        If the file cannot be read as a pose file, or (when the trial has a video of the view)
        its frame count is not the video's. A file that knows only its last labelled frame (a
        SLEAP file whose video moved) is padded to the video's frame count.
    """
    path = Path(p.path)
    if not path.is_absolute():
        path = Path(ctx.raw_root) / path
    prov = Provenance("pose_load", p.to_dict(), versions=_versions())
    n_video = probe(ctx.video_path(p.view)).n_frames if p.view in ctx.videos else None
    # load_pose checks the frame count against the video's (and pads a file sized by its labels)
    pose = load_pose(path, individual=p.individual, format=p.format, n_frames=n_video or None)
    prov.params.update(scorer=pose.scorer, format=pose.source, bodyparts=list(pose.bodyparts))
    if pose.individual is not None:
        prov.params["individual"] = pose.individual
    _write_pose(ctx, {pose_key(p.name, p.view): (pose, prov.finish())})
    return {"name": p.name, "view": p.view, "n_frames": pose.n_frames, "bodyparts": list(pose.bodyparts)}


@register_job("pose_track", "pose", params=TrackingParams)
def pose_track_job(ctx: TrialContext, p: TrackingParams) -> dict[str, Any]:
    """Subject state from stored keypoints -> ``tracking/<method>``.

    Parameters
    ----------
    ctx
        The trial.
    p
        The parameters (see :func:`~behavior_soup.pose.process_tracking`); without ``fps``,
        the frame rate of the trial's video of ``view``.

    Returns
    -------
    dict
        ``{"method": str, "valid_fraction": float, "units": "cm" or "px"}``, the fraction of
        frames with a valid position in [0, 1].

    Raises
    ------
    OutputsError
        If the trial has no stored pose from ``source`` in ``view``.
    ValueError
        If no ``fps`` is given and the trial has no video of ``view``.
    DataFormatError
        If bodyparts the method needs are missing or never valid.
    """
    prov = Provenance("pose_track", p.to_dict(), versions=_versions())
    pose = read_pose(ctx, p.source, p.view)
    fps = p.fps or (probe(ctx.video_path(p.view)).fps if p.view in ctx.videos else None)
    if not fps:
        raise ValueError(f"expected fps= for {ctx.label} (no {p.view!r} video to read it from), got none")
    state = process_tracking(
        pose,
        p.method,
        fps=float(fps),
        px_per_cm=p.px_per_cm,
        likelihood_threshold=p.likelihood_threshold,
        max_gap=p.max_gap,
        smooth=p.smooth,
        window=p.window,
        polyorder=p.polyorder,
        bodyparts=p.bodyparts,
    )
    prov.params.update(fps=float(fps), units=state.attrs["units"], bodyparts_used=state.attrs["bodyparts"])
    ctx.write(f"tracking/{p.method}", {"state": state}, prov.finish())
    v = state["valid"].to_numpy()
    return {"method": p.method, "valid_fraction": float(v.mean()), "units": state.attrs["units"]}


def _versions() -> dict[str, str]:
    from ..provenance import package_versions

    return package_versions(POSE_PACKAGES)


@register_task("train_pose_model")
def train_model(
    table_path: str,
    raw_root: str,
    model: str,
    epochs: int = 50,
    batch_size: int = 8,
    net_type: str | None = None,
    device: str = "auto",
    init_weights: str | None = None,
    seed: int = 0,
    lock_timeout: float | None = None,
) -> dict[str, Any]:
    """Train a registered model (the ``df.pose.train`` task) and record the evaluation and the
    run in the registry. Returns the evaluation.

    Parameters
    ----------
    table_path
        The trial table's file, holding the model registry.
    raw_root
        The raw-data root in force (the root of a model registered under it).
    model
        The registered model's name.
    epochs, batch_size, net_type, device, init_weights, seed
        As for :func:`~behavior_soup.pose.dlc.train_dlc`; ``net_type`` defaults to the model's.
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.

    Returns
    -------
    dict
        The evaluation of :func:`~behavior_soup.pose.dlc.train_dlc`, with ``snapshot``
        relative to the project folder when inside it.

    Raises
    ------
    ItemNotFoundError
        If the model is not registered.
    Exception
        Whatever training raised, after recording the failed run with the model.
    """
    from .dlc import train_dlc

    m = get_model(table_path, model)
    started = now_iso()
    where = {"host": socket.gethostname(), "pid": os.getpid()}  # a cluster job's node and process
    update_model(
        table_path, model, lock_timeout=lock_timeout, train_run={"status": "running", "started": started, **where}
    )
    try:
        ev = train_dlc(
            m.config_path(table_path, raw_root),
            shuffle=m.shuffle,
            trainingsetindex=m.trainingsetindex,
            epochs=epochs,
            batch_size=batch_size,
            net_type=net_type or (m.net_type or None),
            device=device,
            init_weights=init_weights,
            seed=seed,
        )
    except Exception as exc:
        update_model(
            table_path,
            model,
            lock_timeout=lock_timeout,
            train_run={
                "status": "failed",
                "started": started,
                **where,
                "updated": now_iso(),
                "error": f"{type(exc).__name__}: {exc}",
            },
        )
        raise
    snapshot = Path(ev["snapshot"])
    cfg_dir = m.config_path(table_path, raw_root).parent
    ev["snapshot"] = snapshot.relative_to(cfg_dir).as_posix() if is_inside(snapshot, cfg_dir) else str(snapshot)
    run = {
        "status": "done",
        "started": started,
        **where,
        "updated": now_iso(),
        "params": {"epochs": epochs, "batch_size": batch_size, "device": device, "seed": seed},
        "versions": _versions(),
    }
    update_model(
        table_path,
        model,
        lock_timeout=lock_timeout,
        net_type=ev["net_type"],
        scorer=ev.get("scorer") or m.scorer,
        evaluation=ev,
        train_run=run,
    )
    return ev

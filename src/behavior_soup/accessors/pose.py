"""``df.pose`` and ``row.pose``: DeepLabCut models, pose estimation, import and tracking."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema, store
from ..errors import JobError
from ..jobs import TrialContext, run_job, run_task
from ..jobs.runner import Backend
from ..paths import is_inside
from ..pose import io as pose_io
from ..pose import models as pose_models
from ..pose.data import PoseData
from ..pose.jobs import read_pose, read_tracking
from ..pose.tracking import TRACKING_METHODS, Smoothing
from ._common import check_table, info_of


def _check_views(views: Sequence[str] | None) -> list[str] | None:
    if views is None:
        return None
    for v in views:
        schema.view_column(v)
    return list(views)


def _track_params(
    method: str,
    source: str,
    view: str,
    px_per_cm: float | None,
    likelihood_threshold: float,
    max_gap: int,
    smooth: Smoothing,
    window: int,
    bodyparts: Mapping[str, str] | list[str] | None,
    fps: float | None,
) -> dict[str, Any]:
    if method not in TRACKING_METHODS:
        raise ValueError(f"expected method in {sorted(TRACKING_METHODS)}, got {method!r}")
    if smooth not in ("savgol", "median", "none"):
        raise ValueError(f"expected smooth in ('savgol', 'median', 'none'), got {smooth!r}")
    schema.view_column(view)
    return {
        "method": method,
        "source": source,
        "view": view,
        "px_per_cm": px_per_cm,
        "likelihood_threshold": likelihood_threshold,
        "max_gap": max_gap,
        "smooth": smooth,
        "window": window,
        "bodyparts": dict(bodyparts) if isinstance(bodyparts, Mapping) else bodyparts,
        "fps": fps,
    }


@pd.api.extensions.register_dataframe_accessor("pose")
class PoseDataFrameAccessor:
    """Pose models of the table, and pose jobs over its trials."""

    def __init__(self, df: pd.DataFrame) -> None:
        check_table(df, "pose")
        self._df = df

    def register_model(
        self,
        config: str | os.PathLike,
        shuffle: int = 1,
        trainingsetindex: int = 0,
        snapshotindex: int = -1,
        **kwargs: Any,
    ) -> pose_models.DlcModel:
        """Register a DeepLabCut model (idempotent); see :func:`behavior_soup.pose.register_model`."""
        return pose_models.register_model(self._df, config, shuffle, trainingsetindex, snapshotindex, **kwargs)

    def models(self) -> pd.DataFrame:
        """The registered models, one row each (name, identity, config, scorer, evaluation)."""
        rows = []
        for m in pose_models.list_models(self._df).values():
            d = m.to_json()
            ev = d.pop("evaluation")
            d.pop("train_run")
            d.update(train_rmse_px=ev.get("train_rmse_px"), test_rmse_px=ev.get("test_rmse_px"))
            rows.append(d)
        return pd.DataFrame(rows)

    def train(
        self,
        model: str,
        epochs: int = 50,
        batch_size: int = 8,
        net_type: str | None = None,
        device: str = "auto",
        init_weights: str | os.PathLike | None = None,
        seed: int = 0,
        *,
        backend: Backend = "local",
    ) -> dict[str, Any]:
        """Train a registered model from its project's labelled frames, offline (see
        :func:`behavior_soup.pose.dlc.train_dlc`); resumes an interrupted run. The evaluation
        (train/test RMSE in px) and the run are recorded with the model. Returns the evaluation.

        Raises
        ------
        ItemNotFoundError
            Unknown model.
        JobError
            Training failed (the message has DeepLabCut's error).
        """
        info = info_of(self._df)
        pose_models.get_model(self._df, model)
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"expected epochs >= 1, got {epochs!r}")
        params = {
            "table_path": info.table_path,
            "raw_root": info.raw_root,
            "model": model,
            "epochs": epochs,
            "batch_size": batch_size,
            "net_type": net_type,
            "device": device,
            "init_weights": None if init_weights is None else str(Path(init_weights).absolute()),
            "seed": seed,
        }
        rec = run_task("behavior_soup.pose.jobs:train_model", params, backend=backend)  # type: ignore[arg-type]
        store.refresh(self._df)
        if rec["status"] != "done":
            raise JobError(f"expected training of {model!r} to finish, it failed: {rec.get('error')}")
        return rec["summary"]

    def infer(
        self,
        model: str,
        views: Sequence[str] | None = None,
        device: str = "auto",
        batch_size: int = 8,
        *,
        rows: pd.DataFrame | None = None,
        backend: Backend = "local",
        progress: bool = True,
        **kw: Any,
    ) -> pd.DataFrame:
        """Run a registered model on every trial with videos, or on ``rows`` (see
        ``row.pose.infer``)."""
        info = info_of(self._df)
        pose_models.get_model(self._df, model)
        params = {"model": model, "views": _check_views(views), "device": device, "batch_size": batch_size}
        if rows is None:
            rows = self._df[self._df[[schema.view_column(v) for v in schema.VIEWS]].ne("").any(axis=1)]
        ctxs = [TrialContext.from_row(r, info) for _, r in rows.iterrows()]
        out = run_job(ctxs, "pose_infer", params, backend=backend, progress=progress, **kw)
        store.refresh(self._df)
        return out

    def track(
        self,
        method: str = "head_from_ears",
        source: str = "imported",
        view: str = "front",
        px_per_cm: float | None = None,
        likelihood_threshold: float = 0.6,
        max_gap: int = 5,
        smooth: Smoothing = "savgol",
        window: int = 7,
        bodyparts: Mapping[str, str] | list[str] | None = None,
        fps: float | None = None,
        *,
        rows: pd.DataFrame | None = None,
        backend: Backend = "local",
        progress: bool = True,
        **kw: Any,
    ) -> pd.DataFrame:
        """Tracking processing of every trial with a ``view`` video, or of ``rows`` (see
        ``row.pose.track``)."""
        info = info_of(self._df)
        params = _track_params(
            method, source, view, px_per_cm, likelihood_threshold, max_gap, smooth, window, bodyparts, fps
        )
        if rows is None:
            rows = self._df[self._df[schema.view_column(view)] != ""]
        ctxs = [TrialContext.from_row(r, info) for _, r in rows.iterrows()]
        out = run_job(ctxs, "pose_track", params, backend=backend, progress=progress, **kw)
        store.refresh(self._df)
        return out


@pd.api.extensions.register_series_accessor("pose")
class PoseSeriesAccessor:
    """Pose of one trial: estimate, import, process, read, export."""

    def __init__(self, row: pd.Series) -> None:
        check_table(row, "pose")
        self._row = row

    def _ctx(self) -> TrialContext:
        return TrialContext.from_row(self._row, info_of(self._row))

    def infer(
        self,
        model: str,
        views: Sequence[str] | None = None,
        device: str = "auto",
        batch_size: int = 8,
        *,
        backend: Backend = "local",
    ) -> dict[str, Any]:
        """Run a registered DeepLabCut model on the trial's videos (each view, or ``views``)
        into ``outputs.h5`` ``<trial>/pose/<model>/<view>``; the frame count must match the
        video's. Returns the run's summary row (status, duration, error)."""
        pose_models.get_model(info_of(self._row).table_path, model)
        params = {"model": model, "views": _check_views(views), "device": device, "batch_size": batch_size}
        return run_job([self._ctx()], "pose_infer", params, backend=backend, progress=False).iloc[0].to_dict()

    def load(
        self,
        path: str | os.PathLike,
        view: str = "front",
        name: str = "imported",
        individual: str | None = None,
        format: str | None = None,
    ) -> dict[str, Any]:
        """Import an existing pose file (DLC ``.h5``/``.csv``, SLEAP ``.slp``/analysis ``.h5``,
        NWB with ndx-pose) for one view into ``<trial>/pose/<name>/<view>``. A path under the
        raw-data root is recorded relative to it. Returns the run's summary row."""
        schema.view_column(view)
        schema.validate_id(name, "pose source name")
        if format is not None and format not in pose_io.POSE_LOADERS:
            raise ValueError(f"expected format in {sorted(pose_io.POSE_LOADERS)}, got {format!r}")
        info = info_of(self._row)
        p = Path(os.path.expanduser(os.fspath(path))).absolute()
        if not p.is_file():
            raise FileNotFoundError(f"expected a pose file at {str(p)!r}, found none")
        rel = p.relative_to(info.raw_root).as_posix() if is_inside(p, Path(info.raw_root)) else str(p)
        params = {"path": rel, "view": view, "name": name, "individual": individual, "format": format}
        return run_job([self._ctx()], "pose_load", params, progress=False).iloc[0].to_dict()

    def track(
        self,
        method: str = "head_from_ears",
        source: str = "imported",
        view: str = "front",
        px_per_cm: float | None = None,
        likelihood_threshold: float = 0.6,
        max_gap: int = 5,
        smooth: Smoothing = "savgol",
        window: int = 7,
        bodyparts: Mapping[str, str] | list[str] | None = None,
        fps: float | None = None,
    ) -> dict[str, Any]:
        """Subject state from the trial's stored keypoints (see
        :func:`behavior_soup.pose.process_tracking`) into ``<trial>/tracking/<method>``.
        ``fps`` defaults to the view's video. Returns the run's summary row."""
        params = _track_params(
            method, source, view, px_per_cm, likelihood_threshold, max_gap, smooth, window, bodyparts, fps
        )
        return run_job([self._ctx()], "pose_track", params, progress=False).iloc[0].to_dict()

    def result(self, source: str = "imported", view: str = "front") -> PoseData:
        """The stored keypoints from ``source`` (a model or import name) in ``view``."""
        return read_pose(self._ctx(), source, view)

    def tracking(self, method: str = "head_from_ears") -> pd.DataFrame:
        """The stored subject state of ``method`` (one row per frame)."""
        return read_tracking(self._ctx(), method)

    def export_nwb(self, path: str | os.PathLike, source: str = "imported", view: str = "front") -> Path:
        """Write the trial's keypoints to an NWB file with ndx-pose; returns its path."""
        ctx = self._ctx()
        pose = read_pose(ctx, source, view)
        from ..video import probe

        fps = probe(ctx.video_path(view)).fps if view in ctx.videos else pose.metadata.get("fps")
        return pose_io.export_nwb(
            pose,
            path,
            fps=float(fps or 0),
            video=ctx.videos.get(view),
            subject_id=ctx.animal_id,
            session_description=f"{ctx.animal_id}/{ctx.session_id} trial {ctx.trial_id}",
        )

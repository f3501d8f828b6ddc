"""``df.pose`` and ``row.pose``: DeepLabCut models, pose estimation, import and tracking."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema, store
from ..errors import JobError
from ..jobs import TrialContext, run_task, where_it_ran
from ..jobs.declare import row_job, table_job
from ..jobs.runner import Backend
from ..pose import io as pose_io
from ..pose import models as pose_models
from ..pose.data import PoseData
from ..pose.jobs import PoseInferParams, PoseLoadParams, read_pose, read_tracking
from ..pose.tracking import TrackingParams
from ._common import DrawBackend, check_table, info_of, video_rows


def _trials_with_view(df: pd.DataFrame, p: TrackingParams) -> pd.DataFrame:
    return df[df[schema.view_column(p.view)] != ""]


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
        """Register a DeepLabCut model (idempotent); see :func:`behavior_soup.pose.register_model`.

        Parameters
        ----------
        config
            The DeepLabCut project's ``config.yaml``.
        shuffle
            DeepLabCut's shuffle.
        trainingsetindex
            Index into the project's ``TrainingFraction``.
        snapshotindex
            The snapshot to use; ``-1`` for the last.
        **kwargs
            ``name``, ``engine``, ``net_type``, ``lock_timeout``.

        Returns
        -------
        DlcModel
            The registered model (the existing entry if it was registered already).
        """
        return pose_models.register_model(self._df, config, shuffle, trainingsetindex, snapshotindex, **kwargs)

    def models(self) -> pd.DataFrame:
        """The registered models, one row each (name, identity, config, scorer, evaluation).

        Returns
        -------
        pandas.DataFrame
            One row per model: the :class:`~behavior_soup.pose.DlcModel` fields except
            ``evaluation`` and ``train_run``, plus ``train_rmse_px`` and ``test_rmse_px``
            (pixels; ``None`` before training). No columns if none is registered.
        """
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
        client: Any = None,
    ) -> dict[str, Any]:
        """Train a registered model from its project's labelled frames, offline (see
        :func:`behavior_soup.pose.dlc.train_dlc`); resumes an interrupted run. The evaluation
        (train/test RMSE in px) and the run are recorded with the model. Returns the evaluation.

        Parameters
        ----------
        model
            A registered model's name.
        epochs
            Total epochs of training (an interrupted run is resumed up to it).
        batch_size
            Images per training batch.
        net_type
            The network for a new training dataset; ``None``: the model's, or a default for
            the device.
        device
            ``"auto"``, ``"cpu"`` or ``"cuda[:N]"``.
        init_weights
            A weight file to start from instead of random weights.
        seed
            Seed of the random initialisation and of training.
        backend
            ``"local"`` (this process), ``"subprocess"`` (a fresh Python process) or
            ``"dask"`` (a worker of ``client``).
        client
            For ``"dask"``: a ``dask.distributed.Client``, e.g. on a SLURM job with a GPU
            (:func:`behavior_soup.cluster.slurm`); ``None`` starts a local cluster.

        Returns
        -------
        dict
            ``net_type``, ``snapshot`` (relative to the project folder when inside it),
            ``epochs``, ``resumed_from_epoch``, ``evaluated_epochs``, ``train_rmse_px``,
            ``test_rmse_px``, ``scorer``, and ``run`` (backend, host, pid, start and duration
            of the training).

        Raises
        ------
        ValueError
            ``epochs`` is not a positive integer.
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
        rec = run_task("train_pose_model", params, backend=backend, client=client)  # type: ignore[arg-type]
        store.refresh(self._df)
        if rec["status"] != "done":
            raise JobError(f"expected training of {model!r} to finish, it failed: {rec.get('error')}")
        return {**rec["summary"], "run": where_it_ran(rec)}

    infer = table_job(
        "pose_infer",
        PoseInferParams,
        rows=video_rows,
        rows_doc="every trial with a video",
        summary="Run a registered DeepLabCut model on every trial with videos (see ``row.pose.infer``).",
    )
    track = table_job(
        "pose_track",
        TrackingParams,
        rows=_trials_with_view,
        rows_doc="every trial with a video of ``view``",
        summary="Tracking processing of every trial (see ``row.pose.track``).",
    )


@pd.api.extensions.register_series_accessor("pose")
class PoseSeriesAccessor:
    """Pose of one trial: estimate, import, process, read, export."""

    def __init__(self, row: pd.Series) -> None:
        check_table(row, "pose")
        self._row = row

    def _ctx(self) -> TrialContext:
        return TrialContext.from_row(self._row, info_of(self._row))

    infer = row_job(
        "pose_infer",
        PoseInferParams,
        summary="Run a registered DeepLabCut model on the trial's videos (each view, or ``views``) into "
        "``outputs.h5`` ``<trial>/pose/<model>/<view>``; the frame count must match the video's.",
    )
    load = row_job(
        "pose_load",
        PoseLoadParams,
        summary="Import an existing pose file (DLC ``.h5``/``.csv``, SLEAP ``.slp``/analysis ``.h5``, NWB with "
        "ndx-pose) for one view into ``<trial>/pose/<name>/<view>``. A path under the raw-data root is recorded "
        "relative to it.",
    )
    track = row_job(
        "pose_track",
        TrackingParams,
        summary="Subject state from the trial's stored keypoints (see :func:`behavior_soup.pose.process_tracking`) "
        "into ``<trial>/tracking/<method>``.",
    )

    def result(self, source: str = "imported", view: str = "front") -> PoseData:
        """The stored keypoints from ``source`` (a model or import name) in ``view``.

        Parameters
        ----------
        source
            A registered model's name or an import's name.
        view
            ``"front"`` or ``"side"``.

        Returns
        -------
        PoseData
            ``(T, K, 2)`` float64 positions in pixels and ``(T, K)`` likelihoods.

        Raises
        ------
        OutputsError
            If the trial has no such stored pose.
        """
        return read_pose(self._ctx(), source, view)

    def view(
        self,
        source: str = "imported",
        view: str = "front",
        *,
        min_likelihood: float = 0.0,
        backend: DrawBackend = "auto",
    ) -> Any:
        """The keypoints of ``source`` over this trial's ``view`` video, a frame at a time
        (slider, or the arrow keys: ±1 and ±30 frames); points under ``min_likelihood`` hidden.

        Parameters
        ----------
        source
            A registered model's name or an import's name.
        view
            ``"front"`` or ``"side"``.
        min_likelihood
            Keypoints below this likelihood are not drawn.
        backend
            ``"auto"``, ``"fastplotlib"`` or ``"matplotlib"``.

        Returns
        -------
        object
            The window; ``.show()`` displays it.
        """
        from ..viz.api import pose_window

        return pose_window(self._ctx(), source, view, min_likelihood=min_likelihood, backend=backend)

    def tracking(self, method: str = "head_from_ears") -> pd.DataFrame:
        """The stored subject state of ``method`` (one row per frame).

        Parameters
        ----------
        method
            The tracking method it was made with.

        Returns
        -------
        pandas.DataFrame
            ``time_s``, ``x``, ``y``, ``speed``, ``acceleration``, ``valid`` and, for methods
            with an angle, ``head_angle`` and ``angular_velocity``; ``attrs`` holds the
            parameters and units (cm or px).

        Raises
        ------
        OutputsError
            If the trial has no stored state of ``method``.
        """
        return read_tracking(self._ctx(), method)

    def export_nwb(self, path: str | os.PathLike, source: str = "imported", view: str = "front") -> Path:
        """Write the trial's keypoints to an NWB file with ndx-pose; returns its path.

        Parameters
        ----------
        path
            The NWB file to write.
        source
            A registered model's name or an import's name.
        view
            ``"front"`` or ``"side"``; the frame rate is that of the trial's video of this
            view, else an ``fps`` in the pose's metadata.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        OutputsError
            If the trial has no such stored pose.
        ValueError
            If no frame rate is known (the trial has no video of ``view``).
        """
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

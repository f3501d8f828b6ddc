"""``df.flow_generator``, ``df.feature_extractor``, ``df.sequence`` (training, inference over
rows) and ``row.feature_extractor``, ``row.sequence`` (inference with custom checkpoints).

Model paths: a ``.pt`` checkpoint or a training folder (holding ``model.pt``), relative to the
table's folder; ``None`` means the model of that mode trained last in this table.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from ..ethogram import api
from ..ethogram.infer_jobs import FeatureInferParams, SequenceInferParams
from ..ethogram.models import list_models
from ..ethogram.modes import Mode, Networks
from ..jobs.declare import row_job, table_job
from ..jobs.runner import Backend
from ._common import check_table, info_of, video_rows

PathLike = str | os.PathLike


class _TrainAccessor:
    _kind: str

    def __init__(self, df: pd.DataFrame) -> None:
        check_table(df, self._kind)
        self._df = df

    def models(self) -> pd.DataFrame:
        """The ethogram models registered in this table (all modes and kinds)."""
        return list_models(info_of(self._df).table_path)


class _ImportAccessor(_TrainAccessor):
    def import_deepethogram(
        self,
        path: PathLike,
        mode: Mode = "fast",
        model_out: PathLike | None = None,
        *,
        norm: dict[str, list[float]],
        input_size: tuple[int, int] = (224, 224),
        behaviors: list[str] | None = None,
        views: list[str] | None = None,
        thresholds: list[float] | None = None,
    ) -> os.PathLike:
        """Convert a DeepEthogram (or animal-soup) checkpoint of this kind and register it
        as the mode's model in this table; returns the converted checkpoint's path.

        Parameters
        ----------
        path
            DeepEthogram's ``checkpoint.pt`` (or a Lightning ``.ckpt``), relative to the
            table's folder or absolute.
        mode
            ``"fast"`` (DEG_f), ``"medium"`` (DEG_m) or ``"slow"`` (DEG_s).
        model_out
            Where to write it; None for ``models/deepethogram/<mode>_<kind>.pt``.
        norm
            DeepEthogram's ``augs.normalization``: ``{"mean": [3], "std": [3]}``.
        input_size
            DeepEthogram's ``augs.resize`` ``(H, W)``.
        behaviors
            For a feature extractor, DeepEthogram's ``project.class_names``, background first.
        views
            Camera views side by side in its input; None for one.
        thresholds
            Per-class thresholds; None for 0.5 each.

        Returns
        -------
        pathlib.Path
            The converted checkpoint.
        """
        fields = dict(norm=norm, input_size=input_size, behaviors=behaviors, views=views, thresholds=thresholds)
        return api.import_deepethogram(self._df, self._kind, path, mode, model_out, **fields)


@pd.api.extensions.register_dataframe_accessor("flow_generator")
class FlowGeneratorAccessor(_ImportAccessor):
    """Train flow generators (self-supervised: no labels needed)."""

    _kind = "flow_generator"

    def train(
        self,
        mode: Mode = "fast",
        model_out: PathLike = "models/flow_generator",
        *,
        model_in: PathLike | None = None,
        rows: pd.DataFrame | None = None,
        epochs: int = 10,
        batch_size: int = 16,
        input_size: tuple[int, int] | None = None,
        views: tuple[str, ...] | None = None,
        networks: Networks = "deepethogram",
        device: str = "auto",
        seed: int = 0,
        backend: Backend = "local",
        client: Any = None,
        progress: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Train (or resume training) a flow generator for ``mode`` on every video trial (or
        ``rows``); see :class:`behavior_soup.ethogram.training.FlowConfig` for
        ``kwargs`` (``lr``, ``steps_per_epoch``, ``val_fraction``, ...). Returns the summary.

        The model is registered in this table as the mode's flow generator.

        Parameters
        ----------
        mode
            ``"fast"``, ``"medium"`` or ``"slow"``.
        model_out
            Folder for ``model.pt`` (best), ``last.pt`` (resumable) and ``metrics.csv``,
            relative to the table's folder or absolute.
        model_in
            A flow-generator checkpoint of the same mode to start from.
        rows
            Rows of this table to train on (at least 2); default every trial with a video.
        epochs
            Epochs to train (a resumed run trains up to this many).
        batch_size
            Clips per optimiser step.
        input_size
            Network input ``(H, W)`` in pixels; ``None``: the mode's.
        views
            Camera views, side by side; ``None``: the first trial's.
        networks
            ``"deepethogram"``: DeepEthogram's networks, layer for layer (the networks of
            record); ``"lite"``: 4x cheaper in fast mode, though not in slow mode (see
            :mod:`behavior_soup.ethogram.modes`). The feature extractor and its features
            follow the flow generator's set.
        device
            ``"auto"`` (CUDA when there is a GPU), ``"cpu"`` or ``"cuda[:N]"``.
        seed
            Seed of the split, initial weights and sampling.
        backend
            ``"local"`` (this process), ``"subprocess"`` (a fresh Python process, whose
            memory, GPU memory included, is returned when it ends) or ``"dask"`` (a worker of
            ``client``).
        client
            For ``"dask"``: a ``dask.distributed.Client``, e.g. on a SLURM job with a GPU
            (:func:`behavior_soup.cluster.slurm`); ``None`` starts a local cluster.
        progress
            Show progress bars.
        **kwargs
            Other fields of the kind's config (see above).

        Returns
        -------
        dict
            The training summary: ``checkpoint`` (path of ``model.pt``), ``model_id``,
            ``best_epoch``, ``epochs`` and ``metrics`` (of the best epoch on validation).

        Raises
        ------
        JobError
            If training failed; the message carries the error.
        """
        return api.train(
            self._df,
            "flow_generator",
            mode,
            model_out,
            rows=rows,
            model_in=model_in,
            backend=backend,
            client=client,
            epochs=epochs,
            batch_size=batch_size,
            input_size=None if input_size is None else list(input_size),
            views=None if views is None else list(views),
            networks=networks,
            device=device,
            seed=seed,
            progress=progress,
            **kwargs,
        )


@pd.api.extensions.register_dataframe_accessor("feature_extractor")
class FeatureExtractorAccessor(_ImportAccessor):
    """Train hidden two-stream feature extractors; extract features over rows."""

    _kind = "feature_extractor"

    def train(
        self,
        mode: Mode = "fast",
        flow_model_in: PathLike | None = None,
        model_out: PathLike = "models/feature_extractor",
        *,
        model_in: PathLike | None = None,
        rows: pd.DataFrame | None = None,
        epochs: int = 10,
        batch_size: int = 32,
        device: str = "auto",
        seed: int = 0,
        backend: Backend = "local",
        client: Any = None,
        progress: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Train a feature extractor on the labelled trials (or ``rows``, all labelled) on top
        of ``flow_model_in`` (default: this mode's registered flow generator); see
        :class:`behavior_soup.ethogram.training.FeatureConfig` for ``kwargs``.

        The model is registered in this table as the mode's feature extractor.

        Parameters
        ----------
        mode
            ``"fast"``, ``"medium"`` or ``"slow"``.
        flow_model_in
            The flow generator to build on (frozen); ``None``: the one registered for ``mode``.
        model_out
            Folder for ``model.pt`` (best), ``last.pt`` (resumable) and ``metrics.csv``,
            relative to the table's folder or absolute.
        model_in
            A feature-extractor checkpoint of the same mode and behaviors to start from.
        rows
            Rows of this table to train on, all with labels (at least 2); default every video
            trial with ground-truth labels.
        epochs
            Epochs to train (a resumed run trains up to this many).
        batch_size
            Clips per optimiser step.
        device
            ``"auto"`` (CUDA when there is a GPU), ``"cpu"`` or ``"cuda[:N]"``.
        seed
            Seed of the split, initial weights and sampling.
        backend
            ``"local"`` (this process), ``"subprocess"`` (a fresh Python process, whose
            memory, GPU memory included, is returned when it ends) or ``"dask"`` (a worker of
            ``client``).
        client
            For ``"dask"``: a ``dask.distributed.Client``, e.g. on a SLURM job with a GPU
            (:func:`behavior_soup.cluster.slurm`); ``None`` starts a local cluster.
        progress
            Show progress bars.
        **kwargs
            Other fields of the kind's config (see above).

        Returns
        -------
        dict
            The training summary: ``checkpoint`` (path of ``model.pt``), ``model_id``,
            ``best_epoch``, ``epochs`` and ``metrics`` (of the best epoch on validation).

        Raises
        ------
        JobError
            If training failed; the message carries the error.
        ItemNotFoundError
            If no trial has labels, or there is no registered flow generator.
        """
        return api.train(
            self._df,
            "feature_extractor",
            mode,
            model_out,
            rows=rows,
            parent=flow_model_in,
            model_in=model_in,
            backend=backend,
            client=client,
            epochs=epochs,
            batch_size=batch_size,
            device=device,
            seed=seed,
            progress=progress,
            **kwargs,
        )

    infer = table_job(
        "feature_extractor_infer",
        FeatureInferParams,
        rows=video_rows,
        rows_doc="every trial with a video",
        summary="Features of every video trial -> ``<trial>/<mode>/features``.",
    )


@pd.api.extensions.register_dataframe_accessor("sequence")
class SequenceAccessor(_TrainAccessor):
    """Train TGMJ sequence models; run them over rows' stored features."""

    _kind = "sequence"

    def train(
        self,
        mode: Mode = "fast",
        model_in: PathLike | None = None,
        model_out: PathLike = "models/sequence",
        *,
        feature_model_in: PathLike | None = None,
        rows: pd.DataFrame | None = None,
        epochs: int = 30,
        device: str = "auto",
        seed: int = 0,
        backend: Backend = "local",
        client: Any = None,
        progress: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Train a sequence model on the labelled trials' features from ``feature_model_in``
        (default: this mode's registered feature extractor), extracting missing features
        first; ``model_in`` continues from a sequence checkpoint. See
        :class:`behavior_soup.ethogram.training.SequenceConfig` for ``kwargs``.

        The model is registered in this table as the mode's sequence model.

        Parameters
        ----------
        mode
            ``"fast"``, ``"medium"`` or ``"slow"``.
        model_in
            A sequence checkpoint of the same mode and behaviors to start from.
        model_out
            Folder for ``model.pt`` (best), ``last.pt`` (resumable) and ``metrics.csv``,
            relative to the table's folder or absolute.
        feature_model_in
            The feature extractor whose features and logits the model learns on; ``None``: the
            one registered for ``mode``.
        rows
            Rows of this table to train on, all with labels (at least 2); default every video
            trial with ground-truth labels.
        epochs
            Epochs to train (a resumed run trains up to this many).
        device
            ``"auto"`` (CUDA when there is a GPU), ``"cpu"`` or ``"cuda[:N]"``.
        seed
            Seed of the split, initial weights and sampling.
        backend
            ``"local"`` (this process), ``"subprocess"`` (a fresh Python process, whose
            memory, GPU memory included, is returned when it ends) or ``"dask"`` (a worker of
            ``client``).
        client
            For ``"dask"``: a ``dask.distributed.Client``, e.g. on a SLURM job with a GPU
            (:func:`behavior_soup.cluster.slurm`); ``None`` starts a local cluster.
        progress
            Show progress bars.
        **kwargs
            Other fields of the kind's config (see above).

        Returns
        -------
        dict
            The training summary: ``checkpoint`` (path of ``model.pt``), ``model_id``,
            ``best_epoch``, ``epochs`` and ``metrics`` (of the best epoch on validation).

        Raises
        ------
        JobError
            If training failed; the message carries the error.
        ItemNotFoundError
            If no trial has labels, or there is no registered feature extractor.
        """
        return api.train(
            self._df,
            "sequence",
            mode,
            model_out,
            rows=rows,
            parent=feature_model_in,
            model_in=model_in,
            backend=backend,
            client=client,
            epochs=epochs,
            device=device,
            seed=seed,
            progress=progress,
            **kwargs,
        )

    infer = table_job(
        "sequence_infer",
        SequenceInferParams,
        rows=video_rows,
        rows_doc="every trial with a video",
        summary="Sequence model + ethogram from each trial's stored features.",
    )


class _RowAccessor:
    _name: str

    def __init__(self, row: pd.Series) -> None:
        check_table(row, self._name)
        self._row = row


@pd.api.extensions.register_series_accessor("feature_extractor")
class FeatureExtractorSeriesAccessor(_RowAccessor):
    """Feature extraction on one trial with any feature-extractor checkpoint."""

    _name = "feature_extractor"
    infer = row_job(
        "feature_extractor_infer",
        FeatureInferParams,
        summary="This trial's features -> ``<trial>/<mode>/features``; returns the run summary.",
    )


@pd.api.extensions.register_series_accessor("sequence")
class SequenceSeriesAccessor(_RowAccessor):
    """The sequence model on one trial's stored features, with any sequence checkpoint."""

    _name = "sequence"
    infer = row_job(
        "sequence_infer",
        SequenceInferParams,
        summary="``<trial>/<mode>/sequence`` and ``<trial>/<mode>/ethogram``; returns the run summary.",
    )

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
from ..ethogram.models import list_models
from ..ethogram.modes import Mode
from ..jobs import run_row
from ..jobs.runner import Backend
from ._common import check_table, info_of

PathLike = str | os.PathLike


class _TrainAccessor:
    _kind: str

    def __init__(self, df: pd.DataFrame) -> None:
        check_table(df, self._kind)
        self._df = df

    def models(self) -> pd.DataFrame:
        """The ethogram models registered in this table (all modes and kinds)."""
        return list_models(info_of(self._df).table_path)


@pd.api.extensions.register_dataframe_accessor("flow_generator")
class FlowGeneratorAccessor(_TrainAccessor):
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
        device: str = "auto",
        seed: int = 0,
        backend: Backend = "local",
        progress: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Train (or resume training) a flow generator for ``mode`` on every video trial (or
        ``rows``); see :func:`behavior_soup.ethogram.train.train_flow_generator` for
        ``kwargs`` (``lr``, ``steps_per_epoch``, ``val_fraction``, ...). Returns the summary."""
        return api.train(
            self._df,
            "flow_generator",
            mode,
            model_out,
            rows=rows,
            model_in=model_in,
            backend=backend,
            epochs=epochs,
            batch_size=batch_size,
            input_size=None if input_size is None else list(input_size),
            views=None if views is None else list(views),
            device=device,
            seed=seed,
            progress=progress,
            **kwargs,
        )


@pd.api.extensions.register_dataframe_accessor("feature_extractor")
class FeatureExtractorAccessor(_TrainAccessor):
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
        progress: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Train a feature extractor on the labelled trials (or ``rows``, all labelled) on top
        of ``flow_model_in`` (default: this mode's registered flow generator); see
        :func:`behavior_soup.ethogram.train.train_feature_extractor` for ``kwargs``."""
        return api.train(
            self._df,
            "feature_extractor",
            mode,
            model_out,
            rows=rows,
            parent=flow_model_in,
            model_in=model_in,
            backend=backend,
            epochs=epochs,
            batch_size=batch_size,
            device=device,
            seed=seed,
            progress=progress,
            **kwargs,
        )

    def infer(
        self,
        mode: Mode = "fast",
        model_in: PathLike | None = None,
        *,
        rows: pd.DataFrame | None = None,
        device: str = "auto",
        batch_size: int = 32,
        backend: Backend = "local",
        progress: bool = True,
        n_workers: int | None = None,
        client: Any = None,
    ) -> pd.DataFrame:
        """Features of every video trial (or ``rows``) -> ``<trial>/<mode>/features``."""
        fe = api.resolve_model(self._df, mode, "feature_extractor", model_in)
        params = {"feature_extractor": fe, "device": device, "batch_size": batch_size}
        return api.infer_rows(
            self._df,
            "feature_extractor_infer",
            params,
            rows=rows,
            backend=backend,
            progress=progress,
            n_workers=n_workers,
            client=client,
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
        progress: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Train a sequence model on the labelled trials' features from ``feature_model_in``
        (default: this mode's registered feature extractor), extracting missing features
        first; ``model_in`` continues from a sequence checkpoint. See
        :func:`behavior_soup.ethogram.train.train_sequence` for ``kwargs``."""
        return api.train(
            self._df,
            "sequence",
            mode,
            model_out,
            rows=rows,
            parent=feature_model_in,
            model_in=model_in,
            backend=backend,
            epochs=epochs,
            device=device,
            seed=seed,
            progress=progress,
            **kwargs,
        )

    def infer(
        self,
        mode: Mode = "fast",
        model_in: PathLike | None = None,
        *,
        rows: pd.DataFrame | None = None,
        min_bout: int = 1,
        device: str = "auto",
        backend: Backend = "local",
        progress: bool = True,
    ) -> pd.DataFrame:
        """Sequence model + ethogram from each trial's stored features."""
        seq = api.resolve_model(self._df, mode, "sequence", model_in)
        return api.infer_rows(
            self._df,
            "sequence_infer",
            {"sequence": seq, "device": device, "min_bout": min_bout},
            rows=rows,
            backend=backend,
            progress=progress,
        )


class _RowAccessor:
    _name: str

    def __init__(self, row: pd.Series) -> None:
        check_table(row, self._name)
        self._row = row

    def _run(self, job: str, params: dict[str, Any], backend: Backend) -> dict[str, Any]:
        return run_row(self._row, job, params, backend=backend)


@pd.api.extensions.register_series_accessor("feature_extractor")
class FeatureExtractorSeriesAccessor(_RowAccessor):
    """Feature extraction on one trial with any feature-extractor checkpoint."""

    _name = "feature_extractor"

    def infer(
        self,
        mode: Mode = "fast",
        model_in: PathLike | None = None,
        *,
        device: str = "auto",
        batch_size: int = 32,
        backend: Backend = "local",
    ) -> dict[str, Any]:
        """This trial's features -> ``<trial>/<mode>/features``; returns the run summary."""
        fe = api.resolve_model(self._row, mode, "feature_extractor", model_in)
        return self._run(
            "feature_extractor_infer", {"feature_extractor": fe, "device": device, "batch_size": batch_size}, backend
        )


@pd.api.extensions.register_series_accessor("sequence")
class SequenceSeriesAccessor(_RowAccessor):
    """The sequence model on one trial's stored features, with any sequence checkpoint."""

    _name = "sequence"

    def infer(
        self,
        mode: Mode = "fast",
        model_in: PathLike | None = None,
        *,
        min_bout: int = 1,
        device: str = "auto",
        backend: Backend = "local",
    ) -> dict[str, Any]:
        """``<trial>/<mode>/sequence`` and ``<trial>/<mode>/ethogram``; returns the run summary."""
        seq = api.resolve_model(self._row, mode, "sequence", model_in)
        return self._run("sequence_infer", {"sequence": seq, "device": device, "min_bout": min_bout}, backend)

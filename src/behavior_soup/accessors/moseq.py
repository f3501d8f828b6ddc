"""``df.moseq`` and ``row.moseq``: keypoint-MoSeq models fitted on the table's keypoints, and
the syllables they give each trial."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..jobs import TrialContext
from ..jobs.declare import row_job, table_job, table_task
from ..moseq import analysis, registry
from ..moseq import infer as _infer  # registers the moseq_infer job
from ..moseq import tasks as _tasks  # noqa: F401  (registers the moseq_fit and moseq_kappa_scan tasks)
from ..moseq.data import check_sources, has_source
from ..moseq.params import FitParams, InferParams, KappaScanParams
from ._common import DrawBackend, check_table, contexts, info_of


def _with_pose(df: pd.DataFrame, source: str, view: str) -> pd.DataFrame:
    keep = [has_source(c, source, view) for c in contexts(df)]
    return df[keep]


def _fit_rows(df: pd.DataFrame, p: FitParams | KappaScanParams) -> pd.DataFrame:
    return _with_pose(df, p.pose_model, p.view)


def _infer_rows(df: pd.DataFrame, p: InferParams) -> pd.DataFrame:
    entry = registry.get_model(info_of(df).table_path, p.model)
    return _with_pose(df, entry["pose_model"], entry["view"])


def _moseq_dir(df: pd.DataFrame) -> Path:
    return Path(info_of(df).output_root) / "moseq"


def _check_rows(rows: pd.DataFrame, p: FitParams | KappaScanParams) -> None:
    check_sources(contexts(rows), p.pose_model, p.view, [*(p.use_bodyparts or ()), *p.anterior, *p.posterior])


def _fit_args(df: pd.DataFrame, p: FitParams, lock_timeout: float | None) -> dict[str, Any]:
    return {
        "table_path": info_of(df).table_path,
        "folder": str(_moseq_dir(df) / p.name),
        "lock_timeout": lock_timeout,
    }


def _scan_args(df: pd.DataFrame, p: KappaScanParams, lock_timeout: float | None) -> dict[str, Any]:
    return {"folder": str(_moseq_dir(df) / "kappa_scan")}


@pd.api.extensions.register_dataframe_accessor("moseq")
class MoseqDataFrameAccessor:
    """MoSeq models of the table: fit, scan kappa, infer syllables, analyse them."""

    def __init__(self, df: pd.DataFrame) -> None:
        check_table(df, "moseq")
        self._df = df

    fit = table_task(
        "moseq_fit",
        FitParams,
        args=_fit_args,
        rows=_fit_rows,
        check=_check_rows,
        rows_doc="every trial with keypoints of ``pose_model`` in ``view``",
        summary="Fit a keypoint-MoSeq model on the trials' keypoints (AR-HMM, then the full model warm-started "
        "from it, one chain per seed; see :mod:`behavior_soup.moseq.fit`) and register it under ``name``. "
        "Checkpoints go under ``<output root>/moseq/<name>``: rerunning an interrupted fit resumes it.",
        returns="dict\n    The model's registry entry (latent_dim, variance_explained, scores, chosen_seed, "
        "n_syllables, median_duration_ms, checkpoint, ...), and ``run``: where and how long it ran.",
    )
    kappa_scan = table_task(
        "moseq_kappa_scan",
        KappaScanParams,
        args=_scan_args,
        rows=_fit_rows,
        check=_check_rows,
        rows_doc="every trial with keypoints of ``pose_model`` in ``view``",
        summary="Fit an AR-HMM per kappa and report each one's median syllable duration (keypoint-moseq advises "
        "about 400 ms); a table and a plot go to ``<output root>/moseq/kappa_scan``.",
        returns="dict\n    ``rows`` (kappa, median_duration_frames, median_duration_ms, n_syllables), "
        "``best_kappa``, ``latent_dim``, ``csv``, ``plot``, and ``run``: where and how long it ran.",
    )
    infer = table_job(
        "moseq_infer",
        InferParams,
        rows=_infer_rows,
        rows_doc="every trial with keypoints of the model's pose source",
        summary="Syllables of every trial from a registered MoSeq model (see ``row.moseq.infer``).",
    )

    def models(self) -> pd.DataFrame:
        """The registered MoSeq models, one row each.

        Returns
        -------
        pandas.DataFrame
            See :func:`behavior_soup.moseq.registry.models_frame`.
        """
        return registry.models_frame(info_of(self._df).table_path)

    def model(self, name: str) -> dict[str, Any]:
        """A registered model's full entry (parameters, rows, scores, versions, ...).

        Parameters
        ----------
        name
            The model's registered name.

        Returns
        -------
        dict
            The registry entry.
        """
        return registry.get_model(info_of(self._df).table_path, name)

    def syllable_stats(self, model: str, min_frequency: float = 0.005) -> pd.DataFrame:
        """Per trial and syllable: frequency, duration, speed (see
        :func:`behavior_soup.moseq.analysis.syllable_stats`); joins the table on ``uuid``.

        Parameters
        ----------
        model
            A registered MoSeq model's name.
        min_frequency
            Syllables used in at most this fraction of all frames are left out.

        Returns
        -------
        pandas.DataFrame
            One row per trial and syllable.
        """
        entry = self.model(model)
        return analysis.syllable_stats(contexts(self._df), model, entry["fps"], min_frequency)

    def transitions(self, model: str, groupby: str = "exp_type", normalize: str = "bigram") -> dict[Any, pd.DataFrame]:
        """Syllable transition matrices per group of trials (see
        :func:`behavior_soup.moseq.analysis.transitions`).

        Parameters
        ----------
        model
            A registered MoSeq model's name.
        groupby
            A column of the table whose values group the trials.
        normalize
            ``"bigram"``, ``"rows"`` or ``"columns"``.

        Returns
        -------
        dict
            Group -> ``(S, S)`` DataFrame.
        """
        if groupby not in self._df.columns:
            raise KeyError(f"expected groupby to be a column of the table, got {groupby!r}")
        self.model(model)
        groups = dict(zip(self._df["uuid"], self._df[groupby]))
        return analysis.transitions(contexts(self._df), model, groups, normalize=normalize)

    def grid_movies(self, model: str, rows: int = 4, cols: int = 6, **kwargs: Any) -> dict[str, Any]:
        """A grid movie per syllable under ``<output root>/moseq/<model>/grid_movies``; the
        paths are recorded with the model (see :func:`behavior_soup.moseq.analysis.grid_movies`).

        Parameters
        ----------
        model
            A registered MoSeq model's name.
        rows, cols
            Instances per movie.
        **kwargs
            Passed to keypoint-moseq's ``generate_grid_movies``.

        Returns
        -------
        dict
            ``movies`` (syllable -> path) and ``keypoints_only``.
        """
        entry = {**self.model(model), "name": model}
        out = analysis.grid_movies(
            contexts(self._df), entry, _moseq_dir(self._df) / model / "grid_movies", rows, cols, **kwargs
        )
        table = info_of(self._df).table_path
        rel = {str(k): registry.relative_to_table(table, v) for k, v in out["movies"].items()}
        registry.update_model(table, model, grid_movies=rel)
        return out

    def trajectory_plots(self, model: str, **kwargs: Any) -> list[str]:
        """Each syllable's average trajectory under ``<output root>/moseq/<model>/trajectory_plots``;
        the paths are recorded with the model.

        Parameters
        ----------
        model
            A registered MoSeq model's name.
        **kwargs
            Passed to keypoint-moseq's ``generate_trajectory_plots``.

        Returns
        -------
        list of str
            The files written.
        """
        entry = {**self.model(model), "name": model}
        files = analysis.trajectory_plots(
            contexts(self._df), entry, _moseq_dir(self._df) / model / "trajectory_plots", **kwargs
        )
        table = info_of(self._df).table_path
        registry.update_model(table, model, trajectory_plots=[registry.relative_to_table(table, f) for f in files])
        return files


@pd.api.extensions.register_series_accessor("moseq")
class MoseqSeriesAccessor:
    """Syllables of one trial."""

    def __init__(self, row: pd.Series) -> None:
        check_table(row, "moseq")
        self._row = row

    infer = row_job(
        "moseq_infer",
        InferParams,
        summary="Syllables of this trial from a registered MoSeq model into ``outputs.h5`` ``<trial>/moseq/<model>`` "
        "(syllable, centroid, heading, latent_state), all or nothing. The trial's keypoints must come from the "
        "model's pose source, with its bodyparts.",
    )

    def result(self, model: str) -> pd.DataFrame:
        """The trial's stored syllables, one row per frame (see
        :func:`behavior_soup.moseq.infer.read_syllables`).

        Parameters
        ----------
        model
            The MoSeq model's name.

        Returns
        -------
        pandas.DataFrame
            ``time_s``, ``syllable``, ``centroid_x``, ``centroid_y``, ``heading``, ``latent_*``.
        """
        return _infer.read_syllables(TrialContext.from_row(self._row, info_of(self._row)), model)

    def view(self, model: str, view: str = "front", *, backend: DrawBackend = "auto") -> Any:
        """This trial's video above its syllable track (model ``model``), a frame at a time.

        Parameters
        ----------
        model
            The MoSeq model's name.
        view
            The video shown (``"front"`` or ``"side"``); none when the trial lacks it.
        backend
            ``"auto"``, ``"fastplotlib"`` or ``"matplotlib"``.

        Returns
        -------
        object
            The window; ``.show()`` displays it.
        """
        from ..viz.api import syllable_window

        ctx = TrialContext.from_row(self._row, info_of(self._row))
        return syllable_window(ctx, model, view, backend=backend)

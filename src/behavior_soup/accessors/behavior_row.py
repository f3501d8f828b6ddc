"""``row.behavior`` and ``row.outputs``: one trial's jobs, labels, ethograms and stored results.

The table-level ``df.behavior`` accessor is in :mod:`behavior_soup.accessors.behavior`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..ethogram.infer_jobs import EthogramInferParams
from ..ethogram.jobs import EthogramStage, read_ethogram, read_labels, write_labels
from ..ethogram.labels import Labels, labels_from_array
from ..ethogram.modes import Mode
from ..jobs import TrialContext, run_row
from ..jobs.declare import row_job
from ..jobs.runner import Backend
from ._common import check_table, info_of

__all__ = ["BehaviorSeriesAccessor", "OutputsSeriesAccessor"]


@pd.api.extensions.register_series_accessor("behavior")
class BehaviorSeriesAccessor:
    """Row-level operations on one trial."""

    def __init__(self, row: pd.Series) -> None:
        check_table(row, "behavior")
        self._row = row

    def context(self, **kw: Any) -> TrialContext:
        """This trial as a job sees it.

        Parameters
        ----------
        **kw
            Fields of :class:`~behavior_soup.jobs.TrialContext` not taken from the row
            (``lock_timeout``, ``progress``, ``extra``).

        Returns
        -------
        TrialContext
            The row with the table's roots.
        """
        return TrialContext.from_row(self._row, info_of(self._row), **kw)

    def run_job(
        self,
        job: str,
        params: Mapping[str, Any] | None = None,
        *,
        backend: Backend = "local",
        lock_timeout: float | None = None,
    ) -> dict[str, Any]:
        """Run a registered job on this trial. Returns its summary row as a dict; the status is
        recorded in the table file (reload or ``df.behavior.refresh()`` to see it).

        Parameters
        ----------
        job
            A name in :data:`behavior_soup.jobs.JOBS`.
        params
            The job's parameters (a mapping, or its Params object).
        backend
            ``"local"``, ``"subprocess"`` or ``"dask"``.
        lock_timeout
            Seconds to wait for the table's and outputs' locks; ``None`` means the default.

        Returns
        -------
        dict
            ``uuid``, ``animal_id``, ``session_id``, ``trial_id``, ``status``, ``duration_s``
            (seconds) and ``error``.
        """
        return run_row(self._row, job, params, backend=backend, lock_timeout=lock_timeout)

    def set_labels(self, values: Labels | np.ndarray | Sequence[int], behaviors: Sequence[str] | None = None) -> Labels:
        """Store this trial's ground-truth labels from arrays: ``(T,)`` behavior indices (-1:
        unlabelled) or ``(T, C)`` 1/0/-1 with ``behaviors`` (background first), or a
        :class:`~behavior_soup.ethogram.Labels`. The frame count must match the video's.

        Parameters
        ----------
        values
            ``(T,)`` integer behavior indices (-1: unlabelled), ``(T, C)`` 1/0/-1, or a
            :class:`~behavior_soup.ethogram.Labels` (then ``behaviors`` is ignored).
        behaviors
            The ``C`` behavior names, background first; required with an array.

        Returns
        -------
        Labels
            The labels stored in ``outputs.h5`` ``<trial>/behavior/labels``.

        Raises
        ------
        ValueError
            If an array is given without ``behaviors``.
        DataFormatError
            If the values are not valid labels, or their frame count is not the video's.
        """
        if not isinstance(values, Labels):
            if behaviors is None:
                raise ValueError("expected behaviors= (background first) with an array of labels, got None")
            values = labels_from_array(np.asarray(values), behaviors)
        write_labels(self.context(), values, {"source": "array"})
        return values

    def labels(self) -> Labels:
        """This trial's stored ground-truth labels.

        Returns
        -------
        Labels
            ``(T, C)`` int8 labels and their behavior names, background first.

        Raises
        ------
        OutputsError
            If the trial has no stored labels.
        """
        return read_labels(self.context())

    def promote_cleaned(self, mode: Mode = "fast") -> Labels:
        """Make this trial's cleaned ``mode`` ethogram (from ``df.behavior.clean_ethograms``)
        its ground-truth labels, for retraining (see
        :func:`behavior_soup.ethogram.cleaned.promote_cleaned`).

        Parameters
        ----------
        mode
            ``"fast"``, ``"medium"`` or ``"slow"``.

        Returns
        -------
        Labels
            The labels now stored in ``behavior/labels``.
        """
        from ..ethogram.cleaned import promote_cleaned

        return promote_cleaned(self.context(), mode)

    infer = row_job(
        "behavior_infer",
        EthogramInferParams,
        summary="This trial's ethogram (see ``df.behavior.infer``); returns the run summary: status, and for a "
        "failure the error (the traceback is in the table's run record).",
    )

    def to_nwb(self, path: str | os.PathLike, **params: Any) -> Any:
        """Write this trial's results to one NWB file (see :mod:`behavior_soup.nwb`).

        Parameters
        ----------
        path
            The ``.nwb`` file; replaced atomically if it exists.
        **params
            Fields of :class:`~behavior_soup.nwb.NwbExportParams` (``subject``, ``session``,
            ``fps``, ``spike_resolution``, ``videos``).

        Returns
        -------
        behavior_soup.nwb.NwbExport
            The file, the results exported and skipped, and what it lacks (``.missing``).
        """
        from ..nwb import NwbExportParams, export_trials, trial_item

        p = NwbExportParams.from_mapping(params)
        return export_trials([trial_item(self._row, info_of(self._row), p.fps)], path, p)

    def ethogram(self, mode: Mode = "fast", stage: EthogramStage = "auto") -> pd.DataFrame:
        """This trial's ethogram for ``mode`` as a DataFrame, one column per behavior: the
        cleaned one where the trial has it (``df.behavior.clean_ethograms``), else the model's
        (int8 0/1); or the ``sequence`` or ``features`` stage's probabilities.

        Parameters
        ----------
        mode
            ``"fast"``, ``"medium"`` or ``"slow"``.
        stage
            ``"auto"`` (cleaned, else the model's), ``"ethogram"`` (the model's), ``"cleaned"``,
            ``"sequence"`` or ``"features"``.

        Returns
        -------
        pandas.DataFrame
            ``(T, C)``, one row per frame and one column per behavior (background first);
            ``attrs["key"]`` names the result read.

        Raises
        ------
        OutputsError
            If the trial has no such result.
        """
        return read_ethogram(self.context(), mode, stage)


@pd.api.extensions.register_series_accessor("outputs")
class OutputsSeriesAccessor:
    """Read one trial's results from its session ``outputs.h5``."""

    def __init__(self, row: pd.Series) -> None:
        check_table(row, "outputs")
        self._row = row

    def _ctx(self) -> TrialContext:
        return TrialContext.from_row(self._row, info_of(self._row))

    @property
    def path(self) -> os.PathLike:
        """The session's ``outputs.h5`` holding this trial's results."""
        return self._ctx().outputs_file

    def keys(self) -> list[str]:
        """Keys of the results stored for this trial.

        Returns
        -------
        list of str
            The sorted result keys, e.g. ``["behavior/video_stats", "fast/ethogram"]``; empty if
            there are none.
        """
        return self._ctx().keys()

    def read(self, key: str) -> Any:
        """A result: array, DataFrame, or dict of them (see :func:`behavior_soup.outputs.read_result`).

        Parameters
        ----------
        key
            The result's key, e.g. ``"behavior/video_stats"``, or a key below it naming one of
            its members.

        Returns
        -------
        numpy.ndarray, pandas.DataFrame, scalar or dict
            A dataset as an array, a DataFrame group as a DataFrame, a group as a dict of its
            members.

        Raises
        ------
        OutputsError
            If there is no such result.
        """
        return self._ctx().read(key)

    def provenance(self, key: str) -> dict[str, Any]:
        """Parameters, package versions, start time, duration and status of a result.

        Parameters
        ----------
        key
            The result's key, e.g. ``"behavior/video_stats"``.

        Returns
        -------
        dict
            ``job``, ``params``, ``versions``, ``started``, ``duration_s``, ``status``, ``host``,
            ``pid``.

        Raises
        ------
        OutputsError
            If there is no such result.
        """
        return self._ctx().provenance(key)

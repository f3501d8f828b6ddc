"""``df.sta`` and ``row.sta``: receptive fields of neurons recorded during a stimulus movie."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..jobs import TrialContext
from ..jobs.declare import row_job, table_job
from ..sta.recording import ResultKind, StaParams, add_recording, read_sta, sta_summary
from ._common import DrawBackend, check_table, contexts, info_of


def recording_rows(df: pd.DataFrame, p: object = None) -> pd.DataFrame:
    """The recording trials of ``df`` (``exp_type == "ephys"``).

    Parameters
    ----------
    df
        The trial table.
    p
        The job's parameters (unused).

    Returns
    -------
    pandas.DataFrame
    """
    return df[df["exp_type"] == "ephys"]


@pd.api.extensions.register_dataframe_accessor("sta")
class StaDataFrameAccessor:
    """Add recordings, compute STAs over many trials, and summarise units."""

    def __init__(self, df: pd.DataFrame) -> None:
        check_table(df, "sta")
        self._df = df

    def add_recording(self, animal_id: str, session_id: str, trial_id: int, **kwargs: Any) -> pd.DataFrame:
        """Add a stimulus movie + spike trains trial; see :func:`behavior_soup.sta.add_recording`.

        Parameters
        ----------
        animal_id, session_id, trial_id
            The trial's identity.
        **kwargs
            ``stimulus``, ``spikes``, ``fps`` (required), and ``stimulus_onset``,
            ``pixel_size``, ``block_size``, ``stimulus_key``, ``allow_pickle``, ``notes``,
            ``lock_timeout``.

        Returns
        -------
        pandas.DataFrame
            The row added (``exp_type == "ephys"``).
        """
        return add_recording(self._df, animal_id, session_id, trial_id, **kwargs)

    compute = table_job(
        "sta",
        StaParams,
        rows=recording_rows,
        rows_doc="every recording (``exp_type == 'ephys'``)",
        summary="Compute STAs of every recording in the table (see ``row.sta.compute``).",
    )

    def summary(self) -> pd.DataFrame:
        """One row per computed unit: n_spikes, exclusions, peak delay, RF centre/size, SNR.

        Returns
        -------
        pandas.DataFrame
            ``uuid``, ``animal_id``, ``session_id``, ``trial_id`` and the unit's summary
            columns, over every recording (``exp_type == "ephys"``) with results.
        """
        return sta_summary(contexts(recording_rows(self._df)))


@pd.api.extensions.register_series_accessor("sta")
class StaSeriesAccessor:
    """STAs of one recording trial."""

    def __init__(self, row: pd.Series) -> None:
        check_table(row, "sta")
        self._row = row

    def _ctx(self) -> TrialContext:
        return TrialContext.from_row(self._row, info_of(self._row))

    compute = row_job(
        "sta",
        StaParams,
        summary="Compute the STA of each unit (or of ``units``) into ``outputs.h5`` ``<trial>/sta/<unit>``.",
    )

    def result(self, unit: Any, kind: ResultKind = "sta") -> np.ndarray:
        """A unit's STA ``(n_delays, H, W)`` float32; ``kind`` may also be ``"centered"``,
        ``"zscore"`` or ``"temporal_profile"`` (``(n_delays,)``).

        Parameters
        ----------
        unit
            The unit's name, or its number for units named ``unit_<n>``.
        kind
            ``"sta"``, ``"centered"`` (mean frame subtracted), ``"zscore"`` or
            ``"temporal_profile"``.

        Returns
        -------
        numpy.ndarray
            ``(n_delays, H, W)`` float32 in stimulus pixels, or ``(n_delays,)`` float64 for
            ``"temporal_profile"``.

        Raises
        ------
        ItemNotFoundError
            If no STA was computed for ``unit`` in this trial.
        """
        return read_sta(self._ctx(), unit, kind)

    def view(self, unit: Any, kind: ResultKind = "centered", *, backend: DrawBackend = "auto") -> Any:
        """A unit's STA one delay at a time (slider, or the arrow keys) above the temporal
        profile of its peak pixel, with a cursor at the delay shown.

        Parameters
        ----------
        unit
            The unit's name, or its number for units named ``unit_<n>``.
        kind
            ``"centered"``, ``"sta"`` or ``"zscore"``.
        backend
            ``"auto"``, ``"fastplotlib"`` or ``"matplotlib"``.

        Returns
        -------
        object
            The window; ``.show()`` displays it.
        """
        from ..viz.api import sta_window

        return sta_window(self._ctx(), unit, kind, backend=backend)

    def summary(self) -> pd.DataFrame:
        """One row per computed unit of this trial.

        Returns
        -------
        pandas.DataFrame
            ``uuid``, ``animal_id``, ``session_id``, ``trial_id`` and the unit's summary
            columns; an empty frame if nothing was computed.
        """
        return sta_summary([self._ctx()])

    def plot(self, unit: Any, kind: ResultKind = "centered") -> Any:
        """Figure of a unit's STA frames per delay and its temporal profile (not shown).

        Parameters
        ----------
        unit
            The unit's name, or its number for units named ``unit_<n>``.
        kind
            A map kind: ``"centered"``, ``"sta"`` or ``"zscore"``.

        Returns
        -------
        matplotlib.figure.Figure
            A figure not attached to pyplot; delays are labelled in ms when the trial records
            its stimulus frame rate.
        """
        from ..sta.plots import plot_sta

        fps = (self._ctx().model_params.get("sta") or {}).get("fps")
        return plot_sta(
            self.result(unit, kind),
            fps=fps,
            title=f"{self._row['animal_id']}/{self._row['session_id']}/trial {self._row['trial_id']} unit {unit}",
        )

"""``df.sta`` and ``row.sta``: receptive fields of neurons recorded during a stimulus movie."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import store
from ..jobs import TrialContext, run_job
from ..jobs.runner import Backend
from ..sta.compute import Precision, check_precision
from ..sta.recording import ResultKind, add_recording, read_sta, sta_summary
from ._common import check_table, info_of


@pd.api.extensions.register_dataframe_accessor("sta")
class StaDataFrameAccessor:
    """Add recordings, compute STAs over many trials, and summarise units."""

    def __init__(self, df: pd.DataFrame) -> None:
        check_table(df, "sta")
        self._df = df

    def add_recording(self, animal_id: str, session_id: str, trial_id: int, **kwargs: Any) -> pd.DataFrame:
        """Add a stimulus movie + spike trains trial; see :func:`behavior_soup.sta.add_recording`."""
        return add_recording(self._df, animal_id, session_id, trial_id, **kwargs)

    def _recordings(self) -> pd.DataFrame:
        return self._df[self._df["exp_type"] == "ephys"]

    def compute(
        self,
        n_delays: int = 20,
        units: Sequence[Any] | None = None,
        n_shuffles: int = 20,
        seed: int = 0,
        precision: Precision = "mixed",
        *,
        backend: Backend = "local",
        progress: bool = True,
        **kw: Any,
    ) -> pd.DataFrame:
        """Compute STAs of every recording in the table (see ``row.sta.compute``)."""
        info = info_of(self._df)
        ctxs = [TrialContext.from_row(r, info) for _, r in self._recordings().iterrows()]
        params = {
            "n_delays": n_delays,
            "units": None if units is None else list(units),
            "n_shuffles": n_shuffles,
            "seed": seed,
            "precision": check_precision(precision),
        }
        out = run_job(ctxs, "sta", params, backend=backend, progress=progress, **kw)
        store.refresh(self._df)
        return out

    def summary(self) -> pd.DataFrame:
        """One row per computed unit: n_spikes, exclusions, peak delay, RF centre/size, SNR."""
        info = info_of(self._df)
        return sta_summary([TrialContext.from_row(r, info) for _, r in self._recordings().iterrows()])


@pd.api.extensions.register_series_accessor("sta")
class StaSeriesAccessor:
    """STAs of one recording trial."""

    def __init__(self, row: pd.Series) -> None:
        check_table(row, "sta")
        self._row = row

    def _ctx(self) -> TrialContext:
        return TrialContext.from_row(self._row, info_of(self._row))

    def compute(
        self,
        n_delays: int = 20,
        units: Sequence[Any] | None = None,
        n_shuffles: int = 20,
        seed: int = 0,
        precision: Precision = "mixed",
        *,
        backend: Backend = "local",
    ) -> dict[str, Any]:
        """Compute the STA of each unit (or of ``units``) into ``outputs.h5`` ``<trial>/sta/<unit>``.

        Parameters
        ----------
        n_delays
            Frames per STA window, the spike's own frame first.
        units
            Unit names (or numbers) to compute; all by default.
        n_shuffles
            Circularly shifted spike trains for the z-scored null (0 to skip).
        precision
            ``"mixed"`` (float32 block products summed in float64; ~1e-6 relative error, twice
            as fast) or ``"float64"``.

        Returns
        -------
        dict
            The run's summary row (status, duration, error).
        """
        params = {
            "n_delays": n_delays,
            "units": None if units is None else list(units),
            "n_shuffles": n_shuffles,
            "seed": seed,
            "precision": check_precision(precision),
        }
        return run_job([self._ctx()], "sta", params, backend=backend, progress=False).iloc[0].to_dict()

    def result(self, unit: Any, kind: ResultKind = "sta") -> np.ndarray:
        """A unit's STA ``(n_delays, H, W)`` float32; ``kind`` may also be ``"centered"``,
        ``"zscore"`` or ``"temporal_profile"`` (``(n_delays,)``)."""
        return read_sta(self._ctx(), unit, kind)

    def summary(self) -> pd.DataFrame:
        """One row per computed unit of this trial."""
        return sta_summary([self._ctx()])

    def plot(self, unit: Any, kind: ResultKind = "centered") -> Any:
        """Figure of a unit's STA frames per delay and its temporal profile (not shown)."""
        from ..sta.plots import plot_sta

        fps = (self._ctx().model_params.get("sta") or {}).get("fps")
        return plot_sta(
            self.result(unit, kind),
            fps=fps,
            title=f"{self._row['animal_id']}/{self._row['session_id']}/trial {self._row['trial_id']} unit {unit}",
        )

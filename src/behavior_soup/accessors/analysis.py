"""``df.analysis``: the frame table, per-trial summaries, cross-tabulations and figures over
the table's trials (see :mod:`behavior_soup.analysis`)."""

from __future__ import annotations

import textwrap
from typing import Any

import pandas as pd

from .. import analysis
from ..analysis import FramesParams
from ..jobs import TrialContext
from ..jobs.runner import rows_of
from ._common import check_table, contexts

_PARAMS = textwrap.indent(FramesParams.doc(), "    ")


@pd.api.extensions.register_dataframe_accessor("analysis")
class AnalysisDataFrameAccessor:
    """Questions that span the ethogram, MoSeq and pose results of the table's trials."""

    def __init__(self, df: pd.DataFrame) -> None:
        check_table(df, "analysis")
        self._df = df

    def _contexts(self, rows: pd.DataFrame | None) -> list[TrialContext]:
        return contexts(self._df if rows is None else rows_of(self._df, rows))

    def frames(self, *, rows: pd.DataFrame | None = None, progress: bool = True, **params: Any) -> pd.DataFrame:
        return analysis.frames(self._contexts(rows), FramesParams(**params), progress=progress)

    def summary(
        self, frames: pd.DataFrame | None = None, *, rows: pd.DataFrame | None = None, **params: Any
    ) -> pd.DataFrame:
        f = self.frames(rows=rows, progress=False, **params) if frames is None else frames
        return analysis.summarize(f)

    def crosstab(
        self, a: str, b: str, frames: pd.DataFrame | None = None, normalize: bool | str = False, **params: Any
    ) -> pd.DataFrame:
        f = self.frames(progress=False, **params) if frames is None else frames
        return analysis.crosstab(f, a, b, normalize=normalize)

    def plot_time_budget(self, groupby: str | None = None, summary: pd.DataFrame | None = None, **params: Any):
        s = self.summary(**params) if summary is None else summary
        return analysis.plot_time_budget(s, groupby=groupby)

    def plot_ethogram_raster(self, column: str = "behavior", frames: pd.DataFrame | None = None, **params: Any):
        f = self.frames(progress=False, **params) if frames is None else frames
        return analysis.plot_ethogram_raster(f, column=column)

    def plot_trajectories(self, color: str | None = "behavior", frames: pd.DataFrame | None = None, **params: Any):
        f = self.frames(progress=False, **params) if frames is None else frames
        return analysis.plot_trajectories(f, color=color)


_FIELDS = f"""
    Parameters
    ----------
{_PARAMS}
"""
_COMMON = (
    _FIELDS
    + """    rows
        Rows of this table (default: every trial).
"""
)
AnalysisDataFrameAccessor.frames.__doc__ = f"""One row per (trial, frame) with the trials' ethogram, syllables and tracking
    side by side; see :func:`behavior_soup.analysis.frames` for the columns.
{_COMMON}    progress
        Show a progress bar over trials.

    Returns
    -------
    pandas.DataFrame
        The frame table (categorical id and label columns); ``.to_parquet()`` and ``.to_csv()``
        export it as it is.
    """
AnalysisDataFrameAccessor.summary.__doc__ = f"""One row per trial (keyed by uuid): time budget, bouts, distance, speed and
    syllable usage; see :func:`behavior_soup.analysis.summarize`.
{_COMMON}    frames
        A frame table already made (then the other parameters are not used).

    Returns
    -------
    pandas.DataFrame
        The summary; ``df.merge(summary, on="uuid")`` joins it to the trial table.
    """
AnalysisDataFrameAccessor.crosstab.__doc__ = f"""Frames per pair of values of two frame-table columns, with their NMI in
    ``attrs["nmi"]``; see :func:`behavior_soup.analysis.crosstab`.
{_COMMON}    a, b
        Two columns (e.g. ``"behavior"``, ``"syllable"``).
    frames
        A frame table already made.
    normalize
        As for :func:`pandas.crosstab` (``"index"``: each behavior's syllable fractions).

    Returns
    -------
    pandas.DataFrame
        The table.
    """
_PLOTS = {
    "plot_time_budget": (
        "Mean % of labelled frames per behavior and group",
        'groupby\n        A summary column to group trials by (e.g. ``"exp_type"``), or None.\n'
        "    summary\n        A summary already made (then the other parameters are not used).",
    ),
    "plot_ethogram_raster": (
        "One row per trial coloured by ``column``",
        'column\n        ``"behavior"`` or ``"syllable"``.\n'
        "    frames\n        A frame table already made (then the other parameters are not used).",
    ),
    "plot_trajectories": (
        "Each trial's path, coloured by ``color``",
        'color\n        A categorical frame column (``"behavior"``, ``"syllable"``), or None.\n'
        "    frames\n        A frame table already made (then the other parameters are not used).",
    ),
}
for _name, (_what, _own) in _PLOTS.items():
    getattr(AnalysisDataFrameAccessor, _name).__doc__ = f"""{_what}; see :func:`behavior_soup.analysis.{_name}`.
{_FIELDS}    {_own}

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown; display it in a notebook cell or ``fig.savefig(...)``).
    """

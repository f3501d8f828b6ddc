"""Analysis across accessors: one frame-aligned table per set of trials (ethogram, MoSeq
syllables, tracking), per-trial summaries that join the trial table, cross-tabulations and
the usual figures. See :func:`frames`, :func:`summarize`, :func:`crosstab`."""

from .frames import TRIAL_COLUMNS, frames, trial_columns
from .plots import plot_ethogram_raster, plot_time_budget, plot_trajectories
from .sources import FRAME_SOURCES, UNKNOWN, Columns, FramesParams, register_frame_source
from .summary import crosstab, normalized_mutual_information, summarize

__all__ = [
    "FRAME_SOURCES",
    "TRIAL_COLUMNS",
    "UNKNOWN",
    "Columns",
    "FramesParams",
    "crosstab",
    "frames",
    "normalized_mutual_information",
    "plot_ethogram_raster",
    "plot_time_budget",
    "plot_trajectories",
    "register_frame_source",
    "summarize",
    "trial_columns",
]

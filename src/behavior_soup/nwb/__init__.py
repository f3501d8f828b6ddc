"""NWB export of every result a trial has.

``row.behavior.to_nwb(path)`` and ``df.behavior.to_nwb(folder, per="trial" | "session")``
write, for each trial: its videos (external files), keypoints (ndx-pose), tracking
(``Position``, ``CompassDirection``, ``BehavioralTimeSeries``), ethograms, cleaned ethograms
and labels and MoSeq syllables (ndx-ethogram bouts and per-frame series), spike times and
STAs, the subject, session and trial metadata of the table, and the provenance of each
result. The sections are a registry (:func:`register_nwb_section`): a new kind of result is
one registration. See ``docs/file_format.md`` for the mapping.
"""

from .export import NwbExport, export_table, export_trials, inspect_nwb, trial_item
from .file import TrialItem
from .params import NwbExportParams
from .registry import NWB_SECTIONS, TrialReport, TrialTarget, register_nwb_section

__all__ = [
    "NWB_SECTIONS",
    "NwbExport",
    "NwbExportParams",
    "TrialItem",
    "TrialReport",
    "TrialTarget",
    "export_table",
    "export_trials",
    "inspect_nwb",
    "register_nwb_section",
    "trial_item",
]

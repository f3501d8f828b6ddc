"""Export trials to NWB files: one per trial, or one per animal's session."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from tqdm.auto import tqdm

from .. import schema
from ..errors import BehaviorSoupError, require
from ..jobs import TrialContext
from ..store import TableInfo
from ..video import probe
from . import ethogram_sections, pose_sections, sta_section  # noqa: F401  (they register the sections)
from .file import FileBuilder, TrialItem
from .params import NwbExportParams, Per
from .registry import TrialReport

__all__ = ["NwbExport", "export_table", "export_trials", "inspect_nwb", "trial_item"]

log = logging.getLogger(__name__)

Importance = Literal["CRITICAL", "BEST_PRACTICE_VIOLATION", "BEST_PRACTICE_SUGGESTION"]
_LEVELS: tuple[str, ...] = ("CRITICAL", "BEST_PRACTICE_VIOLATION", "BEST_PRACTICE_SUGGESTION")


@dataclass
class NwbExport:
    """What one NWB export wrote.

    Attributes
    ----------
    path
        The NWB file.
    trials
        One report per trial: result keys exported, skipped (with why), missing.
    missing_metadata
        Subject and session fields the file lacks (nwbinspector flags them), one sentence each.
    """

    path: Path
    trials: list[TrialReport] = field(default_factory=list)
    missing_metadata: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        """Everything missing: the metadata, then ``<trial>: <what>`` per trial."""
        return self.missing_metadata + [f"{r.label}: {m}" for r in self.trials for m in r.missing]


def _timebase(ctx: TrialContext, fps: float | None) -> tuple[float | None, int | None]:
    """A trial's frame rate and frame count: its first readable video's, a recording's
    stimulus's, else ``fps`` with the count unknown."""
    for view in schema.VIEWS:
        if view in ctx.videos:
            try:
                info = probe(ctx.video_path(view))
            except (BehaviorSoupError, OSError) as exc:
                log.debug("%s: no frame rate from the %s video (%s)", ctx.label, view, exc)
                continue
            return (float(info.fps) or fps), (int(info.n_frames) or None)
    rec = ctx.model_params.get("sta")
    if isinstance(rec, Mapping) and rec.get("fps"):
        return float(rec["fps"]), (int(rec.get("n_frames") or 0) or None)
    return fps, None


def trial_item(row: pd.Series, info: TableInfo, fps: float | None = None) -> TrialItem:
    """A row of the trial table, ready to export.

    Parameters
    ----------
    row
        The row.
    info
        Its table's info (roots and path).
    fps
        Frame rate for a trial without a readable video or recording.

    Returns
    -------
    TrialItem
        The row's context, its other columns (``notes``, ``added_time``, columns the user added)
        and its frame rate and count.
    """
    ctx = TrialContext.from_row(row, info)
    meta = {k: v for k, v in row.items() if k in ("notes", "added_time") or (k not in schema.COLUMNS and k != "index")}
    rate, n = _timebase(ctx, fps)
    return TrialItem(ctx, meta, rate, n)


def export_trials(
    items: Sequence[TrialItem], path: str | os.PathLike, params: NwbExportParams | Mapping[str, Any] | None = None
) -> NwbExport:
    """Write the results of trials of one animal's session to one NWB file.

    Each trial's videos, keypoints, tracking, ethograms (predicted, cleaned, labels), MoSeq
    syllables and STAs go where :mod:`behavior_soup.nwb` says, with the subject, session and
    trial metadata, and the provenance of every result. Several trials are placed end to end
    on the file's clock in trial-id order, each object named with ``_trial_<id>`` and each
    trial a row of the trials table. What a trial lacks is said in the report, and logged.

    Parameters
    ----------
    items
        The trials (:func:`trial_item`), all of one animal and session.
    path
        The ``.nwb`` file to write; replaced atomically if it exists, never left half-written.
    params
        :class:`~behavior_soup.nwb.NwbExportParams` or a mapping of its fields.

    Returns
    -------
    NwbExport
        The file and, per trial, what was exported, skipped and missing.

    Raises
    ------
    ValueError
        No trials, trials of several sessions, a path not ending in ``.nwb``, bad parameters.
    DataFormatError
        A trial has frame-by-frame results but no frame rate (no video; pass ``fps``).
    MissingDependencyError
        pynwb, ndx-pose or ndx-ethogram is not installed (``pip install 'behavior_soup[nwb]'``).

    Examples
    --------
    >>> from behavior_soup.nwb import export_trials, trial_item  # doctest: +SKIP
    >>> item = trial_item(df.iloc[0], df.behavior.info)  # doctest: +SKIP
    >>> export_trials([item], "m1_trial1.nwb", {"subject": {"species": "Mus musculus"}})  # doctest: +SKIP
    """
    p = NwbExportParams.from_mapping(params)
    out = Path(path)
    if out.suffix != ".nwb":
        raise ValueError(f"expected an NWB path ending in '.nwb', got {str(out)!r}")
    if not items:
        raise ValueError("expected at least one trial to export, got none")
    sessions = sorted({(i.ctx.animal_id, i.ctx.session_id) for i in items})
    if len(sessions) > 1:
        raise ValueError(f"expected trials of one animal's session per NWB file, got {sessions}")
    ordered = sorted(items, key=lambda i: i.ctx.trial_id)
    builder = FileBuilder(out, ordered, p)
    reports, offset = [], 0.0
    for item in ordered:
        suffix = "" if len(ordered) == 1 else f"_trial_{item.ctx.trial_id}"
        report, duration = builder.add_trial(item, offset, suffix)
        reports.append(report)
        offset += duration
    builder.finish()
    builder.write()
    result = NwbExport(out, reports, builder.missing_metadata)
    if result.missing:
        log.warning("%s written without: %s", out.name, "; ".join(result.missing))
    return result


def _label(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", str(s)).strip("-") or "x"


def export_table(
    df: pd.DataFrame,
    folder: str | os.PathLike,
    per: Per = "trial",
    params: NwbExportParams | Mapping[str, Any] | None = None,
    info: TableInfo | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Export every row of a trial table (or a slice) to NWB files under ``folder``.

    Files are named as DANDI names them: ``sub-<animal>/sub-<animal>_ses-<session>.nwb`` per
    session, ``..._trial-<id>.nwb`` per trial (characters other than letters, digits and ``-``
    become ``-``).

    Parameters
    ----------
    df
        The rows to export.
    folder
        Where the files go (created).
    per
        ``"trial"``: one file per row; ``"session"``: one file per animal's session.
    params
        :class:`~behavior_soup.nwb.NwbExportParams` or a mapping of its fields.
    info
        The table's info; default that of ``df``.
    progress
        Show a progress bar over files.

    Returns
    -------
    pandas.DataFrame
        One row per file: ``path``, ``animal_id``, ``session_id``, ``trials`` (count),
        ``exported`` (results written), ``missing`` (what the file lacks, ``"; "``-joined).

    Raises
    ------
    ValueError
        An unknown ``per``, bad parameters, or two sessions whose names become the same file.
    """
    from ..store import table_info

    if per not in ("trial", "session"):
        raise ValueError(f"expected per='trial' or 'session', got {per!r}")
    p = NwbExportParams.from_mapping(params)
    info = info or table_info(df)
    items = [trial_item(r, info, p.fps) for _, r in df.iterrows()]
    groups: dict[Path, list[TrialItem]] = {}
    for item in items:
        c = item.ctx
        sub = f"sub-{_label(c.animal_id)}"
        name = f"{sub}_ses-{_label(c.session_id)}" + (f"_trial-{c.trial_id}" if per == "trial" else "")
        groups.setdefault(Path(folder) / sub / f"{name}.nwb", []).append(item)
    for path, group in groups.items():
        if len({(i.ctx.animal_id, i.ctx.session_id) for i in group}) > 1:
            ids = sorted({f"{i.ctx.animal_id}/{i.ctx.session_id}" for i in group})
            raise ValueError(f"expected one session per file name, got {ids} all named {path.name!r}")
    rows = []
    for path, group in tqdm(groups.items(), desc="NWB export", unit="file", disable=not progress):
        r = export_trials(group, path, p)
        rows.append(
            {
                "path": str(r.path),
                "animal_id": group[0].ctx.animal_id,
                "session_id": group[0].ctx.session_id,
                "trials": len(group),
                "exported": sum(len(t.exported) for t in r.trials),
                "missing": "; ".join(r.missing),
            }
        )
    return pd.DataFrame(rows, columns=["path", "animal_id", "session_id", "trials", "exported", "missing"])


def inspect_nwb(path: str | os.PathLike, importance: Importance = "BEST_PRACTICE_VIOLATION") -> list[Any]:
    """nwbinspector's findings on an NWB file at ``importance`` or worse.

    Parameters
    ----------
    path
        The NWB file.
    importance
        The least serious level reported: ``"CRITICAL"``, ``"BEST_PRACTICE_VIOLATION"`` or
        ``"BEST_PRACTICE_SUGGESTION"``.

    Returns
    -------
    list of nwbinspector.InspectorMessage
        Empty when the file passes.

    Raises
    ------
    MissingDependencyError
        nwbinspector is not installed (``pip install 'behavior_soup[nwb]'``).
    """
    if importance not in _LEVELS:
        raise ValueError(f"expected importance in {list(_LEVELS)}, got {importance!r}")
    nwbinspector = require("nwbinspector", "nwb", "inspecting NWB files")
    threshold = getattr(nwbinspector.Importance, importance)
    found: Iterable[Any] = nwbinspector.inspect_nwbfile(nwbfile_path=str(path), importance_threshold=threshold)
    return list(found)

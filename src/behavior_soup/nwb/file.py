"""One NWB file being built: its subject, session, trials table and provenance tables, and
writing it in one atomic step."""

from __future__ import annotations

import json
import logging
import os
import uuid as uuidlib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..errors import require
from ..jobs import TrialContext
from ..locking import atomic_write
from .params import SUBJECT_FIELDS, NwbExportParams, check_subject_value
from .registry import NWB_SECTIONS, TrialReport, TrialTarget, classify_keys

__all__ = ["FileBuilder", "TrialItem"]

log = logging.getLogger(__name__)

#: column names of NWB's trials table itself, and of the columns every export writes
_RESERVED = {"id", "start_time", "stop_time", "tags", "timeseries", "trial_id", "uuid", "exp_type", "notes", "added"}

_TRIAL_DOCS = {
    "trial_id": "the trial's id within its session",
    "uuid": "the trial's uuid in the trial table",
    "exp_type": "the experiment type of the trial table",
    "notes": "the trial table's notes",
    "added": "when the trial was added to the trial table ('added_time'), ISO 8601 text",
}

#: Subject fields an NWB file needs to pass nwbinspector's critical and best-practice checks.
_NEEDED_SUBJECT = {"species": "species (Latin binomial, e.g. 'Mus musculus')", "sex": "sex (M/F/U/O)"}


@dataclass(frozen=True)
class TrialItem:
    """A trial to export: its context and the row's other columns.

    Attributes
    ----------
    ctx
        The trial.
    meta
        Column -> value of the row besides the context's (``notes``, ``added_time``, columns the
        user added such as ``species`` or ``genotype``).
    fps, n_frames
        The trial's frame rate and frame count where known (from its video or recording).
    """

    ctx: TrialContext
    meta: Mapping[str, Any] = field(default_factory=dict)
    fps: float | None = None
    n_frames: int | None = None


def _json(v: Any) -> str:
    """``v`` as JSON text with the braces inside strings written ``\\u007b``/``\\u007d``: the
    same JSON to a parser, but not read as a dictionary in a string by NWB checkers (a file
    name template such as ``{animal_id}/...`` would be)."""
    text = json.dumps(v, sort_keys=True, default=str)
    escaped = text.replace("{", "\\u007b").replace("}", "\\u007d")
    try:
        same = json.loads(escaped) == json.loads(text)
    except ValueError:
        same = False
    return escaped if same else text


def _flat(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested parameters as ``(dotted.name, JSON value)`` rows (list items as ``name[i]``):
    NWB tables should not hold dictionaries in strings."""
    rows: list[tuple[str, str]] = []
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            rows.extend(_flat(v, name + "."))
        elif isinstance(v, (list, tuple)) and any(isinstance(x, Mapping) and x for x in v):
            rows.extend(_flat({f"[{i}]": x for i, x in enumerate(v)}, name))
        else:
            rows.append((name, _json(v)))
    return rows


def _cell(v: Any) -> Any:
    """A table cell as NWB stores it: text, number or bool (times as ISO 8601 text)."""
    if isinstance(v, (pd.Timestamp, datetime)):
        return v.isoformat()
    if isinstance(v, (np.generic,)):
        return v.item()
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return float("nan")
    return v


class FileBuilder:
    """An NWB file under construction for the trials of one animal's session.

    Parameters
    ----------
    path
        Where the file will be written (external video paths are made relative to its folder).
    items
        The trials it will hold, in order; the first one's ids name the session and subject.
    params
        The export's metadata.
    """

    def __init__(self, path: Path, items: Sequence[TrialItem], params: NwbExportParams) -> None:
        pynwb = require("pynwb", "nwb", "exporting NWB files")
        require("ndx_pose", "nwb", "exporting NWB files")
        require("ndx_ethogram", "nwb", "exporting NWB files")
        self.path = Path(path)
        self.params = params
        self.folder = self.path.resolve().parent
        self.items = list(items)
        first = self.items[0].ctx
        session = dict(params.session)
        self.missing_metadata: list[str] = []
        start = session.pop("session_start_time", None) or self._start_time()
        self.nwb = pynwb.NWBFile(
            session_description=(
                f"behavior_soup results of {first.animal_id}/{first.session_id}: "
                f"{len(self.items)} trial(s) ({', '.join(sorted({i.ctx.exp_type or 'untyped' for i in self.items}))})"
            ),
            identifier=str(uuidlib.uuid4()),
            session_start_time=start,
            session_id=first.session_id.replace("/", "_"),
            source_script=f"behavior_soup {__version__}",
            source_script_file_name="behavior_soup",
            **session,
        )
        self.nwb.subject = pynwb.file.Subject(subject_id=first.animal_id.replace("/", "_"), **self._subject(params))
        self._modules: dict[str, Any] = {}
        self._skeletons: dict[str, Any] = {}
        self._catalogues: dict[tuple, Any] = {}
        self.poses: dict[tuple[str, str, str], Any] = {}
        self._prov: list[dict[str, Any]] = []
        self._params: list[tuple[str, int, str, str, str]] = []
        self._trial_columns = self._extra_columns()
        for col in ("trial_id", "uuid", "exp_type", "notes", "added", *self._trial_columns.values()):
            self.nwb.add_trial_column(col, _TRIAL_DOCS.get(col, f"the trial table's {col!r} column"))

    def _start_time(self) -> datetime:
        """The session's start: a ``session_start_time`` column, else when its first trial was added."""
        for key in ("session_start_time", "added_time"):
            vals = []
            for item in self.items:
                v = item.meta.get(key)
                if v is None or (not isinstance(v, str) and pd.isna(v)) or v == "":
                    continue
                try:
                    vals.append(pd.Timestamp(v))
                except (ValueError, TypeError):
                    raise ValueError(
                        f"expected column {key!r} of {item.ctx.label} to hold a date and time, got {v!r}"
                    ) from None
            if vals:
                t = min(vals)
                t = t.tz_localize("UTC") if t.tzinfo is None else t
                if key == "added_time":
                    self.missing_metadata.append(
                        "session_start_time (a 'session_start_time' column or session=...; the time the first "
                        "trial was added is used)"
                    )
                return t.to_pydatetime()
        return datetime.now(timezone.utc)

    def _subject(self, params: NwbExportParams) -> dict[str, Any]:
        found: dict[str, Any] = {}
        meta = self.items[0].meta
        for k in SUBJECT_FIELDS:
            if k in params.subject:
                found[k] = params.subject[k]
            elif k in meta and meta[k] is not None and str(meta[k]).strip() not in ("", "nan"):
                found[k] = check_subject_value(k, meta[k], f"column {k!r} of {self.items[0].ctx.label}")
        if "age" not in found and "date_of_birth" not in found:
            self.missing_metadata.append("subject age (an 'age' column as ISO 8601, e.g. 'P90D', or subject=...)")
        self.missing_metadata += [
            f"subject {what} (a {k!r} column or subject=...)" for k, what in _NEEDED_SUBJECT.items() if k not in found
        ]
        return found

    def _extra_columns(self) -> dict[str, str]:
        """Columns the user added to the table -> their trials-table names (``<name>_iso`` for
        times in columns named ``*_time``, which NWB reserves for seconds; ``table_<name>`` for
        the names the trials table has already)."""
        known = {"uuid", "trial_id", "exp_type", "notes", "added_time", "session_start_time", *SUBJECT_FIELDS}
        cols: dict[str, str] = {}
        for item in self.items:
            for c, v in item.meta.items():
                if c in known or c in cols:
                    continue
                is_time = isinstance(v, (pd.Timestamp, datetime)) or not isinstance(v, (int, float, np.number))
                name = f"{c}_iso" if str(c).endswith("_time") and is_time else str(c)
                cols[c] = f"table_{name}" if name in _RESERVED else name
        self._text = {
            c
            for c in cols
            if any(not isinstance(i.meta.get(c), (bool, int, float, np.number)) for i in self.items if c in i.meta)
        }
        return cols

    def _value(self, item: TrialItem, column: str) -> Any:
        """A user column's cell: text ("" where missing) in text columns, else a number."""
        v = _cell(item.meta.get(column))
        if column in self._text:
            return "" if isinstance(v, float) and np.isnan(v) else str(v)
        return v

    def module(self, name: str, description: str) -> Any:
        """The processing module ``name``, created on first use."""
        if name not in self._modules:
            self._modules[name] = self.nwb.create_processing_module(name=name, description=description)
        return self._modules[name]

    def behavior(self) -> Any:
        """The ``behavior`` processing module, where pose, tracking, ethograms and syllables go."""
        return self.module("behavior", "pose, tracking, ethograms and syllables")

    def skeleton(self, name: str, nodes: Sequence[str]) -> Any:
        """The ndx-pose ``Skeleton`` of ``nodes`` named ``name`` (another name where ``name`` has other
        nodes already), shared by the trials that use it."""
        import ndx_pose

        key = f"{name}:{'/'.join(nodes)}"
        if key not in self._skeletons:
            taken = {s.name for s in self._skeletons.values()}
            unique = name if name not in taken else f"{name}_{len(self._skeletons)}"
            self._skeletons[key] = ndx_pose.Skeleton(name=unique, nodes=list(nodes))
        return self._skeletons[key]

    def catalogue(self, behaviors: Sequence[str], exclusive: bool, model: str | None = None) -> Any:
        """The ndx-ethogram ``Ethogram`` catalogue of ``behaviors``, shared by the tables using it.

        Parameters
        ----------
        behaviors
            The behavior names (for MoSeq, the syllable indices as text).
        exclusive
            Whether one behavior at a time (MoSeq syllables) or several (DeepEthogram).
        model
            The MoSeq model's name, for syllables.
        """
        import ndx_ethogram

        key = (tuple(behaviors), exclusive, model)
        if key not in self._catalogues:
            base = f"syllables_{model}_catalogue" if model else "behaviors"
            name = (
                base
                if not any(c.name == base for c in self._catalogues.values())
                else f"{base}_{len(self._catalogues)}"
            )
            cat = ndx_ethogram.Ethogram(
                name=name,
                description=(
                    f"the syllables of MoSeq model {model!r}, indexed by frequency (0 the most frequent)"
                    if model
                    else "the behaviors the ethograms score; the first is the background class (none of the others)"
                ),
                exclusive=exclusive,
            )
            for i, b in enumerate(behaviors):
                if model:
                    definition = f"keypoint-MoSeq syllable {b} of model {model!r}"
                else:
                    definition = f"behavior {b!r}" + (" (background: none of the others)" if i == 0 else "")
                if model:
                    cat.add_row(behavior=b, definition=definition, native_code=i)
                else:
                    cat.add_row(behavior=b, definition=definition)
            self.behavior().add(cat)
            self._catalogues[key] = cat
        return self._catalogues[key]

    def pose_object(self, source: str, view: str, suffix: str) -> Any:
        """The PoseEstimation exported from ``pose/<source>/<view>`` of the trial with ``suffix``, or None."""
        return self.poses.get((source, view, suffix))

    def record_provenance(self, ctx: TrialContext, key: str, prov: Mapping[str, Any]) -> None:
        """Keep the provenance of a result exported (written as tables by :meth:`finish`)."""
        row = {
            "result": key,
            "trial_id": ctx.trial_id,
            "job": str(prov.get("job", "")),
            "started": str(prov.get("started", "")),
            "duration_s": float(prov.get("duration_s", float("nan"))),
            "status": str(prov.get("status", "")),
            "host": str(prov.get("host", "")),
        }
        if any(r["result"] == key and r["trial_id"] == ctx.trial_id for r in self._prov):
            return
        self._prov.append(row)
        for kind in ("params", "versions"):
            for name, value in _flat(prov.get(kind) or {}):
                self._params.append((key, ctx.trial_id, kind, name, value))

    def add_trial(self, item: TrialItem, offset: float, suffix: str) -> tuple[TrialReport, float]:
        """Write every registered section of one trial's results into the file.

        Parameters
        ----------
        item
            The trial.
        offset
            Its start in the file's time, seconds.
        suffix
            Appended to its objects' names.

        Returns
        -------
        tuple
            The trial's report and its duration in seconds.
        """
        ctx = item.ctx
        report = TrialReport(ctx.label)
        target = TrialTarget(self, ctx, offset, suffix, item.fps, item.n_frames, report)
        for name, keys in classify_keys(ctx, ctx.keys(), report).items():
            if keys or name == "video":
                NWB_SECTIONS[name].write(target, keys)
                report.exported += keys
        duration = (target.n_frames or 0) / target.fps if target.fps else 0.0
        self.nwb.add_trial(
            start_time=offset,
            stop_time=offset + duration,
            trial_id=ctx.trial_id,
            uuid=ctx.uuid,
            exp_type=ctx.exp_type,
            notes=str(item.meta.get("notes", "") or ""),
            added=str(_cell(item.meta.get("added_time", ""))),
            **{name: self._value(item, c) for c, name in self._trial_columns.items()},
        )
        return report, duration

    def finish(self) -> None:
        """Add the shared skeletons and the provenance tables."""
        import ndx_pose
        from hdmf.common import DynamicTable

        if self._skeletons:
            self.behavior().add(ndx_pose.Skeletons(skeletons=list(self._skeletons.values())))
        if not self._prov:
            return
        mod = self.module("misc", "how each exported behavior_soup result was made")
        runs = DynamicTable(
            name="behavior_soup_results", description="one row per exported result: the run that made it"
        )
        for col in self._prov[0]:
            runs.add_column(col, f"the result's {col}")
        for row in self._prov:
            runs.add_row(**row)
        params = DynamicTable(
            name="behavior_soup_parameters",
            description="one row per parameter or package version of each exported result",
        )
        for col, doc in (
            ("result", "the result's key"),
            ("trial_id", "the trial"),
            ("kind", "'params' (a parameter of the run) or 'versions' (a package's version)"),
            ("parameter", "the parameter's name; nested parameters joined with '.'"),
            ("value", "its value as JSON"),
        ):
            params.add_column(col, doc)
        for key, tid, kind, name, value in self._params:
            params.add_row(result=key, trial_id=tid, kind=kind, parameter=name, value=value)
        mod.add(runs)
        mod.add(params)

    def write(self) -> Path:
        """Write the file atomically (a temporary file beside it, fsynced, moved over it)."""
        import pynwb

        def writer(tmp: Path) -> None:
            with warnings.catch_warnings():  # the temporary name does not end in .nwb; the file's name does
                warnings.filterwarnings("ignore", message="The file path provided", category=UserWarning)
                with pynwb.NWBHDF5IO(str(tmp), "w") as io:
                    io.write(self.nwb)

        os.makedirs(self.folder, exist_ok=True)
        atomic_write(self.path, writer)
        return self.path

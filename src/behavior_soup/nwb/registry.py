"""The registry of NWB sections: which stored results each exports, and how.

A section is a function ``write(target, keys)`` that adds to the NWB file what the trial's
results under ``keys`` hold; it is registered with the keys it takes (a predicate on result
keys) and what to say when a trial has none of them. A new kind of result becomes exportable
with one registration::

    @register_nwb_section("my_result", claims=lambda k: k.startswith("my/"), missing="no my results")
    def _write_my(target: TrialTarget, keys: list[str]) -> None: ...
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataFormatError
from ..jobs import TrialContext

__all__ = [
    "NOT_EXPORTED",
    "NWB_SECTIONS",
    "NwbSection",
    "TrialReport",
    "TrialTarget",
    "register_nwb_section",
    "sections",
]

log = logging.getLogger(__name__)

SectionWriter = Callable[["TrialTarget", list[str]], None]

#: Results an export leaves out on purpose, by key suffix: why.
NOT_EXPORTED: dict[str, str] = {
    "/features": "network features and first-stage probabilities: intermediate to the ethogram, which is exported",
}


@dataclass(frozen=True)
class NwbSection:
    """One registered section (see :func:`register_nwb_section`)."""

    name: str
    claims: Callable[[str], bool]
    write: SectionWriter
    missing: str | None
    applies: Callable[[TrialContext], bool]
    order: int


#: name -> section (see :func:`sections`).
NWB_SECTIONS: dict[str, NwbSection] = {}


def sections() -> list[NwbSection]:
    """The registered sections in the order they are written: by ``order``, then name."""
    return sorted(NWB_SECTIONS.values(), key=lambda s: (s.order, s.name))


def register_nwb_section(
    name: str,
    claims: Callable[[str], bool],
    missing: str | None = None,
    applies: Callable[[TrialContext], bool] | None = None,
    order: int = 100,
) -> Callable[[SectionWriter], SectionWriter]:
    """Register ``write(target, keys)`` as the NWB export of the results ``claims`` accepts.

    Parameters
    ----------
    name
        The section's name (reported per trial); registering a name again replaces it.
    claims
        ``claims(key) -> bool`` for each of the trial's result keys.
    missing
        Said in the export report when a trial it applies to has none of its results (e.g.
        ``"no pose (df.pose.load or df.pose.infer)"``); ``None`` for sections that are optional.
    applies
        ``applies(ctx) -> bool``: the trials ``missing`` is said of; default all.
    order
        Sections are written by increasing ``order``: a section that links to another's objects
        (an ethogram to a video, syllables to their keypoints) has a larger one. Videos are 0,
        pose 10, tracking 20, the ethograms 40-50, MoSeq 60, STAs 70.

    Returns
    -------
    Callable
        The decorator, returning the function unchanged.
    """

    def deco(func: SectionWriter) -> SectionWriter:
        NWB_SECTIONS[name] = NwbSection(name, claims, func, missing, applies or (lambda ctx: True), order)
        return func

    return deco


@dataclass
class TrialReport:
    """What an export did with one trial.

    Attributes
    ----------
    label
        ``animal/session/trial n``.
    exported
        The result keys written to the file.
    skipped
        Key -> why it was left out.
    missing
        What the trial lacks that a complete export would have (results, metadata), one
        sentence each.
    """

    label: str
    exported: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


@dataclass
class TrialTarget:
    """One trial being added to an NWB file: where its data goes and on what clock.

    Attributes
    ----------
    builder
        The file being built (:class:`behavior_soup.nwb.file.FileBuilder`).
    ctx
        The trial.
    offset
        Time of the trial's first frame in the file, seconds (0 in a one-trial file).
    suffix
        Appended to every object name (``""`` in a one-trial file, ``"_trial_<id>"`` in a
        session file).
    fps
        Frame rate of the trial's frames (video, or the given ``fps``), or None if unknown.
    n_frames
        Frames of the trial, or None if unknown.
    report
        Filled as sections write.
    videos
        View -> the external ``ImageSeries`` of its video, once the video section ran.
    """

    builder: Any
    ctx: TrialContext
    offset: float
    suffix: str
    fps: float | None
    n_frames: int | None
    report: TrialReport
    videos: dict[str, Any] = field(default_factory=dict)

    def rate(self, what: str) -> float:
        """The trial's frame rate, for a series of ``what``.

        Raises
        ------
        DataFormatError
            When it is unknown (no video, no ``fps=``): expected X, found Y, naming the trial.
        """
        if not self.fps:
            raise DataFormatError(
                f"expected a frame rate for the {what} of {self.ctx.label}, found no video to read it from; "
                "pass fps= to the export"
            )
        return float(self.fps)

    def extent(self, n_frames: int) -> None:
        """Note a series of ``n_frames`` frames: the trial lasts at least that long."""
        self.n_frames = max(self.n_frames or 0, int(n_frames))

    def name(self, base: str) -> str:
        """``base`` with the trial's suffix: the name of an NWB object of this trial."""
        return f"{base}{self.suffix}"

    def provenance(self, key: str) -> dict[str, Any]:
        """The stored provenance of result ``key``, also recorded in the file's provenance tables."""
        prov = self.ctx.provenance(key)
        self.builder.record_provenance(self.ctx, key, prov)
        return prov


def describe_params(prov: Mapping[str, Any]) -> str:
    """A result's parameters as one JSON text, for attributes that take it (EthogramBouts)."""
    return json.dumps(prov.get("params", {}), sort_keys=True, default=str)


def classify_keys(ctx: TrialContext, keys: list[str], report: TrialReport) -> dict[str, list[str]]:
    """Each key to the section that claims it; unclaimed keys to ``report.skipped``.

    Parameters
    ----------
    ctx
        The trial.
    keys
        Its result keys.
    report
        Where skipped keys and missing sections are said.

    Returns
    -------
    dict
        Section name -> its keys, for every registered section (empty lists included), in
        the order of :func:`sections`.
    """
    ordered = sections()
    by: dict[str, list[str]] = {s.name: [] for s in ordered}
    for key in keys:
        owner = next((s.name for s in ordered if s.claims(key)), None)
        if owner is not None:
            by[owner].append(key)
            continue
        why = next((w for suffix, w in NOT_EXPORTED.items() if key.endswith(suffix)), None)
        report.skipped[key] = why or "no NWB mapping for this kind of result"
    for s in ordered:
        if not by[s.name] and s.missing and s.applies(ctx):
            report.missing.append(s.missing)
    return by

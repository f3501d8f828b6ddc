"""Opening the viewers on trials: the functions the accessors call.

Each takes the trials' contexts (:class:`~behavior_soup.jobs.TrialContext`), builds what the
window shows, and returns the window; ``window.show()`` displays it in a notebook cell.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OutputsError
from ..ethogram.agreement import agreement, disagreements
from ..ethogram.jobs import LABELS_KEY, cleaned_key
from ..ethogram.modes import MODES
from ..jobs import TrialContext
from .backends import BackendName, open_window
from .session import EthogramSession, SessionKind
from .trial_data import sources_of

__all__ = [
    "Comparison",
    "compare_ethograms",
    "ethogram_window",
    "pose_window",
    "resolve_source",
    "sta_window",
    "syllable_window",
]

log = logging.getLogger(__name__)


def ethogram_window(
    ctxs: Sequence[TrialContext],
    kind: SessionKind,
    *,
    mode: str | None = None,
    behaviors: Sequence[str] | None = None,
    autosave_s: float | None = 2.0,
    pose: str | bool | None = None,
    backend: BackendName = "auto",
    size: tuple[int, int] | None = None,
) -> Any:
    """A viewer (``kind="view"``), cleaner (``"clean"``) or labeller (``"label"``) window on
    ``ctxs`` (see :class:`~behavior_soup.viz.session.EthogramSession` for the arguments and
    :mod:`behavior_soup.viz.keys` for the keys)."""
    session = EthogramSession(ctxs, kind=kind, mode=mode, behaviors=behaviors, autosave_s=autosave_s, pose=pose)
    return open_window("ethogram", session, backend=backend, size=size)


def resolve_source(name: str, ctx: TrialContext, other: str | None = None) -> str:
    """The result key a source name means for a trial.

    Parameters
    ----------
    name
        ``"fast"``/``"medium"``/``"slow"`` (the prediction), ``"<mode> cleaned"``,
        ``"cleaned"`` (of the mode ``other`` names, else of the first mode cleaned here),
        ``"labels"``, or a result key.
    ctx
        The trial.
    other
        The other side's name, for ``"cleaned"``.

    Returns
    -------
    str
        The key, e.g. ``"fast/cleaned"``.

    Raises
    ------
    OutputsError
        If the trial has no such ethogram.
    """
    have = sources_of(ctx)
    if name in have:
        return have[name]
    if name in have.values():
        return name
    if name == "cleaned":
        modes = [other] if other in MODES else [m for m in MODES if f"{m} cleaned" in have]
        for m in modes:
            if cleaned_key(m) in have.values():
                return cleaned_key(m)
    if name == "labels" and LABELS_KEY in have.values():
        return LABELS_KEY
    raise OutputsError(f"expected a {name!r} ethogram for {ctx.label}, found {sorted(have) or 'none'}")


@dataclass
class Comparison:
    """Two ethograms of the same trials side by side.

    Attributes
    ----------
    a, b
        The source names compared.
    summary
        One row per trial and behavior (trial ids, ``behavior``, ``f1``, ``kappa``,
        ``frames_a``, ``frames_b``, ``disagree``, ``frames``), from
        :func:`~behavior_soup.ethogram.agreement.agreement`.
    segments
        One row per disagreement: trial ids, ``trial`` (its index in :attr:`ctxs`),
        ``behavior``, ``start``, ``stop`` (both included), ``n_frames``, ``in_a``, ``in_b``.
    ctxs
        The trials compared.
    """

    a: str
    b: str
    summary: pd.DataFrame
    segments: pd.DataFrame
    ctxs: list[TrialContext]
    window: Any = None

    def per_behavior(self) -> pd.DataFrame:
        """F1 and kappa per behavior over all trials' frames pooled (``disagree`` and frame
        counts summed)."""
        g = self.summary.groupby("behavior", sort=False)
        out = g[["frames_a", "frames_b", "disagree", "frames"]].sum()
        tp = (out["frames_a"] + out["frames_b"] - out["disagree"]) / 2
        denom = out["frames_a"] + out["frames_b"]
        out.insert(0, "f1", (2 * tp / denom).where(denom > 0, 1.0))
        return out.reset_index()

    def view(self, backend: BackendName = "auto", size: tuple[int, int] | None = None) -> Any:
        """A viewer on ``a`` with ``b`` drawn under each track; :meth:`jump` moves it."""
        session = EthogramSession(self.ctxs, kind="view", compare=(self.a, self.b))
        self.window = open_window("ethogram", session, backend=backend, size=size)
        return self.window

    def jump(self, i: int) -> tuple[int, int]:
        """Show disagreement ``i`` of :attr:`segments` in the viewer (opened if needed):
        its trial, its first frame selected through its last. Returns ``(trial, frame)``."""
        seg = self.segments.iloc[int(i)]
        if self.window is None:
            self.view()
        s = self.window.session
        if int(seg["trial"]) != s.trial:
            s.goto_trial(int(seg["trial"]))
        s.select(int(seg["start"]), int(seg["stop"]))
        s.set_frame(int(seg["start"]))
        return s.trial, s.frame


def compare_ethograms(ctxs: Sequence[TrialContext], a: str, b: str) -> Comparison:
    """Compare ethograms ``a`` and ``b`` (source names as for :func:`resolve_source`) on every
    trial that has both; trials with only one are skipped with a log line.

    Returns
    -------
    Comparison
        Per-trial, per-behavior agreement and the disagreement segments.

    Raises
    ------
    OutputsError
        If no trial has both, or two ethograms of a trial have different behaviors.
    """
    ids = ["uuid", "animal_id", "session_id", "trial_id"]
    summaries, segments, used = [], [], []
    for ctx in ctxs:
        try:
            ka, kb = resolve_source(a, ctx, b), resolve_source(b, ctx, a)
        except OutputsError as exc:
            log.info("not compared: %s", exc)
            continue
        da, db = ctx.read(ka), ctx.read(kb)
        if list(da["behaviors"]) != list(db["behaviors"]):
            raise OutputsError(
                f"expected {ka} and {kb} of {ctx.label} to have the same behaviors, got "
                f"{list(da['behaviors'])} and {list(db['behaviors'])}"
            )
        behaviors = tuple(da["behaviors"])
        vals = dict(zip(ids, (ctx.uuid, ctx.animal_id, ctx.session_id, ctx.trial_id)))
        s = agreement(da["array"], db["array"], behaviors)
        d = disagreements(da["array"], db["array"], behaviors)
        for frame in (s, d):
            for k, v in reversed(vals.items()):
                frame.insert(0, k, v)
        d.insert(4, "trial", len(used))
        summaries.append(s)
        segments.append(d)
        used.append(ctx)
    if not used:
        raise OutputsError(f"expected trials with both a {a!r} and a {b!r} ethogram, found none")
    return Comparison(a, b, pd.concat(summaries, ignore_index=True), pd.concat(segments, ignore_index=True), used)


def _video(ctx: TrialContext, view: str) -> Any:
    from .frames import FrameCache

    return FrameCache(ctx.video_path(view)) if view in ctx.videos else None


def pose_window(
    ctx: TrialContext,
    source: str = "imported",
    view: str = "front",
    *,
    min_likelihood: float = 0.0,
    backend: BackendName = "auto",
    size: tuple[int, int] | None = None,
) -> Any:
    """Keypoints of ``source`` in ``view`` over the trial's video, one frame at a time (arrow
    keys, or the slider in Jupyter); points under ``min_likelihood`` hidden."""
    from ..pose.jobs import read_pose
    from .panels import PosePanel

    pose = read_pose(ctx, source, view)
    panel = PosePanel(
        n=len(pose.positions),
        title=f"{ctx.label} {view}: {source}",
        video=_video(ctx, view),
        positions=pose.positions,
        likelihood=pose.likelihood,
        bodyparts=tuple(pose.bodyparts),
        min_likelihood=float(min_likelihood),
    )
    return open_window("pose", panel, backend=backend, size=size)


def syllable_window(
    ctx: TrialContext,
    model: str,
    view: str = "front",
    *,
    backend: BackendName = "auto",
    size: tuple[int, int] | None = None,
) -> Any:
    """The trial's video above its MoSeq syllable track (model ``model``), with a cursor."""
    from ..moseq.infer import read_syllables
    from .panels import SyllablePanel

    syl = read_syllables(ctx, model)["syllable"].to_numpy()
    panel = SyllablePanel(
        n=len(syl), title=f"{ctx.label}: syllables of {model}", video=_video(ctx, view), syllables=syl
    )
    return open_window("syllables", panel, backend=backend, size=size)


def sta_window(
    ctx: TrialContext,
    unit: Any,
    kind: str = "centered",
    *,
    backend: BackendName = "auto",
    size: tuple[int, int] | None = None,
) -> Any:
    """A unit's STA one delay at a time (arrow keys, or the slider) above its peak pixel's
    temporal profile."""
    from ..sta.recording import read_sta
    from .panels import StaPanel

    sta = read_sta(ctx, unit, kind)  # type: ignore[arg-type]
    fps = (ctx.model_params.get("sta") or {}).get("fps")
    panel = StaPanel(n=len(sta), title=f"{ctx.label} unit {unit} ({kind})", sta=np.asarray(sta), fps=fps)
    return open_window("sta", panel, backend=backend, size=size)

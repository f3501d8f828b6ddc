"""Per-frame sources of a trial for :func:`behavior_soup.analysis.frames`: the ethogram, MoSeq
syllables and tracking, each read from the trial's ``outputs.h5`` by a registered reader.

A source reader returns a :class:`Columns` (``n_frames`` rows of numeric and categorical
columns, and the frame rate where the source knows it), or ``None`` when the trial lacks that
result. A new source is one :func:`register_frame_source`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .. import checks
from ..errors import OutputsError
from ..jobs import TrialContext
from ..params import Params, param

__all__ = ["FRAME_SOURCES", "Columns", "FramesParams", "register_frame_source"]

EthogramSource = Literal["auto", "predicted", "cleaned", "labels"]

#: Value of a 0/1 behavior column where the frame's behavior is not known (unlabelled, or no
#: ethogram for the trial): DeepEthogram's convention.
UNKNOWN = -1


def _optional_name(v: object, name: str) -> str | None:
    return None if v is None else checks.text()(v, name)


@dataclass(frozen=True)
class FramesParams(Params):
    """What goes into the frame table (``df.analysis.frames``, ``summary``, ...)."""

    mode: str = param("fast", checks.one_of(("fast", "medium", "slow")), "the ethogram model's mode")
    ethogram: EthogramSource = param(
        "auto",
        checks.one_of(("auto", "predicted", "cleaned", "labels", "none"), aliases={None: "none"}),
        '"auto" (cleaned if present, else predicted), "predicted", "cleaned", "labels" (ground truth) or None',
    )
    moseq: str | None = param(None, _optional_name, "a MoSeq model's name for the syllable column; None: none")
    tracking: str | None = param(
        "head_from_ears", _optional_name, "a tracking method for position, speed and angle columns; None: none"
    )
    strict: bool = param(False, checks.one_of((True, False)), "a missing source is an error (else NaN, warned)")


@dataclass
class Columns:
    """``n_frames`` rows of one source.

    Attributes
    ----------
    n_frames
        Rows.
    numeric
        Column -> ``(n_frames,)`` array (float, int8 or bool).
    categorical
        Column -> ``(codes, categories)``: ``(n_frames,)`` int codes into ``categories`` (-1:
        missing).
    fps
        The frame rate the source records, or None.
    """

    n_frames: int
    numeric: dict[str, np.ndarray] = field(default_factory=dict)
    categorical: dict[str, tuple[np.ndarray, tuple]] = field(default_factory=dict)
    fps: float | None = None


Reader = Callable[[TrialContext, FramesParams], "Columns | None"]


@dataclass(frozen=True)
class FrameSource:
    """A registered per-frame source: its name and its reader."""

    name: str
    read: Reader
    wanted: Callable[[FramesParams], bool]


#: Source name -> :class:`FrameSource`, in column order.
FRAME_SOURCES: dict[str, FrameSource] = {}


def register_frame_source(name: str, wanted: Callable[[FramesParams], bool]) -> Callable[[Reader], Reader]:
    """Register ``read(ctx, params) -> Columns | None`` as the frame source ``name``.

    Parameters
    ----------
    name
        The source's name, used in messages about it.
    wanted
        ``wanted(params) -> bool``: whether the parameters ask for this source.

    Returns
    -------
    callable
        A decorator registering the reader and returning it unchanged.
    """

    def deco(read: Reader) -> Reader:
        FRAME_SOURCES[name] = FrameSource(name, read, wanted)
        return read

    return deco


def _ethogram_array(ctx: TrialContext, p: FramesParams) -> tuple[np.ndarray, list[str]] | None:
    from ..ethogram.jobs import LABELS_KEY, cleaned_key

    keys = {
        "predicted": [f"{p.mode}/ethogram"],
        "cleaned": [cleaned_key(p.mode)],
        "labels": [LABELS_KEY],
        "auto": [cleaned_key(p.mode), f"{p.mode}/ethogram"],
    }[p.ethogram]
    for key in keys:
        try:
            d = ctx.read(key)
        except OutputsError:
            continue
        return np.asarray(d["array"], dtype=np.int8), [str(b) for b in d["behaviors"]]
    return None


@register_frame_source("ethogram", lambda p: p.ethogram != "none")
def _ethogram(ctx: TrialContext, p: FramesParams) -> Columns | None:
    found = _ethogram_array(ctx, p)
    if found is None:
        return None
    arr, behaviors = found
    others = arr[:, 1:] == 1
    first = np.argmax(others, axis=1) + 1  # the first behavior present, background where none is
    codes = np.where(others.any(axis=1), first, 0)
    codes = np.where((arr == UNKNOWN).any(axis=1), -1, codes)
    out = Columns(len(arr), categorical={"behavior": (codes.astype(np.int32), tuple(behaviors))})
    for i, b in enumerate(behaviors):
        out.numeric[f"behavior_{b}"] = arr[:, i]
    return out


@register_frame_source("moseq", lambda p: p.moseq is not None)
def _syllables(ctx: TrialContext, p: FramesParams) -> Columns | None:
    from ..moseq.infer import moseq_key

    key = moseq_key(str(p.moseq))
    try:
        syll = np.asarray(ctx.read(f"{key}/syllable"), dtype=np.int32)
    except OutputsError:
        return None
    fps = ctx.provenance(key).get("params", {}).get("fps")
    n = int(syll.max()) + 1 if len(syll) else 0
    return Columns(len(syll), categorical={"syllable": (syll, tuple(range(n)))}, fps=float(fps) if fps else None)


@register_frame_source("tracking", lambda p: p.tracking is not None)
def _tracking(ctx: TrialContext, p: FramesParams) -> Columns | None:
    from ..pose.jobs import read_tracking

    try:
        state = read_tracking(ctx, str(p.tracking))
    except OutputsError:
        return None
    u = str(state.attrs.get("units", "px"))
    names = {
        "x": f"x_{u}",
        "y": f"y_{u}",
        "speed": f"speed_{u}_s",
        "acceleration": f"acceleration_{u}_s2",
        "head_angle": "head_angle",
        "angular_velocity": "angular_velocity",
        "valid": "valid",
    }
    out = Columns(len(state), fps=float(state.attrs["fps"]) if state.attrs.get("fps") else None)
    for col, name in names.items():
        if col in state.columns:
            out.numeric[name] = state[col].to_numpy(dtype=bool if col == "valid" else np.float64)
    return out

"""One frame-aligned table over many trials: ethogram, syllables and tracking side by side.

Each trial's sources (see :mod:`.sources`) must have the trial's frame count, the frame count
of its video where it has one: a mismatch is an error naming every source and its length,
never a silent truncation. A source a trial lacks gives missing values (NaN, category -1,
behavior columns :data:`~.sources.UNKNOWN`) and a warning, or an error with ``strict=True``.

The table is built from per-column arrays concatenated once; trial-level and categorical
columns are ``pandas.Categorical`` (built from codes), so 10 million rows stay cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..errors import DataFormatError, ItemNotFoundError
from ..jobs import TrialContext
from .sources import FRAME_SOURCES, UNKNOWN, Columns, FramesParams

__all__ = ["TRIAL_COLUMNS", "frames", "trial_columns"]

log = logging.getLogger(__name__)

#: Trial-level columns repeated on every frame row.
TRIAL_COLUMNS: tuple[str, ...] = ("uuid", "animal_id", "session_id", "trial_id", "exp_type")


def _video_frames(ctx: TrialContext) -> tuple[int | None, float | None]:
    from ..video import probe

    for view in sorted(ctx.videos):
        info = probe(ctx.video_path(view))
        return (info.n_frames or None), (info.fps or None)
    return None, None


def trial_columns(ctx: TrialContext, p: FramesParams) -> tuple[int, float | None, dict[str, Columns]]:
    """The sources of one trial, checked to be frame-aligned.

    Parameters
    ----------
    ctx
        The trial.
    p
        Which sources (see :class:`~.sources.FramesParams`).

    Returns
    -------
    tuple
        ``(n_frames, fps, {source: Columns})``: the trial's frame count (its video's, else its
        sources'), its frame rate (the video's, else a source's, else None), and the sources it
        has.

    Raises
    ------
    DataFormatError
        If the sources (and the video) disagree on the frame count.
    ItemNotFoundError
        If ``p.strict`` and the trial lacks a source asked for, or the trial has neither a
        video nor any source.
    """
    n_video, fps = _video_frames(ctx)
    found: dict[str, Columns] = {}
    for name, src in FRAME_SOURCES.items():
        if not src.wanted(p):
            continue
        cols = src.read(ctx, p)
        if cols is None:
            if p.strict:
                raise ItemNotFoundError(f"expected a {name} result for {ctx.label} (strict=True), found none")
            log.warning("%s has no %s result: its %s columns are missing values", ctx.label, name, name)
            continue
        found[name] = cols
    lengths = {name: c.n_frames for name, c in found.items()}
    if n_video is not None:
        lengths = {"video": n_video, **lengths}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{k} {v}" for k, v in lengths.items())
        raise DataFormatError(f"expected one frame count for every source of {ctx.label}, found {listed}")
    if not lengths:
        raise ItemNotFoundError(f"expected a video or a result to count the frames of {ctx.label}, found neither")
    fps = fps or next((c.fps for c in found.values() if c.fps), None)
    return next(iter(lengths.values())), fps, found


def _categorical(parts: list[tuple[np.ndarray, tuple] | None], sizes: list[int]) -> pd.Categorical:
    """One Categorical from per-trial ``(codes, categories)`` (None: all missing)."""
    cats: list[Any] = []
    seen: dict[Any, int] = {}
    for part in parts:
        for c in part[1] if part is not None else ():
            if c not in seen:
                seen[c] = len(cats)
                cats.append(c)
    if all(isinstance(c, (int, np.integer)) for c in cats):
        cats = sorted(cats)
        seen = {c: i for i, c in enumerate(cats)}
    codes = []
    for part, n in zip(parts, sizes):
        if part is None:
            codes.append(np.full(n, -1, np.int32))
            continue
        lookup = np.array([seen[c] for c in part[1]] + [-1], np.int32)  # code -1 stays -1
        codes.append(lookup[part[0]])
    return pd.Categorical.from_codes(np.concatenate(codes) if codes else np.zeros(0, np.int32), cats)


def _fill(dtype: np.dtype, n: int) -> np.ndarray:
    if dtype == np.int8:
        return np.full(n, UNKNOWN, np.int8)
    if dtype.kind == "b":
        return np.zeros(n, bool)
    return np.full(n, np.nan)


def frames(contexts: Sequence[TrialContext], p: FramesParams, progress: bool = True) -> pd.DataFrame:
    """The frame table of ``contexts``: one row per (trial, frame).

    Parameters
    ----------
    contexts
        The trials, in the order their rows appear.
    p
        Which sources (see :class:`~.sources.FramesParams`).
    progress
        Show a progress bar over trials.

    Returns
    -------
    pandas.DataFrame
        ``uuid``, ``animal_id``, ``session_id``, ``exp_type`` (categorical), ``trial_id``
        (int64), ``frame`` (int64), ``time_s`` (float64; NaN where no source knows the frame
        rate), then per source: ``behavior`` (categorical, the first behavior present,
        background where none; missing where unlabelled) and ``behavior_<name>`` (int8 1/0,
        -1 unknown); ``syllable`` (categorical of the model's int indices); ``x_<u>``,
        ``y_<u>``, ``speed_<u>_s``, ``acceleration_<u>_s2`` (float64, ``u`` = ``cm`` or ``px``),
        ``head_angle`` (rad), ``angular_velocity`` (rad/s), ``valid`` (bool). ``attrs["fps"]``
        maps uuid -> frame rate.

    Raises
    ------
    DataFormatError, ItemNotFoundError
        As for :func:`trial_columns`.

    Examples
    --------
    >>> f = frames(contexts, FramesParams(moseq="openfield-v1"))  # doctest: +SKIP
    >>> f.groupby(["animal_id", "behavior"], observed=True).size()  # doctest: +SKIP
    """
    per_trial = []
    for ctx in tqdm(list(contexts), desc="frames", unit="trial", disable=not progress):
        per_trial.append((ctx, *trial_columns(ctx, p)))
    sizes = [n for _, n, _, _ in per_trial]
    data: dict[str, Any] = {}
    for col in TRIAL_COLUMNS:
        values = [getattr(ctx, col) for ctx, *_ in per_trial]
        if col == "trial_id":
            data[col] = np.repeat(np.asarray(values, np.int64), sizes)
        else:
            cats = list(dict.fromkeys(values))
            index = {v: i for i, v in enumerate(cats)}
            codes = np.repeat(np.array([index[v] for v in values], np.int32), sizes)
            data[col] = pd.Categorical.from_codes(codes, cats)
    data["frame"] = np.concatenate([np.arange(n, dtype=np.int64) for n in sizes]) if sizes else np.zeros(0, np.int64)
    fps = [f if f else np.nan for _, _, f, _ in per_trial]
    data["time_s"] = data["frame"] / np.repeat(np.asarray(fps, np.float64), sizes) if sizes else np.zeros(0)
    for name in FRAME_SOURCES:
        got = [found.get(name) for *_, found in per_trial]
        if all(c is None for c in got):
            continue
        cat_names = list(dict.fromkeys(k for c in got if c is not None for k in c.categorical))
        num_names = list(dict.fromkeys(k for c in got if c is not None for k in c.numeric))
        for k in cat_names:
            data[k] = _categorical([c.categorical.get(k) if c is not None else None for c in got], sizes)
        for k in num_names:
            dtype = next(c.numeric[k].dtype for c in got if c is not None and k in c.numeric)
            data[k] = np.concatenate(
                [c.numeric[k] if c is not None and k in c.numeric else _fill(dtype, n) for c, n in zip(got, sizes)]
            )
    out = pd.DataFrame(data, copy=False)
    out.attrs["fps"] = {ctx.uuid: f for (ctx, *_), f in zip(per_trial, fps)}
    return out

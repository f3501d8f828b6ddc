"""Jobs that need nothing beyond the core dependencies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import VideoError
from ..provenance import Provenance
from ..video import VideoReader
from .context import TrialContext
from .registry import register_job


def frame_stats(path: Any, size: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
    """Per-frame statistics of a video, decoded once in gray.

    Parameters
    ----------
    path
        Video file (``str`` or path-like).
    size
        ``(height, width)`` in pixels to resize to while decoding, or ``None`` for the native
        size.

    Returns
    -------
    dict
        ``mean``: (T,) float32 mean intensity; ``motion``: (T,) float32 mean absolute
        difference to the previous frame (0 for the first frame).
    """
    means: list[float] = []
    motion: list[float] = []
    prev = None
    with VideoReader(path, size=size, pixel_format="gray") as r:
        for chunk in r.iter_chunks(128):
            c = chunk.astype(np.float32)
            means.extend(c.mean(axis=(1, 2)).tolist())
            first = c[:1] if prev is None else prev
            d = np.abs(np.diff(np.concatenate([first, c]), axis=0)).mean(axis=(1, 2))
            motion.extend(d.tolist())
            prev = c[-1:]
    return {"mean": np.asarray(means, np.float32), "motion": np.asarray(motion, np.float32)}


@register_job("video_stats", "behavior")
def video_stats(ctx: TrialContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Mean intensity and motion energy per frame of each view -> ``behavior/video_stats``.

    Parameters
    ----------
    ctx
        The trial.
    params
        ``size``: optional ``(height, width)`` in pixels to resize the frames to.

    Returns
    -------
    dict
        ``{"n_frames": int}``, the frame count of the views. The result written holds, per
        view, the arrays of :func:`frame_stats`, and ``n_frames``.

    Raises
    ------
    VideoError
        If the trial has no video, or its views decode different frame counts.
    """
    size = params.get("size")
    size = tuple(size) if size else None
    prov = Provenance("video_stats", dict(params))
    if not ctx.videos:
        raise VideoError(f"expected at least one video for {ctx.label}, found none")
    data = {view: frame_stats(ctx.video_path(view), size) for view in sorted(ctx.videos)}
    counts = {v: len(d["mean"]) for v, d in data.items()}
    if len(set(counts.values())) > 1:
        raise VideoError(f"expected views of {ctx.label} with equal frame counts, found {counts}")
    n = next(iter(counts.values()))
    ctx.write("behavior/video_stats", {**data, "n_frames": np.int64(n)}, prov.finish())
    return {"n_frames": n}

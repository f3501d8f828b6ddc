"""The ethogram models' data path: decode each trial once, normalise, cut clips.

- :func:`trial_frames` decodes a trial's views side by side at the model's input size, once:
  the frames go to a uint8 ``.npy`` cache under ``<output_root>/cache/frames`` (keyed by the
  trial's uuid, the size and each video's size and modification time), which training memory-maps.
- :func:`norm_stats` computes per-channel mean and std once, stored in every checkpoint.
- :func:`clips` cuts the flow window around each frame (edges repeat the first/last frame).
- :func:`stream_clips` is inference's path: a background thread decodes and normalises the
  video chunk by chunk while the caller runs the model, and clips are cut from a rolling
  buffer, so each frame is decoded and normalised once and memory stays bounded.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingViewError, VideoError
from ..jobs import TrialContext
from ..locking import atomic_write
from ..schema import VIEWS
from ..video import iter_concatenated, probe

__all__ = ["clip_batch", "n_frames_of", "norm_stats", "stream_clips", "trial_frames", "view_paths", "window_index"]


def view_paths(ctx: TrialContext, views: tuple[str, ...] | None = None) -> list[Path]:
    """The trial's video paths in a fixed view order (front, then side).

    Parameters
    ----------
    ctx
        The trial.
    views
        The views to take, in this order; ``None``: every view the trial has, front first.

    Returns
    -------
    list of pathlib.Path
        Absolute video paths, one per view.

    Raises
    ------
    MissingViewError
        A view in ``views`` is missing, or the trial has no video at all.
    """
    want = tuple(v for v in VIEWS if v in ctx.videos) if views is None else tuple(views)
    if not want:
        raise MissingViewError(f"expected at least one video for {ctx.label}, found none")
    return [ctx.video_path(v) for v in want]


def n_frames_of(ctx: TrialContext, views: tuple[str, ...] | None = None) -> int:
    """Frame count the trial's first view's container claims.

    Parameters
    ----------
    ctx
        The trial.
    views
        As for :func:`view_paths`; the first of them is probed.

    Returns
    -------
    int
        The container's frame count (not decoded).

    Raises
    ------
    MissingViewError
        As for :func:`view_paths`.
    VideoError
        If the video cannot be opened.
    """
    return probe(view_paths(ctx, views)[0]).n_frames


def _check_length(n: int, n_frames: int, what: str) -> None:
    if n < n_frames:
        raise VideoError(f"expected at least {n_frames} frames (the flow window) in {what}, got {n}")


def _per_view(size: tuple[int, int], n_views: int) -> tuple[int, int]:
    return size[0], size[1] // n_views


def trial_frames(
    ctx: TrialContext, size: tuple[int, int], views: tuple[str, ...] | None = None, cache: bool = True
) -> np.ndarray:
    """All frames of a trial, views side by side: ``(T, H, W, 3)`` uint8 (a read-only memory
    map of the cache when ``cache``).

    Parameters
    ----------
    ctx
        The trial.
    size
        ``(H, W)`` in pixels of the side-by-side frame; each view is resized to
        ``(H, W // n_views)``.
    views
        As for :func:`view_paths`.
    cache
        Read from (or write) the ``.npy`` cache under ``<output_root>/cache/frames``.

    Returns
    -------
    numpy.ndarray
        ``(T, H, n_views * (W // n_views), 3)`` uint8 RGB (``W`` when it divides evenly).

    Raises
    ------
    MissingViewError
        As for :func:`view_paths`.
    VideoError
        If decoding fails, the views differ in frame count, or (when caching) fewer frames
        decode than the container claims.
    """
    paths = view_paths(ctx, views)
    if not cache:
        return np.concatenate(list(iter_concatenated(paths, _per_view(size, len(paths)), chunk=256)))
    sig = "|".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in paths)
    digest = hashlib.sha1(f"{ctx.uuid}|{size}|{sig}".encode()).hexdigest()[:16]
    folder = Path(ctx.output_root) / "cache" / "frames"
    target = folder / f"{ctx.uuid}_{size[0]}x{size[1]}_{digest}.npy"
    if not target.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"{ctx.uuid}_{size[0]}x{size[1]}_*.npy"):
            old.unlink(missing_ok=True)  # the videos changed
        n_claimed = probe(paths[0]).n_frames
        frames = np.concatenate(list(iter_concatenated(paths, _per_view(size, len(paths)), chunk=256)))
        if len(frames) != n_claimed:
            raise VideoError(f"expected {n_claimed} frames in {ctx.label}, decoded {len(frames)}")

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.save(fh, frames)

        atomic_write(target, write)
    return np.load(target, mmap_mode="r")


def norm_stats(frames: list[np.ndarray], max_frames: int = 2000, seed: int = 0) -> dict[str, list[float]]:
    """Per-channel mean and std of pixel values in [0, 1] over up to ``max_frames`` frames
    drawn evenly from all trials (``frames``: ``(T, H, W, 3)`` uint8 each).

    Parameters
    ----------
    frames
        One ``(T, H, W, 3)`` uint8 array per trial (memory maps are fine).
    max_frames
        About how many frames to use in all; each trial gives its share (at least one frame).
    seed
        Seed of the random choice of frames.

    Returns
    -------
    dict
        ``{"mean": [r, g, b], "std": [r, g, b]}``, floats for pixel values scaled to [0, 1].
    """
    rng = np.random.default_rng(seed)
    total = sum(len(f) for f in frames)
    per = max(1, max_frames * 1.0 / max(total, 1))
    s = np.zeros(3)
    s2 = np.zeros(3)
    n = 0
    for f in frames:
        k = min(len(f), max(1, int(round(len(f) * per))))
        idx = np.sort(rng.choice(len(f), size=k, replace=False))
        x = np.asarray(f[idx], dtype=np.float64) / 255.0
        s += x.sum(axis=(0, 1, 2))
        s2 += (x * x).sum(axis=(0, 1, 2))
        n += x.shape[0] * x.shape[1] * x.shape[2]
    mean = s / n
    std = np.sqrt(np.maximum(s2 / n - mean**2, 1e-8))
    return {"mean": mean.tolist(), "std": std.tolist()}


def window_index(centres: np.ndarray, n: int, n_frames: int) -> np.ndarray:
    """``(len(centres), L)`` int64 frame indices of each centre's window, clamped to ``[0, n)``.

    Parameters
    ----------
    centres
        ``(B,)`` integer centre frame indices.
    n
        The trial's frame count.
    n_frames
        The window length ``L`` (odd: ``n_frames // 2`` frames each side of the centre).

    Returns
    -------
    numpy.ndarray
        ``(B, 2 * (n_frames // 2) + 1)`` int64.
    """
    half = n_frames // 2
    return np.clip(np.asarray(centres)[:, None] + np.arange(-half, half + 1)[None, :], 0, n - 1)


def _normalise(chunk: np.ndarray, mean: Any, std: Any) -> Any:
    """uint8 ``(n, H, W, 3)`` -> float32 ``(n, 3, H, W)`` torch tensor, normalised."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(chunk)).permute(0, 3, 1, 2).float()
    return x.mul_(1.0 / 255.0).sub_(mean).div_(std)


def _stats_tensors(stats: dict[str, list[float]]) -> tuple[Any, Any]:
    import torch

    return (torch.tensor(stats["mean"]).view(1, 3, 1, 1), torch.tensor(stats["std"]).view(1, 3, 1, 1))


def clip_batch(frames: np.ndarray, centres: np.ndarray, n_frames: int, stats: dict[str, list[float]]) -> Any:
    """Clips around ``centres`` of a trial's frames: ``(B, 3 * L, H, W)`` float32 tensor,
    normalised, frame ``k`` of each window in channels ``3k .. 3k + 2``.

    Parameters
    ----------
    frames
        ``(T, H, W, 3)`` uint8 frames of one trial.
    centres
        ``(B,)`` integer centre frame indices; windows are clamped at the trial's edges.
    n_frames
        The odd window length ``L``.
    stats
        ``{"mean": [3 floats], "std": [3 floats]}`` from :func:`norm_stats`.

    Returns
    -------
    torch.Tensor
        ``(B, 3 * L, H, W)`` float32, ``(x / 255 - mean) / std`` per channel.
    """
    idx = window_index(centres, len(frames), n_frames)
    uniq, inv = np.unique(idx, return_inverse=True)
    mean, std = _stats_tensors(stats)
    x = _normalise(frames[uniq], mean, std)
    b = len(centres)
    _, c, h, w = x.shape
    return x[inv.reshape(-1)].reshape(b, n_frames * c, h, w)


def _decode_thread(
    paths: list[Path],
    size: tuple[int, int],
    chunk: int,
    stats: dict[str, list[float]],
    q: queue.Queue,
    stop: threading.Event,
) -> None:
    mean, std = _stats_tensors(stats)
    try:
        for part in iter_concatenated(paths, _per_view(size, len(paths)), chunk=chunk):
            if stop.is_set():
                return
            q.put(_normalise(part, mean, std))
        q.put(None)
    except BaseException as exc:  # handed to the consumer
        q.put(exc)


def stream_clips(
    paths: list[Path],
    size: tuple[int, int],
    n_frames: int,
    stats: dict[str, list[float]],
    batch_size: int = 32,
    prefetch: int = 4,
) -> Iterator[Any]:
    """Decode a trial in a background thread and yield clip batches ``(B, 3 * L, H, W)``
    float32 for consecutive centre frames ``0, 1, ..., T - 1`` (B = ``batch_size`` except the
    last batch), in channels-last memory (what 2-D convolutions on the CPU run fastest on).
    Each frame is decoded and normalised once.

    Parameters
    ----------
    paths
        One video per view, placed side by side in this order.
    size
        ``(H, W)`` in pixels of the side-by-side frame; each view is resized to
        ``(H, W // n_views)``.
    n_frames
        The odd window length ``L``; edges repeat the first and last frame.
    stats
        ``{"mean": [3 floats], "std": [3 floats]}`` from :func:`norm_stats`.
    batch_size
        Clips per batch ``B``.
    prefetch
        Decoded chunks the background thread may hold ahead of the caller.

    Yields
    ------
    torch.Tensor
        ``(B, 3 * L, H, W)`` float32 on the CPU, channels-last; batches in frame order.

    Raises
    ------
    VideoError
        Decoding failed, or the trial is shorter than the flow window.
    """
    import torch

    half = n_frames // 2
    q: queue.Queue = queue.Queue(maxsize=prefetch)
    stop = threading.Event()
    worker = threading.Thread(
        target=_decode_thread, args=(paths, size, max(batch_size, n_frames), stats, q, stop), daemon=True
    )
    worker.start()
    buf = None  # normalised frames not yet consumed as centres, plus `half` frames of context each side
    seen = 0
    try:
        while True:
            item = q.get()
            if isinstance(item, BaseException):
                raise item
            last = item is None
            if item is not None:
                seen += len(item)
                if buf is None:
                    buf = torch.cat([item[:1].expand(half, -1, -1, -1), item])
                else:
                    buf = torch.cat([buf, item])
            if last:
                _check_length(seen, n_frames, str(paths[0]))
                buf = torch.cat([buf, buf[-1:].expand(half, -1, -1, -1)])
            ready = len(buf) - 2 * half  # centres whose whole window is in buf
            while ready >= batch_size or (last and ready > 0):
                b = min(batch_size, ready)
                win = buf[: b + 2 * half].unfold(0, n_frames, 1)  # (b, 3, H, W, L)
                _, c, h, w, _ = win.shape
                # one copy into (b, H, W, L*3): channels-last memory, channel k*3 + c
                yield win.permute(0, 2, 3, 4, 1).reshape(b, h, w, n_frames * c).permute(0, 3, 1, 2)
                buf = buf[b:]
                ready -= b
            if last:
                return
    finally:
        stop.set()
        while worker.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.05)

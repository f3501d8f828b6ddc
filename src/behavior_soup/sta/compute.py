"""Spike-triggered averages, computed exactly with one pass over the stimulus movie.

Definitions (``S`` the stimulus, ``T`` frames; ``D = n_delays``):

- a spike at time ``t`` falls in frame ``f = floor((t - onset) * fps)``;
- it is used when ``t >= onset``, ``f < T`` and ``f >= D - 1`` (a full window); the others
  are counted as ``before_onset``, ``after_end`` and ``incomplete_window``;
- ``STA[d] = mean over used spikes of S[f - d]`` for ``d = 0 .. D-1`` (``d = 0`` is the frame
  the spike fell in, ``d`` frames earlier for larger ``d``).

With per-frame spike counts ``c``, ``sum_spikes S[f - d] = sum_j c[j + d] S[j]``. For a block
of frames ``j in [b0, b1)`` the counts ``c[j + d]`` for all delays form a small Toeplitz matrix
``(D, b1 - b0)``; multiplying it with the block ``(b1 - b0, H*W)`` accumulates every delay at
once, so the movie is read from memory once whatever ``D`` is, in blocks that bound memory,
with float64 accumulation. Units and shuffled-spike null trains are stacked as more rows of the
same product.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..errors import DataFormatError

__all__ = ["Precision", "StaResult", "check_precision", "compute_sta", "spike_frames", "sta_sums"]

Precision = Literal["mixed", "float64"]
PRECISIONS: tuple[str, ...] = ("mixed", "float64")

_BLOCK_BYTES = 4 << 20  # stimulus block kept in cache
_MIXED_MAX_BLOCK = 1024  # float32 partial sums span at most this many frames


@dataclass
class StaResult:
    """The STA of one unit and what was derived from it.

    Attributes
    ----------
    sta
        ``(D, H, W)`` float64: mean stimulus ``d`` frames before the spikes.
    sta_centered
        ``(D, H, W)`` float64: ``sta`` minus the movie's mean frame.
    zscore
        ``(D, H, W)`` float64 against the shuffled-spike null, or None without shuffles.
    n_spikes
        Spikes used.
    excluded
        Spikes not used, by reason: ``before_onset``, ``after_end``, ``incomplete_window``.
    peak_delay, peak_pixel
        Delay index and ``(row, col)`` of the largest ``|zscore|`` (``|sta_centered|`` without
        shuffles).
    temporal_profile
        ``(D,)`` float64: ``sta_centered`` at the peak pixel.
    snr
        Peak ``|zscore|``; without shuffles, peak ``|sta_centered|`` over its robust (MAD) spread.
    rf
        2-D Gaussian fit of the map at the peak delay (see :func:`behavior_soup.sta.fit.fit_gaussian_2d`).
    """

    sta: np.ndarray
    sta_centered: np.ndarray
    zscore: np.ndarray | None
    n_spikes: int
    excluded: dict[str, int]
    peak_delay: int
    peak_pixel: tuple[int, int]
    temporal_profile: np.ndarray
    snr: float
    rf: dict[str, float] = field(default_factory=dict)


def spike_frames(
    times: np.ndarray, n_frames: int, fps: float, onset: float, n_delays: int
) -> tuple[np.ndarray, dict[str, int]]:
    """Frame index of each usable spike, and how many were excluded and why.

    See the module docstring for the rules.

    Parameters
    ----------
    times
        ``(n_spikes,)`` spike times in seconds (converted to float64).
    n_frames
        ``T``, the frames of the stimulus movie.
    fps
        Stimulus frame rate.
    onset
        Time of the first stimulus frame, in the spike clock (s).
    n_delays
        ``D``, frames per STA window.

    Returns
    -------
    frames : numpy.ndarray
        ``(n_used,)`` int64 frame indices.
    excluded : dict
        Counts ``before_onset``, ``after_end``, ``incomplete_window``.
    """
    t = np.asarray(times, dtype=np.float64)
    before = t < onset
    f = np.floor((t - onset) * fps)
    after = ~before & (f >= n_frames)
    short = ~before & ~after & (f < n_delays - 1)
    ok = ~(before | after | short)
    return f[ok].astype(np.int64), {
        "before_onset": int(before.sum()),
        "after_end": int(after.sum()),
        "incomplete_window": int(short.sum()),
    }


def check_precision(precision: str) -> str:
    """Return ``precision`` if it is one of :data:`PRECISIONS`, else raise ValueError.

    Parameters
    ----------
    precision
        ``"mixed"`` or ``"float64"`` (see :func:`sta_sums`).

    Returns
    -------
    str
        ``precision`` unchanged.

    Raises
    ------
    ValueError
        If it is not one of :data:`PRECISIONS`.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"expected precision in {PRECISIONS}, got {precision!r}")
    return precision


def _block_frames(n_pixels: int, n_rows: int, itemsize: int = 8) -> int:
    return int(max(64, min(8192, _BLOCK_BYTES // (itemsize * max(n_pixels, n_rows, 1)))))


def _exact_in_float32(stimulus: np.ndarray, counts: np.ndarray, block: int) -> bool:
    """Whether float32 block products are exact: integer stimulus and every partial sum
    below 2**24 (float32 represents all integers up to there)."""
    if stimulus.dtype.kind not in "biu" or stimulus.dtype.itemsize > 2:
        return False
    info = np.iinfo(stimulus.dtype) if stimulus.dtype.kind != "b" else None
    smax = 1 if info is None else max(abs(int(info.min)), abs(int(info.max)))
    return block * max(1.0, float(counts.max(initial=0))) * smax < 2**24


def sta_sums(
    stimulus: np.ndarray,
    counts: np.ndarray,
    n_delays: int,
    block_frames: int | None = None,
    with_sum: bool = False,
    precision: Precision = "mixed",
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Spike-weighted sums of delayed stimulus frames for many spike trains at once.

    Parameters
    ----------
    stimulus
        ``(T, P)`` any real dtype (a memory map is fine); read once, block by block.
    counts
        ``(R, T)`` spike counts per frame of ``R`` trains (units and null trains).
    n_delays
        ``D``.
    block_frames
        Frames per block; default: a block of about 4 MiB (at most 1024 frames for
        ``"mixed"``).
    with_sum
        Also return the plain sum over frames, ``(P,)`` float64, from the same pass.
    precision
        ``"float64"``: block products in float64 (or in float32 where that is exact: 8/16-bit
        integer stimuli with small counts). ``"mixed"`` (default): block products in float32
        over at most 1024 frames, summed across blocks in float64; for float stimuli the
        relative error is about 1e-6 (tested against a float64 per-spike loop), three orders
        of magnitude below the sampling noise of any STA, at half the cost.

    Returns
    -------
    numpy.ndarray
        ``(R, D, P)`` float64, ``out[r, d] = sum_t counts[r, t] * stimulus[t - d]``; and the
        frame sum if ``with_sum``. Block results are always accumulated in float64.

    Raises
    ------
    ValueError
        If ``precision`` is not one of :data:`PRECISIONS`.
    """
    check_precision(precision)
    n_frames, n_pix = stimulus.shape
    n_rows = counts.shape[0]
    padded = np.zeros((n_rows, n_frames + n_delays - 1))
    padded[:, :n_frames] = counts
    if precision == "mixed" and stimulus.dtype.kind in "biuf" and stimulus.dtype.itemsize <= 4:
        step = block_frames or min(_MIXED_MAX_BLOCK, _block_frames(n_pix, n_rows * n_delays, 4))
        dtype = np.float32
    else:
        step = block_frames or _block_frames(n_pix, n_rows * n_delays)
        dtype = np.float32 if _exact_in_float32(stimulus, counts, step) else np.float64
    padded_t = padded.astype(dtype, copy=False)
    n_prod = n_rows * n_delays
    # with_sum: one more row of ones in the left operand gives the frame sum from the same product
    lhs_buf = np.ones((n_prod + int(with_sum), step), dtype=dtype)
    out = np.zeros((n_prod + int(with_sum), n_pix))
    for b0 in range(0, n_frames, step):
        b1 = min(n_frames, b0 + step)
        n = b1 - b0
        block = np.asarray(stimulus[b0:b1], dtype=dtype)
        # toeplitz[r, d, j] = counts[r, b0 + j + d]
        toeplitz = np.lib.stride_tricks.sliding_window_view(padded_t[:, b0 : b1 + n_delays - 1], n, axis=1)
        lhs = lhs_buf[:, :n]
        lhs[:n_prod] = toeplitz.reshape(n_prod, n)
        out += lhs @ block
    total = out[n_prod] if with_sum else None
    out = out[:n_prod].reshape(n_rows, n_delays, n_pix)
    return (out, total) if with_sum else out


def _robust_std(x: np.ndarray) -> float:
    med = np.median(x)
    return float(1.4826 * np.median(np.abs(x - med))) or float(np.std(x)) or 1.0


def compute_sta(
    stimulus: np.ndarray,
    spikes: Mapping[str, np.ndarray],
    fps: float,
    onset: float = 0.0,
    n_delays: int = 20,
    n_shuffles: int = 20,
    seed: int = 0,
    block_frames: int | None = None,
    fit: bool = True,
    precision: Precision = "mixed",
) -> dict[str, StaResult]:
    """Spike-triggered averages of every unit in ``spikes``.

    Parameters
    ----------
    stimulus
        ``(T, H, W)`` movie, any real dtype, no NaN (``H = W = 1`` for full-field flicker).
    spikes
        Unit name -> spike times in seconds.
    fps
        Stimulus frame rate (> 0).
    onset
        Time of the first stimulus frame, in the spike clock (s).
    n_delays
        Frames per STA window (1 .. T).
    n_shuffles
        Circularly shifted spike trains per unit for the z-scored null (0 to skip).
    seed
        Seed of the shuffle offsets.
    block_frames
        Frames per block (default: a block of about 4 MiB).
    fit
        Fit a 2-D Gaussian to the peak map.
    precision
        Arithmetic of the block products (see :func:`sta_sums`); ``"float64"`` for results
        equal to a float64 per-spike loop to ~1e-12.

    Returns
    -------
    dict
        Unit name -> :class:`StaResult`.

    Raises
    ------
    ValueError
        Bad ``fps``, ``onset``, ``n_delays``, ``n_shuffles`` (1 is refused) or ``precision``.
    DataFormatError
        A stimulus that is not 3-D, no units, an empty unit, or a unit whose spikes all fall
        outside the movie.
    """
    from .fit import fit_gaussian_2d

    if stimulus.ndim != 3:
        raise DataFormatError(f"expected a stimulus of shape (T, H, W), got shape {stimulus.shape}")
    n_frames, h, w = stimulus.shape
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"expected fps > 0, got {fps!r}")
    if not math.isfinite(onset):
        raise ValueError(f"expected a finite stimulus onset, got {onset!r}")
    if not isinstance(n_delays, (int, np.integer)) or not 1 <= n_delays <= n_frames:
        raise ValueError(f"expected 1 <= n_delays <= {n_frames} (the movie's frames), got {n_delays!r}")
    if not isinstance(n_shuffles, (int, np.integer)) or n_shuffles < 0:
        raise ValueError(f"expected n_shuffles >= 0, got {n_shuffles!r}")
    if n_shuffles == 1:
        raise ValueError("expected n_shuffles = 0 or >= 2 (a null spread needs two samples), got 1")
    end = onset + n_frames / fps
    if not spikes:
        raise DataFormatError("expected at least one unit of spikes, got none")
    names = list(spikes)
    counts = np.zeros((len(names), n_frames))
    info = {}
    for i, name in enumerate(names):
        t = np.asarray(spikes[name], dtype=np.float64)
        if t.size == 0:
            raise DataFormatError(
                f"expected spikes for unit {name!r}, found none (an empty unit); leave it out with units="
            )
        frames, excluded = spike_frames(t, n_frames, fps, onset, n_delays)
        if frames.size == 0:
            raise DataFormatError(
                f"expected spikes of unit {name!r} inside the movie ({onset:g} s to {end:g} s, "
                f"after the first {n_delays - 1} frames), found all {t.size} outside "
                f"(spikes from {t.min():g} s to {t.max():g} s); check stimulus_onset and fps"
            )
        counts[i] = np.bincount(frames, minlength=n_frames)
        info[name] = (int(frames.size), excluded)
    rows = [counts]
    if n_shuffles:
        rng = np.random.default_rng(seed)
        lo = min(n_frames - 1, 2 * n_delays)
        for i in range(len(names)):
            shifts = rng.integers(lo, max(lo + 1, n_frames - lo), size=n_shuffles)
            # the roll moves spikes into the first D-1 frames too: keep those frames empty
            shuffled = np.stack([np.roll(counts[i], int(s)) for s in shifts])
            shuffled[:, : n_delays - 1] = 0
            rows.append(shuffled)
    flat = stimulus.reshape(n_frames, h * w)
    sums, frame_sum = sta_sums(flat, np.concatenate(rows), n_delays, block_frames, with_sum=True, precision=precision)
    mean_frame = frame_sum / n_frames
    results: dict[str, StaResult] = {}
    for i, name in enumerate(names):
        n_used, excluded = info[name]
        sta = sums[i] / n_used
        centered = sta - mean_frame
        z = None
        if n_shuffles:
            null_counts = np.concatenate(rows[1:])[i * n_shuffles : (i + 1) * n_shuffles].sum(axis=1)
            null = (
                sums[len(names) + i * n_shuffles : len(names) + (i + 1) * n_shuffles]
                / np.maximum(null_counts, 1)[:, None, None]
            )
            sd = null.std(axis=0, ddof=1)
            z = (sta - null.mean(axis=0)) / np.where(sd > 0, sd, np.inf)
            score = np.abs(z)
            snr = float(score.max())
        else:
            score = np.abs(centered)
            snr = float(score.max() / _robust_std(centered))
        d, p = np.unravel_index(int(np.argmax(score)), score.shape)
        rf = fit_gaussian_2d(centered[d].reshape(h, w)) if fit else {}
        results[name] = StaResult(
            sta=sta.reshape(n_delays, h, w),
            sta_centered=centered.reshape(n_delays, h, w),
            zscore=None if z is None else z.reshape(n_delays, h, w),
            n_spikes=n_used,
            excluded=excluded,
            peak_delay=int(d),
            peak_pixel=(int(p // w), int(p % w)),
            temporal_profile=centered[:, p].copy(),
            snr=snr,
            rf=rf,
        )
    return results


def summarize(name: str, r: StaResult, fps: float) -> dict[str, Any]:
    """One summary row of a unit's STA.

    Parameters
    ----------
    name
        The unit's name.
    r
        Its STA.
    fps
        Stimulus frame rate, to express the peak delay in seconds.

    Returns
    -------
    dict
        ``unit``, ``n_spikes``, ``excluded_<reason>`` for each exclusion reason,
        ``peak_delay``, ``peak_delay_s``, ``peak_row``, ``peak_col``, ``rf_x``, ``rf_y``,
        ``rf_sigma_x``, ``rf_sigma_y``, ``rf_r2`` (NaN where not fitted) and ``snr``.
    """
    return {
        "unit": name,
        "n_spikes": r.n_spikes,
        **{f"excluded_{k}": v for k, v in r.excluded.items()},
        "peak_delay": r.peak_delay,
        "peak_delay_s": r.peak_delay / fps,
        "peak_row": r.peak_pixel[0],
        "peak_col": r.peak_pixel[1],
        "rf_x": r.rf.get("x", float("nan")),
        "rf_y": r.rf.get("y", float("nan")),
        "rf_sigma_x": r.rf.get("sigma_x", float("nan")),
        "rf_sigma_y": r.rf.get("sigma_y", float("nan")),
        "rf_r2": r.rf.get("r2", float("nan")),
        "snr": r.snr,
    }

"""Static figures of a spike-triggered average (matplotlib; returned, never shown)."""

from __future__ import annotations

from typing import Any

import numpy as np


def plot_sta(sta: np.ndarray, fps: float | None = None, profile: np.ndarray | None = None, title: str = "") -> Any:
    """STA frames per delay (one panel each, shared symmetric colour scale) and the temporal
    profile at the peak pixel.

    Parameters
    ----------
    sta
        ``(D, H, W)`` mean-subtracted STA (or z-scores).
    fps
        Frame rate, to label delays in ms.
    profile
        ``(D,)`` temporal profile; default: ``sta`` at its largest-magnitude pixel.
    title
        Figure title; none if empty.

    Returns
    -------
    matplotlib.figure.Figure
        A figure not attached to pyplot (nothing is shown or kept open).
    """
    from matplotlib.figure import Figure  # no pyplot: nothing is shown or kept open

    sta = np.asarray(sta)
    d, h, w = sta.shape
    if profile is None:
        _, r, c = np.unravel_index(int(np.argmax(np.abs(sta))), sta.shape)
        profile = sta[:, r, c]
    ncols = min(d, 10)
    nrows = int(np.ceil(d / ncols))
    fig = Figure(figsize=(1.4 * ncols, 1.5 * nrows + 2.2), layout="constrained")
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[1] * nrows + [1.6])
    lim = float(np.abs(sta).max()) or 1.0
    for i in range(d):
        ax = fig.add_subplot(grid[i // ncols, i % ncols])
        ax.imshow(sta[i], cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"-{i * 1000 / fps:.0f} ms" if fps else f"d={i}", fontsize=7)
    ax = fig.add_subplot(grid[nrows, :])
    x = np.arange(d) * (1000 / fps if fps else 1)
    ax.plot(-x, profile, marker="o", ms=3)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("time before spike (ms)" if fps else "delay (frames)")
    ax.set_ylabel("STA at peak pixel")
    if title:
        fig.suptitle(title)
    return fig

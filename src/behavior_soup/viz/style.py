"""Colours the viewers share, whatever draws them."""

from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT_SIZE", "OFF", "UNSET", "behavior_colors", "track_rgba", "track_rows"]

#: ``(width, height)`` in pixels of a window unless told: fits a notebook cell, and keeps a frame
#: update under 33 ms where a software Vulkan adapter draws (``benchmarks/viewer.py``).
DEFAULT_SIZE = (800, 500)

#: RGBA of a frame where a behavior is off, and of an unlabelled frame.
OFF = np.array([0.22, 0.22, 0.25, 1.0], np.float32)
UNSET = np.array([0.06, 0.06, 0.06, 1.0], np.float32)


def behavior_colors(n: int) -> np.ndarray:
    """``(n, 4)`` float32 RGBA, one per behavior: grey for the background (0), then tab10."""
    from matplotlib import colormaps

    tab = colormaps["tab10"]
    out = np.array([(0.6, 0.6, 0.6, 1.0)] + [tab(i % 10) for i in range(max(n - 1, 0))], np.float32)
    return out[:n]


def track_rgba(column: np.ndarray, rgba: np.ndarray) -> np.ndarray:
    """``(T, 4)`` float32 per-frame colours of one behavior's track: ``rgba`` where the
    ``(T,)`` column is 1, :data:`OFF` where 0, :data:`UNSET` where -1."""
    column = np.asarray(column)
    out = np.where((column == 1)[:, None], rgba[None, :], OFF[None, :]).astype(np.float32)
    out[column < 0] = UNSET
    return out


def track_rows(array: np.ndarray, colors: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """The tracks as one image: ``(C, T, 4)`` float32 RGBA, one row per behavior (row ``c`` is
    column ``c`` of the ``(T, C)`` ``array``), or ``(2C, T, 4)`` with each behavior's row of the
    ``(T, C)`` ``reference`` under it, at 60% opacity."""
    rows = []
    for c in range(len(colors)):
        rows.append(track_rgba(array[:, c], colors[c]))
        if reference is not None:
            rows.append(track_rgba(reference[:, c], colors[c]) * np.array([1, 1, 1, 0.6], np.float32))
    return np.stack(rows)

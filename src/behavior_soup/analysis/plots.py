"""The figures people look at: time budgets, ethogram rasters and trajectories.

Each function returns a matplotlib ``Figure`` (made with ``matplotlib.figure.Figure``, not
pyplot, so nothing is shown or kept open unless the caller does so).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .summary import _trials

__all__ = ["plot_ethogram_raster", "plot_time_budget", "plot_trajectories"]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _colors(n: int) -> np.ndarray:
    from matplotlib import colormaps

    return colormaps["tab20"](np.arange(n) % 20)


def plot_time_budget(summary: pd.DataFrame, groupby: str | None = None):
    """Bar chart of the mean % of labelled frames per behavior, per group (error bars: SEM
    over trials).

    Parameters
    ----------
    summary
        A per-trial summary (see :func:`~.summary.summarize`) with ``<b>_pct`` columns, and
        ``groupby`` if given.
    groupby
        A column of ``summary`` (e.g. ``"exp_type"``, ``"animal_id"``), or None for one group.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; ``fig.axes[0]`` holds one bar per (behavior, group).

    Raises
    ------
    KeyError
        If ``summary`` has no behavior columns or no ``groupby`` column.
    """
    pct = [c for c in summary.columns if c.endswith("_pct") and not c.startswith("syllable_")]
    if not pct:
        raise KeyError("expected <behavior>_pct columns in the summary (made with an ethogram), found none")
    if groupby is not None and groupby not in summary.columns:
        raise KeyError(f"expected groupby to be a column of the summary, got {groupby!r}")
    groups = summary.groupby(groupby, observed=True) if groupby else [("all trials", summary)]
    groups = list(groups)
    fig = _figure(max(4.0, 0.9 * len(pct) * max(1, len(groups)) ** 0.5), 3.2)
    ax = fig.add_subplot()
    width = 0.8 / len(groups)
    x = np.arange(len(pct))
    for i, ((name, g), color) in enumerate(zip(groups, _colors(len(groups)))):
        mean = g[pct].mean().to_numpy()
        sem = (g[pct].std(ddof=1) / np.sqrt(len(g))).fillna(0).to_numpy() if len(g) > 1 else np.zeros(len(pct))
        ax.bar(x + (i - (len(groups) - 1) / 2) * width, mean, width, yerr=sem, color=color, label=str(name))
    ax.set_xticks(x, [c[: -len("_pct")] for c in pct], rotation=30, ha="right")
    ax.set_ylabel("% of labelled frames")
    if groupby:
        ax.legend(title=groupby, fontsize="small")
    return fig


def plot_ethogram_raster(frames: pd.DataFrame, column: str = "behavior", max_trials: int = 50):
    """One row per trial, one colour per value of ``column`` over time.

    Parameters
    ----------
    frames
        A frame table (see :func:`~.frames.frames`).
    column
        A categorical column: ``"behavior"`` or ``"syllable"``.
    max_trials
        Plot at most this many trials (the first ones).

    Returns
    -------
    matplotlib.figure.Figure
        The figure, with a colour legend of the column's values.

    Raises
    ------
    KeyError
        If ``column`` is not a categorical column of ``frames``.
    """
    if column not in frames.columns or not isinstance(frames[column].dtype, pd.CategoricalDtype):
        raise KeyError(f"expected a categorical column of the frame table, got {column!r}")
    trials = _trials(frames)[:max_trials]
    cats = list(frames[column].cat.categories)
    n = max((s.stop - s.start for _, s in trials), default=1)
    image = np.full((len(trials), n), np.nan)
    for i, (_, sl) in enumerate(trials):
        codes = frames[column].cat.codes.to_numpy()[sl].astype(float)
        codes[codes < 0] = np.nan
        image[i, : len(codes)] = codes
    fig = _figure(8.0, 0.8 + 0.25 * len(trials))
    ax = fig.add_subplot()
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(_colors(max(1, len(cats))))
    ax.imshow(image, aspect="auto", interpolation="nearest", cmap=cmap, vmin=-0.5, vmax=len(cats) - 0.5)
    ax.set_yticks(
        range(len(trials)),
        [f"{frames['animal_id'].iloc[s.start]} t{frames['trial_id'].iloc[s.start]}" for _, s in trials],
    )
    ax.set_xlabel("frame")
    from matplotlib.patches import Patch

    ax.legend(
        handles=[Patch(color=cmap(i), label=str(c)) for i, c in enumerate(cats[:20])],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize="small",
        title=column,
    )
    return fig


def plot_trajectories(frames: pd.DataFrame, color: str | None = "behavior", max_trials: int = 12):
    """The path of each trial (one panel per trial), its points coloured by ``color``.

    Parameters
    ----------
    frames
        A frame table with position columns (``x_<u>``, ``y_<u>``).
    color
        A categorical column to colour by (``"behavior"``, ``"syllable"``), or None.
    max_trials
        Plot at most this many trials.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, one axes per trial.

    Raises
    ------
    KeyError
        If ``frames`` has no position columns, or no column ``color``.
    """
    xs = [c for c in frames.columns if c.startswith("x_")]
    if not xs:
        raise KeyError("expected position columns x_<unit>, y_<unit> in the frame table (tracking=...), found none")
    if color is not None and color not in frames.columns:
        raise KeyError(f"expected color to be a column of the frame table, got {color!r}")
    u = xs[0][2:]
    trials = _trials(frames)[:max_trials]
    cols = min(4, max(1, len(trials)))
    rows = int(np.ceil(len(trials) / cols)) or 1
    fig = _figure(3.0 * cols, 3.0 * rows)
    cats = list(frames[color].cat.categories) if color is not None else []
    palette = _colors(max(1, len(cats)))
    for i, (_, sl) in enumerate(trials):
        ax = fig.add_subplot(rows, cols, i + 1)
        part = frames.iloc[sl]
        x, y = part[f"x_{u}"].to_numpy(), part[f"y_{u}"].to_numpy()
        ax.plot(x, y, color="0.8", lw=0.5)
        if color is not None:
            codes = part[color].cat.codes.to_numpy()
            ok = codes >= 0
            ax.scatter(x[ok], y[ok], c=palette[codes[ok]], s=3)
        ax.set_title(f"{part['animal_id'].iloc[0]} trial {part['trial_id'].iloc[0]}", fontsize="small")
        ax.set_aspect("equal", adjustable="datalim")
        ax.invert_yaxis()  # image coordinates: y down
        ax.set_xlabel(f"x ({u})")
    return fig

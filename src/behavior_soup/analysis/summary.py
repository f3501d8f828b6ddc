"""Per-trial summaries of a frame table, and cross-tabulations of two of its columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import TRIAL_COLUMNS

__all__ = ["crosstab", "normalized_mutual_information", "summarize"]


def _trials(f: pd.DataFrame) -> list[tuple[str, slice]]:
    """(uuid, row slice) of each trial; a frame table holds each trial's rows together."""
    codes = f["uuid"].cat.codes.to_numpy() if len(f) else np.zeros(0, int)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, int)
    ends = np.r_[starts[1:], len(codes)]
    cats = f["uuid"].cat.categories
    return [(str(cats[codes[a]]), slice(int(a), int(b))) for a, b in zip(starts, ends)]


def _bouts(x: np.ndarray) -> int:
    on = x == 1
    return int(np.count_nonzero(on[1:] & ~on[:-1]) + (1 if len(on) and on[0] else 0))


def _entropy_bits(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum()) if len(p) else float("nan")


def summarize(f: pd.DataFrame) -> pd.DataFrame:
    """One row per trial of a frame table (see :func:`~.frames.frames`).

    Parameters
    ----------
    f
        A frame table; its ``attrs["fps"]`` gives each trial's frame rate.

    Returns
    -------
    pandas.DataFrame
        Keyed by ``uuid`` (with the other trial columns), so it merges with the trial table:
        ``n_frames``, ``duration_s``; per behavior ``<b>_s`` (time with the behavior, s),
        ``<b>_pct`` (% of labelled frames), ``<b>_bouts`` and ``<b>_bout_s`` (mean bout
        duration, s); ``distance_<u>`` (path length over consecutive frames with a position)
        and ``speed_<u>_s_mean``; ``n_syllables`` (used), ``syllable_entropy_bits`` and
        ``syllable_<k>_pct`` (% of frames with syllable ``k``).

    Examples
    --------
    >>> s = summarize(frames(contexts, FramesParams()))  # doctest: +SKIP
    >>> df.merge(s, on="uuid")  # doctest: +SKIP
    """
    fps_of = f.attrs.get("fps", {})
    behaviors = [c[len("behavior_") :] for c in f.columns if c.startswith("behavior_")]
    unit = next((c[2:] for c in f.columns if c.startswith("x_")), None)
    syllables = list(f["syllable"].cat.categories) if "syllable" in f.columns else []
    rows = []
    for uuid, sl in _trials(f):
        part = f.iloc[sl]
        fps = float(fps_of.get(uuid) or np.nan)
        row: dict[str, object] = {c: part[c].iloc[0] for c in TRIAL_COLUMNS}
        row.update(n_frames=len(part), duration_s=len(part) / fps)
        for b in behaviors:
            x = part[f"behavior_{b}"].to_numpy()
            known = np.count_nonzero(x != -1)
            on = np.count_nonzero(x == 1)
            bouts = _bouts(x)
            row[f"{b}_s"] = on / fps
            row[f"{b}_pct"] = 100.0 * on / known if known else np.nan
            row[f"{b}_bouts"] = bouts
            row[f"{b}_bout_s"] = on / fps / bouts if bouts else np.nan
        if unit is not None:
            xy = part[[f"x_{unit}", f"y_{unit}"]].to_numpy()
            step = np.hypot(*np.diff(xy, axis=0).T) if len(xy) > 1 else np.zeros(0)
            row[f"distance_{unit}"] = float(np.nansum(step)) if np.isfinite(step).any() else np.nan
            speed = part[f"speed_{unit}_s"].to_numpy()
            row[f"speed_{unit}_s_mean"] = float(np.nanmean(speed)) if np.isfinite(speed).any() else np.nan
        if syllables:
            codes = part["syllable"].cat.codes.to_numpy()
            counts = np.bincount(codes[codes >= 0], minlength=len(syllables))
            row["n_syllables"] = int(np.count_nonzero(counts))
            row["syllable_entropy_bits"] = _entropy_bits(counts)
            total = counts.sum()
            for k, c in zip(syllables, counts):
                row[f"syllable_{k}_pct"] = 100.0 * c / total if total else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def normalized_mutual_information(a: pd.Series, b: pd.Series) -> float:
    """Mutual information of two label columns over the frames where both are known, divided
    by the mean of their entropies (0: independent, 1: one determines the other).

    Parameters
    ----------
    a, b
        Columns of equal length (categorical or not); missing values are left out.

    Returns
    -------
    float
        The NMI in [0, 1] (NaN without frames where both are known; 1 when both are constant).
    """
    table = pd.crosstab(a, b).to_numpy(dtype=np.float64)
    n = table.sum()
    if n == 0:
        return float("nan")
    pxy = table / n
    px, py = pxy.sum(axis=1), pxy.sum(axis=0)
    nz = pxy > 0
    mi = float((pxy[nz] * np.log(pxy[nz] / np.outer(px, py)[nz])).sum())
    hx = -float((px[px > 0] * np.log(px[px > 0])).sum())
    hy = -float((py[py > 0] * np.log(py[py > 0])).sum())
    if hx + hy == 0:
        return 1.0
    return max(0.0, min(1.0, 2 * mi / (hx + hy)))


def crosstab(f: pd.DataFrame, a: str, b: str, normalize: bool | str = False) -> pd.DataFrame:
    """Frames per pair of values of two columns (e.g. ``"behavior"`` x ``"syllable"``).

    Parameters
    ----------
    f
        A frame table.
    a, b
        Two of its columns.
    normalize
        As for :func:`pandas.crosstab`: ``False`` counts, ``"index"`` rows sum to 1 (which
        syllables make up each behavior), ``"columns"``, or ``True``/``"all"``.

    Returns
    -------
    pandas.DataFrame
        Values of ``a`` down, values of ``b`` across; ``attrs["nmi"]`` holds
        :func:`normalized_mutual_information` of the two columns.

    Raises
    ------
    KeyError
        If a column is not in the frame table (the message lists those that are).
    """
    for c in (a, b):
        if c not in f.columns:
            raise KeyError(f"expected a column of the frame table, got {c!r}; columns: {list(f.columns)}")
    out = pd.crosstab(f[a], f[b], normalize=normalize)
    out.attrs["nmi"] = normalized_mutual_information(f[a], f[b])
    return out

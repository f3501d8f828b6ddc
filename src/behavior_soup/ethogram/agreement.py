"""How far two ethograms of one trial agree: per behavior F1 and Cohen's kappa, and the frame
ranges where they differ (to jump to)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._arrays import true_runs
from ..errors import DataFormatError
from .labels import UNLABELED

__all__ = ["agreement", "cohen_kappa", "disagreements"]


def _check(a: np.ndarray, b: np.ndarray, behaviors: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] != len(behaviors):
        raise DataFormatError(
            f"expected two ethograms of one shape (T, {len(behaviors)}) for behaviors {list(behaviors)}, "
            f"got {a.shape} and {b.shape}"
        )
    return a, b


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two ``(T,)`` boolean (or 0/1) annotations of the same frames.

    Returns
    -------
    float
        ``(p_o - p_e) / (1 - p_e)``; 1.0 where both are constant and equal (no chance term to
        beat), NaN for no frames.
    """
    a, b = np.asarray(a).astype(bool), np.asarray(b).astype(bool)
    if not len(a):
        return float("nan")
    po = float(np.mean(a == b))
    pa, pb = float(a.mean()), float(b.mean())
    pe = pa * pb + (1 - pa) * (1 - pb)
    return 1.0 if pe == 1.0 else (po - pe) / (1 - pe)


def agreement(a: np.ndarray, b: np.ndarray, behaviors: Sequence[str]) -> pd.DataFrame:
    """Per-behavior agreement of ethogram ``b`` with ethogram ``a`` on the frames both label.

    Parameters
    ----------
    a, b
        ``(T, C)`` int in {1, 0, -1}; frames where either has a -1 are left out.
    behaviors
        The ``C`` behavior names, background first.

    Returns
    -------
    pandas.DataFrame
        One row per behavior: ``behavior``, ``f1`` (of ``b`` against ``a``; 1.0 where neither
        has the behavior), ``kappa``, ``frames_a``, ``frames_b`` (int frames where each has
        it), ``disagree`` (int frames where they differ), ``frames`` (int compared frames).

    Examples
    --------
    >>> a = np.array([[1, 0], [0, 1], [0, 1], [1, 0]]); b = np.array([[1, 0], [0, 1], [1, 0], [1, 0]])
    >>> agreement(a, b, ("bg", "groom"))[["behavior", "f1", "disagree"]].to_dict("records")[1]
    {'behavior': 'groom', 'f1': 0.6666666666666666, 'disagree': 1}
    """
    a, b = _check(a, b, behaviors)
    ok = (a != UNLABELED).all(axis=1) & (b != UNLABELED).all(axis=1)
    rows = []
    for c, name in enumerate(behaviors):
        x, y = a[ok, c] == 1, b[ok, c] == 1
        tp, fp, fn = int(np.sum(x & y)), int(np.sum(~x & y)), int(np.sum(x & ~y))
        rows.append(
            {
                "behavior": str(name),
                "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0,
                "kappa": cohen_kappa(x, y),
                "frames_a": int(x.sum()),
                "frames_b": int(y.sum()),
                "disagree": fp + fn,
                "frames": int(ok.sum()),
            }
        )
    return pd.DataFrame(rows)


def disagreements(a: np.ndarray, b: np.ndarray, behaviors: Sequence[str]) -> pd.DataFrame:
    """The frame ranges where ``a`` and ``b`` differ, per behavior.

    Parameters
    ----------
    a, b
        ``(T, C)`` int in {1, 0, -1}.
    behaviors
        The ``C`` behavior names.

    Returns
    -------
    pandas.DataFrame
        One row per run of frames where the behavior's column differs, in frame order:
        ``behavior``, ``start`` and ``stop`` (int, both included), ``n_frames``, ``in_a`` and
        ``in_b`` (int8 value of each there: 1, 0 or -1).
    """
    a, b = _check(a, b, behaviors)
    rows = []
    for c, name in enumerate(behaviors):
        diff = a[:, c] != b[:, c]
        for start, stop in true_runs(diff):
            rows.append(
                {
                    "behavior": str(name),
                    "start": int(start),
                    "stop": int(stop) - 1,
                    "n_frames": int(stop - start),
                    "in_a": np.int8(a[start, c]),
                    "in_b": np.int8(b[start, c]),
                }
            )
    out = pd.DataFrame(rows, columns=["behavior", "start", "stop", "n_frames", "in_a", "in_b"])
    return out.sort_values(["start", "behavior"], kind="stable").reset_index(drop=True)

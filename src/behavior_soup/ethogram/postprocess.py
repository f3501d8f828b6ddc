"""From per-frame class probabilities to an ethogram, and how good an ethogram is.

DeepEthogram's post-processing: a threshold per class (fitted on validation data to maximise
that class's F1), bouts shorter than a minimum length removed, and the background class set
exactly where no other behavior is.
"""

from __future__ import annotations

import numpy as np

from .._arrays import true_runs
from .labels import UNLABELED

__all__ = ["apply_thresholds", "class_metrics", "fit_thresholds", "min_bout_length", "postprocess"]


def _f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = float(np.sum(pred & truth))
    fp = float(np.sum(pred & ~truth))
    fn = float(np.sum(~pred & truth))
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


#: Lowest threshold :func:`fit_thresholds` picks: a threshold fitted near zero on a few
#: validation positives marks almost every frame of a new trial as that behavior.
MIN_THRESHOLD = 0.1


def fit_thresholds(
    probabilities: np.ndarray, labels: np.ndarray, grid: np.ndarray | None = None, floor: float = MIN_THRESHOLD
) -> np.ndarray:
    """Per-class thresholds maximising each class's F1 on labelled frames, never below ``floor``.

    Parameters
    ----------
    probabilities
        ``(T, C)`` float in [0, 1].
    labels
        ``(T, C)`` int in {1, 0, -1}; frames with any -1 are ignored.
    grid
        Candidate thresholds (default 0.01 .. 0.99); those below ``floor`` are not used.
    floor
        The lowest threshold allowed, in [0, 1).

    Returns
    -------
    numpy.ndarray
        ``(C,)`` float64; 0.5 for a class never present in the labels. Where several
        thresholds give the best F1, the middle one of them.
    """
    if not 0 <= floor < 1:
        raise ValueError(f"expected 0 <= floor < 1, got {floor!r}")
    grid = np.linspace(0.01, 0.99, 99) if grid is None else np.asarray(grid, dtype=np.float64)
    grid = grid[grid >= floor - 1e-12]
    if not len(grid):
        raise ValueError(f"expected candidate thresholds at or above the floor {floor}, got none")
    ok = (labels != UNLABELED).all(axis=1)
    p, y = probabilities[ok], labels[ok].astype(bool)
    out = np.full(p.shape[1], 0.5)
    for c in range(p.shape[1]):
        if not y[:, c].any():
            continue
        scores = np.array([_f1(p[:, c] >= t, y[:, c]) for t in grid])
        best = np.flatnonzero(scores >= scores.max() - 1e-9)
        out[c] = grid[best[len(best) // 2]]  # the middle of the best range: farthest from both failure sides
    return out


def apply_thresholds(probabilities: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``(T, C)`` int8: 1 where a class's probability reaches its threshold.

    Parameters
    ----------
    probabilities
        ``(T, C)`` float in [0, 1].
    thresholds
        ``(C,)`` float, one per class.

    Returns
    -------
    numpy.ndarray
        ``(T, C)`` int8, 1 where ``probabilities >= thresholds``, else 0.
    """
    return (probabilities >= np.asarray(thresholds)[None, :]).astype(np.int8)


def min_bout_length(binary: np.ndarray, n: int) -> np.ndarray:
    """In each class of a ``(T, C)`` array: first remove bouts (runs of 1) shorter than ``n``
    frames, then fill gaps (runs of 0 between two bouts) shorter than ``n`` frames.

    Parameters
    ----------
    binary
        ``(T, C)`` 0/1 array.
    n
        Minimum bout length in frames; ``1`` or less changes nothing.

    Returns
    -------
    numpy.ndarray
        ``(T, C)`` int8, a copy.
    """
    out = binary.astype(np.int8).copy()
    if n <= 1:
        return out
    for c in range(out.shape[1]):
        col = out[:, c]
        for a, b in true_runs(col == 1):
            if b - a < n:
                col[a:b] = 0
        for a, b in true_runs(col == 0):
            if a > 0 and b < len(col) and b - a < n:
                col[a:b] = 1
    return out


def postprocess(
    probabilities: np.ndarray, thresholds: np.ndarray, min_bout: int = 1, background: int = 0
) -> np.ndarray:
    """Thresholds, then minimum bout length, then background = no other behavior.

    Parameters
    ----------
    probabilities
        ``(T, C)`` float in [0, 1].
    thresholds
        ``(C,)`` float, one per class.
    min_bout
        Minimum bout length in frames (see :func:`min_bout_length`).
    background
        Column index of the background class, set to 1 exactly where no other class is.

    Returns
    -------
    numpy.ndarray
        ``(T, C)`` int8 ethogram.
    """
    e = min_bout_length(apply_thresholds(probabilities, thresholds), min_bout)
    others = np.delete(e, background, axis=1).any(axis=1)
    e[:, background] = (~others).astype(np.int8)
    return e


def class_metrics(pred: np.ndarray, labels: np.ndarray, behaviors: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Per-class F1, precision, recall and accuracy on labelled frames.

    Parameters
    ----------
    pred
        ``(T, C)`` 0/1 predicted ethogram.
    labels
        ``(T, C)`` int in {1, 0, -1}; frames with any -1 are ignored.
    behaviors
        The ``C`` behavior names, in column order.

    Returns
    -------
    dict
        Behavior name -> ``{"f1", "precision", "recall", "accuracy", "support"}``: floats in
        [0, 1] (precision, recall and accuracy NaN when undefined; F1 is 1.0 for a class
        neither predicted nor present), and ``support`` the int count of labelled frames
        where the class is present.
    """
    ok = (labels != UNLABELED).all(axis=1)
    p, y = pred[ok].astype(bool), labels[ok].astype(bool)
    out = {}
    for c, name in enumerate(behaviors):
        tp = float(np.sum(p[:, c] & y[:, c]))
        fp = float(np.sum(p[:, c] & ~y[:, c]))
        fn = float(np.sum(~p[:, c] & y[:, c]))
        out[name] = {
            "f1": _f1(p[:, c], y[:, c]),
            "precision": tp / (tp + fp) if tp + fp else float("nan"),
            "recall": tp / (tp + fn) if tp + fn else float("nan"),
            "accuracy": float(np.mean(p[:, c] == y[:, c])) if len(y) else float("nan"),
            "support": int(y[:, c].sum()),
        }
    return out

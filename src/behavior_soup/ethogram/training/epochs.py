"""What training decides at each epoch: its learning rate (:func:`cosine_lr`), whether it is
the best so far (:class:`Selection`), and its row of ``metrics.csv`` (:func:`flat_metrics`).

:class:`~.base.Trainer` uses them in its epoch loop; they are importable from :mod:`.base`
too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SCORE_TOLERANCE", "Selection", "cosine_lr", "flat_metrics"]

#: Scores (validation F1, in [0, 1]) this close to the best so far count as equally good; the
#: validation loss decides between them.
SCORE_TOLERANCE = 0.02


def cosine_lr(lr: float, epoch: int, epochs: int, min_fraction: float) -> float:
    """Learning rate of ``epoch`` (1-based) of ``epochs``: ``lr`` at the first, ``lr *
    min_fraction`` at the last, a half cosine between.

    Parameters
    ----------
    lr
        Learning rate of the first epoch.
    epoch
        The epoch, from 1 to ``epochs``.
    epochs
        Epochs in the run (with one epoch, its rate is ``lr``).
    min_fraction
        Last epoch's learning rate as a fraction of ``lr``.

    Returns
    -------
    float
        The learning rate of ``epoch``.
    """
    t = (epoch - 1) / max(epochs - 1, 1)
    return float(lr * (min_fraction + (1 - min_fraction) * 0.5 * (1 + math.cos(math.pi * t))))


@dataclass
class Selection:
    """Which epoch is the best so far: the one with the lowest validation loss among those
    whose score is within :data:`SCORE_TOLERANCE` of the best score so far. With few
    validation trials the F1 score saturates early, or peaks once by one frame, and the first
    epoch to reach it is rarely the best model.

    Attributes
    ----------
    top
        The best score seen.
    score, loss
        Those of the epoch kept.
    """

    top: float = -math.inf
    score: float = -math.inf
    loss: float = math.inf

    def take(self, score: float, loss: float) -> bool:
        """Whether an epoch with ``score`` and validation ``loss`` becomes the best.

        Parameters
        ----------
        score
            Validation score (higher is better).
        loss
            Validation loss.

        Returns
        -------
        bool
        """
        self.top = max(self.top, score)
        kept_still_good = self.score >= self.top - SCORE_TOLERANCE
        better = (not kept_still_good and score == self.top) or (
            score >= self.top - SCORE_TOLERANCE and loss < self.loss
        )
        if better:
            self.score, self.loss = score, loss
        return better


def flat_metrics(m: Mapping[str, Any]) -> dict[str, Any]:
    """An epoch's validation metrics as one flat row of ``metrics.csv``.

    Parameters
    ----------
    m
        Metric name -> value, or -> a mapping (e.g. ``classes``: class -> metrics).

    Returns
    -------
    dict
        Top-level values as they are; a nested value as ``"<name>/<key>"``, and a mapping one
        level further down (a class's metrics) as ``"<name>/<key>/f1"`` and
        ``"<name>/<key>/accuracy"`` only.
    """
    out: dict[str, Any] = {}
    for k, v in m.items():
        if isinstance(v, Mapping):
            for k2, v2 in v.items():
                if isinstance(v2, Mapping):
                    out.update({f"{k}/{k2}/{k3}": v3 for k3, v3 in v2.items() if k3 in ("f1", "accuracy")})
                else:
                    out[f"{k}/{k2}"] = v2
        else:
            out[k] = v
    return out

"""What a trial has for the viewers to show: its ethograms (predicted, cleaned, labels) and the
pose keypoints drawn over its videos."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..ethogram.jobs import LABELS_KEY, cleaned_key
from ..ethogram.modes import MODES
from ..jobs import TrialContext

__all__ = ["Keypoints", "sources_of", "trial_keypoints"]


@dataclass(frozen=True)
class Keypoints:
    """One view's keypoints: ``positions`` ``(T, K, 2)`` float32 pixels (NaN missing) and
    ``likelihood`` ``(T, K)`` float32, from the pose result ``source``."""

    source: str
    positions: np.ndarray
    likelihood: np.ndarray

    def at(self, frame: int, min_likelihood: float = 0.0) -> np.ndarray:
        """``(K, 2)`` float32 points of ``frame`` (NaN past the end, where missing, or under
        ``min_likelihood``)."""
        if not 0 <= frame < len(self.positions):
            return np.full(self.positions.shape[1:], np.nan, np.float32)
        p = self.positions[frame].copy()
        p[~(np.nan_to_num(self.likelihood[frame], nan=1.0) >= min_likelihood)] = np.nan
        return p


def trial_keypoints(
    ctx: TrialContext, keys: Sequence[str], views: Sequence[str], source: str | None = None
) -> dict[str, Keypoints]:
    """The keypoints to draw over each of ``views``: those of ``source`` (a pose model's or an
    import's name), or, when None, of the first source (by name) the view has.

    Parameters
    ----------
    ctx
        The trial.
    keys
        Its result keys (``pose/<source>/<view>`` are the pose results).
    views
        The views shown.
    source
        The pose source; None picks one per view.

    Returns
    -------
    dict
        View -> :class:`Keypoints`; views without pose are left out.
    """
    from ..pose.jobs import read_pose

    out: dict[str, Keypoints] = {}
    for view in views:
        have = sorted(
            k.split("/")[1] for k in keys if k.startswith("pose/") and k.count("/") == 2 and k.endswith(f"/{view}")
        )
        pick = source if source in have else (have[0] if have and source is None else None)
        if pick is None:
            continue
        pose = read_pose(ctx, pick, view)
        out[view] = Keypoints(
            pick, np.asarray(pose.positions, dtype=np.float32), np.asarray(pose.likelihood, dtype=np.float32)
        )
    return out


def sources_of(ctx: TrialContext) -> dict[str, str]:
    """The ethograms a trial has, label -> result key: ``"fast"`` (``fast/ethogram``),
    ``"fast cleaned"`` (``fast/cleaned``), ... and ``"labels"`` (``behavior/labels``)."""
    present = set(ctx.keys())
    out: dict[str, str] = {}
    for mode in MODES:
        for label, key in ((mode, f"{mode}/ethogram"), (f"{mode} cleaned", cleaned_key(mode))):
            if key in present:
                out[label] = key
    if LABELS_KEY in present:
        out["labels"] = LABELS_KEY
    return out

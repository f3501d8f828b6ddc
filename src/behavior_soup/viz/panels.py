"""What the one-trial viewers show, apart from drawing: keypoints over the video
(``row.pose.view()``), the syllable track under the video (``row.moseq.view()``) and an STA per
delay with its peak pixel's temporal profile (``row.sta.view()``). Each is an index (a frame or a
delay) moved by a slider or the arrow keys, and the arrays drawn at it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .frames import FrameCache
from .keys import canonical

__all__ = ["FramePanel", "PosePanel", "StaPanel", "SyllablePanel"]

_STEPS = {"left": -1, "right": 1, "down": -30, "up": 30}


@dataclass
class FramePanel:
    """An index in ``0..n-1`` that windows follow (``"frame"`` events)."""

    n: int
    title: str = ""
    index: int = 0
    _listeners: list[Callable[[str], None]] = field(default_factory=list, repr=False)

    def subscribe(self, callback: Callable[[str], None]) -> None:
        self._listeners.append(callback)

    def set_index(self, i: int) -> None:
        """Move to index ``i`` (clipped)."""
        i = int(np.clip(i, 0, self.n - 1))
        if i != self.index:
            self.index = i
            for cb in self._listeners:
                cb("frame")

    def press(self, key: str, modifiers: Sequence[str] = ()) -> str | None:
        """Arrow keys: one step back/forward (left/right) or 30 (down/up)."""
        k = canonical(key, modifiers)
        if k in _STEPS:
            self.set_index(self.index + _STEPS[k])
            return k
        return None


@dataclass
class PosePanel(FramePanel):
    """Keypoints ``(T, K, 2)`` (pixels; NaN missing) with likelihoods ``(T, K)`` over a video;
    points under ``min_likelihood`` are hidden."""

    video: FrameCache | None = None
    positions: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 2)))
    likelihood: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    bodyparts: tuple[str, ...] = ()
    min_likelihood: float = 0.0

    def points(self) -> np.ndarray:
        """``(K, 2)`` float32 keypoints of the current frame; hidden ones NaN."""
        p = np.asarray(self.positions[self.index], dtype=np.float32).copy()
        lk = np.asarray(self.likelihood[self.index])
        p[~(np.nan_to_num(lk, nan=1.0) >= self.min_likelihood)] = np.nan
        return p

    def image(self) -> np.ndarray | None:
        return None if self.video is None else self.video[min(self.index, len(self.video) - 1)]


@dataclass
class SyllablePanel(FramePanel):
    """A trial's per-frame syllable indices ``(T,)`` (-1 where none) under its video."""

    video: FrameCache | None = None
    syllables: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def image(self) -> np.ndarray | None:
        return None if self.video is None else self.video[min(self.index, len(self.video) - 1)]

    def current(self) -> int:
        return int(self.syllables[self.index])


@dataclass
class StaPanel(FramePanel):
    """An STA ``(D, H, W)`` shown one delay at a time, with the temporal profile ``(D,)`` of
    its peak pixel (the largest absolute deviation from the mean frame)."""

    sta: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1)))
    fps: float | None = None

    @property
    def peak(self) -> tuple[int, int]:
        dev = np.abs(self.sta - self.sta.mean(axis=0, keepdims=True))
        _, y, x = np.unravel_index(int(np.nanargmax(dev)), dev.shape)
        return int(y), int(x)

    def profile(self) -> np.ndarray:
        """``(D,)`` float64: the peak pixel's value at each delay."""
        y, x = self.peak
        return np.asarray(self.sta[:, y, x], dtype=np.float64)

    def delays(self) -> np.ndarray:
        """``(D,)`` float64 delays: ms when ``fps`` is known, else frames."""
        d = np.arange(len(self.sta), dtype=np.float64)
        return d * 1000.0 / self.fps if self.fps else d

    def image(self) -> np.ndarray:
        return np.asarray(self.sta[self.index], dtype=np.float32)

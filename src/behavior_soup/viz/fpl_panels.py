"""The one-trial viewers (keypoints, syllables, STA) drawn with fastplotlib."""

from __future__ import annotations

from typing import Any

import numpy as np

from .fpl_canvas import FplCanvas, scatter_xyz
from .panels import FramePanel, PosePanel, StaPanel, SyllablePanel
from .style import behavior_colors

__all__ = ["FplPoseWindow", "FplStaWindow", "FplSyllableWindow"]


class _FplPanelWindow(FplCanvas):
    names: tuple[str, ...] = ("main",)
    rects: tuple[tuple[float, float, float, float], ...] = ((0.0, 0.0, 1.0, 1.0),)

    def __init__(self, panel: FramePanel, size: tuple[int, int] = (640, 520)) -> None:
        import fastplotlib as fpl

        self.panel = panel
        self.figure = fpl.Figure(rects=list(self.rects), names=list(self.names), size=size)
        self._shown = False
        self._slider: Any = None
        self._build()
        self.figure.renderer.add_event_handler(lambda ev: panel.press(ev.key, tuple(ev.modifiers or ())), "key_down")
        panel.subscribe(self._on_event)

    def _build(self) -> None:
        raise NotImplementedError

    def _update(self) -> None:
        raise NotImplementedError

    def _on_event(self, event: str) -> None:
        self._update()
        if self._slider is not None and self._slider.value != self.panel.index:
            self._slider.value = self.panel.index
        self.figure.canvas.request_draw()

    def show(self) -> Any:
        """The canvas, with an index slider in Jupyter."""

        def widgets(w: Any) -> list[Any]:
            self._slider = w.IntSlider(value=self.panel.index, min=0, max=self.panel.n - 1, description="index")
            self._slider.observe(lambda ch: self.panel.set_index(ch["new"]), names="value")
            return [self._slider]

        return self._show_with(widgets)

    def close(self) -> None:
        self._close_figure()


class FplPoseWindow(_FplPanelWindow):
    """Keypoints over the video frame, one colour per bodypart."""

    panel: PosePanel

    def _build(self) -> None:
        p, sub = self.panel, self.figure["main"]
        img = p.image()
        self._image = sub.add_image(img if img is not None else np.zeros((8, 8, 3), np.uint8))
        colors = behavior_colors(len(p.bodyparts) + 1)[1:]
        self._points = sub.add_scatter(self._xyz(), colors=colors, sizes=8)
        sub.title = p.title

    def _xyz(self) -> np.ndarray:
        return scatter_xyz(self.panel.points())

    def _update(self) -> None:
        img = self.panel.image()
        if img is not None:
            self._image.data[:] = img
        self._points.data[:] = self._xyz()


class FplSyllableWindow(_FplPanelWindow):
    """The video frame above a track coloured by syllable, with a cursor."""

    names = ("video", "syllables")
    rects = ((0.0, 0.0, 1.0, 0.75), (0.0, 0.75, 1.0, 0.25))
    panel: SyllablePanel

    def _build(self) -> None:
        p = self.panel
        img = p.image()
        self._image = self.figure["video"].add_image(img if img is not None else np.zeros((8, 8, 3), np.uint8))
        self.figure["video"].title = p.title
        s = np.asarray(p.syllables)
        palette = behavior_colors(int(s.max(initial=0)) + 2)[1:]
        colors = np.where((s >= 0)[:, None], palette[np.clip(s, 0, None)], 0.15).astype(np.float32)
        colors[:, 3] = 1.0
        t = np.arange(len(s), dtype=np.float32)
        sub = self.figure["syllables"]
        sub.add_line(np.column_stack([t, np.zeros(len(s))]).astype(np.float32), colors=colors, thickness=14)
        self._cursor = sub.add_line(np.array([[p.index, -1, 0], [p.index, 1, 0]], np.float32), colors="w", thickness=2)

    def _update(self) -> None:
        img = self.panel.image()
        if img is not None:
            self._image.data[:] = img
        self._cursor.data[:, 0] = self.panel.index


class FplStaWindow(_FplPanelWindow):
    """The STA at one delay above the peak pixel's temporal profile, with a cursor."""

    names = ("sta", "profile")
    rects = ((0.0, 0.0, 1.0, 0.7), (0.0, 0.7, 1.0, 0.3))
    panel: StaPanel

    def _build(self) -> None:
        p = self.panel
        lim = float(np.nanmax(np.abs(p.sta - p.sta.mean()))) or 1.0
        m = float(p.sta.mean())
        self._image = self.figure["sta"].add_image(p.image(), cmap="coolwarm", vmin=m - lim, vmax=m + lim)
        self.figure["sta"].title = p.title
        d, prof = p.delays().astype(np.float32), p.profile().astype(np.float32)
        sub = self.figure["profile"]
        sub.add_line(np.column_stack([d, prof]).astype(np.float32), colors="w", thickness=2)
        lo, hi = float(np.min(prof)), float(np.max(prof))
        self._cursor = sub.add_line(np.array([[d[p.index], lo, 0], [d[p.index], hi, 0]], np.float32), colors="y")

    def _update(self) -> None:
        self._image.data[:] = self.panel.image()
        self._cursor.data[:, 0] = float(self.panel.delays()[self.panel.index])

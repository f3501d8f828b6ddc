"""The one-trial viewers (keypoints, syllables, STA) drawn with matplotlib."""

from __future__ import annotations

import numpy as np

from .mpl_canvas import MplCanvas
from .panels import FramePanel, PosePanel, StaPanel, SyllablePanel
from .style import behavior_colors

__all__ = ["MplPoseWindow", "MplStaWindow", "MplSyllableWindow"]


class _MplPanelWindow(MplCanvas):
    rows: tuple[float, ...] = (1.0,)

    def __init__(self, panel: FramePanel, size: tuple[int, int] = (640, 520)) -> None:
        self.panel = panel
        self._new_figure(size, lambda ev: ev.key and panel.press(ev.key))
        grid = self.figure.add_gridspec(len(self.rows), 1, height_ratios=self.rows)
        self.axes = [self.figure.add_subplot(grid[i, 0]) for i in range(len(self.rows))]
        self._build()
        panel.subscribe(lambda event: (self._update(), self.figure.canvas.draw_idle()))

    def _build(self) -> None:
        raise NotImplementedError

    def _update(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._close_figure()


class MplPoseWindow(_MplPanelWindow):
    """Keypoints over the video frame, one colour per bodypart."""

    panel: PosePanel

    def _build(self) -> None:
        p, ax = self.panel, self.axes[0]
        img = p.image()
        self._image = ax.imshow(img) if img is not None else None
        pts = p.points()
        self._points = ax.scatter(pts[:, 0], pts[:, 1], c=behavior_colors(len(p.bodyparts) + 1)[1:], s=20)
        ax.set_title(p.title)
        ax.set_axis_off()

    def _update(self) -> None:
        img = self.panel.image()
        if self._image is not None and img is not None:
            self._image.set_data(img)
        self._points.set_offsets(self.panel.points())


class MplSyllableWindow(_MplPanelWindow):
    """The video frame above a track coloured by syllable, with a cursor."""

    rows = (3.0, 1.0)
    panel: SyllablePanel

    def _build(self) -> None:
        p = self.panel
        img = p.image()
        self._image = self.axes[0].imshow(img) if img is not None else None
        self.axes[0].set_title(p.title)
        self.axes[0].set_axis_off()
        s = np.asarray(p.syllables)
        palette = behavior_colors(int(s.max(initial=0)) + 2)[1:]
        rgba = np.where((s >= 0)[:, None], palette[np.clip(s, 0, None)], 0.15)[None]
        self.axes[1].imshow(rgba, aspect="auto", interpolation="nearest", extent=(-0.5, len(s) - 0.5, 0, 1))
        self.axes[1].set_yticks([])
        self._cursor = self.axes[1].axvline(p.index, color="k")

    def _update(self) -> None:
        img = self.panel.image()
        if self._image is not None and img is not None:
            self._image.set_data(img)
        self._cursor.set_xdata([self.panel.index] * 2)


class MplStaWindow(_MplPanelWindow):
    """The STA at one delay above the peak pixel's temporal profile, with a cursor."""

    rows = (3.0, 1.2)
    panel: StaPanel

    def _build(self) -> None:
        p = self.panel
        m = float(p.sta.mean())
        lim = float(np.nanmax(np.abs(p.sta - m))) or 1.0
        self._image = self.axes[0].imshow(p.image(), cmap="coolwarm", vmin=m - lim, vmax=m + lim)
        y, x = p.peak
        self.axes[0].plot([x], [y], "k+")
        self.axes[0].set_title(p.title)
        d = p.delays()
        self.axes[1].plot(d, p.profile(), "k-")
        self.axes[1].set_xlabel("delay (ms)" if p.fps else "delay (frames)")
        self._cursor = self.axes[1].axvline(d[p.index], color="r")

    def _update(self) -> None:
        self._image.set_data(self.panel.image())
        self._cursor.set_xdata([self.panel.delays()[self.panel.index]] * 2)

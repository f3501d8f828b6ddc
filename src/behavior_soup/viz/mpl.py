"""The same viewer and cleaner drawn with matplotlib (ipympl in Jupyter): for machines with no
GPU or Vulkan adapter. Matplotlib's own key bindings (``keymap.*``: q, s, r, the arrows...) are
disconnected from the window so the cleaner's keys reach it."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from .mpl_canvas import MplCanvas
from .session import EthogramSession
from .style import DEFAULT_SIZE, behavior_colors, track_rows

__all__ = ["MplEthogramWindow"]

log = logging.getLogger(__name__)


class MplEthogramWindow(MplCanvas):
    """A matplotlib window on an :class:`~behavior_soup.viz.session.EthogramSession`.

    Parameters
    ----------
    session
        What to show and edit.
    size
        ``(width, height)`` of the figure in pixels (at 100 dpi).
    """

    def __init__(self, session: EthogramSession, size: tuple[int, int] = DEFAULT_SIZE) -> None:
        self.session = session
        self._views = session.views()
        n = max(len(self._views), 1)
        self._new_figure(size, self._on_key)
        grid = self.figure.add_gridspec(2, n, height_ratios=(1.6, 1.0))
        self._video_axes = [self.figure.add_subplot(grid[0, i]) for i in range(n)]
        self.axes = self.figure.add_subplot(grid[1, :])
        self._status = self.figure.text(0.01, 0.005, session.status, fontsize=8, va="bottom")
        self._build()
        session.subscribe(self._on_event)

    def _build(self) -> None:
        from matplotlib.widgets import SpanSelector

        s = self.session
        self._images = {}
        self._points = {}
        for ax, view in zip(self._video_axes, self._views):
            ax.clear()
            self._images[view] = ax.imshow(s.frame_image(view))
            pts = s.points(view)
            if pts is not None:  # pose keypoints over the frame, one colour per bodypart
                self._points[view] = ax.scatter(pts[:, 0], pts[:, 1], c=behavior_colors(len(pts) + 1)[1:], s=12)
            ax.set_title(view)
            ax.set_axis_off()
        ax = self.axes
        ax.clear()
        self._colors = behavior_colors(len(s.editor.behaviors))
        self._tracks = ax.imshow(
            self._rgba(),
            aspect="auto",
            interpolation="nearest",
            extent=(-0.5, s.n_frames - 0.5, -len(self._colors) + 0.5, 0.5),
        )
        if s.probabilities is not None:
            t = np.arange(s.n_frames)
            for c in range(len(self._colors)):
                ax.plot(t, -c - 0.45 + 0.9 * s.probabilities[:, c], color=self._colors[c], alpha=0.35, lw=1)
        ax.set_yticks(-np.arange(len(self._colors)), list(s.editor.behaviors))
        ax.set_xlabel("frame")
        self._cursor = ax.axvline(s.frame, color="w", lw=1.5)
        self._span = ax.add_patch(_span_patch(ax))
        self.selector = SpanSelector(ax, self._on_span, "horizontal", useblit=False, interactive=True)
        self._highlight()
        self.figure.canvas.draw_idle()

    def _rgba(self) -> np.ndarray:
        s = self.session
        return track_rows(s.editor.array, self._colors, s.reference)

    def _highlight(self) -> None:
        cur = self.session.editor.current
        for i, label in enumerate(self.axes.get_yticklabels()):
            label.set_fontweight("bold" if i == cur else "normal")

    def _on_key(self, event: Any) -> None:
        if event.key:
            self.session.press(event.key)

    def _on_span(self, lo: float, hi: float) -> None:
        a, b = int(np.ceil(lo)), int(np.floor(hi))  # the frames whose centres the span covers
        if a > b:
            a = b = int(round((lo + hi) / 2))
        self.session.select(a, b)

    def _on_event(self, event: str) -> None:
        s = self.session
        if event == "trial":
            self._build()
            return
        if event == "frame":
            for view, im in self._images.items():
                im.set_data(s.frame_image(view))
            for view, sc in self._points.items():
                sc.set_offsets(s.points(view))
            self._cursor.set_xdata([s.frame, s.frame])
        elif event == "ethogram":
            self._tracks.set_data(self._rgba())
        elif event == "behavior":
            self._highlight()
        elif event == "selection" and s.editor.selection is not None:
            lo, hi = s.editor.selection
            self._span.set_x(lo - 0.5)
            self._span.set_width(hi - lo + 1)
        elif event == "status":
            self._status.set_text(s.status)
        self.figure.canvas.draw_idle()

    def select(self, start: int, stop: int) -> None:
        """Select frames ``start..stop`` (as a drag over the tracks would)."""
        self.selector.extents = (start - 0.5, stop + 0.5)
        self._on_span(start - 0.5, stop + 0.5)

    def close(self) -> None:
        """Save pending edits and close the figure."""
        self.session.close()
        self._close_figure()


def _span_patch(ax: Any) -> Any:
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import blended_transform_factory

    return Rectangle(
        (0, 0), 0, 1, transform=blended_transform_factory(ax.transData, ax.transAxes), color="w", alpha=0.15, lw=0
    )

"""The ethogram viewer and cleaner drawn with fastplotlib: the trial's videos side by side, one
track per behavior with its probabilities under it, a cursor, a region selector, and the keys
of :mod:`.keys`. In Jupyter, :meth:`FplEthogramWindow.show` adds a frame slider and a status line
(ipywidgets)."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from .fpl_canvas import FplCanvas, scatter_xyz
from .session import EthogramSession
from .style import DEFAULT_SIZE, behavior_colors, track_rows

__all__ = ["FplEthogramWindow"]

log = logging.getLogger(__name__)

_CURRENT = "yellow"  # the current behavior's name
_PROB_ALPHA = 0.35


class FplEthogramWindow(FplCanvas):
    """A fastplotlib window on an :class:`~behavior_soup.viz.session.EthogramSession`.

    Parameters
    ----------
    session
        What to show and edit.
    size
        ``(width, height)`` of the canvas in pixels.
    """

    def __init__(self, session: EthogramSession, size: tuple[int, int] = DEFAULT_SIZE) -> None:
        import fastplotlib as fpl

        self.session = session
        views = session.views()
        n = max(len(views), 1)
        rects = [(i / n, 0.0, 1.0 / n, 0.62) for i in range(n)] + [(0.0, 0.62, 1.0, 0.38)]
        names = (views or ["video"]) + ["tracks"]
        self.figure = fpl.Figure(rects=rects, names=names, size=size)
        self._views = views
        self._images: dict[str, Any] = {}
        self._points: dict[str, Any] = {}
        self._tracks: list[Any] = []
        self._probs: list[Any] = []
        self._slider: Any = None
        self._status: Any = None
        self._syncing = False
        self._shown = False
        self._last_tick = time.perf_counter()
        self._build()
        self.figure.renderer.add_event_handler(self._on_key, "key_down")
        self.figure.add_animations(self._animate)
        session.subscribe(self._on_event)

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        s = self.session
        self._points = {}
        for view in self._views:
            sub = self.figure[view]
            sub.clear()
            self._images[view] = sub.add_image(s.frame_image(view), name=f"{view}-frame")
            pts = s.points(view)
            if pts is not None:  # pose keypoints over the frame, one colour per bodypart
                self._points[view] = sub.add_scatter(
                    scatter_xyz(pts), colors=behavior_colors(len(pts) + 1)[1:], sizes=6, name=f"{view}-keypoints"
                )
            sub.title = view
            sub.axes.visible = False  # pixels need no ruler, and it costs a draw
        tracks = self.figure["tracks"]
        tracks.clear()
        tracks.camera.maintain_aspect = False  # frames along x, one row per behavior
        # Behavior c is drawn at y = c (the subplot's y axis points down once an image is in it):
        # its row of the tracks image (one textured quad for all tracks, repainted from the
        # array on every edit), its probability line over it, and its name on the left.
        self._colors = behavior_colors(len(s.editor.behaviors))
        n_c = len(s.editor.behaviors)
        per = 1 if s.reference is None else 2  # image rows per behavior
        self._tracks = tracks.add_image(self._rgba(), vmin=0.0, vmax=1.0, interpolation="nearest", name="tracks")
        self._tracks.scale = (1.0, 1.0 / per, 1.0)
        self._tracks.offset = (0.0, -0.5 + 0.5 / per, 0.0)
        t = np.arange(s.n_frames, dtype=np.float32)
        self._labels, self._probs = [], []
        for c, name in enumerate(s.editor.behaviors):
            self._labels.append(
                tracks.add_text(name, font_size=12, face_color="w", anchor="middle-right", offset=(-1.0, c, 1.0))
            )
            if s.probabilities is not None:
                p = np.column_stack([t, c + 0.45 - 0.9 * s.probabilities[:, c], np.ones_like(t)])
                rgba = self._colors[c].copy()
                rgba[3] = _PROB_ALPHA
                self._probs.append(tracks.add_line(p.astype(np.float32), colors=rgba, thickness=2.0))
        self._cursor = tracks.add_line(
            np.array([[s.frame, -0.8, 2], [s.frame, n_c - 0.2, 2]], np.float32), colors="w", thickness=2.0
        )
        mid = (n_c - 1) / 2  # an invisible line through the middle: the selector spans every track
        base = tracks.add_line(np.column_stack([t, np.full(s.n_frames, mid)]).astype(np.float32), colors=(0, 0, 0, 0))
        first = min(s.frame, s.n_frames - 1)
        self.selector = base.add_linear_region_selector(
            selection=(float(first), float(min(first + 29, s.n_frames - 1))), padding=float(n_c + 0.5)
        )
        self.selector.add_event_handler(self._on_selection, "selection")
        self._on_selection(None)  # the selector starts over some frames: they are the selection
        self._highlight()
        if self._shown:  # a new trial: its frame count and image sizes may differ
            for view in self._views:
                self.figure[view].auto_scale()
            tracks.auto_scale(maintain_aspect=False)

    def _rgba(self) -> np.ndarray:
        s = self.session
        return track_rows(s.editor.array, self._colors, s.reference)

    def _highlight(self) -> None:
        cur = self.session.editor.current
        for c, text in enumerate(self._labels):
            text.face_color = _CURRENT if c == cur else "w"
            text.font_size = 14 if c == cur else 12

    # ------------------------------------------------------------------ events
    def _on_key(self, ev: Any) -> None:
        self.session.press(ev.key, tuple(ev.modifiers or ()))

    def _on_selection(self, ev: Any) -> None:
        idx = self.selector.get_selected_indices()
        if idx is not None and len(idx):
            self.session.select(int(idx[0]), int(idx[-1]))

    def _animate(self, figure: Any = None) -> None:  # fastplotlib passes the figure
        now = time.perf_counter()
        dt, self._last_tick = now - self._last_tick, now
        self.session.tick(dt)

    def _on_event(self, event: str) -> None:
        s = self.session
        if event == "trial":
            self._build()
        elif event == "frame":
            for view, img in self._images.items():
                img.data[:] = s.frame_image(view)
            for view, sc in self._points.items():
                sc.data[:] = scatter_xyz(s.points(view))
            self._cursor.data[:, 0] = s.frame
            if self._slider is not None and not self._syncing:
                self._syncing = True
                self._slider.value = s.frame
                self._syncing = False
        elif event == "ethogram":
            self._tracks.data[:] = self._rgba()
        elif event == "behavior":
            self._highlight()
        elif event == "status" and self._status is not None:
            self._status.value = s.status
        if event in ("trial", "status") and self._slider is not None:
            self._slider.max = s.n_frames - 1
        self.figure.canvas.request_draw()

    # ------------------------------------------------------------------ use
    def select(self, start: int, stop: int) -> None:
        """Move the region selector to frames ``start..stop`` (as a drag would)."""
        self.selector.selection = (float(start), float(stop))

    def show(self) -> Any:
        """Show the window: in Jupyter a widget with the canvas, a frame slider and a status
        line; elsewhere the canvas."""
        s = self.session

        def widgets(w: Any) -> list[Any]:
            self._slider = w.IntSlider(
                value=s.frame, min=0, max=s.n_frames - 1, description="frame", continuous_update=True
            )
            self._slider.observe(lambda ch: None if self._syncing else s.set_frame(ch["new"]), names="value")
            self._status = w.HTML(value=s.status)
            return [self._slider, self._status]

        return self._show_with(widgets)

    def close(self) -> None:
        """Save pending edits and close the window."""
        self.session.close()
        self._close_figure()

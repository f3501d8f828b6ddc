"""What every fastplotlib window shares: key presses through the canvas, drawing offscreen,
showing in Jupyter with ipywidgets under the canvas, closing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["FplCanvas", "scatter_xyz"]


def scatter_xyz(points: np.ndarray) -> np.ndarray:
    """``(K, 3)`` float32 scatter positions of ``(K, 2)`` points; NaN (hidden) ones placed far
    outside the view (a scatter's point count is fixed)."""
    pts = np.where(np.isnan(points), -1e6, points)
    return np.column_stack([pts, np.zeros(len(pts))]).astype(np.float32)


class FplCanvas:
    """Base of the fastplotlib windows; a subclass sets :attr:`figure`."""

    backend = "fastplotlib"
    figure: Any
    _shown: bool = False

    def press(self, key: str, modifiers: tuple[str, ...] = ()) -> None:
        """Send a key press through the canvas's own event path (as a keyboard would)."""
        self.figure.renderer.convert_event({"event_type": "key_down", "key": key, "modifiers": modifiers})

    def render(self) -> np.ndarray:
        """Draw now; ``(H, W, 4)`` uint8 RGBA of the canvas."""
        if not self._shown:
            self.figure.show()
            self._shown = True
            self.figure.canvas.draw()  # the first draw fits the cameras to the scene
        return np.asarray(self.figure.canvas.draw())

    def _show_with(self, widgets: Callable[[Any], list[Any]]) -> Any:
        """The canvas; in Jupyter a ``VBox`` of it and ``widgets(ipywidgets)`` under it."""
        canvas = self.figure.show()
        self._shown = True
        try:
            import ipywidgets as w
        except ImportError:
            return canvas
        if not isinstance(canvas, w.Widget):
            return canvas
        return w.VBox([canvas, *widgets(w)])

    def _close_figure(self) -> None:
        if getattr(self.figure, "_output", None) is not None:  # shown in Jupyter or a desktop window
            self.figure.close()
        else:
            self.figure.canvas.close()

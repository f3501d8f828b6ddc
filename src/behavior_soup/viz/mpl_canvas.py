"""What every matplotlib window shares: a figure whose keys reach the window (matplotlib's own
key handler, whose ``keymap.*`` take q, s, r and the arrows, disconnected), key presses through
the canvas's callbacks, drawing, showing and closing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["MplCanvas"]


class MplCanvas:
    """Base of the matplotlib windows; a subclass calls :meth:`_new_figure`."""

    backend = "matplotlib"
    figure: Any

    def _new_figure(self, size: tuple[int, int], on_key: Callable[[Any], None]) -> Any:
        """A ``size`` (pixels, at 100 dpi) figure whose key presses go to ``on_key`` only."""
        import matplotlib.pyplot as plt

        self.figure = plt.figure(figsize=(size[0] / 100, size[1] / 100), dpi=100)
        manager = getattr(self.figure.canvas, "manager", None)
        if manager is not None and getattr(manager, "key_press_handler_id", None) is not None:
            self.figure.canvas.mpl_disconnect(manager.key_press_handler_id)
        self.figure.canvas.mpl_connect("key_press_event", on_key)
        return self.figure

    def press(self, key: str, modifiers: tuple[str, ...] = ()) -> None:
        """Send a key press through the canvas's own callbacks (as a keyboard would)."""
        from matplotlib.backend_bases import KeyEvent

        name = "+".join([*(m.lower().replace("control", "ctrl") for m in modifiers), key])
        self.figure.canvas.callbacks.process("key_press_event", KeyEvent("key_press_event", self.figure.canvas, name))

    def render(self) -> np.ndarray:
        """Draw now; ``(H, W, 4)`` uint8 RGBA of the figure."""
        self.figure.canvas.draw()
        return np.asarray(self.figure.canvas.buffer_rgba()).copy()

    def show(self) -> Any:
        """The figure's canvas (an ipympl widget in Jupyter with ``%matplotlib widget``)."""
        return self.figure.canvas

    def _close_figure(self) -> None:
        import matplotlib.pyplot as plt

        plt.close(self.figure)

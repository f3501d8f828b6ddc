"""The viewer, cleaner, labeller and comparison of ``df.behavior`` (mixed into its accessor).

Each method only names the trials and the window: the work is in :mod:`behavior_soup.viz`,
imported when a window opens (``import behavior_soup`` never imports a drawing library).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._common import DrawBackend, contexts, video_rows

if TYPE_CHECKING:
    from ..viz.api import Comparison

__all__ = ["EthogramViewsMixin"]


class EthogramViewsMixin:
    """``view``, ``clean_ethograms``, ``manual_ethograms`` and ``compare_ethograms``."""

    _df: pd.DataFrame

    def _window(self, kind: str, **kw: Any) -> Any:
        from ..viz.api import ethogram_window

        return ethogram_window(contexts(video_rows(self._df)), kind, **kw)  # type: ignore[arg-type]

    def view(
        self,
        mode: str | None = None,
        *,
        pose: str | bool | None = None,
        backend: DrawBackend = "auto",
        size: tuple[int, int] | None = None,
    ) -> Any:
        """A read-only window on the trials: their videos side by side, one track per
        behavior (class probabilities under it), a cursor, a frame slider; ``m`` switches
        among the ethograms a trial has, PageUp/PageDown among trials (keys:
        :mod:`behavior_soup.viz.keys`).

        Parameters
        ----------
        mode
            The ethogram shown first (``"fast"``, ``"medium"``, ``"slow"``); the first one a
            trial has when None.
        pose
            The pose result (model or import name) whose keypoints are drawn over the videos;
            None: the first one each view has; False: none.
        backend
            ``"fastplotlib"``, ``"matplotlib"`` or ``"auto"`` (fastplotlib where a GPU/Vulkan
            adapter exists).
        size
            ``(width, height)`` in pixels.

        Returns
        -------
        object
            The window; ``.show()`` in a notebook cell displays it, ``.session`` holds its state.
        """
        return self._window("view", mode=mode, pose=pose, backend=backend, size=size)

    def clean_ethograms(
        self,
        mode: str | None = None,
        *,
        autosave_s: float | None = 2.0,
        pose: str | bool | None = None,
        backend: DrawBackend = "auto",
        size: tuple[int, int] | None = None,
    ) -> Any:
        """Edit the predicted ethograms with keys (``1`` insert over the selection, ``2``
        delete, ``q``/``s`` behavior, ``r``/``t`` reset, ``y`` save, ``ctrl+z``/``ctrl+y``
        undo/redo; :mod:`behavior_soup.viz.keys`). Edits go to ``<mode>/cleaned`` in
        ``outputs.h5``, ``autosave_s`` after the last one, on ``y`` and when leaving a trial.

        Parameters
        ----------
        mode
            The mode whose prediction is cleaned; the first one a trial has when None.
        autosave_s
            Seconds after the last edit before saving; ``0`` on every edit, None only on ``y``.
        pose, backend, size
            As for :meth:`view`.

        Returns
        -------
        object
            The window (``.show()`` displays it; ``.close()`` saves and closes).
        """
        return self._window("clean", mode=mode, autosave_s=autosave_s, pose=pose, backend=backend, size=size)

    def manual_ethograms(
        self,
        behaviors: Sequence[str] | None = None,
        *,
        autosave_s: float | None = 2.0,
        pose: str | bool | None = None,
        backend: DrawBackend = "auto",
        size: tuple[int, int] | None = None,
    ) -> Any:
        """Label trials by hand (training data): the cleaner's keys, writing
        ``behavior/labels``. Frames start unlabelled (-1) where a trial has no labels; each
        edit labels the frames it touches.

        Parameters
        ----------
        behaviors
            Behavior names, background first, for trials with no labels and no prediction.
        autosave_s, pose, backend, size
            As for :meth:`clean_ethograms`.

        Returns
        -------
        object
            The window.
        """
        return self._window("label", behaviors=behaviors, autosave_s=autosave_s, pose=pose, backend=backend, size=size)

    def compare_ethograms(self, a: str, b: str) -> Comparison:
        """Two ethograms of each trial aligned: per-behavior F1 (of ``b`` against ``a``) and
        Cohen's kappa, and the disagreement segments, which ``.jump(i)`` shows in a viewer.

        Parameters
        ----------
        a, b
            ``"fast"``/``"medium"``/``"slow"`` (prediction), ``"cleaned"`` or ``"<mode> cleaned"``,
            ``"labels"``.

        Returns
        -------
        behavior_soup.viz.api.Comparison
            ``.summary`` (per trial and behavior), ``.per_behavior()``, ``.segments``,
            ``.view()``, ``.jump(i)``.

        Examples
        --------
        >>> k = df.behavior.compare_ethograms("fast", "cleaned")  # doctest: +SKIP
        >>> k.per_behavior()[["behavior", "f1", "kappa"]]  # doctest: +SKIP
        """
        from ..viz.api import compare_ethograms

        return compare_ethograms(contexts(self._df), a, b)

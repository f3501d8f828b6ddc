"""The ethogram being edited, as a numpy array with undo and redo: what the cleaner's keys do,
with no drawing in it.

An ethogram is ``(T, C)`` int8 over ``C`` behaviors, background (column 0) first: 1 where the
behavior happens, 0 where not, -1 (:data:`~behavior_soup.ethogram.labels.UNLABELED`) on frames
nobody has labelled yet. Every edit makes the frames it touches labelled and keeps the
background column exactly "none of the others" there, as DeepEthogram's post-processing does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._arrays import true_runs
from ..errors import DataFormatError
from ..ethogram.labels import UNLABELED

__all__ = ["Edit", "EthogramEditor"]


@dataclass(frozen=True)
class Edit:
    """One undoable change: frames ``start..stop`` (inclusive) of the array, before and after."""

    start: int
    stop: int
    before: np.ndarray
    after: np.ndarray
    what: str


class EthogramEditor:
    """An ethogram under edit: a current behavior, a selected frame range, and undo/redo.

    Parameters
    ----------
    array
        ``(T, C)`` int in {1, 0, -1}: the ethogram to start from (copied).
    behaviors
        The ``C`` behavior names, background first.
    original
        ``(T, C)``: what :meth:`reset_all` and :meth:`reset_current` go back to (the model's
        output); ``array`` when omitted.

    Examples
    --------
    >>> e = EthogramEditor(np.array([[1, 0]] * 5), ("background", "groom"))
    >>> e.select(1, 3); e.insert()
    >>> e.array[:, 1].tolist()
    [0, 1, 1, 1, 0]
    >>> e.undo(); int(e.array[:, 1].sum())
    0
    """

    def __init__(self, array: np.ndarray, behaviors: Sequence[str], original: np.ndarray | None = None) -> None:
        raw = np.asarray(array)
        behaviors = tuple(str(b) for b in behaviors)
        if raw.ndim != 2 or raw.shape[1] != len(behaviors) or len(behaviors) < 2 or raw.shape[0] == 0:
            raise DataFormatError(
                f"expected an ethogram of shape (T>0, {len(behaviors)}) for behaviors {list(behaviors)} "
                f"(background first, at least two), got {raw.shape}"
            )
        bad = ~np.isin(raw, (0, 1, UNLABELED))
        if bad.any():
            raise DataFormatError(
                f"expected ethogram values 1, 0 or -1, found {sorted(np.unique(raw[bad]).tolist())[:5]}"
            )
        a = raw.astype(np.int8)
        orig = a.copy() if original is None else np.array(original, dtype=np.int8, copy=True)
        if orig.shape != a.shape:
            raise DataFormatError(f"expected the original ethogram to have shape {a.shape}, got {orig.shape}")
        self.array = a
        self.original = orig
        self.behaviors = behaviors
        self.current = 1
        self.selection: tuple[int, int] | None = None
        self.edit_count = 0
        self._undo: list[Edit] = []
        self._redo: list[Edit] = []

    # ------------------------------------------------------------------ state
    @property
    def n_frames(self) -> int:
        return int(self.array.shape[0])

    @property
    def current_name(self) -> str:
        return self.behaviors[self.current]

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def select(self, start: int, stop: int) -> None:
        """Select frames ``start`` to ``stop``, both included (order does not matter; clipped
        to the ethogram)."""
        lo, hi = sorted((int(start), int(stop)))
        lo, hi = max(lo, 0), min(hi, self.n_frames - 1)
        if lo > hi:
            raise ValueError(f"expected a selection overlapping frames 0..{self.n_frames - 1}, got {start}..{stop}")
        self.selection = (lo, hi)

    def _selected(self) -> tuple[int, int]:
        if self.selection is None:
            raise ValueError("expected a selected frame range (drag over a track first), got none")
        return self.selection

    # ------------------------------------------------------------------ behavior choice
    def next_behavior(self) -> str:
        """Make the next non-background behavior current (wrapping); returns its name."""
        self.current = self.current % (len(self.behaviors) - 1) + 1
        return self.current_name

    def previous_behavior(self) -> str:
        """Make the previous non-background behavior current (wrapping); returns its name."""
        self.current = (self.current - 2) % (len(self.behaviors) - 1) + 1
        return self.current_name

    # ------------------------------------------------------------------ edits
    def _apply(self, start: int, stop: int, new: np.ndarray, what: str) -> bool:
        before = self.array[start : stop + 1].copy()
        if np.array_equal(before, new):
            return False
        self.array[start : stop + 1] = new
        self._undo.append(Edit(start, stop, before, new.copy(), what))
        self._redo.clear()
        self.edit_count += 1
        return True

    def _set_current(self, value: int, what: str) -> bool:
        lo, hi = self._selected()
        new = self.array[lo : hi + 1].copy()
        new[new == UNLABELED] = 0
        new[:, self.current] = value
        new[:, 0] = (new[:, 1:] != 1).all(axis=1).astype(np.int8)
        return self._apply(lo, hi, new, what)

    def insert(self) -> bool:
        """The current behavior on every selected frame; returns whether anything changed."""
        return self._set_current(1, f"insert {self.current_name}")

    def delete(self) -> bool:
        """The current behavior off every selected frame; returns whether anything changed."""
        return self._set_current(0, f"delete {self.current_name}")

    def reset_all(self) -> bool:
        """The whole ethogram back to the original (one undoable edit)."""
        return self._apply(0, self.n_frames - 1, self.original.copy(), "reset all")

    def reset_current(self) -> bool:
        """The current behavior's column back to the original; background recomputed where
        frames are labelled (one undoable edit)."""
        new = self.array.copy()
        new[:, self.current] = self.original[:, self.current]
        labelled = (new != UNLABELED).all(axis=1)
        new[labelled, 0] = (new[labelled, 1:] != 1).all(axis=1).astype(np.int8)
        return self._apply(0, self.n_frames - 1, new, f"reset {self.current_name}")

    def undo(self) -> bool:
        """Revert the last edit; returns whether there was one."""
        if not self._undo:
            return False
        e = self._undo.pop()
        self.array[e.start : e.stop + 1] = e.before
        self._redo.append(e)
        self.edit_count += 1
        return True

    def redo(self) -> bool:
        """Re-apply the last undone edit; returns whether there was one."""
        if not self._redo:
            return False
        e = self._redo.pop()
        self.array[e.start : e.stop + 1] = e.after
        self._undo.append(e)
        self.edit_count += 1
        return True

    # ------------------------------------------------------------------ navigation
    def bouts(self, behavior: int | None = None) -> np.ndarray:
        """``(n, 2)`` int64 first and last frame (inclusive) of each bout of ``behavior`` (the
        current one by default)."""
        c = self.current if behavior is None else int(behavior)
        runs = true_runs(self.array[:, c] == 1)
        return np.asarray(runs, dtype=np.int64).reshape(-1, 2) - np.array([0, 1])

    def next_bout(self, frame: int) -> int | None:
        """First frame of the current behavior's next bout starting after ``frame``, or None."""
        starts = self.bouts()[:, 0]
        later = starts[starts > frame]
        return int(later[0]) if len(later) else None

    def previous_bout(self, frame: int) -> int | None:
        """First frame of the current behavior's last bout starting before ``frame``, or None."""
        starts = self.bouts()[:, 0]
        earlier = starts[starts < frame]
        return int(earlier[-1]) if len(earlier) else None

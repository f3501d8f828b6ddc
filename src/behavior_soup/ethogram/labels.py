"""Per-trial ground-truth ethograms.

An ethogram is a ``(T, C)`` int8 array over ``C`` behaviors, one row per video frame:
1 where the behavior happens, 0 where it does not, and :data:`UNLABELED` (-1, DeepEthogram's
convention) on frames nobody labelled. Behavior 0 is the background class ("none of the
others"). Names are whatever the lab uses; files that disagree on them are an error that names
the difference.

On disk (DeepEthogram's format): a CSV per trial, an index column then one 0/1/-1 column per
behavior, background first.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFormatError

__all__ = ["UNLABELED", "Labels", "check_same_behaviors", "labels_from_array", "read_label_csv"]

UNLABELED = -1


@dataclass
class Labels:
    """One trial's ethogram.

    Attributes
    ----------
    array
        ``(T, C)`` int8 in {1, 0, -1}.
    behaviors
        The ``C`` behavior names, background first.
    """

    array: np.ndarray
    behaviors: tuple[str, ...]

    def __post_init__(self) -> None:
        a = np.asarray(self.array)
        if a.ndim != 2 or a.shape[1] != len(self.behaviors):
            raise DataFormatError(
                f"expected labels of shape (T, {len(self.behaviors)}) for behaviors {list(self.behaviors)}, got {a.shape}"
            )
        bad = ~np.isin(a, (0, 1, UNLABELED))
        if bad.any():
            raise DataFormatError(f"expected label values 1, 0 or -1, found {sorted(set(a[bad].tolist()))[:5]}")
        if len(set(self.behaviors)) != len(self.behaviors) or len(self.behaviors) < 2:
            raise DataFormatError(
                f"expected at least two unique behavior names (background first), got {list(self.behaviors)}"
            )
        self.array = a.astype(np.int8)
        self.behaviors = tuple(str(b) for b in self.behaviors)

    @property
    def n_frames(self) -> int:
        return int(self.array.shape[0])

    @property
    def labelled(self) -> np.ndarray:
        """``(T,)`` bool: frames whose every behavior is labelled."""
        return (self.array != UNLABELED).all(axis=1)

    def to_frame(self) -> pd.DataFrame:
        """The ethogram as a table.

        Returns
        -------
        pandas.DataFrame
            ``(T, C)`` int8, one column per behavior (background first), a ``RangeIndex`` of
            frames.
        """
        return pd.DataFrame(self.array, columns=list(self.behaviors))

    def check_frames(self, n_frames: int, what: str) -> None:
        """Require one row of labels per video frame.

        Parameters
        ----------
        n_frames
            The video's frame count.
        what
            What the labels are of (e.g. a trial's label), for the error message.

        Raises
        ------
        DataFormatError
            If :attr:`n_frames` differs from ``n_frames``.
        """
        if self.n_frames != n_frames:
            raise DataFormatError(
                f"expected {n_frames} frames of labels for {what} (its video's frame count), found {self.n_frames}"
            )


def _whole(a: np.ndarray) -> np.ndarray:
    """``a`` as int64 when it holds whole numbers (``1.0`` is 1); else a DataFormatError
    naming the first value that is not."""
    if a.dtype.kind in "iu":
        return a.astype(np.int64, copy=False)
    if a.dtype.kind == "b":
        return a.astype(np.int64)
    if a.dtype.kind == "f":
        bad = ~(np.isfinite(a) & (a == np.round(a)))
    else:
        bad = np.ones(a.shape, bool)
    if bad.any():
        where = np.argwhere(bad)[0] if a.ndim else ()
        raise DataFormatError(
            f"expected whole-number labels (behavior indices, or 1/0/-1), found {a[tuple(where)].item()!r} at index "
            f"{tuple(int(i) for i in where)} ({int(bad.sum())} such values) in an array of dtype {a.dtype}"
        )
    return a.astype(np.int64)


def labels_from_array(values: np.ndarray | Sequence[int], behaviors: Sequence[str]) -> Labels:
    """Labels from a ``(T,)`` array of behavior indices (-1: unlabelled) or a ``(T, C)`` array.

    Parameters
    ----------
    values
        ``(T,)`` integer behavior indices into ``behaviors`` (one-hot encoded; ``-1`` marks
        the frame unlabelled for every behavior), or ``(T, C)`` with values in {1, 0, -1}.
    behaviors
        The ``C`` behavior names, background first.

    Returns
    -------
    Labels
        ``(T, C)`` int8 labels.

    Raises
    ------
    ValueError
        If ``behaviors`` is a string (it would be taken letter by letter).
    DataFormatError
        If the values are not whole numbers (0.5, NaN, text), an index lies outside
        ``[-1, C - 1]``, or the array does not make valid labels (see :class:`Labels`).
    """
    if isinstance(behaviors, (str, bytes)):
        raise ValueError(f"expected behaviors to be a list of names, got {behaviors!r} (write [{behaviors!r}] for one)")
    a = _whole(np.asarray(values))
    if a.ndim == 1:
        c = len(behaviors)
        if a.size and (a.max() >= c or a.min() < UNLABELED):
            raise DataFormatError(f"expected behavior indices in [-1, {c - 1}], found {a.min()} to {a.max()}")
        out = np.zeros((a.size, c), np.int8)
        known = a >= 0
        out[np.flatnonzero(known), a[known]] = 1
        out[~known] = UNLABELED
        a = out
    return Labels(a, tuple(behaviors))


def read_label_csv(path: str | os.PathLike) -> Labels:
    """Read a DeepEthogram label CSV (index column, then one column per behavior).

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    Labels
        ``(T, C)`` int8 labels, the behaviors named by the CSV's column headers.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    DataFormatError
        If the file cannot be parsed, holds non-integer values, or does not make valid labels.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"expected a label CSV at {str(p)!r}, found none")
    what = "a label CSV (an index column, then one 1/0/-1 column per behavior, comma-separated)"
    try:
        df = pd.read_csv(p, index_col=0)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:  # EmptyDataError is a ValueError
        raise DataFormatError(f"expected {what} in {str(p)!r}, found a file that cannot be read as one: {exc}") from exc
    with open(p, encoding="utf-8", errors="replace") as fh:
        header = fh.readline()
    names = next(csv.reader([header]), [])[1:]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:  # pandas would rename the second "groom" to "groom.1"
        raise DataFormatError(f"expected unique behavior names in the header of {str(p)!r}, found {twice} twice")
    if df.shape[1] < 2:
        sep = next((c for c in (";", "\t", "|") if c in header), None)
        found = f"columns separated by {sep!r}" if sep else f"{df.shape[1]} behavior columns (header {header[:80]!r})"
        raise DataFormatError(f"expected {what} in {str(p)!r}, found {found}")
    num = df.apply(pd.to_numeric, errors="coerce")
    bad = (num.isna() | ~num.isin([0, 1, UNLABELED])).to_numpy()
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        cell = df.iat[r, c]
        shown = "an empty cell" if pd.isna(cell) else repr(getattr(cell, "item", lambda: cell)())
        more = f" ({int(bad.sum()) - 1} more such cells)" if bad.sum() > 1 else ""
        raise DataFormatError(
            f"expected label values 1, 0 or -1 in {str(p)!r}, found {shown} at row {df.index.tolist()[r]!r}, "
            f"column {df.columns[c]!r}{more}"
        )
    try:
        return Labels(num.to_numpy(np.int8), tuple(str(c) for c in df.columns))
    except DataFormatError as exc:
        raise DataFormatError(f"{exc} (in {str(p)!r})") from exc


def check_same_behaviors(label_sets: Mapping[str, Labels]) -> tuple[str, ...]:
    """The behaviors all label sets share, in order; an error naming the difference otherwise.

    Parameters
    ----------
    label_sets
        Name (for the message, e.g. a file or trial) -> labels.

    Returns
    -------
    tuple of str
        The common behavior names, background first.

    Raises
    ------
    DataFormatError
        If ``label_sets`` is empty, or two sets differ in their behaviors or their order.
    """
    if not label_sets:
        raise DataFormatError("expected at least one set of labels, got none")
    items = list(label_sets.items())
    ref_name, ref = items[0]
    for name, lab in items[1:]:
        if lab.behaviors != ref.behaviors:
            only_ref = [b for b in ref.behaviors if b not in lab.behaviors]
            only_this = [b for b in lab.behaviors if b not in ref.behaviors]
            detail = (
                f"{ref_name} has {only_ref} that {name} lacks, {name} has {only_this} that {ref_name} lacks"
                if only_ref or only_this
                else f"same names in another order: {list(ref.behaviors)} vs {list(lab.behaviors)}"
            )
            raise DataFormatError(f"expected every label file to have the behaviors {list(ref.behaviors)}; {detail}")
    return ref.behaviors

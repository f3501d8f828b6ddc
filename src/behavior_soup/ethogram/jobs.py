"""Ground-truth labels in ``outputs.h5``: ``<trial>/behavior/labels`` (array (T, C) int8,
behaviors (C,) str), loaded from a CSV per trial (the ``labels_load`` job) or set from arrays."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from ..jobs import TrialContext, register_job
from ..provenance import Provenance
from ..schema import VIEWS
from ..video import probe
from .labels import Labels, check_same_behaviors, read_label_csv

__all__ = [
    "LABELS_KEY",
    "DEFAULT_LABEL_TEMPLATE",
    "cleaned_key",
    "label_path",
    "EthogramStage",
    "read_ethogram",
    "read_labels",
    "write_labels",
]

LABELS_KEY = "behavior/labels"
#: Where label CSVs are by default, relative to the raw-data root (the sample data's layout).
DEFAULT_LABEL_TEMPLATE = "{animal_id}/{session_id}/labels/trial_{trial_id:03d}.csv"


def label_path(ctx: TrialContext, template: str) -> Path:
    """Where a trial's label CSV is.

    Parameters
    ----------
    ctx
        The trial.
    template
        A path with the fields ``animal_id``, ``session_id`` and ``trial_id`` (e.g.
        :data:`DEFAULT_LABEL_TEMPLATE`); relative paths are relative to the raw-data root.

    Returns
    -------
    pathlib.Path
        The formatted path, under the raw-data root unless the template gives an absolute path
        (not checked to exist).
    """
    rel = template.format(animal_id=ctx.animal_id, session_id=ctx.session_id, trial_id=ctx.trial_id)
    p = Path(rel)
    return p if p.is_absolute() else Path(ctx.raw_root) / p


def _video_frames(ctx: TrialContext) -> int | None:
    for view in VIEWS:
        if view in ctx.videos:
            return probe(ctx.video_path(view)).n_frames or None
    return None


def write_labels(ctx: TrialContext, labels: Labels, params: Mapping[str, Any] | None = None) -> None:
    """Store a trial's labels after checking them against its video's frame count.

    Parameters
    ----------
    ctx
        The trial; its front video (else its side video) gives the frame count. A trial
        without either, or whose container states no frame count, is not checked.
    labels
        The labels, written to ``behavior/labels`` as ``array`` (T, C) int8 and
        ``behaviors`` (C,) str.
    params
        Recorded as the result's parameters (e.g. the source file).

    Raises
    ------
    DataFormatError
        If the labels' frame count differs from the video's.
    """
    prov = Provenance("labels", dict(params or {}))
    n = _video_frames(ctx)
    if n is not None:
        labels.check_frames(n, ctx.label)
    ctx.write(LABELS_KEY, {"array": labels.array, "behaviors": list(labels.behaviors)}, prov.finish())


def read_labels(ctx: TrialContext) -> Labels:
    """A trial's stored ground-truth labels (``behavior/labels``).

    Parameters
    ----------
    ctx
        The trial.

    Returns
    -------
    Labels
        ``(T, C)`` int8 labels with their behavior names, background first.

    Raises
    ------
    OutputsError
        If the trial has no stored labels.
    """
    d = ctx.read(LABELS_KEY)
    return Labels(d["array"], tuple(d["behaviors"]))


def check_label_files(ctxs: list[TrialContext], template: str) -> tuple[str, ...]:
    """Read the header of every trial's label CSV and require the same behaviors in all.

    Parameters
    ----------
    ctxs
        The trials.
    template
        Where each trial's CSV is, as for :func:`label_path`.

    Returns
    -------
    tuple of str
        The behaviors the files share, background first.

    Raises
    ------
    FileNotFoundError
        If a trial's CSV is missing.
    DataFormatError
        If ``ctxs`` is empty, or the files disagree on their behaviors (see
        :func:`~behavior_soup.ethogram.labels.check_same_behaviors`).
    """
    heads = {}
    for c in ctxs:
        p = label_path(c, template)
        if not p.is_file():
            raise FileNotFoundError(f"expected a label CSV for {c.label} at {str(p)!r}, found none")
        cols = tuple(str(x) for x in pd.read_csv(p, index_col=0, nrows=0).columns)
        heads[c.label] = Labels(np.zeros((0, len(cols)), np.int8), cols)
    return check_same_behaviors(heads)


@register_job("labels_load", "behavior")
def labels_load_job(ctx: TrialContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """A trial's label CSV -> ``behavior/labels``.

    Parameters
    ----------
    ctx
        The trial.
    params
        ``template`` (default :data:`DEFAULT_LABEL_TEMPLATE`) locates the CSV; ``behaviors``,
        if given, are the names the file must have, in order. Both are recorded, with the
        file name.

    Returns
    -------
    dict
        ``{"n_frames": int, "behaviors": list of str}``.

    Raises
    ------
    FileNotFoundError
        If the CSV is missing.
    DataFormatError
        If the CSV is not valid labels, has other behaviors than ``behaviors``, or another
        frame count than the trial's video.
    """
    path = label_path(ctx, params.get("template", DEFAULT_LABEL_TEMPLATE))
    labels = read_label_csv(path)
    expected = params.get("behaviors")
    if expected is not None:
        check_same_behaviors(
            {"the table's labels": Labels(np.zeros((0, len(expected)), np.int8), tuple(expected)), path.name: labels}
        )
    write_labels(ctx, labels, {**dict(params), "file": path.name})
    return {"n_frames": labels.n_frames, "behaviors": list(labels.behaviors)}


def cleaned_key(mode: str) -> str:
    """The result key of a trial's cleaned (hand-corrected) ethogram for ``mode``:
    ``"<mode>/cleaned"``, holding ``array`` ``(T, C)`` int8 and ``behaviors`` like
    ``<mode>/ethogram``. Analyses prefer it to the prediction when it is there.

    Parameters
    ----------
    mode
        ``"fast"``, ``"medium"`` or ``"slow"``.

    Returns
    -------
    str
        The key.
    """
    return f"{mode}/cleaned"


EthogramStage = Literal["auto", "ethogram", "cleaned", "sequence", "features"]
_STAGES: tuple[str, ...] = get_args(EthogramStage)


def read_ethogram(ctx: TrialContext, mode: str, stage: EthogramStage = "auto") -> pd.DataFrame:
    """A trial's stored ethogram or probabilities for ``mode``: ``(T, C)`` DataFrame with
    behavior columns.

    Parameters
    ----------
    ctx
        The trial.
    mode
        ``"fast"``, ``"medium"`` or ``"slow"``.
    stage
        ``"auto"`` (the cleaned ethogram where the trial has one, else the model's), ``"ethogram"``
        (the model's), ``"cleaned"`` (hand-corrected, see :func:`cleaned_key`), or the
        ``"sequence"``/``"features"`` stage's probabilities.

    Returns
    -------
    pandas.DataFrame
        ``(T, C)``, one column per behavior (background first), one row per frame: int8 0/1
        for an ethogram, float32 probabilities in [0, 1] otherwise. ``attrs["key"]`` names the
        result read (e.g. ``"fast/cleaned"``).

    Raises
    ------
    ValueError
        If ``stage`` is not one of the five.
    OutputsError
        If the trial has no such stored result.
    """
    if stage not in _STAGES:
        raise ValueError(f"expected stage one of {list(_STAGES)}, got {stage!r}")
    if stage == "auto":
        stage = "cleaned" if cleaned_key(mode) in ctx.keys() else "ethogram"
    key = cleaned_key(mode) if stage == "cleaned" else f"{mode}/{stage}"
    d = ctx.read(key)
    values = d["array"] if stage in ("ethogram", "cleaned") else d["probabilities"]
    out = pd.DataFrame(values, columns=[str(b) for b in d["behaviors"]])
    out.attrs["key"] = key
    return out

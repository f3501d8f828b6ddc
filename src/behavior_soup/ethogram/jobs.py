"""Ground-truth labels in ``outputs.h5``: ``<trial>/behavior/labels`` (array (T, C) int8,
behaviors (C,) str), loaded from a CSV per trial (the ``labels_load`` job) or set from arrays."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..jobs import TrialContext, register_job
from ..provenance import Provenance
from ..video import probe
from .labels import Labels, check_same_behaviors, read_label_csv

__all__ = ["LABELS_KEY", "DEFAULT_LABEL_TEMPLATE", "label_path", "read_labels", "write_labels"]

LABELS_KEY = "behavior/labels"
#: Where label CSVs are by default, relative to the raw-data root (the sample data's layout).
DEFAULT_LABEL_TEMPLATE = "{animal_id}/{session_id}/labels/trial_{trial_id:03d}.csv"


def label_path(ctx: TrialContext, template: str) -> Path:
    rel = template.format(animal_id=ctx.animal_id, session_id=ctx.session_id, trial_id=ctx.trial_id)
    p = Path(rel)
    return p if p.is_absolute() else Path(ctx.raw_root) / p


def _video_frames(ctx: TrialContext) -> int | None:
    for view in ("front", "side"):
        if view in ctx.videos:
            return probe(ctx.video_path(view)).n_frames or None
    return None


def write_labels(ctx: TrialContext, labels: Labels, params: Mapping[str, Any] | None = None) -> None:
    """Store a trial's labels after checking them against its video's frame count."""
    prov = Provenance("labels", dict(params or {}))
    n = _video_frames(ctx)
    if n is not None:
        labels.check_frames(n, ctx.label)
    ctx.write(LABELS_KEY, {"array": labels.array, "behaviors": list(labels.behaviors)}, prov.finish())


def read_labels(ctx: TrialContext) -> Labels:
    d = ctx.read(LABELS_KEY)
    return Labels(d["array"], tuple(d["behaviors"]))


def check_label_files(ctxs: list[TrialContext], template: str) -> tuple[str, ...]:
    """Read the header of every trial's label CSV and require the same behaviors in all."""
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
    """A trial's label CSV -> ``behavior/labels``."""
    path = label_path(ctx, params.get("template", DEFAULT_LABEL_TEMPLATE))
    labels = read_label_csv(path)
    expected = params.get("behaviors")
    if expected is not None:
        check_same_behaviors(
            {"the table's labels": Labels(np.zeros((0, len(expected)), np.int8), tuple(expected)), path.name: labels}
        )
    write_labels(ctx, labels, {**dict(params), "file": path.name})
    return {"n_frames": labels.n_frames, "behaviors": list(labels.behaviors)}


@register_job("behavior_infer", "behavior")
def behavior_infer_job(ctx: TrialContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """Features + sequence + ethogram for a trial (see :func:`.infer.infer_trial`)."""
    from .infer import infer_trial

    return infer_trial(
        ctx,
        params["feature_extractor"],
        params["sequence"],
        mode=params.get("mode"),
        device=params.get("device", "auto"),
        batch_size=int(params.get("batch_size", 32)),
        min_bout=int(params.get("min_bout", 1)),
        reuse_features=bool(params.get("reuse_features", False)),
    )


@register_job("feature_extractor_infer", "behavior")
def feature_extractor_infer_job(ctx: TrialContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """A feature extractor over a trial -> ``<mode>/features``."""
    from .infer import trial_features

    f = trial_features(
        ctx,
        params["feature_extractor"],
        device=params.get("device", "auto"),
        batch_size=int(params.get("batch_size", 32)),
        reuse=bool(params.get("reuse", False)),
    )
    return {"mode": f["meta"]["mode"], "n_frames": int(len(f["features"])), "reused": f["reused"]}


@register_job("sequence_infer", "behavior")
def sequence_infer_job(ctx: TrialContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """A sequence model over a trial's stored features -> ``<mode>/sequence`` and ``<mode>/ethogram``."""
    from .infer import sequence_from_stored

    return sequence_from_stored(
        ctx, params["sequence"], device=params.get("device", "auto"), min_bout=int(params.get("min_bout", 1))
    )


def read_ethogram(ctx: TrialContext, mode: str, stage: str = "ethogram") -> pd.DataFrame:
    """A trial's stored ``stage`` (``"ethogram"`` int8, or ``"sequence"``/``"features"``
    probabilities) for ``mode``: ``(T, C)`` DataFrame with behavior columns."""
    if stage not in ("ethogram", "sequence", "features"):
        raise ValueError(f"expected stage 'ethogram', 'sequence' or 'features', got {stage!r}")
    d = ctx.read(f"{mode}/{stage}")
    values = d["array"] if stage == "ethogram" else d["probabilities"]
    return pd.DataFrame(values, columns=[str(b) for b in d["behaviors"]])

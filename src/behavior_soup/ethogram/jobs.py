"""Ground-truth labels in ``outputs.h5``: ``<trial>/behavior/labels`` (array (T, C) int8,
behaviors (C,) str), loaded from a CSV per trial (the ``labels_load`` job) or set from arrays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from .. import checks
from ..jobs import TrialContext, register_job
from ..params import Params, param
from ..provenance import Provenance
from ..schema import VIEWS
from ..video import probe
from .labels import Labels, check_same_behaviors, read_label_csv
from .modes import MODES, Mode

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


def _model_path(v: object, name: str) -> str | None:
    return None if v is None else checks.path()(v, name)


def _device(v: object, name: str) -> str:
    if not isinstance(v, str) or not (v in ("auto", "cpu") or v.startswith("cuda")):
        raise ValueError(f"expected {name} 'auto', 'cpu' or 'cuda[:N]', got {v!r}")
    return v


_MODE = param("fast", checks.one_of(MODES), '"fast", "medium" or "slow"')
_DEVICE = param("auto", _device, '"auto" (CUDA when there is a GPU), "cpu" or "cuda[:N]"')
_MIN_BOUT = param(1, checks.integer(min=1), "bouts and gaps shorter than this many frames are removed")


@dataclass(frozen=True)
class EthogramInferParams(Params):
    """Parameters of ethogram inference (``row.behavior.infer``, ``df.behavior.infer``)."""

    mode: Mode = _MODE
    feature_extractor: str | None = param(
        None, _model_path, "feature extractor checkpoint or folder; None: this mode's registered one"
    )
    sequence: str | None = param(None, _model_path, "sequence model checkpoint or folder; None: the registered one")
    min_bout: int = _MIN_BOUT
    device: str = _DEVICE
    batch_size: int = param(32, checks.integer(min=1), "clips per batch")
    reuse_features: bool = param(False, checks.one_of((False, True)), "reuse stored features of the same model")

    def resolve(self, obj: object) -> EthogramInferParams:
        """The two checkpoints as absolute paths (relative ones are relative to the table's
        folder; None: this mode's registered models).

        Parameters
        ----------
        obj
            The trial table, or one of its rows.

        Returns
        -------
        EthogramInferParams
            A copy with ``feature_extractor`` and ``sequence`` as absolute ``.pt`` paths (a
            training folder becomes its ``model.pt``).
        """
        from .api import resolve_model

        fe = resolve_model(obj, self.mode, "feature_extractor", self.feature_extractor)  # type: ignore[arg-type]
        seq = resolve_model(obj, self.mode, "sequence", self.sequence)  # type: ignore[arg-type]
        return replace(self, feature_extractor=fe, sequence=seq)


@register_job("behavior_infer", "behavior", params=EthogramInferParams)
def behavior_infer_job(ctx: TrialContext, p: EthogramInferParams) -> dict[str, Any]:
    """Features + sequence + ethogram for a trial (see :func:`.infer.infer_trial`).

    Parameters
    ----------
    ctx
        The trial.
    p
        The parameters, resolved (both checkpoints set; see :meth:`EthogramInferParams.resolve`).

    Returns
    -------
    dict
        ``mode``, ``n_frames`` and ``fraction`` (behavior -> fraction of frames with it in the
        ethogram).

    Raises
    ------
    ValueError
        If a checkpoint is not resolved.
    """
    from .infer import infer_trial

    if p.feature_extractor is None or p.sequence is None:
        raise ValueError("expected resolved feature_extractor and sequence checkpoints, got None")
    return infer_trial(
        ctx,
        p.feature_extractor,
        p.sequence,
        mode=p.mode,
        device=p.device,
        batch_size=p.batch_size,
        min_bout=p.min_bout,
        reuse_features=p.reuse_features,
    )


@dataclass(frozen=True)
class FeatureInferParams(Params):
    """Parameters of feature extraction (``row.feature_extractor.infer``, ``df.feature_extractor.infer``)."""

    mode: Mode = _MODE
    model_in: str | None = param(None, _model_path, "checkpoint or training folder; None: this mode's registered one")
    device: str = _DEVICE
    batch_size: int = param(32, checks.integer(min=1), "clips per batch")
    reuse: bool = param(False, checks.one_of((False, True)), "reuse stored features of the same model")

    def resolve(self, obj: object) -> FeatureInferParams:
        """The checkpoint as an absolute path (a relative one is relative to the table's folder;
        None: this mode's registered feature extractor).

        Parameters
        ----------
        obj
            The trial table, or one of its rows.

        Returns
        -------
        FeatureInferParams
            A copy with ``model_in`` an absolute ``.pt`` path (a training folder becomes its
            ``model.pt``).
        """
        from .api import resolve_model

        return replace(self, model_in=resolve_model(obj, self.mode, "feature_extractor", self.model_in))  # type: ignore[arg-type]


@register_job("feature_extractor_infer", "behavior", params=FeatureInferParams)
def feature_extractor_infer_job(ctx: TrialContext, p: FeatureInferParams) -> dict[str, Any]:
    """A feature extractor over a trial -> ``<mode>/features``.

    Parameters
    ----------
    ctx
        The trial.
    p
        The parameters, resolved (``model_in`` set; see :meth:`FeatureInferParams.resolve`).

    Returns
    -------
    dict
        ``mode`` (the checkpoint's), ``n_frames``, and ``reused`` (whether stored features of
        the same model were kept instead of extracted anew).

    Raises
    ------
    ValueError
        If the checkpoint is not resolved.
    """
    from .infer import trial_features

    if p.model_in is None:
        raise ValueError("expected a resolved feature extractor checkpoint, got None")
    f = trial_features(ctx, p.model_in, device=p.device, batch_size=p.batch_size, reuse=p.reuse)
    return {"mode": f["meta"]["mode"], "n_frames": int(len(f["features"])), "reused": f["reused"]}


@dataclass(frozen=True)
class SequenceInferParams(Params):
    """Parameters of a sequence model over stored features (``row.sequence.infer``, ``df.sequence.infer``)."""

    mode: Mode = _MODE
    model_in: str | None = param(None, _model_path, "checkpoint or training folder; None: this mode's registered one")
    min_bout: int = _MIN_BOUT
    device: str = _DEVICE

    def resolve(self, obj: object) -> SequenceInferParams:
        """The checkpoint as an absolute path (a relative one is relative to the table's folder;
        None: this mode's registered sequence model).

        Parameters
        ----------
        obj
            The trial table, or one of its rows.

        Returns
        -------
        SequenceInferParams
            A copy with ``model_in`` an absolute ``.pt`` path (a training folder becomes its
            ``model.pt``).
        """
        from .api import resolve_model

        return replace(self, model_in=resolve_model(obj, self.mode, "sequence", self.model_in))  # type: ignore[arg-type]


@register_job("sequence_infer", "behavior", params=SequenceInferParams)
def sequence_infer_job(ctx: TrialContext, p: SequenceInferParams) -> dict[str, Any]:
    """A sequence model over a trial's stored features -> ``<mode>/sequence`` and ``<mode>/ethogram``.

    Parameters
    ----------
    ctx
        The trial.
    p
        The parameters, resolved (``model_in`` set; see :meth:`SequenceInferParams.resolve`).

    Returns
    -------
    dict
        ``mode``, ``n_frames`` and ``fraction`` (behavior -> fraction of frames with it in the
        ethogram).

    Raises
    ------
    ValueError
        If the checkpoint is not resolved.
    OutputsError
        If the trial has no stored features for the model's mode.
    """
    from .infer import sequence_from_stored

    if p.model_in is None:
        raise ValueError("expected a resolved sequence checkpoint, got None")
    return sequence_from_stored(ctx, p.model_in, device=p.device, min_bout=p.min_bout)


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

"""Ethogram inference as row jobs: ``behavior_infer`` (features + sequence + ethogram),
``feature_extractor_infer`` and ``sequence_infer``, and their parameter objects (model
checkpoints resolved against the table, device, runtime and precision checked at the call)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .. import checks
from ..jobs import TrialContext, register_job
from ..params import Params, param
from .modes import MODES, Mode
from .runtimes import PRECISIONS, RUNTIMES, check_runtime

__all__ = [
    "EthogramInferParams",
    "FeatureInferParams",
    "SequenceInferParams",
    "behavior_infer_job",
    "feature_extractor_infer_job",
    "sequence_infer_job",
]


def _model_path(v: object, name: str) -> str | None:
    return None if v is None else checks.path()(v, name)


def _device(v: object, name: str) -> str:
    if not isinstance(v, str) or not (v in ("auto", "cpu") or v.startswith("cuda")):
        raise ValueError(f"expected {name} 'auto', 'cpu' or 'cuda[:N]', got {v!r}")
    return v


_MODE = param("fast", checks.one_of(MODES), '"fast", "medium" or "slow"')
_DEVICE = param("auto", _device, '"auto" (CUDA when there is a GPU), "cpu" or "cuda[:N]"')
_MIN_BOUT = param(1, checks.integer(min=1), "bouts and gaps shorter than this many frames are removed")
_RUNTIME = param("torch", checks.one_of(tuple(RUNTIMES)), '"torch", "onnxruntime" or "openvino" (see .runtimes)')
_PRECISION = param("fp32", checks.one_of(PRECISIONS), '"fp32", "bf16" or "int8" (int8 is checked against fp32)')


def _check_runtime(p: Any) -> None:
    check_runtime(p.runtime, p.precision, "cpu" if p.device == "auto" else p.device)


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
    runtime: str = _RUNTIME
    precision: str = _PRECISION

    def validate(self) -> None:
        """The runtime and precision can run here (package installed, CPU able)."""
        _check_runtime(self)

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
        runtime=p.runtime,
        precision=p.precision,
    )


@dataclass(frozen=True)
class FeatureInferParams(Params):
    """Parameters of feature extraction (``row.feature_extractor.infer``, ``df.feature_extractor.infer``)."""

    mode: Mode = _MODE
    model_in: str | None = param(None, _model_path, "checkpoint or training folder; None: this mode's registered one")
    device: str = _DEVICE
    batch_size: int = param(32, checks.integer(min=1), "clips per batch")
    reuse: bool = param(False, checks.one_of((False, True)), "reuse stored features of the same model")
    runtime: str = _RUNTIME
    precision: str = _PRECISION

    def validate(self) -> None:
        """The runtime and precision can run here (package installed, CPU able)."""
        _check_runtime(self)

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
    f = trial_features(ctx, p.model_in, device=p.device, batch_size=p.batch_size, reuse=p.reuse, runtime=p.runtime,
                       precision=p.precision)  # fmt: skip
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

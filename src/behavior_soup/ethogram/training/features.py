"""Training hidden two-stream feature extractors on labelled trials (task
``train_feature_extractor``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ... import checks
from ..._torch import torch as _torch
from ...errors import ItemNotFoundError
from ...jobs import TrialContext, register_task
from ...params import param
from ...schema import VIEWS
from ..augment import AugmentSpec, as_record, augment_clips, resolve_augmentation
from ..build import feature_extractor_arch
from ..checkpoint import load_checkpoint
from ..modes import get_mode
from .base import TrainConfig, Trainer
from .data import batches, centres, clips, evenly, labels_of, loaded_frames, pos_weight, score

__all__ = ["FeatureConfig", "FeatureTrainer", "train_feature_extractor"]


@dataclass(frozen=True)
class FeatureConfig(TrainConfig):
    """Settings of feature-extractor training (beside :class:`~.base.TrainConfig`'s).

    ``augment`` is the training augmentation per view (see :mod:`..augment`): True for the
    defaults (left-right mirror, +/- 10 degrees, small zoom and shift, brightness and
    contrast), False for none, or a mapping view -> :class:`~..augment.Augmentation` or dict
    of its fields, e.g. ``{"front": {"rotate": 180, "flip_ud": 0.5}}`` for a top-down
    open-field camera. It is recorded in the checkpoint's ``params``.
    """

    batch_size: int = param(32, checks.integer(min=1), "samples per optimiser step")
    steps_per_epoch: int | None = param(
        None, checks.optional(checks.integer(min=1)), "batches per epoch (default: every labelled frame once)"
    )
    dropout: float = param(0.25, checks.number(min=0, below=1), "dropout before each stream's classifier")
    spatial_weights: str | None = param(None, checks.optional(checks.path()), "ResNet weights for the spatial stream")
    flow_weights: str | None = param(None, checks.optional(checks.path()), "ResNet weights for the flow stream")
    max_val_frames: int = param(4000, checks.integer(min=1), "validation frames, evenly spaced over the trials")
    augment: AugmentSpec = param(True, None, "training augmentation per view (see above)")


class FeatureTrainer(Trainer):
    """The flow generator (``parent``, same mode) is frozen; both ResNet streams start from
    random weights or from user weight files (``spatial_weights``, ``flow_weights``, see
    :func:`..nets.load_backbone_weights`), or from ``model_in`` (a feature extractor of the
    same mode and behaviors). The loss is binary cross-entropy per class on the fused logits,
    weighted by class rarity (:func:`.data.pos_weight`), over labelled frames only.
    Validation fits per-class thresholds (stored in the checkpoint) and scores the mean F1
    over the classes present. Input size, views and normalisation come from the flow
    generator's checkpoint."""

    kind = "feature_extractor"
    config_class = FeatureConfig
    config: FeatureConfig

    def prepare(self) -> list[str]:
        """Load the flow generator (``parent``), decode every trial's frames at its input size
        and views, and read the trials' labels.

        Returns
        -------
        list of str
            Every trial's uuid.
        """
        self.flow = load_checkpoint(self.parent, kind="flow_generator", mode=self.mode)
        # the streams come from the flow generator's network set
        self.spec = get_mode(self.mode, self.flow["architecture"].get("networks", "lite"))
        self.size = tuple(self.flow["input_size"])
        self.views = tuple(self.flow["views"]) if self.flow.get("views") else None
        self.frames = loaded_frames(self.ctxs, self.size, self.views, self.config.progress)
        self.labels, self.behaviors = labels_of(self.ctxs, self.frames)
        return [c.uuid for c in self.ctxs]

    def architecture(self) -> dict[str, Any]:
        """The mode's feature-extractor architecture for the labels' behaviors (see
        :func:`..build.feature_extractor_arch`).

        Returns
        -------
        dict
            The architecture record.
        """
        return feature_extractor_arch(self.spec, len(self.behaviors), self.config.dropout)

    def parents(self) -> list[str]:
        """Load the flow generator's weights into the network's frozen flow stream.

        Returns
        -------
        list of str
            The flow generator's model id.
        """
        self.model.flow_generator.load_state_dict(self.flow["state_dict"])
        return [self.flow["model_id"]]

    def after_init(self, init: dict[str, Any] | None) -> None:
        """Put the parent's flow generator back after ``model_in`` was loaded, then load the
        user's ResNet weight files, if any.

        Parameters
        ----------
        init
            The ``model_in`` checkpoint, or None.
        """
        from ..nets import load_backbone_weights

        cfg = self.config
        if init is not None:  # the frozen flow generator is the parent's, not model_in's
            self.model.flow_generator.load_state_dict(self.flow["state_dict"])
        if cfg.spatial_weights:
            load_backbone_weights(self.model.spatial_backbone, cfg.spatial_weights)
        if cfg.flow_weights:
            load_backbone_weights(self.model.flow_backbone, cfg.flow_weights)

    def make_optimizer(self) -> Any:
        """AdamW over the trainable parameters; also sets up the class-weighted loss, the
        training and validation frames and the augmentation.

        Returns
        -------
        torch.optim.AdamW
            The optimiser.

        Raises
        ------
        ItemNotFoundError
            If the training trials have no labelled frames.
        """
        torch = _torch()
        cfg = self.config
        params = [p for p in self.model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=1e-4)
        weight = pos_weight([self.labels[u].array for u in self.train_u])
        self.loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(weight).to(self.dev))
        self.train_items = centres(self.frames, self.train_u, self.labels)
        self.val_items = evenly(centres(self.frames, self.val_u, self.labels), cfg.max_val_frames)
        if not self.train_items:
            raise ItemNotFoundError("expected labelled frames in the training trials, found only unlabelled ones")
        views = self.views or tuple(v for v in VIEWS if v in self.ctxs[0].videos)
        self.augmentation = resolve_augmentation(cfg.augment, views)
        return opt

    def _targets(self, by: Mapping[str, list[int]]) -> Any:
        y = np.concatenate([self.labels[u].array[ts] for u, ts in by.items()]).astype(np.float32)
        return _torch().from_numpy(y).to(self.dev)

    def run_epoch(self, rng: np.random.Generator) -> dict[str, float]:
        """One pass over the labelled training frames (or ``steps_per_epoch`` batches),
        shuffled and augmented.

        Parameters
        ----------
        rng
            The epoch's random generator (order and augmentation).

        Returns
        -------
        dict
            ``{"train_loss": float}``, the mean loss of the batches.
        """
        losses = []
        for by in batches(self.train_items, self.config.batch_size, rng, self.config.steps_per_epoch):
            x = clips(self.frames, by, self.spec.n_frames, self.flow["norm"], self.dev)
            x = augment_clips(x, self.augmentation, rng)
            loss = self.loss_fn(self.model(x)["logits"], self._targets(by))
            losses.append(self.step(loss))
        return {"train_loss": float(np.mean(losses))}

    def validate(self) -> tuple[float, dict[str, Any], dict[str, Any]]:
        """Loss, fitted thresholds and per-class metrics on the validation frames.

        Returns
        -------
        score : float
            The mean F1 over the classes present (see :func:`.data.score`).
        metrics : dict
            ``val_loss`` (mean per frame) and ``classes`` (class -> metrics).
        extra : dict
            ``{"thresholds": list of C floats}``.
        """
        torch = _torch()
        probs, ys, losses = [], [], []
        for by in batches(self.val_items, self.config.batch_size, None, None):
            logits = self.model(clips(self.frames, by, self.spec.n_frames, self.flow["norm"], self.dev))["logits"]
            y = self._targets(by)
            losses.append(float(self.loss_fn(logits, y)) * len(y))
            probs.append(torch.sigmoid(logits).cpu().numpy())
            ys.append(y.cpu().numpy().astype(np.int8))
        p, y = np.concatenate(probs), np.concatenate(ys)
        s, per, thr = score(p, y, self.behaviors)
        return s, {"val_loss": sum(losses) / len(y), "classes": per}, {"thresholds": thr.tolist()}

    def metadata(self) -> dict[str, Any]:
        """The checkpoint fields of a feature extractor.

        Returns
        -------
        dict
            ``input_size`` ``[H, W]``, ``n_frames``, ``views`` and ``norm`` (the flow
            generator's), and ``params`` (``epochs``, ``batch_size``, ``lr``, ``dropout``,
            ``augment``).
        """
        cfg = self.config
        return {
            "input_size": list(self.size),
            "n_frames": self.spec.n_frames,
            "views": self.flow.get("views"),
            "norm": self.flow["norm"],
            "params": {
                "epochs": cfg.epochs,
                "batch_size": cfg.batch_size,
                "lr": cfg.lr,
                "dropout": cfg.dropout,
                "augment": as_record(self.augmentation),
            },
        }


@register_task("train_feature_extractor", params=FeatureConfig)
def train_feature_extractor(
    contexts: Sequence[Mapping[str, Any] | TrialContext],
    mode: str,
    model_out: str,
    flow_model_in: str,
    *,
    table_path: str | None = None,
    model_in: str | None = None,
    lock_timeout: float | None = None,
    config: FeatureConfig | Mapping[str, Any] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """Train the hidden two-stream feature extractor on labelled trials (see
    :class:`FeatureTrainer`).

    Parameters
    ----------
    contexts
        The labelled trials (:class:`TrialContext` or its dict), at least 2.
    mode
        ``"fast"``, ``"medium"`` or ``"slow"`` (see :mod:`..modes`).
    model_out
        Folder for ``model.pt`` (best), ``last.pt`` (resumable) and ``metrics.csv``.
    flow_model_in
        The flow generator checkpoint (same mode), frozen.
    table_path
        Register the result in this table (see :mod:`..models`).
    model_in
        A feature extractor checkpoint of the same mode and behaviors to start from.
    lock_timeout
        Seconds to wait for the table's lock when registering.
    config, **settings
        A :class:`FeatureConfig` (or its dict), and/or its fields by name.

    Returns
    -------
    dict
        ``checkpoint``, ``model_id``, ``best_epoch``, ``epochs``, ``metrics`` (per class).
    """
    cfg = FeatureConfig.merged(config, settings)
    trainer = FeatureTrainer(
        contexts,
        mode,
        model_out,
        cfg,
        parent=flow_model_in,
        table_path=table_path,
        model_in=model_in,
        lock_timeout=lock_timeout,
    )
    return trainer.run()

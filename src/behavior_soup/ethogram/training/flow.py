"""Training flow generators: self-supervised, no labels needed (task ``train_flow_generator``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ... import checks
from ..._torch import torch as _torch
from ...jobs import TrialContext, register_task
from ...params import param
from ..build import flow_arch
from ..frames import norm_stats
from ..modes import NETWORKS, Networks
from .base import TrainConfig, Trainer
from .data import batches, centres, clips, evenly, loaded_frames, mode_setup

__all__ = ["FlowConfig", "FlowTrainer", "train_flow_generator"]


@dataclass(frozen=True)
class FlowConfig(TrainConfig):
    """Settings of flow-generator training (beside :class:`~.base.TrainConfig`'s)."""

    steps_per_epoch: int | None = param(
        None, checks.optional(checks.integer(min=1)), "batches per epoch (default: every training frame once)"
    )
    input_size: tuple[int, int] | None = param(
        None, checks.optional(checks.names(checks.integer(min=1))), "network input (H, W) (default: the mode's)"
    )
    views: tuple[str, ...] | None = param(
        None, checks.optional(checks.names()), "camera views, side by side (default: the first trial's)"
    )
    networks: Networks = param(
        "deepethogram",
        checks.one_of(NETWORKS),
        '"deepethogram" (DeepEthogram\'s networks, of record) or "lite" (4x cheaper in fast mode)',
    )
    smooth_weight: float = param(0.05, checks.number(min=0), "weight of the flow smoothness term in the loss")
    max_val_clips: int = param(256, checks.integer(min=1), "validation clips, evenly spaced over the trials")


class FlowTrainer(Trainer):
    """The loss is the photometric error of each frame reconstructed from the next one warped
    by the predicted flow, plus a smoothness term (:func:`..nets.photometric_loss`);
    validation is that loss on the validation trials (score = minus the loss)."""

    kind = "flow_generator"
    config_class = FlowConfig
    config: FlowConfig

    def prepare(self) -> list[str]:
        """Decode every trial's frames at the input size and views of the mode (or the config).

        Returns
        -------
        list of str
            Every trial's uuid.
        """
        cfg = self.config
        self.spec, self.size, self.views = mode_setup(self.mode, cfg.input_size, self.ctxs, cfg.views, cfg.networks)
        self.frames = loaded_frames(self.ctxs, self.size, self.views, cfg.progress)
        return [c.uuid for c in self.ctxs]

    def architecture(self) -> dict[str, Any]:
        """The mode's flow-generator architecture (see :func:`..build.flow_arch`).

        Returns
        -------
        dict
            The architecture record.
        """
        return flow_arch(self.spec)

    def after_init(self, init: dict[str, Any] | None) -> None:
        """Take the normalisation from ``init`` or compute it on the training frames, and
        choose the training and validation clip centres.

        Parameters
        ----------
        init
            The ``model_in`` checkpoint, or None.
        """
        if init is not None:
            self.norm = init["norm"]
        else:
            self.norm = norm_stats([self.frames[u] for u in self.train_u], seed=self.config.seed)
        self.train_items = centres(self.frames, self.train_u)
        self.val_items = evenly(centres(self.frames, self.val_u), self.config.max_val_clips)

    def make_optimizer(self) -> Any:
        """Adam over every parameter of the network.

        Returns
        -------
        torch.optim.Adam
            The optimiser.
        """
        return _torch().optim.Adam(self.model.parameters(), lr=self.config.lr)

    def _loss(self, by: Mapping[str, list[int]]) -> Any:
        from ..nets import photometric_loss

        x = clips(self.frames, by, self.spec.n_frames, self.norm, self.dev)
        return photometric_loss(x, self.model(x), self.config.smooth_weight), len(x)

    def run_epoch(self, rng: np.random.Generator) -> dict[str, float]:
        """One pass over the training clips (or ``steps_per_epoch`` batches), shuffled.

        Parameters
        ----------
        rng
            The epoch's random generator.

        Returns
        -------
        dict
            ``{"train_loss": float}``, the mean loss of the batches.
        """
        losses = []
        for by in batches(self.train_items, self.config.batch_size, rng, self.config.steps_per_epoch):
            loss, _ = self._loss(by)
            losses.append(self.step(loss))
        return {"train_loss": float(np.mean(losses))}

    def validate(self) -> tuple[float, dict[str, Any], dict[str, Any]]:
        """The loss on the validation clips.

        Returns
        -------
        score : float
            Minus the validation loss.
        metrics : dict
            ``{"val_loss": float}``, the mean loss per clip.
        extra : dict
            Empty.
        """
        total, n = 0.0, 0
        for by in batches(self.val_items, self.config.batch_size, None, None):
            loss, k = self._loss(by)
            total += float(loss) * k
            n += k
        val = total / max(n, 1)
        return -val, {"val_loss": val}, {}

    def metadata(self) -> dict[str, Any]:
        """The checkpoint fields of a flow generator.

        Returns
        -------
        dict
            ``input_size`` ``[H, W]``, ``n_frames``, ``views``, ``norm`` (the normalisation
            statistics) and ``params`` (``epochs``, ``batch_size``, ``lr``, ``smooth_weight``).
        """
        cfg = self.config
        return {
            "input_size": list(self.size),
            "n_frames": self.spec.n_frames,
            "views": list(self.views),
            "norm": self.norm,
            "params": {
                "epochs": cfg.epochs,
                "batch_size": cfg.batch_size,
                "lr": cfg.lr,
                "smooth_weight": cfg.smooth_weight,
                "networks": cfg.networks,
            },
        }


@register_task("train_flow_generator", params=FlowConfig)
def train_flow_generator(
    contexts: Sequence[Mapping[str, Any] | TrialContext],
    mode: str,
    model_out: str,
    *,
    table_path: str | None = None,
    model_in: str | None = None,
    lock_timeout: float | None = None,
    config: FlowConfig | Mapping[str, Any] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """Train a flow generator on trials' videos, self-supervised (see :class:`FlowTrainer`).

    Parameters
    ----------
    contexts
        The trials (:class:`TrialContext` or its dict), at least 2.
    mode
        ``"fast"``, ``"medium"`` or ``"slow"`` (see :mod:`..modes`).
    model_out
        Folder for ``model.pt`` (best), ``last.pt`` (resumable) and ``metrics.csv``.
    table_path
        Register the result in this table (see :mod:`..models`).
    model_in
        A flow generator checkpoint of the same mode to start from (its normalisation too).
    lock_timeout
        Seconds to wait for the table's lock when registering.
    config, **settings
        A :class:`FlowConfig` (or its dict), and/or its fields by name (``epochs=4``, ...).

    Returns
    -------
    dict
        ``checkpoint``, ``model_id``, ``best_epoch``, ``epochs``, ``metrics``.
    """
    cfg = FlowConfig.merged(config, settings)
    trainer = FlowTrainer(
        contexts, mode, model_out, cfg, table_path=table_path, model_in=model_in, lock_timeout=lock_timeout
    )
    return trainer.run()

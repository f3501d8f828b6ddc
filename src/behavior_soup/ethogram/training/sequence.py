"""Training TGMJ sequence models on the feature extractor's per-frame features (task
``train_sequence``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ... import checks
from ..._torch import torch as _torch
from ...errors import ModelError
from ...jobs import TrialContext, register_task
from ...params import param
from ..build import sequence_arch
from ..checkpoint import load_checkpoint
from ..labels import UNLABELED
from .base import TrainConfig, Trainer
from .data import labels_of, pos_weight, score, stream_mask

__all__ = ["SequenceConfig", "SequenceTrainer", "train_sequence"]

#: Width of each stream's features (spatial, flow), concatenated.
STREAM_FEATURES = 512


@dataclass(frozen=True)
class SequenceConfig(TrainConfig):
    """Settings of sequence-model training (beside :class:`~.base.TrainConfig`'s).

    ``stream_dropout`` is the probability that a training crop loses one of its two streams'
    features (spatial or flow, the other doubled): the features of the training trials come
    from a feature extractor that fitted them, where both streams agree; on new trials they
    can disagree, and a model that learned to trust either alone copes.
    """

    epochs: int = param(30, checks.integer(min=1), "epochs to train (a resumed run trains up to this many)")
    batch_size: int = param(8, checks.integer(min=1), "crops per optimiser step")
    seq_len: int = param(180, checks.integer(min=1), "frames per training crop")
    hidden: int = param(128, checks.integer(min=1), "hidden channels")
    n_layers: int = param(3, checks.integer(min=1), "TGM layers")
    length: int = param(15, checks.integer(min=1, odd=True), "temporal kernel length of the TGM layers, frames")
    dropout: float = param(0.5, checks.number(min=0, below=1), "dropout between layers")
    residual: bool = param(
        True,
        None,
        "add a temporal correction to the feature extractor's logits instead of predicting from features alone",
    )
    feature_batch_size: int = param(32, checks.integer(min=1), "frames per batch when features must be extracted first")
    stream_dropout: float = param(0.5, checks.number(min=0, max=1), "probability a crop loses one stream (see above)")


class SequenceTrainer(Trainer):
    """Features (spatial and flow, 512-d each, concatenated) come from ``outputs.h5``
    ``<trial>/<mode>/features`` when they were made by the feature extractor (``parent``);
    otherwise they are extracted now and stored there (see :func:`..infer.extract_features`).
    Training uses random crops of ``seq_len`` frames; validation runs whole trials, fits
    per-class thresholds (stored in the checkpoint) and scores the mean F1 over the classes
    present."""

    kind = "sequence"
    config_class = SequenceConfig
    config: SequenceConfig

    def prepare(self) -> list[str]:
        """Load the feature extractor (``parent``), each trial's features and logits (stored, or
        extracted now, see :func:`..infer.trial_features`) and its labels.

        Returns
        -------
        list of str
            Every trial's uuid.

        Raises
        ------
        ModelError
            If the labels' behaviors are not the feature extractor's.
        """
        from ..infer import trial_features

        cfg = self.config
        self.fe = load_checkpoint(self.parent, kind="feature_extractor", mode=self.mode)
        self.behaviors = tuple(self.fe["behaviors"])
        self.feats, self.priors = {}, {}
        for c in tqdm(self.ctxs, desc="features", disable=not cfg.progress):
            f = trial_features(c, self.parent, device=self.dev, batch_size=cfg.feature_batch_size)
            self.feats[c.uuid], self.priors[c.uuid] = f["features"], f["logits"]
        self.labels, found = labels_of(self.ctxs, self.feats)
        if found != self.behaviors:
            raise ModelError(
                f"expected labels with the feature extractor's behaviors {list(self.behaviors)}, got {list(found)}"
            )
        return [c.uuid for c in self.ctxs]

    def architecture(self) -> dict[str, Any]:
        """The TGMJ architecture of the config, on the two streams' concatenated features
        (see :func:`..build.sequence_arch`).

        Returns
        -------
        dict
            The architecture record.
        """
        cfg = self.config
        return sequence_arch(
            len(self.behaviors),
            2 * STREAM_FEATURES,
            hidden=cfg.hidden,
            n_layers=cfg.n_layers,
            length=cfg.length,
            dropout=cfg.dropout,
            residual=cfg.residual,
        )

    def parents(self) -> list[str]:
        """The feature extractor the features come from.

        Returns
        -------
        list of str
            Its model id.
        """
        return [self.fe["model_id"]]

    def make_optimizer(self) -> Any:
        """Adam over every parameter; also sets up the class-weighted loss and the crop length
        (``seq_len``, or the shortest training trial's length when shorter).

        Returns
        -------
        torch.optim.Adam
            The optimiser.
        """
        torch = _torch()
        opt = torch.optim.Adam(self.model.parameters(), lr=self.config.lr)
        weight = torch.from_numpy(pos_weight([self.labels[u].array for u in self.train_u])).to(self.dev)[:, None]
        self.bce = torch.nn.BCEWithLogitsLoss(pos_weight=weight, reduction="none")  # on (N, C, T)
        self.crop = min(self.config.seq_len, min(len(self.feats[u]) for u in self.train_u))
        return opt

    def _tensors(self, u: str, a: int, b: int) -> tuple[Any, Any, Any]:
        torch = _torch()
        x = torch.from_numpy(np.ascontiguousarray(self.feats[u][a:b].T, dtype=np.float32))
        prior = torch.from_numpy(np.ascontiguousarray(self.priors[u][a:b].T, dtype=np.float32))
        y = torch.from_numpy(self.labels[u].array[a:b].T.astype(np.float32))
        return x, prior, y

    def _loss(self, logits: Any, y: Any) -> Any:
        mask = (y != UNLABELED).all(dim=1, keepdim=True).float()
        return (self.bce(logits, y.clamp(min=0)) * mask).sum() / (mask.sum() * y.shape[1]).clamp(min=1)

    def run_epoch(self, rng: np.random.Generator) -> dict[str, float]:
        """One pass over random crops of the training trials (about as many crops as cover
        each trial once), shuffled, with stream dropout.

        Parameters
        ----------
        rng
            The epoch's random generator (crops, order and stream dropout).

        Returns
        -------
        dict
            ``{"train_loss": float}``, the mean loss of the batches.
        """
        torch = _torch()
        cfg, crop, dev = self.config, self.crop, self.dev
        crops = []
        for u in self.train_u:
            n = len(self.feats[u])
            for _ in range(max(1, math.ceil(n / crop))):
                crops.append((u, int(rng.integers(0, n - crop + 1))))
        order = rng.permutation(len(crops))
        losses = []
        for i in range(0, len(order), cfg.batch_size):
            chosen = [crops[j] for j in order[i : i + cfg.batch_size]]
            xs, ps, ys = zip(*(self._tensors(u, a, a + crop) for u, a in chosen))
            x, prior, y = torch.stack(xs).to(dev), torch.stack(ps).to(dev), torch.stack(ys).to(dev)
            if cfg.stream_dropout > 0:
                keep = torch.from_numpy(stream_mask(len(x), cfg.stream_dropout, rng)).to(dev)
                x = x * keep.repeat_interleave(x.shape[1] // 2, dim=1)[:, :, None]
            loss = self._loss(self.model(x, prior), y)
            losses.append(self.step(loss))
        return {"train_loss": float(np.mean(losses))}

    def validate(self) -> tuple[float, dict[str, Any], dict[str, Any]]:
        """Loss, fitted thresholds and per-class metrics on the whole validation trials.

        Returns
        -------
        score : float
            The mean F1 over the classes present (see :func:`.data.score`).
        metrics : dict
            ``val_loss`` (mean over the trials) and ``classes`` (class -> metrics).
        extra : dict
            ``{"thresholds": list of C floats}``.
        """
        torch = _torch()
        probs, ys, losses = [], [], []
        for u in self.val_u:
            x, prior, y = self._tensors(u, 0, len(self.feats[u]))
            logits = self.model(x[None].to(self.dev), prior[None].to(self.dev))
            losses.append(float(self._loss(logits, y[None].to(self.dev))))
            probs.append(torch.sigmoid(logits[0]).T.cpu().numpy())
            ys.append(self.labels[u].array)
        p, y = np.concatenate(probs), np.concatenate(ys)
        s, per, thr = score(p, y, self.behaviors)
        return s, {"val_loss": float(np.mean(losses)), "classes": per}, {"thresholds": thr.tolist()}

    def metadata(self) -> dict[str, Any]:
        """The checkpoint fields of a sequence model.

        Returns
        -------
        dict
            ``input_size``, ``n_frames``, ``views`` and ``norm`` (the feature extractor's), and
            ``params`` (``epochs``, ``seq_len``, ``batch_size``, ``lr``, ``stream_dropout``).
        """
        cfg = self.config
        return {
            "input_size": self.fe["input_size"],
            "n_frames": self.fe["n_frames"],
            "views": self.fe.get("views"),
            "norm": self.fe["norm"],
            "params": {
                "epochs": cfg.epochs,
                "seq_len": cfg.seq_len,
                "batch_size": cfg.batch_size,
                "lr": cfg.lr,
                "stream_dropout": cfg.stream_dropout,
            },
        }


@register_task("train_sequence", params=SequenceConfig)
def train_sequence(
    contexts: Sequence[Mapping[str, Any] | TrialContext],
    mode: str,
    model_out: str,
    feature_model_in: str,
    *,
    table_path: str | None = None,
    model_in: str | None = None,
    lock_timeout: float | None = None,
    config: SequenceConfig | Mapping[str, Any] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """Train the TGMJ sequence model on the feature extractor's per-frame features (see
    :class:`SequenceTrainer`).

    Parameters
    ----------
    contexts
        The labelled trials (:class:`TrialContext` or its dict), at least 2.
    mode
        ``"fast"``, ``"medium"`` or ``"slow"`` (see :mod:`..modes`).
    model_out
        Folder for ``model.pt`` (best), ``last.pt`` (resumable) and ``metrics.csv``.
    feature_model_in
        The feature extractor checkpoint (same mode) whose features and logits it learns on.
    table_path
        Register the result in this table (see :mod:`..models`).
    model_in
        A sequence checkpoint of the same mode and behaviors to start from.
    lock_timeout
        Seconds to wait for the table's lock when registering.
    config, **settings
        A :class:`SequenceConfig` (or its dict), and/or its fields by name.

    Returns
    -------
    dict
        ``checkpoint``, ``model_id``, ``best_epoch``, ``epochs``, ``metrics`` (per class).
    """
    cfg = SequenceConfig.merged(config, settings)
    trainer = SequenceTrainer(
        contexts,
        mode,
        model_out,
        cfg,
        parent=feature_model_in,
        table_path=table_path,
        model_in=model_in,
        lock_timeout=lock_timeout,
    )
    return trainer.run()

"""The one training skeleton every ethogram model kind uses (:class:`Trainer`).

The base owns what training a model always involves: the trials and the output folder, the
split by trial, seeding, starting from ``model_in`` (checked to be of the same kind, mode and
behaviors), the checkpoint metadata, the epoch loop with its learning-rate schedule, best
epoch selection and resume, ``metrics.csv``, the weak-class warning and registration in the
table. A kind subclasses it and declares only what differs: how it loads its data, its
architecture, one training epoch and one validation, and its extra metadata. Its settings
are one :class:`TrainConfig` subclass.

Every epoch:

- the learning rate follows a cosine from ``lr`` in the first epoch to ``lr *
  min_lr_fraction`` in the last, computed from the epoch number, so a resumed run follows
  the same schedule; each epoch is seeded from ``(seed, epoch)``, so a resumed run ends with
  the same weights as an uninterrupted one;
- the metrics (loss; per-class F1 and accuracy on validation; learning rate) are appended to
  ``metrics.csv``, the best epoch so far (:class:`Selection`) is saved as ``model.pt`` and
  the resumable state as ``last.pt``.

The per-epoch decisions (:func:`cosine_lr`, :class:`Selection`) are in :mod:`.epochs`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ... import checks
from ..._torch import resolve_device, seed_all
from ..._torch import torch as _torch
from ...errors import ModelError
from ...jobs import TrialContext
from ...locking import atomic_write
from ...params import Params, param
from ...provenance import now_iso
from ..build import build
from ..checkpoint import load_checkpoint, new_model_id, save_checkpoint
from ..models import register_trained
from ..modes import get_mode
from .data import contexts_of, split_trials
from .epochs import SCORE_TOLERANCE, Selection, cosine_lr, flat_metrics

__all__ = ["SCORE_TOLERANCE", "Selection", "TrainConfig", "Trainer", "cosine_lr"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig(Params):
    """Settings every training run has; each kind's config adds its own."""

    epochs: int = param(10, checks.integer(min=1), "epochs to train (a resumed run trains up to this many)")
    batch_size: int = param(16, checks.integer(min=1), "samples per optimiser step")
    lr: float = param(1e-3, checks.number(above=0), "learning rate of the first epoch")
    min_lr_fraction: float = param(0.05, checks.number(above=0, max=1), "last epoch's learning rate / lr")
    val_fraction: float = param(0.2, checks.number(above=0, below=1), "fraction of trials for validation")
    val_uuids: tuple[str, ...] | None = param(None, checks.optional(checks.names()), "validation trials (uuids)")
    device: str = param("auto", checks.text(), '"auto" (CUDA when there is a GPU), "cpu", "cuda", "cuda:1", ...')
    seed: int = param(0, checks.integer(min=0), "seed of the split, initial weights and sampling")
    resume: bool = param(True, None, "continue from model_out's last.pt when it is the same model")
    progress: bool = param(True, None, "show progress bars")

    @classmethod
    def merged(cls, config: TrainConfig | Mapping[str, Any] | None, settings: Mapping[str, Any]) -> Any:
        """A config from ``config`` (an instance or its dict, or None) with ``settings``
        (field values by name) on top, checked.

        Parameters
        ----------
        config
            A config of this class, or a mapping of its fields, or None for the defaults.
        settings
            Field values by name, taking precedence over ``config``'s.

        Returns
        -------
        TrainConfig
            Of this class.

        Raises
        ------
        TypeError
            An unknown setting (the message lists the known ones).
        ValueError
            A bad value ("expected X, got Y", naming the field).
        """
        base = config.to_dict() if isinstance(config, Params) else dict(config or {})
        return cls.from_mapping({**base, **settings})


class Trainer:
    """Base of the training of one model kind (see the module docstring).

    Subclasses set :attr:`kind` and :attr:`config_class` and implement :meth:`prepare`,
    :meth:`architecture`, :meth:`make_optimizer`, :meth:`run_epoch`, :meth:`validate` and
    :meth:`metadata`; they may override :meth:`parents` and :meth:`after_init`.

    Parameters
    ----------
    contexts
        The trials (:class:`TrialContext` or its dict).
    mode
        A registered mode (see :mod:`..modes`).
    model_out
        Folder for ``model.pt`` (best), ``last.pt`` (resumable) and ``metrics.csv``.
    config
        The kind's :class:`TrainConfig`.
    parent
        Checkpoint of the parent kind (for kinds trained on top of another).
    table_path
        Register the result in this table (see :mod:`..models`).
    model_in
        A checkpoint of the same kind and mode to start from.
    lock_timeout
        Seconds to wait for the table's lock when registering.
    """

    kind: ClassVar[str]
    config_class: ClassVar[type[TrainConfig]] = TrainConfig
    #: Behaviors the model predicts (None for a kind without labels); set by :meth:`prepare`.
    behaviors: tuple[str, ...] | None = None

    def __init__(
        self,
        contexts: Sequence[Mapping[str, Any] | TrialContext],
        mode: str,
        model_out: str,
        config: TrainConfig,
        *,
        parent: str | None = None,
        table_path: str | None = None,
        model_in: str | None = None,
        lock_timeout: float | None = None,
    ) -> None:
        if not isinstance(config, self.config_class):
            raise TypeError(f"expected a {self.config_class.__name__}, got {type(config).__name__}")
        self.config = config
        self.ctxs = contexts_of(contexts)
        self.mode = mode
        self.spec = get_mode(mode)
        self.parent = parent
        self.table_path = table_path
        self.model_in = model_in
        self.lock_timeout = lock_timeout
        self.out = _out_dir(model_out)  # checked now, made once the data has loaded
        self.dev = resolve_device(config.device)

    # ------------------------------------------------------------------ what a kind declares

    def prepare(self) -> list[str]:
        """Load what training reads (frames, labels, features) and return the trials' uuids.

        Returns
        -------
        list of str
            The uuids of the trials to split into training and validation, in trial order.
        """
        raise NotImplementedError

    def architecture(self) -> dict[str, Any]:
        """The architecture record of the network (see :mod:`..build`).

        Returns
        -------
        dict
            The record :func:`..build.build` makes the network of :attr:`kind` from; stored
            in the checkpoint as ``architecture``.
        """
        raise NotImplementedError

    def parents(self) -> list[str]:
        """Model ids this model is built on (e.g. its frozen flow generator), after
        :meth:`architecture`'s network is built as :attr:`model`.

        Returns
        -------
        list of str
            The parents' model ids; empty by default.
        """
        return []

    def after_init(self, init: dict[str, Any] | None) -> None:
        """Called after the network is built (and loaded from ``model_in`` when given,
        ``init`` its checkpoint), before it moves to the device.

        Parameters
        ----------
        init
            The ``model_in`` checkpoint the weights were loaded from, or None.
        """

    def make_optimizer(self) -> Any:
        """The optimiser of :attr:`model`.

        Returns
        -------
        torch.optim.Optimizer
            The optimiser of the trainable parameters; its learning rate is set each epoch.
        """
        raise NotImplementedError

    def run_epoch(self, rng: np.random.Generator) -> dict[str, float]:
        """Train one epoch (the model is in training mode); returns its metrics.

        Parameters
        ----------
        rng
            The epoch's random generator, seeded from ``(seed, epoch)``.

        Returns
        -------
        dict
            Metric name -> value, e.g. ``{"train_loss": float}``.
        """
        raise NotImplementedError

    def validate(self) -> tuple[float, dict[str, Any], dict[str, Any]]:
        """``(score, metrics, extra)`` on the validation trials (under ``no_grad``, eval mode):
        higher score is better; ``metrics`` has ``val_loss``; ``extra`` (e.g. thresholds) is
        stored with the best model.

        Returns
        -------
        score : float
            Higher is better.
        metrics : dict
            ``val_loss`` and the kind's other validation metrics.
        extra : dict
            Checkpoint fields stored with the best model (e.g. ``thresholds``).
        """
        raise NotImplementedError

    def metadata(self) -> dict[str, Any]:
        """Checkpoint fields of this kind: ``input_size``, ``n_frames``, ``views``, ``norm``,
        ``params`` (the settings worth recording).

        Returns
        -------
        dict
            ``input_size`` ``[H, W]``, ``n_frames``, ``views``, ``norm`` and ``params``.
        """
        raise NotImplementedError

    # ------------------------------------------------------------------------- the skeleton

    def step(self, loss: Any) -> float:
        """One optimiser step on ``loss`` for :meth:`run_epoch`.

        Parameters
        ----------
        loss
            A scalar torch tensor with a graph back to the model's parameters.

        Returns
        -------
        float
            The loss's value.
        """
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def run(self) -> dict[str, Any]:
        """Train, register and summarise.

        Returns
        -------
        dict
            ``checkpoint``, ``model_id``, ``best_epoch``, ``epochs``, ``metrics`` (of the
            best epoch on validation).
        """
        cfg = self.config
        uuids = self.prepare()
        self.out.mkdir(parents=True, exist_ok=True)
        self.train_u, self.val_u = split_trials(uuids, cfg.val_fraction, cfg.seed, cfg.val_uuids)
        seed_all(cfg.seed)
        arch = self.architecture()
        self.model = build(self.kind, arch)
        parents = self.parents()
        init = None
        if self.model_in:
            init = load_checkpoint(self.model_in, kind=self.kind, mode=self.mode)
            if self.behaviors is not None and tuple(init["behaviors"]) != self.behaviors:
                raise ModelError(
                    f"expected model_in trained on behaviors {list(self.behaviors)}, got {list(init['behaviors'])}"
                )
            self.model.load_state_dict(init["state_dict"])
            parents.append(init["model_id"])
        self.after_init(init)
        self.model.to(self.dev)
        self.optimizer = self.make_optimizer()
        meta = {
            "kind": self.kind,
            "mode": self.mode,
            "architecture": arch,
            "behaviors": None if self.behaviors is None else list(self.behaviors),
            **self.metadata(),
            "parents": parents,
            "trained_on": self.train_u,
            "validated_on": self.val_u,
            "seed": cfg.seed,
        }
        summary = self.fit(meta)
        if self.table_path:
            register_trained(
                self.table_path,
                self.mode,
                self.kind,
                summary["checkpoint"],
                {
                    "model_id": summary["model_id"],
                    "behaviors": meta["behaviors"],
                    "created": now_iso(),
                    "best_epoch": summary["best_epoch"],
                    "metrics": summary["metrics"],
                },
                lock_timeout=self.lock_timeout,
            )
        return summary

    def fit(self, meta: dict[str, Any]) -> dict[str, Any]:
        """The epoch loop with resume (see the module docstring).

        Parameters
        ----------
        meta
            Checkpoint metadata; ``model_id`` is added (or taken from the run resumed).

        Returns
        -------
        dict
            As :meth:`run`.
        """
        torch = _torch()
        cfg, out, model, optimizer = self.config, self.out, self.model, self.optimizer
        last_path, best_path = out / "last.pt", out / "model.pt"
        history: list[dict[str, Any]] = []
        best = Selection()
        start = 1
        if cfg.resume and last_path.is_file():
            history, best, start = self._resume(last_path, meta)
        meta.setdefault("model_id", new_model_id())
        bar = tqdm(range(start, cfg.epochs + 1), desc=f"train {self.kind}", disable=not cfg.progress, unit="epoch")
        for epoch in bar:
            t0 = time.perf_counter()
            seed_all(cfg.seed * 100_003 + epoch)
            epoch_lr = cosine_lr(cfg.lr, epoch, cfg.epochs, cfg.min_lr_fraction)
            for group in optimizer.param_groups:
                group["lr"] = epoch_lr
            model.train()
            train_m = self.run_epoch(np.random.default_rng([cfg.seed, epoch]))
            model.eval()
            with torch.no_grad():
                score, val_m, extra = self.validate()
            row = {"epoch": epoch, "lr": epoch_lr, **train_m, **flat_metrics(val_m), "score": score}
            row["duration_s"] = time.perf_counter() - t0
            history.append(row)
            state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            if best.take(float(score), float(val_m.get("val_loss", -score))):
                body = {**meta, **extra, "epoch": epoch, "metrics": val_m, "history": history, "state_dict": state}
                save_checkpoint(best_path, body)
            save_checkpoint(
                last_path,
                {
                    **meta,
                    "epoch": epoch,
                    "selection": [best.top, best.score, best.loss],
                    "history": history,
                    "state_dict": state,
                    "optimizer": optimizer.state_dict(),
                },
            )
            atomic_write(out / "metrics.csv", lambda tmp, h=history: pd.DataFrame(h).to_csv(tmp, index=False))
            bar.set_postfix(score=f"{score:.3f}")
            log.info("%s epoch %d: %s", self.kind, epoch, {k: v for k, v in row.items() if isinstance(v, float)})
        if not best_path.is_file():
            raise ModelError(f"expected a trained model in {str(out)!r} after {cfg.epochs} epochs, found none")
        final = load_checkpoint(best_path, kind=self.kind)
        self._warn_weak(final)
        return {
            "checkpoint": str(best_path),
            "model_id": final["model_id"],
            "best_epoch": int(final["epoch"]),
            "epochs": cfg.epochs,
            "metrics": final["metrics"],
        }

    def _resume(self, last_path: Path, meta: dict[str, Any]) -> tuple[list[dict[str, Any]], Selection, int]:
        last = load_checkpoint(last_path, kind=self.kind, mode=meta["mode"])
        same = {k: last.get(k) for k in ("architecture", "behaviors", "input_size", "views")}
        want = {k: meta.get(k) for k in same}
        if _plain(same) != _plain(want):
            raise ModelError(
                f"expected {str(last_path)!r} to be the same model to resume, got a different one "
                f"({_plain(same)} vs {_plain(want)}); choose another model_out or pass resume=False"
            )
        self.model.load_state_dict(last["state_dict"])
        self.optimizer.load_state_dict(last["optimizer"])
        if "selection" in last:
            best = Selection(*(float(v) for v in last["selection"]))
        else:  # written before the selection kept the loss
            best = Selection(float(last["best_score"]), float(last["best_score"]))
        meta["model_id"] = last["model_id"]
        start = int(last["epoch"]) + 1
        if start <= self.config.epochs:
            log.info("resuming %s training in %s after epoch %d", self.kind, self.out, start - 1)
        return list(last["history"]), best, start

    def _warn_weak(self, final: Mapping[str, Any]) -> None:
        weak = {
            name: round(m["f1"], 3)
            for name, m in (final["metrics"].get("classes") or {}).items()
            if m.get("support", 0) > 0 and m["f1"] < 0.5
        }
        if weak:
            log.warning(
                "%s in %s: validation F1 below 0.5 for %s at the best epoch (%d); the model has not "
                "learned these behaviors: see metrics.csv, label more trials of them or train longer",
                self.kind,
                self.out,
                weak,
                int(final["epoch"]),
            )


def _out_dir(model_out: str) -> Path:
    p = Path(model_out)
    if p.suffix in (".pt", ".pth"):
        raise ValueError(
            f"expected model_out to be a folder for the checkpoints and metrics, got a file name {str(p)!r}"
        )
    return p


def _plain(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x

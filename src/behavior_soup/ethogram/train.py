"""Training the ethogram models: flow generator (no labels), feature extractor and sequence
model (labelled trials). Each is a table-level task run through the job runner
(:func:`behavior_soup.jobs.run_task`), and shares one epoch loop (:func:`_fit`):

- trials are split into train and validation sets by trial, never by frame, and never all
  labelled trials in one set;
- after every epoch the metrics (loss; per-class F1 and accuracy on validation) are appended
  to ``metrics.csv`` beside the checkpoints, the best epoch so far is saved as ``model.pt``
  and the resumable state as ``last.pt``;
- a run finding a ``last.pt`` of the same model in ``model_out`` resumes after its epoch, so
  a crashed run continues where it stopped; each epoch is seeded from ``(seed, epoch)``, so a
  resumed run ends with the same weights as an uninterrupted one;
- ``device="auto"`` uses CUDA when there is a GPU, else the CPU;
- the finished model is registered in the table (:mod:`.models`) for inference.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._torch import resolve_device, seed_all
from .._torch import torch as _torch
from ..errors import ItemNotFoundError, ModelError, OutputsError
from ..jobs import TrialContext
from ..provenance import now_iso
from ..schema import VIEWS
from .augment import AugmentSpec, as_record, augment_clips, resolve_augmentation
from .build import build, feature_extractor_arch, flow_arch, sequence_arch
from .checkpoint import load_checkpoint, new_model_id, save_checkpoint
from .frames import clip_batch, norm_stats, trial_frames, view_paths
from .jobs import read_labels
from .labels import UNLABELED, Labels, check_same_behaviors
from .models import register_trained
from .modes import ModeSpec, check_input_size, get_mode
from .postprocess import class_metrics, fit_thresholds, postprocess

__all__ = ["split_trials", "train_feature_extractor", "train_flow_generator", "train_sequence"]

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ common parts


def split_trials(
    uuids: Sequence[str], val_fraction: float = 0.2, seed: int = 0, val_uuids: Sequence[str] | None = None
) -> tuple[list[str], list[str]]:
    """Split trials (by uuid) into train and validation sets; both non-empty.

    Raises
    ------
    ValueError
        Fewer than 2 trials, a fraction outside (0, 1), or ``val_uuids`` not among ``uuids``
        or taking every trial.
    """
    uuids = list(uuids)
    if len(uuids) < 2:
        raise ValueError(f"expected at least 2 trials to split into train and validation, got {len(uuids)}")
    if val_uuids is not None:
        val = [u for u in uuids if u in set(val_uuids)]
        unknown = sorted(set(val_uuids) - set(uuids))
        if unknown or not val or len(val) == len(uuids):
            raise ValueError(
                f"expected validation trials that are a non-empty proper subset of the {len(uuids)} "
                f"training trials, got {len(val)} matching and unknown {unknown}"
            )
    else:
        if not 0 < val_fraction < 1:
            raise ValueError(f"expected 0 < val_fraction < 1, got {val_fraction}")
        rng = np.random.default_rng(seed)
        k = min(len(uuids) - 1, max(1, int(round(len(uuids) * val_fraction))))
        val = sorted(rng.choice(uuids, size=k, replace=False).tolist(), key=uuids.index)
    return [u for u in uuids if u not in set(val)], val


def _contexts(contexts: Sequence[Mapping[str, Any] | TrialContext]) -> list[TrialContext]:
    out = [c if isinstance(c, TrialContext) else TrialContext(**c) for c in contexts]
    if not out:
        raise ValueError("expected at least one trial to train on, got none")
    return out


def _out_dir(model_out: str | os.PathLike) -> Path:
    p = Path(model_out)
    if p.suffix in (".pt", ".pth"):
        raise ValueError(
            f"expected model_out to be a folder for the checkpoints and metrics, got a file name {str(p)!r}"
        )
    p.mkdir(parents=True, exist_ok=True)
    return p


def _write_metrics(out: Path, history: list[dict[str, Any]]) -> None:
    tmp = out / f".metrics.csv.{os.getpid()}.tmp"
    pd.DataFrame(history).to_csv(tmp, index=False)
    os.replace(tmp, out / "metrics.csv")


def _fit(
    *,
    out: Path,
    kind: str,
    model: Any,
    optimizer: Any,
    epochs: int,
    seed: int,
    meta: dict[str, Any],
    run_epoch: Callable[[np.random.Generator], dict[str, float]],
    validate: Callable[[], tuple[float, dict[str, Any], dict[str, Any]]],
    resume: bool,
    progress: bool,
    lr: float,
    min_lr_fraction: float = 0.05,
) -> dict[str, Any]:
    """The shared epoch loop. ``run_epoch(rng)`` trains one epoch and returns its metrics;
    ``validate()`` returns ``(score, metrics, extra)`` (higher score is better; ``extra``,
    e.g. thresholds, is stored with the best model).

    The learning rate follows a cosine from ``lr`` in the first epoch to
    ``lr * min_lr_fraction`` in the last, computed from the epoch number (so a resumed run
    follows the same schedule). The best epoch (:class:`_Selection`) is the one with the
    lowest validation loss among those whose score is within ``SCORE_TOLERANCE`` of the best
    score so far: with few validation trials the F1 score saturates early, or peaks once by
    one frame, and the first epoch to reach it is rarely the best model."""
    torch = _torch()
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"expected epochs >= 1, got {epochs!r}")
    last_path, best_path = out / "last.pt", out / "model.pt"
    history: list[dict[str, Any]] = []
    best = _Selection()
    start = 1
    if resume and last_path.is_file():
        last = load_checkpoint(last_path, kind=kind, mode=meta["mode"])
        same = {k: last.get(k) for k in ("architecture", "behaviors", "input_size", "views")}
        want = {k: meta.get(k) for k in same}
        if _plain(same) != _plain(want):
            raise ModelError(
                f"expected {str(last_path)!r} to be the same model to resume, got a different one "
                f"({_plain(same)} vs {_plain(want)}); choose another model_out or pass resume=False"
            )
        model.load_state_dict(last["state_dict"])
        optimizer.load_state_dict(last["optimizer"])
        history = list(last["history"])
        if "selection" in last:
            best = _Selection(*(float(v) for v in last["selection"]))
        else:  # written before the selection kept the loss
            best = _Selection(float(last["best_score"]), float(last["best_score"]))
        meta["model_id"] = last["model_id"]
        start = int(last["epoch"]) + 1
        if start <= epochs:
            log.info("resuming %s training in %s after epoch %d", kind, out, start - 1)
    meta.setdefault("model_id", new_model_id())
    bar = tqdm(range(start, epochs + 1), desc=f"train {kind}", disable=not progress, unit="epoch")
    for epoch in bar:
        t0 = time.perf_counter()
        seed_all(seed * 100_003 + epoch)
        epoch_lr = _cosine_lr(lr, epoch, epochs, min_lr_fraction)
        for group in optimizer.param_groups:
            group["lr"] = epoch_lr
        model.train()
        train_m = run_epoch(np.random.default_rng([seed, epoch]))
        model.eval()
        with torch.no_grad():
            score, val_m, extra = validate()
        row = {"epoch": epoch, "lr": epoch_lr, **train_m, **_flat_metrics(val_m), "score": score}
        row["duration_s"] = time.perf_counter() - t0
        history.append(row)
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        if best.take(float(score), float(val_m.get("val_loss", -score))):
            save_checkpoint(
                best_path, {**meta, **extra, "epoch": epoch, "metrics": val_m, "history": history, "state_dict": state}
            )
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
        _write_metrics(out, history)
        bar.set_postfix(score=f"{score:.3f}")
        log.info("%s epoch %d: %s", kind, epoch, {k: v for k, v in row.items() if isinstance(v, float)})
    if not best_path.is_file():
        raise ModelError(f"expected a trained model in {str(out)!r} after {epochs} epochs, found none")
    final = load_checkpoint(best_path, kind=kind)
    weak = {
        name: round(m["f1"], 3)
        for name, m in (final["metrics"].get("classes") or {}).items()
        if m.get("support", 0) > 0 and m["f1"] < 0.5
    }
    if weak:
        log.warning(
            "%s in %s: validation F1 below 0.5 for %s at the best epoch (%d); the model has not "
            "learned these behaviors: see metrics.csv, label more trials of them or train longer",
            kind,
            out,
            weak,
            int(final["epoch"]),
        )
    return {
        "checkpoint": str(best_path),
        "model_id": final["model_id"],
        "best_epoch": int(final["epoch"]),
        "epochs": epochs,
        "metrics": final["metrics"],
    }


#: Scores (validation F1, in [0, 1]) this close to the best so far count as equally good; the
#: validation loss decides between them.
SCORE_TOLERANCE = 0.02


@dataclass
class _Selection:
    """Which epoch is the best so far (see :func:`_fit`): ``top`` the best score seen,
    ``score`` and ``loss`` those of the epoch kept."""

    top: float = -math.inf
    score: float = -math.inf
    loss: float = math.inf

    def take(self, score: float, loss: float) -> bool:
        """Whether an epoch with ``score`` and validation ``loss`` becomes the best."""
        self.top = max(self.top, score)
        kept_still_good = self.score >= self.top - SCORE_TOLERANCE
        better = (not kept_still_good and score == self.top) or (
            score >= self.top - SCORE_TOLERANCE and loss < self.loss
        )
        if better:
            self.score, self.loss = score, loss
        return better


def _cosine_lr(lr: float, epoch: int, epochs: int, min_fraction: float) -> float:
    """Learning rate of ``epoch`` (1-based) of ``epochs``: ``lr`` at the first, ``lr *
    min_fraction`` at the last, a half cosine between."""
    t = (epoch - 1) / max(epochs - 1, 1)
    return float(lr * (min_fraction + (1 - min_fraction) * 0.5 * (1 + math.cos(math.pi * t))))


def _plain(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def _flat_metrics(m: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in m.items():
        if isinstance(v, Mapping):
            for k2, v2 in v.items():
                if isinstance(v2, Mapping):
                    out.update({f"{k}/{k2}/{k3}": v3 for k3, v3 in v2.items() if k3 in ("f1", "accuracy")})
                else:
                    out[f"{k}/{k2}"] = v2
        else:
            out[k] = v
    return out


def _loaded_frames(ctxs: list[TrialContext], size: tuple[int, int], views: tuple[str, ...] | None, progress: bool):
    return {c.uuid: trial_frames(c, size, views) for c in tqdm(ctxs, desc="decode", disable=not progress)}


def _register(table_path: str | None, mode: str, kind: str, summary: dict, meta: dict, lock_timeout) -> None:
    if table_path:
        register_trained(
            table_path,
            mode,
            kind,
            summary["checkpoint"],
            {
                "model_id": summary["model_id"],
                "behaviors": meta.get("behaviors"),
                "created": now_iso(),
                "best_epoch": summary["best_epoch"],
                "metrics": summary["metrics"],
            },
            lock_timeout=lock_timeout,
        )


def _mode_setup(
    mode: str, input_size: Sequence[int] | None, ctxs: list[TrialContext], views: Sequence[str] | None
) -> tuple[ModeSpec, tuple[int, int], tuple[str, ...]]:
    """The mode, the checked input size, and the views every trial must have (default: the
    first trial's, in front-then-side order). A trial missing one is a MissingViewError."""
    spec = get_mode(mode)
    views_t = tuple(views) if views else tuple(v for v in VIEWS if v in ctxs[0].videos)
    for c in ctxs:
        view_paths(c, views_t)
    return spec, check_input_size(input_size or spec.input_size, spec, len(views_t)), views_t


def _labels_of(ctxs: list[TrialContext], frames: Mapping[str, np.ndarray]) -> tuple[dict[str, Labels], tuple[str, ...]]:
    missing, labels = [], {}
    for c in ctxs:
        try:
            labels[c.uuid] = read_labels(c)
        except OutputsError:
            missing.append(c.label)
    if missing:
        raise ItemNotFoundError(
            f"expected ground-truth labels for every training trial, found none for {missing}; load them "
            "with df.behavior.load_labels() or row.behavior.set_labels(), or leave those trials out"
        )
    behaviors = check_same_behaviors({c.label: labels[c.uuid] for c in ctxs})
    for c in ctxs:
        labels[c.uuid].check_frames(len(frames[c.uuid]), c.label)
    return labels, behaviors


def _pos_weight(labels: list[np.ndarray]) -> np.ndarray:
    y = np.concatenate([lab[(lab != UNLABELED).all(axis=1)] for lab in labels])
    pos = y.sum(axis=0).astype(np.float64)
    neg = len(y) - pos
    return np.clip(neg / np.maximum(pos, 1), 1.0, 20.0).astype(np.float32)


def _score(probs: np.ndarray, labels: np.ndarray, behaviors: tuple[str, ...]) -> tuple[float, dict, np.ndarray]:
    thr = fit_thresholds(probs, labels)
    per = class_metrics(postprocess(probs, thr), labels, behaviors)
    present = [m["f1"] for m in per.values() if m["support"] > 0]
    return float(np.mean(present)) if present else 0.0, per, thr


def _centres(frames: Mapping[str, np.ndarray], uuids: Sequence[str], labels=None) -> list[tuple[str, int]]:
    out = []
    for u in uuids:
        idx = np.arange(len(frames[u]))
        if labels is not None:
            idx = idx[(labels[u].array != UNLABELED).all(axis=1)]
        out += [(u, int(i)) for i in idx]
    return out


def _batches(items: list[tuple[str, int]], batch_size: int, rng: np.random.Generator | None, steps: int | None):
    order = np.arange(len(items)) if rng is None else rng.permutation(len(items))
    if steps is not None:
        order = order[: steps * batch_size]
    for i in range(0, len(order), batch_size):
        chosen = [items[j] for j in order[i : i + batch_size]]
        by: dict[str, list[int]] = {}
        for u, t in chosen:
            by.setdefault(u, []).append(t)
        yield by


def _clips(frames, by: Mapping[str, list[int]], n_frames: int, norm, device: str):
    torch = _torch()
    x = torch.cat([clip_batch(frames[u], np.asarray(ts), n_frames, norm) for u, ts in by.items()])
    return x.to(device)


def _stream_mask(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """``(n, 2)`` float32 multipliers for the (spatial, flow) halves of ``n`` samples: with
    probability ``p`` each sample loses one of its two streams (either, equally likely); the
    kept stream is scaled by 2 so the input's expected sum stays the same."""
    drop = rng.random(n) < p
    which = rng.integers(0, 2, n)
    m = np.ones((n, 2), np.float32)
    m[drop, which[drop]] = 0.0
    m[drop, 1 - which[drop]] = 2.0
    return m


def _even(items: list, k: int) -> list:
    if len(items) <= k:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, k).round().astype(int)]


# ------------------------------------------------------------------------------ flow generator


def train_flow_generator(
    contexts: Sequence[Mapping[str, Any] | TrialContext],
    mode: str,
    model_out: str,
    *,
    table_path: str | None = None,
    model_in: str | None = None,
    epochs: int = 10,
    batch_size: int = 16,
    lr: float = 1e-3,
    steps_per_epoch: int | None = None,
    val_fraction: float = 0.2,
    val_uuids: Sequence[str] | None = None,
    input_size: Sequence[int] | None = None,
    views: Sequence[str] | None = None,
    smooth_weight: float = 0.05,
    max_val_clips: int = 256,
    device: str = "auto",
    seed: int = 0,
    resume: bool = True,
    progress: bool = True,
    lock_timeout: float | None = None,
) -> dict[str, Any]:
    """Train a flow generator on trials' videos, self-supervised (no labels needed).

    The loss is the photometric error of each frame reconstructed from the next one warped by
    the predicted flow, plus a smoothness term (:func:`.nets.photometric_loss`); validation is
    that loss on the validation trials (score = minus the loss).

    Parameters
    ----------
    contexts
        The trials (:class:`TrialContext` or its dict), at least 2.
    mode
        ``"fast"``, ``"medium"`` or ``"slow"`` (see :mod:`.modes`).
    model_out
        Folder for ``model.pt`` (best), ``last.pt`` (resumable) and ``metrics.csv``.
    table_path
        Register the result in this table (see :mod:`.models`).
    model_in
        A flow generator checkpoint of the same mode to start from.
    steps_per_epoch
        Batches per epoch (default: every frame of the training trials once).

    Returns
    -------
    dict
        ``checkpoint``, ``model_id``, ``best_epoch``, ``epochs``, ``metrics``.
    """
    from .nets import photometric_loss

    torch = _torch()
    ctxs = _contexts(contexts)
    spec, size, views_t = _mode_setup(mode, input_size, ctxs, views)
    dev = resolve_device(device)
    out = _out_dir(model_out)
    frames = _loaded_frames(ctxs, size, views_t, progress)
    train_u, val_u = split_trials([c.uuid for c in ctxs], val_fraction, seed, val_uuids)
    seed_all(seed)
    model = build("flow_generator", flow_arch(spec))
    parents: list[str] = []
    if model_in:
        init = load_checkpoint(model_in, kind="flow_generator", mode=mode)
        model.load_state_dict(init["state_dict"])
        parents = [init["model_id"]]
        norm = init["norm"]
    else:
        norm = norm_stats([frames[u] for u in train_u], seed=seed)
    model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    train_items = _centres(frames, train_u)
    val_items = _even(_centres(frames, val_u), max_val_clips)
    L = spec.n_frames

    def run_epoch(rng: np.random.Generator) -> dict[str, float]:
        losses = []
        for by in _batches(train_items, batch_size, rng, steps_per_epoch):
            x = _clips(frames, by, L, norm, dev)
            loss = photometric_loss(x, model(x), smooth_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return {"train_loss": float(np.mean(losses))}

    def validate() -> tuple[float, dict, dict]:
        losses, n = 0.0, 0
        for by in _batches(val_items, batch_size, None, None):
            x = _clips(frames, by, L, norm, dev)
            losses += float(photometric_loss(x, model(x), smooth_weight)) * len(x)
            n += len(x)
        val = losses / max(n, 1)
        return -val, {"val_loss": val}, {}

    meta = {
        "kind": "flow_generator",
        "mode": mode,
        "architecture": flow_arch(spec),
        "behaviors": None,
        "input_size": list(size),
        "n_frames": L,
        "views": list(views_t),
        "norm": norm,
        "parents": parents,
        "trained_on": train_u,
        "validated_on": val_u,
        "seed": seed,
        "params": {"epochs": epochs, "batch_size": batch_size, "lr": lr, "smooth_weight": smooth_weight},
    }
    summary = _fit(
        out=out,
        kind="flow_generator",
        model=model,
        optimizer=opt,
        epochs=epochs,
        seed=seed,
        meta=meta,
        run_epoch=run_epoch,
        validate=validate,
        resume=resume,
        progress=progress,
        lr=lr,
    )
    _register(table_path, mode, "flow_generator", summary, meta, lock_timeout)
    return summary


# --------------------------------------------------------------------------- feature extractor


def train_feature_extractor(
    contexts: Sequence[Mapping[str, Any] | TrialContext],
    mode: str,
    model_out: str,
    flow_model_in: str,
    *,
    table_path: str | None = None,
    model_in: str | None = None,
    epochs: int = 10,
    batch_size: int = 32,
    lr: float = 1e-3,
    steps_per_epoch: int | None = None,
    val_fraction: float = 0.2,
    val_uuids: Sequence[str] | None = None,
    dropout: float = 0.25,
    spatial_weights: str | None = None,
    flow_weights: str | None = None,
    max_val_frames: int = 4000,
    augment: AugmentSpec = True,
    device: str = "auto",
    seed: int = 0,
    resume: bool = True,
    progress: bool = True,
    lock_timeout: float | None = None,
) -> dict[str, Any]:
    """Train the hidden two-stream feature extractor on labelled trials.

    The flow generator (``flow_model_in``, same mode) is frozen; both ResNet streams start
    from random weights or from user weight files (``spatial_weights``, ``flow_weights``, see
    :func:`.nets.load_backbone_weights`), or from ``model_in`` (a feature extractor of the
    same mode and behaviors). The loss is binary cross-entropy per class on the fused logits,
    weighted by class rarity, over labelled frames only. Validation fits per-class thresholds
    (stored in the checkpoint) and scores the mean F1 over the classes present.

    Input size, views and normalisation come from the flow generator's checkpoint.

    Parameters
    ----------
    augment
        Training augmentation per view (see :mod:`.augment`): True for the defaults (left-right
        mirror, +/- 10 degrees, small zoom and shift, brightness and contrast), False for
        none, or a mapping view -> :class:`~.augment.Augmentation` or dict of its fields, e.g.
        ``{"front": {"rotate": 180, "flip_ud": 0.5}}`` for a top-down open-field camera.
        Recorded in the checkpoint's ``params``.

    Returns
    -------
    dict
        ``checkpoint``, ``model_id``, ``best_epoch``, ``epochs``, ``metrics`` (per class).
    """
    from .nets import load_backbone_weights

    torch = _torch()
    ctxs = _contexts(contexts)
    flow = load_checkpoint(flow_model_in, kind="flow_generator", mode=mode)
    spec = get_mode(mode)
    size = tuple(flow["input_size"])
    views_t = tuple(flow["views"]) if flow.get("views") else None
    dev = resolve_device(device)
    out = _out_dir(model_out)
    frames = _loaded_frames(ctxs, size, views_t, progress)
    labels, behaviors = _labels_of(ctxs, frames)
    train_u, val_u = split_trials([c.uuid for c in ctxs], val_fraction, seed, val_uuids)
    seed_all(seed)
    arch = feature_extractor_arch(spec, len(behaviors), dropout)
    model = build("feature_extractor", arch)
    model.flow_generator.load_state_dict(flow["state_dict"])
    parents = [flow["model_id"]]
    if model_in:
        init = load_checkpoint(model_in, kind="feature_extractor", mode=mode)
        if tuple(init["behaviors"]) != behaviors:
            raise ModelError(f"expected model_in trained on behaviors {list(behaviors)}, got {list(init['behaviors'])}")
        model.load_state_dict(init["state_dict"])
        model.flow_generator.load_state_dict(flow["state_dict"])
        parents.append(init["model_id"])
    if spatial_weights:
        load_backbone_weights(model.spatial.backbone, spatial_weights)
    if flow_weights:
        load_backbone_weights(model.flow.backbone, flow_weights)
    model.to(dev)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=1e-4)
    pos_weight = torch.from_numpy(_pos_weight([labels[u].array for u in train_u])).to(dev)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    train_items = _centres(frames, train_u, labels)
    val_items = _even(_centres(frames, val_u, labels), max_val_frames)
    if not train_items:
        raise ItemNotFoundError("expected labelled frames in the training trials, found only unlabelled ones")
    L = spec.n_frames

    def targets(by: Mapping[str, list[int]]) -> Any:
        y = np.concatenate([labels[u].array[ts] for u, ts in by.items()]).astype(np.float32)
        return torch.from_numpy(y).to(dev)

    aug = resolve_augmentation(augment, views_t or tuple(v for v in VIEWS if v in ctxs[0].videos))

    def run_epoch(rng: np.random.Generator) -> dict[str, float]:
        losses = []
        for by in _batches(train_items, batch_size, rng, steps_per_epoch):
            x = _clips(frames, by, L, flow["norm"], dev)
            x = augment_clips(x, aug, rng)
            loss = loss_fn(model(x)["logits"], targets(by))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return {"train_loss": float(np.mean(losses))}

    def validate() -> tuple[float, dict, dict]:
        probs, ys, losses = [], [], []
        for by in _batches(val_items, batch_size, None, None):
            logits = model(_clips(frames, by, L, flow["norm"], dev))["logits"]
            y = targets(by)
            losses.append(float(loss_fn(logits, y)) * len(y))
            probs.append(torch.sigmoid(logits).cpu().numpy())
            ys.append(y.cpu().numpy().astype(np.int8))
        p, y = np.concatenate(probs), np.concatenate(ys)
        score, per, thr = _score(p, y, behaviors)
        return score, {"val_loss": sum(losses) / len(y), "classes": per}, {"thresholds": thr.tolist()}

    meta = {
        "kind": "feature_extractor",
        "mode": mode,
        "architecture": arch,
        "behaviors": list(behaviors),
        "input_size": list(size),
        "n_frames": L,
        "views": flow.get("views"),
        "norm": flow["norm"],
        "parents": parents,
        "trained_on": train_u,
        "validated_on": val_u,
        "seed": seed,
        "params": {"epochs": epochs, "batch_size": batch_size, "lr": lr, "dropout": dropout, "augment": as_record(aug)},
    }
    summary = _fit(
        out=out,
        kind="feature_extractor",
        model=model,
        optimizer=opt,
        epochs=epochs,
        seed=seed,
        meta=meta,
        run_epoch=run_epoch,
        validate=validate,
        resume=resume,
        progress=progress,
        lr=lr,
    )
    _register(table_path, mode, "feature_extractor", summary, meta, lock_timeout)
    return summary


# ------------------------------------------------------------------------------ sequence model


def train_sequence(
    contexts: Sequence[Mapping[str, Any] | TrialContext],
    mode: str,
    model_out: str,
    feature_model_in: str,
    *,
    table_path: str | None = None,
    model_in: str | None = None,
    epochs: int = 30,
    seq_len: int = 180,
    batch_size: int = 8,
    lr: float = 1e-3,
    val_fraction: float = 0.2,
    val_uuids: Sequence[str] | None = None,
    hidden: int = 128,
    n_layers: int = 3,
    length: int = 15,
    dropout: float = 0.5,
    residual: bool = True,
    device: str = "auto",
    feature_batch_size: int = 32,
    stream_dropout: float = 0.5,
    seed: int = 0,
    resume: bool = True,
    progress: bool = True,
    lock_timeout: float | None = None,
) -> dict[str, Any]:
    """Train the TGMJ sequence model on the feature extractor's per-frame features.

    Features (spatial and flow, 512-d each, concatenated) come from ``outputs.h5``
    ``<trial>/<mode>/features`` when they were made by ``feature_model_in``; otherwise they
    are extracted now and stored there (see :func:`.infer.extract_features`). Training uses
    random crops of ``seq_len`` frames; validation runs whole trials, fits per-class
    thresholds (stored in the checkpoint) and scores the mean F1 over the classes present.

    Parameters
    ----------
    length
        Temporal kernel length of the TGM layers, frames (odd).
    residual
        The model adds a temporal correction to the feature extractor's logits (see
        :class:`.nets.TGMJ`) instead of predicting from the features alone.
    stream_dropout
        Probability that a training crop loses one of its two streams' features (spatial or
        flow, the other doubled): the features of the training trials come from a feature
        extractor that fitted them, where both streams agree; on new trials they can
        disagree, and a model that learned to trust either alone copes.
    """
    from .infer import trial_features

    torch = _torch()
    ctxs = _contexts(contexts)
    fe = load_checkpoint(feature_model_in, kind="feature_extractor", mode=mode)
    behaviors = tuple(fe["behaviors"])
    dev = resolve_device(device)
    out = _out_dir(model_out)
    feats, priors = {}, {}
    for c in tqdm(ctxs, desc="features", disable=not progress):
        f = trial_features(c, feature_model_in, device=dev, batch_size=feature_batch_size)
        feats[c.uuid], priors[c.uuid] = f["features"], f["logits"]
    labels, found = _labels_of(ctxs, feats)
    if found != behaviors:
        raise ModelError(f"expected labels with the feature extractor's behaviors {list(behaviors)}, got {list(found)}")
    train_u, val_u = split_trials([c.uuid for c in ctxs], val_fraction, seed, val_uuids)
    seed_all(seed)
    arch = sequence_arch(
        len(behaviors), 2 * 512, hidden=hidden, n_layers=n_layers, length=length, dropout=dropout, residual=residual
    )
    model = build("sequence", arch)
    parents = [fe["model_id"]]
    if model_in:
        init = load_checkpoint(model_in, kind="sequence", mode=mode)
        if tuple(init["behaviors"]) != behaviors:
            raise ModelError(f"expected model_in trained on behaviors {list(behaviors)}, got {list(init['behaviors'])}")
        model.load_state_dict(init["state_dict"])
        parents.append(init["model_id"])
    model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    pos_weight = torch.from_numpy(_pos_weight([labels[u].array for u in train_u])).to(dev)[:, None]
    bce = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="none")  # on (N, C, T)
    crop = min(seq_len, min(len(feats[u]) for u in train_u))

    def tensors(u: str, a: int, b: int) -> tuple[Any, Any, Any]:
        x = torch.from_numpy(np.ascontiguousarray(feats[u][a:b].T, dtype=np.float32))
        prior = torch.from_numpy(np.ascontiguousarray(priors[u][a:b].T, dtype=np.float32))
        y = torch.from_numpy(labels[u].array[a:b].T.astype(np.float32))
        return x, prior, y

    def masked_loss(logits: Any, y: Any) -> Any:
        mask = (y != UNLABELED).all(dim=1, keepdim=True).float()
        return (bce(logits, y.clamp(min=0)) * mask).sum() / (mask.sum() * y.shape[1]).clamp(min=1)

    def run_epoch(rng: np.random.Generator) -> dict[str, float]:
        crops = []
        for u in train_u:
            n = len(feats[u])
            for _ in range(max(1, math.ceil(n / crop))):
                a = int(rng.integers(0, n - crop + 1))
                crops.append((u, a))
        order = rng.permutation(len(crops))
        losses = []
        for i in range(0, len(order), batch_size):
            xs, ps, ys = zip(
                *(tensors(crops[j][0], crops[j][1], crops[j][1] + crop) for j in order[i : i + batch_size])
            )
            x, prior, y = torch.stack(xs).to(dev), torch.stack(ps).to(dev), torch.stack(ys).to(dev)
            if stream_dropout > 0:
                keep = torch.from_numpy(_stream_mask(len(x), stream_dropout, rng)).to(dev)
                x = x * keep.repeat_interleave(x.shape[1] // 2, dim=1)[:, :, None]
            loss = masked_loss(model(x, prior), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return {"train_loss": float(np.mean(losses))}

    def validate() -> tuple[float, dict, dict]:
        probs, ys, losses = [], [], []
        for u in val_u:
            x, prior, y = tensors(u, 0, len(feats[u]))
            logits = model(x[None].to(dev), prior[None].to(dev))
            losses.append(float(masked_loss(logits, y[None].to(dev))))
            probs.append(torch.sigmoid(logits[0]).T.cpu().numpy())
            ys.append(labels[u].array)
        p, y = np.concatenate(probs), np.concatenate(ys)
        score, per, thr = _score(p, y, behaviors)
        return score, {"val_loss": float(np.mean(losses)), "classes": per}, {"thresholds": thr.tolist()}

    meta = {
        "kind": "sequence",
        "mode": mode,
        "architecture": arch,
        "behaviors": list(behaviors),
        "input_size": fe["input_size"],
        "n_frames": fe["n_frames"],
        "views": fe.get("views"),
        "norm": fe["norm"],
        "parents": parents,
        "trained_on": train_u,
        "validated_on": val_u,
        "seed": seed,
        "params": {
            "epochs": epochs,
            "seq_len": seq_len,
            "batch_size": batch_size,
            "lr": lr,
            "stream_dropout": stream_dropout,
        },
    }
    summary = _fit(
        out=out,
        kind="sequence",
        model=model,
        optimizer=opt,
        epochs=epochs,
        seed=seed,
        meta=meta,
        run_epoch=run_epoch,
        validate=validate,
        resume=resume,
        progress=progress,
        lr=lr,
    )
    _register(table_path, mode, "sequence", summary, meta, lock_timeout)
    return summary

"""What every training task reads and samples: trials split by trial, frames and labels
loaded and checked, training items and batches, class weights and validation scores."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..._torch import torch as _torch
from ...errors import ItemNotFoundError, OutputsError
from ...jobs import TrialContext
from ...schema import VIEWS
from ..frames import clip_batch, trial_frames, view_paths
from ..jobs import read_labels
from ..labels import UNLABELED, Labels, check_same_behaviors
from ..modes import ModeSpec, check_input_size, get_mode
from ..postprocess import class_metrics, fit_thresholds, postprocess

__all__ = [
    "Item",
    "batches",
    "centres",
    "clips",
    "contexts_of",
    "evenly",
    "labels_of",
    "loaded_frames",
    "mode_setup",
    "pos_weight",
    "score",
    "split_trials",
    "stream_mask",
]

#: A training or validation item: (trial uuid, frame index).
Item = tuple[str, int]


def split_trials(
    uuids: Sequence[str], val_fraction: float = 0.2, seed: int = 0, val_uuids: Sequence[str] | None = None
) -> tuple[list[str], list[str]]:
    """Split trials (by uuid) into train and validation sets; both non-empty.

    Parameters
    ----------
    uuids
        The trials, at least 2.
    val_fraction
        Fraction of trials for validation (rounded, at least 1, at most all but one).
    seed
        Seed of the random choice.
    val_uuids
        The validation trials, chosen by the user (then ``val_fraction`` is unused).

    Returns
    -------
    train, val : list of str
        Uuids, in the order of ``uuids``.

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


def contexts_of(contexts: Sequence[Mapping[str, Any] | TrialContext]) -> list[TrialContext]:
    """The trials as :class:`TrialContext` (from themselves or their dicts); at least one.

    Parameters
    ----------
    contexts
        Trial contexts or ``dataclasses.asdict`` of them (as a task receives them).

    Returns
    -------
    list of TrialContext
    """
    out = [c if isinstance(c, TrialContext) else TrialContext(**c) for c in contexts]
    if not out:
        raise ValueError("expected at least one trial to train on, got none")
    return out


def mode_setup(
    mode: str,
    input_size: Sequence[int] | None,
    ctxs: list[TrialContext],
    views: Sequence[str] | None,
    networks: str = "deepethogram",
) -> tuple[ModeSpec, tuple[int, int], tuple[str, ...]]:
    """The mode, the checked input size, and the views every trial must have.

    Parameters
    ----------
    mode
        A registered mode.
    input_size
        ``(H, W)`` of the network input, or None for the mode's.
    ctxs
        The trials.
    views
        The views, or None for the first trial's, in :data:`~behavior_soup.schema.VIEWS` order.
    networks
        The network set (``"deepethogram"`` or ``"lite"``).

    Returns
    -------
    spec, input_size, views

    Raises
    ------
    MissingViewError
        A trial lacks one of the views.
    """
    spec = get_mode(mode, networks)
    views_t = tuple(views) if views else tuple(v for v in VIEWS if v in ctxs[0].videos)
    for c in ctxs:
        view_paths(c, views_t)
    return spec, check_input_size(input_size or spec.input_size, spec, len(views_t)), views_t


def loaded_frames(
    ctxs: list[TrialContext], size: tuple[int, int], views: tuple[str, ...] | None, progress: bool
) -> dict[str, np.ndarray]:
    """Every trial's frames, decoded and resized (see :func:`..frames.trial_frames`).

    Parameters
    ----------
    ctxs
        The trials.
    size
        ``(H, W)`` in pixels of the side-by-side frame.
    views
        The views, side by side; None for each trial's, in :data:`~behavior_soup.schema.VIEWS`
        order.
    progress
        Show a progress bar over trials.

    Returns
    -------
    dict
        uuid -> ``(n_frames, H, W, 3)`` uint8.
    """
    return {c.uuid: trial_frames(c, size, views) for c in tqdm(ctxs, desc="decode", disable=not progress)}


def labels_of(ctxs: list[TrialContext], frames: Mapping[str, np.ndarray]) -> tuple[dict[str, Labels], tuple[str, ...]]:
    """Every trial's ground-truth labels, checked to share behaviors and to match its frames.

    Parameters
    ----------
    ctxs
        The trials.
    frames
        uuid -> per-frame array (frames or features) whose length the labels must match.

    Returns
    -------
    labels : dict
        uuid -> :class:`~..labels.Labels`.
    behaviors : tuple of str
        The shared behavior names, background first.

    Raises
    ------
    ItemNotFoundError
        A trial without labels (the message names them all).
    """
    missing, labels = [], {}
    for c in ctxs:
        try:
            labels[c.uuid] = read_labels(c)
        except OutputsError:
            missing.append(c.label)
    if missing:
        raise ItemNotFoundError(
            f"expected ground-truth labels for every training trial, found none for {missing}; load them "
            "with df.behavior.load_labels() or row.behavior.set_labels(), make a cleaned ethogram the labels with "
            "row.behavior.promote_cleaned(mode), or leave those trials out"
        )
    behaviors = check_same_behaviors({c.label: labels[c.uuid] for c in ctxs})
    for c in ctxs:
        labels[c.uuid].check_frames(len(frames[c.uuid]), c.label)
    return labels, behaviors


def pos_weight(labels: list[np.ndarray]) -> np.ndarray:
    """Per-class weight of positive frames in the binary cross-entropy: negatives over
    positives among the labelled frames, clipped to [1, 20] (rare classes weigh more).

    Parameters
    ----------
    labels
        Per trial, ``(n_frames, n_classes)`` int8 in {0, 1, UNLABELED}.

    Returns
    -------
    numpy.ndarray
        ``(n_classes,)`` float32.
    """
    y = np.concatenate([lab[(lab != UNLABELED).all(axis=1)] for lab in labels])
    pos = y.sum(axis=0).astype(np.float64)
    neg = len(y) - pos
    return np.clip(neg / np.maximum(pos, 1), 1.0, 20.0).astype(np.float32)


def score(probs: np.ndarray, labels: np.ndarray, behaviors: tuple[str, ...]) -> tuple[float, dict, np.ndarray]:
    """Validation score: thresholds fitted on ``probs``, then the mean F1 over the classes
    present.

    Parameters
    ----------
    probs
        ``(n_frames, n_classes)`` float probabilities.
    labels
        ``(n_frames, n_classes)`` int8 ground truth.
    behaviors
        Class names.

    Returns
    -------
    score : float
    per_class : dict
        Class -> metrics (see :func:`..postprocess.class_metrics`).
    thresholds : numpy.ndarray
        ``(n_classes,)`` float.
    """
    thr = fit_thresholds(probs, labels)
    per = class_metrics(postprocess(probs, thr), labels, behaviors)
    present = [m["f1"] for m in per.values() if m["support"] > 0]
    return float(np.mean(present)) if present else 0.0, per, thr


def centres(
    frames: Mapping[str, np.ndarray], uuids: Sequence[str], labels: Mapping[str, Labels] | None = None
) -> list[Item]:
    """The frames of ``uuids`` that clips are centred on: all, or only labelled ones.

    Parameters
    ----------
    frames
        uuid -> per-frame array (frames or features); only its length is used.
    uuids
        The trials to take frames of.
    labels
        uuid -> :class:`~..labels.Labels`; when given, only the frames labelled in every
        class are kept.

    Returns
    -------
    list of (uuid, frame)
        In the order of ``uuids``, then of the frames.
    """
    out = []
    for u in uuids:
        idx = np.arange(len(frames[u]))
        if labels is not None:
            idx = idx[(labels[u].array != UNLABELED).all(axis=1)]
        out += [(u, int(i)) for i in idx]
    return out


def batches(
    items: list[Item], batch_size: int, rng: np.random.Generator | None, steps: int | None
) -> Iterator[dict[str, list[int]]]:
    """Batches of ``items`` (shuffled by ``rng``, in order when None; at most ``steps``).

    Parameters
    ----------
    items
        The ``(uuid, frame)`` items to batch.
    batch_size
        Items per batch (the last batch may be smaller).
    rng
        Shuffles the items; None keeps their order.
    steps
        At most this many batches; None for every item once.

    Yields
    ------
    dict
        uuid -> frame indices of that trial in the batch.
    """
    order = np.arange(len(items)) if rng is None else rng.permutation(len(items))
    if steps is not None:
        order = order[: steps * batch_size]
    for i in range(0, len(order), batch_size):
        chosen = [items[j] for j in order[i : i + batch_size]]
        by: dict[str, list[int]] = {}
        for u, t in chosen:
            by.setdefault(u, []).append(t)
        yield by


def clips(frames: Mapping[str, np.ndarray], by: Mapping[str, list[int]], n_frames: int, norm: Any, device: str) -> Any:
    """The normalised clips of one batch (see :func:`..frames.clip_batch`), on ``device``.

    Parameters
    ----------
    frames
        uuid -> ``(T, H, W, 3)`` uint8 frames of the trial.
    by
        uuid -> centre frame indices of that trial in the batch (see :func:`batches`).
    n_frames
        The odd window length ``L`` of a clip.
    norm
        ``{"mean": [3 floats], "std": [3 floats]}``, the normalisation statistics.
    device
        The torch device to move the clips to.

    Returns
    -------
    torch.Tensor
        ``(batch, 3 * n_frames, H, W)`` float32.
    """
    torch = _torch()
    x = torch.cat([clip_batch(frames[u], np.asarray(ts), n_frames, norm) for u, ts in by.items()])
    return x.to(device)


def stream_mask(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Stream dropout: ``(n, 2)`` float32 multipliers for the (spatial, flow) halves of ``n``
    samples. With probability ``p`` a sample loses one of its two streams (either, equally
    likely); the kept stream is scaled by 2 so the input's expected sum stays the same.

    Parameters
    ----------
    n
        Samples.
    p
        Probability of dropping a stream.
    rng
        Random generator.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` float32 of 1 (kept), 0 (dropped) or 2 (kept alone).
    """
    drop = rng.random(n) < p
    which = rng.integers(0, 2, n)
    m = np.ones((n, 2), np.float32)
    m[drop, which[drop]] = 0.0
    m[drop, 1 - which[drop]] = 2.0
    return m


def evenly(items: list, k: int) -> list:
    """At most ``k`` of ``items``, evenly spaced (all when there are no more than ``k``).

    Parameters
    ----------
    items
        The items, in order.
    k
        The most items to keep.

    Returns
    -------
    list
        ``items`` itself when it has at most ``k``, otherwise ``k`` of them at evenly spaced
        positions from the first to the last, in order.
    """
    if len(items) <= k:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, k).round().astype(int)]

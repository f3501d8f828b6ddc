"""Ethogram inference on one trial: features, sequence model, thresholds, minimum bout length.

Results go to the trial's ``outputs.h5``::

    <trial>/<mode>/features    spatial, flow (T, 512) float32; logits, probabilities (T, C) float32
    <trial>/<mode>/sequence    logits, probabilities (T, C) float32
    <trial>/<mode>/ethogram    array (T, C) int8 (1: behavior present), thresholds (C,), min_bout

each with ``behaviors`` (C,) str (background first) and provenance (checkpoints and their
model ids, parameters, versions, times). The three groups are written together,
all-or-nothing, replacing an earlier run's.

The video is decoded once, sequentially, in a background thread that also normalises the
frames, while the networks run (see :func:`.frames.stream_clips`). Loaded networks are kept
in a small cache (see :func:`.loading.load_model`, importable from here too), so running many
trials in one process loads each checkpoint once.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from .._torch import resolve_device
from .._torch import torch as _torch
from ..errors import ModelError, OutputsError
from ..jobs import TrialContext
from ..provenance import Provenance, package_versions
from .checkpoint import VERSION_PACKAGES
from .frames import stream_clips, view_paths
from .loading import load_model
from .postprocess import postprocess
from .runtimes import RUNTIMES, check_runtime

__all__ = ["extract_features", "features_key", "infer_trial", "run_sequence", "trial_features"]

log = logging.getLogger(__name__)


def _device_for(device: str, runtime: str) -> str:
    """The torch device a runtime's network loads on: the CPU for graph runtimes under "auto"."""
    return "cpu" if runtime != "torch" and device == "auto" else resolve_device(device)


def _prov(job: str, params: dict[str, Any]) -> Provenance:
    return Provenance(job, params, versions=package_versions(VERSION_PACKAGES))


def features_key(mode: str) -> str:
    """The result key of a trial's features for ``mode``.

    Parameters
    ----------
    mode
        ``"fast"``, ``"medium"`` or ``"slow"``.

    Returns
    -------
    str
        ``"<mode>/features"``.
    """
    return f"{mode}/features"


def extract_features(
    ctx: TrialContext,
    feature_model: str | os.PathLike,
    *,
    device: str = "auto",
    batch_size: int = 32,
    runtime: str = "torch",
    precision: str = "fp32",
    progress: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Run a feature extractor over every frame of a trial.

    Parameters
    ----------
    ctx
        The trial; the views the checkpoint was trained on are read side by side.
    feature_model
        The feature extractor's checkpoint.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda[:N]"`` (GPUs run torch in mixed precision; other
        runtimes run on the CPU, which ``"auto"`` then means).
    batch_size
        Clips per forward pass.
    runtime
        ``"torch"``, ``"onnxruntime"`` or ``"openvino"`` (see :mod:`.runtimes`).
    precision
        ``"fp32"``, ``"bf16"`` or ``"int8"``; an int8 graph is calibrated on this trial's
        frames when first made, and used only once accepted (see :mod:`.quantize`).
    progress
        Show a progress bar over batches.

    Returns
    -------
    arrays
        ``spatial``, ``flow`` ``(T, 512)`` float32; ``logits``, ``probabilities``
        ``(T, C)`` float32.
    meta
        The checkpoint's metadata, plus ``runtime`` (runtime, precision, graph file and, for
        int8, the accuracy check).
    """
    from .compile import compile_feature_extractor, run_batches
    from .quantize import ensure_accepted

    dev = _device_for(device, runtime)
    check_runtime(runtime, precision, dev)
    meta, net = load_model(feature_model, "feature_extractor", dev)
    views = tuple(meta["views"]) if meta.get("views") else None
    paths = view_paths(ctx, views)

    def stream() -> Any:
        return stream_clips(paths, tuple(meta["input_size"]), meta["n_frames"], meta["norm"], batch_size)

    run, graph = compile_feature_extractor(feature_model, net, meta, runtime, precision, dev, stream)
    info: dict[str, Any] = {"runtime": runtime, "precision": precision, "graph": None if graph is None else graph.name}
    if precision == "int8":
        info["check"] = ensure_accepted(ctx, feature_model, runtime, graph, calibrated_on=ctx.label)
    arrays = run_batches(run, stream(), desc=f"features {ctx.label}", progress=progress)
    return arrays, {**meta, "runtime": info}


def _features_provenance(meta: dict, feature_model: str | os.PathLike, params: dict) -> Provenance:
    return _prov(
        "feature_extractor_infer",
        {**params, "checkpoint": str(feature_model), "model_id": meta["model_id"], "mode": meta["mode"]},
    )


def trial_features(
    ctx: TrialContext,
    feature_model: str | os.PathLike,
    *,
    device: str = "auto",
    batch_size: int = 32,
    reuse: bool = True,
    write: bool = True,
    runtime: str = "torch",
    precision: str = "fp32",
) -> dict[str, Any]:
    """The trial's features from ``feature_model``: read from ``outputs.h5`` when stored ones
    were made by the same checkpoint (same model id), runtime and precision and ``reuse``,
    else extracted (and stored when ``write``).

    Parameters
    ----------
    ctx
        The trial.
    feature_model
        The feature extractor's checkpoint.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda[:N]"``.
    batch_size
        Clips per forward pass, when extracting.
    reuse
        Take stored features of the same model id instead of extracting them.
    write
        Store newly extracted features as ``<mode>/features``.
    runtime, precision
        See :func:`extract_features`.

    Returns
    -------
    dict
        The arrays of :func:`extract_features`, ``features`` ``(T, 1024)`` float32 (spatial
        then flow), ``behaviors``, ``meta``, ``reused`` (bool) and ``provenance`` (of
        newly extracted features, finished).
    """
    meta = load_model(feature_model, "feature_extractor", _device_for(device, runtime))[0]
    key = features_key(meta["mode"])
    if reuse:
        try:
            prov = ctx.provenance(key)
        except OutputsError:
            prov = {}
        stored = prov.get("params", {})
        same = (stored.get("runtime", "torch"), stored.get("precision", "fp32")) == (runtime, precision)
        if stored.get("model_id") == meta["model_id"] and same:
            d = ctx.read(key)
            return _with_features(d, meta, reused=True)
    params = {"batch_size": batch_size, "runtime": runtime, "precision": precision}
    prov = _features_provenance(meta, feature_model, params)
    arrays, run_meta = extract_features(
        ctx, feature_model, device=device, batch_size=batch_size, runtime=runtime, precision=precision
    )
    prov.params.update(graph=run_meta["runtime"]["graph"], check=run_meta["runtime"].get("check"))
    if runtime != "torch":
        prov.versions.update(package_versions(RUNTIMES[runtime].modules))
    data = {**arrays, "behaviors": list(meta["behaviors"])}
    prov.finish()
    if write:
        ctx.write(key, data, prov)
    return {**_with_features(data, meta, reused=False), "provenance": prov}


def _with_features(d: dict, meta: dict, reused: bool) -> dict[str, Any]:
    feats = np.concatenate([d["spatial"], d["flow"]], axis=1).astype(np.float32, copy=False)
    return {**d, "features": feats, "behaviors": list(meta["behaviors"]), "meta": meta, "reused": reused}


def run_sequence(
    features: np.ndarray,
    sequence_model: str | os.PathLike,
    *,
    device: str = "auto",
    prior: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """TGMJ over a whole trial's features.

    Parameters
    ----------
    features
        ``(T, D)`` float32, the feature extractor's spatial and flow features.
    sequence_model
        The sequence model's checkpoint.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda[:N]"``.
    prior
        ``(T, C)`` float32, the feature extractor's logits: needed by a residual model (the
        default since it exists; older checkpoints ignore it).

    Returns
    -------
    logits, probabilities
        ``(T, C)`` float32.
    meta
        The checkpoint's metadata.
    """
    torch = _torch()
    dev = resolve_device(device)
    meta, net = load_model(sequence_model, "sequence", dev)
    arch = meta["architecture"]
    d = arch["in_features"]
    if features.ndim != 2 or features.shape[1] != d:
        raise ModelError(f"expected features of shape (T, {d}) for this sequence model, got {features.shape}")
    residual = bool(arch.get("residual"))
    if residual and (prior is None or prior.shape != (len(features), arch["n_classes"])):
        got = None if prior is None else prior.shape
        raise ModelError(
            f"expected the feature extractor's logits of shape ({len(features)}, {arch['n_classes']}) for this "
            f"residual sequence model, got {got}"
        )
    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(features.T, dtype=np.float32))[None].to(dev)
        p = torch.from_numpy(np.ascontiguousarray(prior.T, dtype=np.float32))[None].to(dev) if residual else None
        logits = net(x, p)[0].T.float().cpu().numpy()
    probs = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
    return logits.astype(np.float32), probs, meta


def infer_trial(
    ctx: TrialContext,
    feature_model: str | os.PathLike,
    sequence_model: str | os.PathLike,
    *,
    mode: str | None = None,
    device: str = "auto",
    batch_size: int = 32,
    min_bout: int = 1,
    reuse_features: bool = False,
    runtime: str = "torch",
    precision: str = "fp32",
    progress: bool = False,
) -> dict[str, Any]:
    """Feature extraction + sequence model + thresholds + minimum bout length for one trial,
    written to ``outputs.h5`` (see the module docstring). Returns a small summary: mode,
    frames, and the fraction of frames of each behavior.

    Parameters
    ----------
    ctx
        The trial.
    feature_model
        The feature extractor's checkpoint.
    sequence_model
        The sequence model's checkpoint; it must have the feature extractor's mode and
        behaviors.
    mode
        If given, the mode both checkpoints must have; by default the feature extractor's.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda[:N]"``.
    batch_size
        Clips per forward pass of the feature extractor.
    min_bout
        Bouts and gaps shorter than this many frames are removed.
    reuse_features
        Take stored features of the same feature-extractor model id instead of extracting them
        (they are then not written again).
    runtime, precision
        The feature extractor's runtime and precision (see :func:`extract_features`).
    progress
        Not used.

    Returns
    -------
    dict
        ``{"mode": str, "n_frames": int, "fraction": {behavior: float}}``, the fraction of
        frames in [0, 1] where each behavior is on in the ethogram.

    Raises
    ------
    ValueError
        If ``min_bout`` is not an integer >= 1.
    ModelError
        If a checkpoint is missing, of the wrong kind or mode, or the two disagree on the
        behaviors.
    """
    if not isinstance(min_bout, int) or min_bout < 1:
        raise ValueError(f"expected min_bout >= 1 (frames), got {min_bout!r}")
    dev = resolve_device(device)
    fe_meta = load_model(feature_model, "feature_extractor", _device_for(device, runtime), mode=mode)[0]
    mode = fe_meta["mode"]
    seq_meta = load_model(sequence_model, "sequence", dev, mode=mode)[0]
    if list(seq_meta["behaviors"]) != list(fe_meta["behaviors"]):
        raise ModelError(
            f"expected a sequence model with the feature extractor's behaviors {fe_meta['behaviors']}, "
            f"got {seq_meta['behaviors']}"
        )
    params = {"device": device, "batch_size": batch_size, "min_bout": min_bout, "runtime": runtime,
              "precision": precision}  # fmt: skip
    f = trial_features(ctx, feature_model, device=device, batch_size=batch_size, reuse=reuse_features, write=False,
                       runtime=runtime, precision=precision)  # fmt: skip
    results = _sequence_results(
        f["features"], f["logits"], seq_meta, sequence_model, list(fe_meta["behaviors"]), mode, params, device, min_bout
    )
    results[f"{mode}/ethogram"][1].params.update(
        {"feature_extractor": str(feature_model), "feature_extractor_id": fe_meta["model_id"]}
    )
    if not f["reused"]:
        results[features_key(mode)] = (
            {k: f[k] for k in ("spatial", "flow", "logits", "probabilities")} | {"behaviors": f["behaviors"]},
            f["provenance"],
        )
    return _write(ctx, results, mode)


def _check_behaviors(behaviors: list[str], seq_meta: dict) -> None:
    if list(seq_meta["behaviors"]) != list(behaviors):
        raise ModelError(
            f"expected a sequence model for the features' behaviors {list(behaviors)}, got {seq_meta['behaviors']}"
        )


def _sequence_results(
    features: np.ndarray,
    fe_logits: np.ndarray,
    seq_meta: dict,
    sequence_model: str | os.PathLike,
    behaviors: list[str],
    mode: str,
    params: dict,
    device: str,
    min_bout: int,
) -> dict[str, tuple[dict, Provenance]]:
    _check_behaviors(behaviors, seq_meta)
    ids = {"sequence": str(sequence_model), "sequence_id": seq_meta["model_id"], "mode": mode}
    sprov = _prov("sequence_infer", {**params, **ids})
    eprov = _prov("behavior_infer", {**params, **ids})
    logits, probs, _ = run_sequence(features, sequence_model, device=device, prior=fe_logits)
    sprov.finish()
    thr = np.asarray(seq_meta["thresholds"], dtype=np.float64)
    ethogram = postprocess(probs, thr, min_bout)
    return {
        f"{mode}/sequence": ({"logits": logits, "probabilities": probs, "behaviors": behaviors}, sprov),
        f"{mode}/ethogram": (
            {"array": ethogram, "behaviors": behaviors, "thresholds": thr, "min_bout": np.int64(min_bout)},
            eprov.finish(),
        ),
    }


def _write(ctx: TrialContext, results: dict[str, tuple[dict, Provenance]], mode: str) -> dict[str, Any]:
    ctx.write_many(results)
    ethogram = results[f"{mode}/ethogram"][0]["array"]
    behaviors = results[f"{mode}/ethogram"][0]["behaviors"]
    return {
        "mode": mode,
        "n_frames": int(len(ethogram)),
        "fraction": {b: float(ethogram[:, i].mean()) for i, b in enumerate(behaviors)},
    }


def sequence_from_stored(
    ctx: TrialContext, sequence_model: str | os.PathLike, *, device: str = "auto", min_bout: int = 1
) -> dict[str, Any]:
    """Run a sequence model on the trial's stored ``<mode>/features`` (from
    ``row.feature_extractor.infer``) and write ``<mode>/sequence`` and ``<mode>/ethogram``.

    Parameters
    ----------
    ctx
        The trial.
    sequence_model
        The sequence model's checkpoint; its mode picks the stored features.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda[:N]"``.
    min_bout
        Bouts and gaps shorter than this many frames are removed.

    Returns
    -------
    dict
        ``{"mode": str, "n_frames": int, "fraction": {behavior: float}}``, as for
        :func:`infer_trial`.

    Raises
    ------
    ValueError
        If ``min_bout`` is not an integer >= 1.
    OutputsError
        No stored features for the sequence model's mode.
    ModelError
        If the checkpoint is missing, or its behaviors or input size differ from the features'.
    """
    if not isinstance(min_bout, int) or min_bout < 1:
        raise ValueError(f"expected min_bout >= 1 (frames), got {min_bout!r}")
    dev = resolve_device(device)
    seq_meta = load_model(sequence_model, "sequence", dev)[0]
    mode = seq_meta["mode"]
    try:
        d = ctx.read(features_key(mode))
    except OutputsError as exc:
        raise OutputsError(
            f"expected stored {mode!r} features for {ctx.label}, found none; run "
            f"row.feature_extractor.infer(mode={mode!r}) first"
        ) from exc
    feats = np.concatenate([d["spatial"], d["flow"]], axis=1).astype(np.float32, copy=False)
    params = {"device": device, "min_bout": min_bout}
    results = _sequence_results(
        feats,
        np.asarray(d["logits"], np.float32),
        seq_meta,
        sequence_model,
        list(d["behaviors"]),
        mode,
        params,
        device,
        min_bout,
    )
    return _write(ctx, results, mode)

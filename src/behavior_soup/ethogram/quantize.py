"""The accuracy check an int8 feature extractor must pass before it is used.

An int8 graph (see :mod:`.runtimes`) is accepted only when, on the model's validation trials
(the checkpoint's ``validated_on``, those of them in the table with labels), the per-frame
F1 of its predictions stays within :data:`MAX_F1_DROP` of the fp32 network's: mean F1 over
the behaviors present, predictions the feature extractor's probabilities over its fitted
thresholds, on labelled frames. The check runs once per graph; its figures are kept beside
the graph (``<graph>.check.json``) and in the provenance of every result made with it. A graph
that fails is refused with its figures, every time it is asked for.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from .. import store
from ..errors import ModelError, OutputsError
from ..jobs import TrialContext
from ..locking import atomic_write
from ..provenance import now_iso

__all__ = ["MAX_F1_DROP", "check_path", "ensure_accepted", "mean_f1"]

log = logging.getLogger(__name__)

#: Largest accepted drop of the validation F1 from fp32 to int8.
MAX_F1_DROP = 0.01


def check_path(graph: Path) -> Path:
    """The check record of a graph: ``<graph>.check.json``."""
    return graph.with_name(graph.name + ".check.json")


def mean_f1(pred: np.ndarray, labels: np.ndarray) -> float:
    """Mean F1 over the behaviors present in ``labels``, on labelled frames.

    Parameters
    ----------
    pred
        ``(T, C)`` 0/1 predictions.
    labels
        ``(T, C)`` int8: 1 present, 0 absent, -1 unlabelled.

    Returns
    -------
    float
        In [0, 1]; NaN when no behavior is present.
    """
    keep = (labels >= 0).all(axis=1)
    p, y = pred[keep].astype(bool), labels[keep] == 1
    f1 = []
    for c in range(y.shape[1]):
        if y[:, c].any():
            tp = float((p[:, c] & y[:, c]).sum())
            f1.append(2 * tp / (p[:, c].sum() + y[:, c].sum()))
    return float(np.mean(f1)) if f1 else float("nan")


def _validation_contexts(ctx: TrialContext, uuids: list[str]) -> list[TrialContext]:
    from .jobs import read_labels

    df = store.load_df(ctx.table_path, raw_root=ctx.raw_root, output_root=ctx.output_root)
    rows = df[df["uuid"].isin(uuids)]
    out = []
    for _, row in rows.iterrows():
        c = TrialContext.from_row(row, store.table_info(df), lock_timeout=ctx.lock_timeout)
        try:
            read_labels(c)
        except OutputsError:
            continue
        out.append(c)
    return out


def _f1_of(ctx: TrialContext, run: Any, meta: dict[str, Any], batch_size: int = 32) -> float:
    from .compile import run_batches
    from .frames import stream_clips, view_paths
    from .jobs import read_labels

    views = tuple(meta["views"]) if meta.get("views") else None
    clips = stream_clips(view_paths(ctx, views), tuple(meta["input_size"]), meta["n_frames"], meta["norm"], batch_size)
    probs = run_batches(run, clips)["probabilities"]
    pred = (probs >= np.asarray(meta["thresholds"], dtype=np.float32)).astype(np.int8)
    return mean_f1(pred, read_labels(ctx).array)


def ensure_accepted(
    ctx: TrialContext, feature_model: str | os.PathLike, runtime: str, graph: Path, calibrated_on: str
) -> dict[str, Any]:
    """The accepted check record of an int8 graph, running the check the first time.

    Parameters
    ----------
    ctx
        A trial of the table (to find the validation trials).
    feature_model
        The feature extractor's checkpoint.
    runtime
        ``"onnxruntime"`` or ``"openvino"``.
    graph
        The int8 graph (made by :func:`.compile.compile_feature_extractor`).
    calibrated_on
        The trial(s) it was calibrated on (recorded).

    Returns
    -------
    dict
        ``f1_fp32``, ``f1_int8``, ``drop``, ``max_drop``, ``trials`` (labels of the
        validation trials), ``calibrated_on``, ``checked``, ``accepted`` (True).

    Raises
    ------
    ModelError
        No labelled validation trial to check on, or the F1 drops by more than
        :data:`MAX_F1_DROP` (the record is kept, so the graph is refused again later).
    """
    from .._torch import resolve_device
    from .compile import compile_feature_extractor
    from .loading import load_model

    record_file = check_path(graph)
    if record_file.is_file():
        record = json.loads(record_file.read_text())
    else:
        meta, net = load_model(feature_model, "feature_extractor", resolve_device("cpu"))
        uuids = list(meta.get("validated_on") or [])
        vals = _validation_contexts(ctx, uuids)
        if not vals:
            raise ModelError(
                f"expected labelled validation trials of {Path(feature_model).name} in this table to check its int8 "
                f"graph against fp32, found none of its {len(uuids)} validated_on trials; use precision 'fp32' or "
                "'bf16', or load those trials' labels"
            )
        fp32, _ = compile_feature_extractor(feature_model, net, meta, "torch", "fp32", "cpu")
        int8, _ = compile_feature_extractor(feature_model, net, meta, runtime, "int8", "cpu")
        f_ref = float(np.nanmean([_f1_of(c, fp32, meta) for c in vals]))
        f_q = float(np.nanmean([_f1_of(c, int8, meta) for c in vals]))
        drop = f_ref - f_q
        record = {
            "f1_fp32": f_ref,
            "f1_int8": f_q,
            "drop": drop,
            "max_drop": MAX_F1_DROP,
            "trials": [c.label for c in vals],
            "calibrated_on": calibrated_on,
            "checked": now_iso(),
            "accepted": bool(drop <= MAX_F1_DROP),
        }
        atomic_write(record_file, lambda tmp: Path(tmp).write_text(json.dumps(record, indent=1)))
        log.info("int8 check of %s: F1 %.4f (fp32 %.4f)", graph.name, f_q, f_ref)
    if not record["accepted"]:
        raise ModelError(
            f"expected the int8 graph {graph.name} to keep the validation F1 within {MAX_F1_DROP} of fp32, got "
            f"{record['f1_int8']:.4f} against {record['f1_fp32']:.4f} (a drop of {record['drop']:.4f}) on "
            f"{record['trials']}; use precision 'fp32' or 'bf16'"
        )
    return record

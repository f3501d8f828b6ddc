"""Syllable inference: the row job ``moseq_infer`` and the reader of its results.

Results in the session's ``outputs.h5``::

    <trial>/moseq/<model>    syllable (T,) int32 (frequency order: 0 the most used),
                             centroid (T, 2) float32 px, heading (T,) float32 rad,
                             latent_state (T, latent_dim) float32; provenance attrs

The trial's keypoints are cleaned as for the fit and cut into segments of the fit's length,
so trials of the same length reuse compiled code (and JAX's persistent cache under
``<output root>/moseq/jax_cache`` keeps it across processes). keypoint-moseq's
``apply_model`` then samples the trial's states under the fitted parameters, on the CPU
without parallel message passing (4-6x less memory).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataFormatError, ItemNotFoundError, ModelError
from ..jobs import TrialContext, register_job
from ..provenance import Provenance, package_versions
from ._kpms import load, quiet
from .data import gather
from .fit import prepare
from .params import FitParams, InferParams
from .registry import checkpoint_path, get_model

__all__ = ["moseq_infer_job", "moseq_key", "read_syllables"]


def moseq_key(model: str) -> str:
    """The result key of a trial's syllables from ``model``: ``"moseq/<model>"``.

    Parameters
    ----------
    model
        A registered MoSeq model's name.

    Returns
    -------
    str
        The key.
    """
    return f"moseq/{model}"


def _check_pose(ctx: TrialContext, entry: dict[str, Any], bodyparts: tuple[str, ...], scorers: tuple[str, ...]) -> None:
    if list(bodyparts) != list(entry["bodyparts"]):
        raise DataFormatError(
            f"expected the bodyparts the model was fitted on, {entry['bodyparts']}, in the "
            f"{entry['pose_model']!r} keypoints of {ctx.label}, found {list(bodyparts)}"
        )
    fitted = set(entry.get("scorers") or [])
    if fitted and scorers and not set(scorers) <= fitted:
        raise ModelError(
            f"expected keypoints made by the pose model the MoSeq model was fitted on ({sorted(fitted)}), "
            f"found {list(scorers)} in {ctx.label}; import or infer them with that model, or fit a new MoSeq model"
        )


@register_job("moseq_infer", "moseq", params=InferParams)
def moseq_infer_job(ctx: TrialContext, p: InferParams) -> dict[str, Any]:
    """Syllables of one trial from a registered MoSeq model.

    Parameters
    ----------
    ctx
        The trial.
    p
        The model's name and the Gibbs iterations.

    Returns
    -------
    dict
        ``n_frames`` and ``n_syllables`` (distinct syllables in the trial).

    Raises
    ------
    ItemNotFoundError
        Unknown model, a missing checkpoint, or no keypoints of the model's pose source.
    DataFormatError
        Other bodyparts than the fit's, or all keypoints missing.
    ModelError
        Keypoints made by another pose model than the fit's.
    """
    entry = get_model(ctx.table_path, p.model)
    ck = checkpoint_path(ctx.table_path, entry)
    if not ck.is_file():
        raise ItemNotFoundError(f"expected the checkpoint of MoSeq model {p.model!r} at {str(ck)!r}, found none")
    fp = FitParams.from_mapping(entry["params"])
    prov = Provenance(
        "moseq_infer",
        {**p.to_dict(), "pose_model": entry["pose_model"], "view": entry["view"], "checkpoint": entry["checkpoint"]},
        versions=package_versions(("keypoint-moseq", "jax-moseq", "jax")),
    )
    kp = gather([ctx], entry["pose_model"], entry["view"], needed=entry["use_bodyparts"], fps=entry["fps"])
    _check_pose(ctx, entry, kp.bodyparts, kp.scorers)
    kpms = load(Path(ctx.output_root) / "moseq" / "jax_cache")
    name = next(iter(kp.recordings.values()))
    with quiet(ctx.progress):
        data, metadata, anatomy = prepare(kpms, kp, fp, int(entry["seg_length"]))
        model, _, _, _ = kpms.load_checkpoint(path=str(ck))
        results = kpms.apply_model(
            model,
            data,
            metadata,
            save_results=False,
            num_iters=p.num_iters,
            parallel_message_passing=False,
            anterior_idxs=anatomy["anterior_idxs"],
            posterior_idxs=anatomy["posterior_idxs"],
            conf_threshold=fp.conf_threshold,
            error_estimator={"slope": -0.5, "intercept": 0.25},
        )
    r = results[name]
    syll = np.asarray(r["syllable"], dtype=np.int32)
    out = {
        "syllable": syll,
        "centroid": np.asarray(r["centroid"], dtype=np.float32),
        "heading": np.asarray(r["heading"], dtype=np.float32),
        "latent_state": np.asarray(r["latent_state"], dtype=np.float32),
    }
    prov.params.update(fps=kp.fps, n_frames=int(len(syll)))
    ctx.write(moseq_key(p.model), out, prov.finish())
    return {"n_frames": int(len(syll)), "n_syllables": int(len(np.unique(syll)))}


def read_syllables(ctx: TrialContext, model: str) -> pd.DataFrame:
    """A trial's stored syllables, one row per frame.

    Parameters
    ----------
    ctx
        The trial.
    model
        The MoSeq model's name.

    Returns
    -------
    pandas.DataFrame
        ``time_s`` (float64 s), ``syllable`` (int32), ``centroid_x``, ``centroid_y`` (px),
        ``heading`` (rad) and ``latent_0 ... latent_<d-1>``; ``attrs`` holds the provenance's
        parameters (model, fps, ...).

    Raises
    ------
    OutputsError
        If the trial has no syllables from ``model``.
    """
    data = ctx.read(moseq_key(model))
    params = ctx.provenance(moseq_key(model)).get("params", {})
    fps = float(params.get("fps") or 30.0)
    n = len(data["syllable"])
    frame = pd.DataFrame(
        {
            "time_s": np.arange(n) / fps,
            "syllable": np.asarray(data["syllable"], dtype=np.int32),
            "centroid_x": data["centroid"][:, 0],
            "centroid_y": data["centroid"][:, 1],
            "heading": data["heading"],
        }
    )
    latent = np.asarray(data["latent_state"])
    for i in range(latent.shape[1]):
        frame[f"latent_{i}"] = latent[:, i]
    frame.attrs.update(params)
    return frame

"""The table-level MoSeq tasks: ``moseq_fit`` (fit and register a model) and
``moseq_kappa_scan`` (median syllable duration per kappa). Both run through
:func:`behavior_soup.jobs.run_task` (in this process, a fresh one, or on a dask worker).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..jobs import TrialContext, register_task
from ..provenance import now_iso, package_versions
from ._kpms import load, quiet
from .data import gather
from .fit import choose_latent_dim, fit_moseq, hyperparams, init_chain, prepare
from .params import FitParams, KappaScanParams
from .registry import register_model, relative_to_table

__all__ = ["MOSEQ_PACKAGES", "moseq_fit", "moseq_kappa_scan"]

log = logging.getLogger(__name__)

MOSEQ_PACKAGES = ("keypoint-moseq", "jax-moseq", "jax", "jaxlib", "dynamax", "tfp-nightly")


def _needed(p: FitParams | KappaScanParams) -> list[str]:
    return list(dict.fromkeys([*(p.use_bodyparts or ()), *p.anterior, *p.posterior]))


@register_task("moseq_fit", params=FitParams)
def moseq_fit(
    contexts: Sequence[Mapping[str, Any]],
    table_path: str,
    folder: str,
    params: Mapping[str, Any],
    progress: bool = True,
    lock_timeout: float | None = None,
) -> dict[str, Any]:
    """Fit a MoSeq model on the trials' keypoints and register it with the table.

    Parameters
    ----------
    contexts
        The trials (as dicts of :class:`~behavior_soup.jobs.TrialContext` fields).
    table_path
        The trial table's file.
    folder
        The model's folder (checkpoints and ``model.h5``).
    params
        :class:`~behavior_soup.moseq.params.FitParams` fields.
    progress
        Show keypoint-moseq's progress bars.
    lock_timeout
        Seconds to wait for the table's lock.

    Returns
    -------
    dict
        The registry entry without the scree and frequencies (see
        :mod:`behavior_soup.moseq.registry`).
    """
    started, t0 = now_iso(), time.perf_counter()
    p = FitParams.from_mapping(params)
    ctxs = [TrialContext(**c) for c in contexts]
    kp = gather(ctxs, p.pose_model, p.view, needed=_needed(p), fps=p.fps)
    fitted = fit_moseq(kp, p, folder, progress)
    entry = {
        **fitted,
        "checkpoint": relative_to_table(table_path, fitted["checkpoint"]),
        "folder": relative_to_table(table_path, folder),
        "params": p.to_dict(),
        "pose_model": p.pose_model,
        "view": p.view,
        "bodyparts": list(kp.bodyparts),
        "anterior": list(p.anterior),
        "posterior": list(p.posterior),
        "scorers": list(kp.scorers),
        "fps": kp.fps,
        "recordings": kp.recordings,
        "n_frames": kp.n_frames,
        "seeds": list(p.seeds),
        "versions": package_versions(MOSEQ_PACKAGES),
        "created": started,
        "duration_s": time.perf_counter() - t0,
        "status": "done",
    }
    stored = register_model(table_path, p.name, entry, overwrite=p.overwrite, lock_timeout=lock_timeout)
    return {k: v for k, v in stored.items() if k not in ("scree", "frequencies", "recordings", "versions")}


@register_task("moseq_kappa_scan", params=KappaScanParams)
def moseq_kappa_scan(
    contexts: Sequence[Mapping[str, Any]],
    folder: str,
    params: Mapping[str, Any],
    progress: bool = True,
) -> dict[str, Any]:
    """An AR-HMM per kappa on the trials' keypoints, and each one's median syllable duration.

    Parameters
    ----------
    contexts
        The trials (as dicts of :class:`~behavior_soup.jobs.TrialContext` fields).
    folder
        Where ``kappa_scan.csv`` and ``kappa_scan.png`` are written (created).
    params
        :class:`~behavior_soup.moseq.params.KappaScanParams` fields.
    progress
        Show keypoint-moseq's progress bars.

    Returns
    -------
    dict
        ``rows`` (per kappa: ``kappa``, ``median_duration_frames``, ``median_duration_ms``,
        ``n_syllables``), ``latent_dim``, ``fps``, ``target_ms``, ``best_kappa`` (closest to the
        target), ``csv`` and ``plot`` (paths).
    """
    import pandas as pd
    from jax_moseq.utils import get_durations

    p = KappaScanParams.from_mapping(params)
    ctxs = [TrialContext(**c) for c in contexts]
    kp = gather(ctxs, p.pose_model, p.view, needed=_needed(p), fps=p.fps)
    out = Path(folder)
    kpms = load(out.parent / "jax_cache")
    rows = []
    with quiet(progress):
        data, metadata, anatomy = prepare(kpms, kp, p)
        pca, latent_dim, _ = choose_latent_dim(kpms, data, anatomy, p)
        sigmasq_loc = float(kpms.estimate_sigmasq_loc(data["Y"], data["mask"], filter_size=int(round(kp.fps))))
        for kappa in p.kappas:
            hyp = hyperparams(p, latent_dim, sigmasq_loc, kappa)
            model = init_chain(kpms, data, metadata, pca, anatomy, p, p.seed, hyp)
            model, _ = kpms.fit_model(
                model,
                data,
                metadata,
                ar_only=True,
                num_iters=p.ar_iters,
                save_every_n_iters=None,
                generate_progress_plots=False,
                parallel_message_passing=False,
            )
            z = np.asarray(model["states"]["z"])
            mask = np.asarray(data["mask"])[:, -z.shape[1] :] > 0
            d = get_durations(z, mask)
            med = float(np.median(d))
            rows.append(
                {
                    "kappa": float(kappa),
                    "median_duration_frames": med,
                    "median_duration_ms": med / kp.fps * 1000,
                    "n_syllables": int(len(np.unique(z[mask]))),
                }
            )
            log.info("kappa %.3g: median syllable %.0f ms", kappa, rows[-1]["median_duration_ms"])
    out.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows)
    csv, png = out / "kappa_scan.csv", out / "kappa_scan.png"
    frame.to_csv(csv, index=False)
    _plot_scan(frame, p.target_ms, png)
    best = float(frame.loc[(np.log(frame["median_duration_ms"]) - np.log(p.target_ms)).abs().idxmin(), "kappa"])
    return {
        "rows": rows,
        "latent_dim": latent_dim,
        "fps": kp.fps,
        "target_ms": p.target_ms,
        "best_kappa": best,
        "csv": str(csv),
        "plot": str(png),
    }


def _plot_scan(frame: Any, target_ms: float, path: Path) -> None:
    from matplotlib.figure import Figure  # no pyplot: the session's backend is left alone

    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.plot(frame["kappa"], frame["median_duration_ms"], "o-")
    ax.axhline(target_ms, color="gray", ls="--", label=f"target {target_ms:.0f} ms")
    ax.set_xscale("log")
    ax.set_xlabel("kappa")
    ax.set_ylabel("median syllable duration (ms)")
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)

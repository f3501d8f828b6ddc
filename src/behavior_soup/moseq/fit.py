"""Fitting keypoint-MoSeq, through keypoint-moseq's own functions.

The fit follows keypoint-moseq's tutorial: outlier removal; ``format_data``; PCA, with the
latent dimension the fewest components explaining ``variance`` (or given; at least 2, since
keypoint-moseq fails with one); ``estimate_sigmasq_loc``; an AR-HMM pre-fit at ``kappa_ar``;
then the full keypoint-SLDS fit at ``kappa_full``, warm-started from the AR-HMM's state. One
chain runs per seed, each checkpointed under ``<model folder>/seed<s>/checkpoint.h5``; with
several seeds the chain with the best expected marginal likelihood is kept. Its last state is
written to ``<model folder>/model.h5`` with the syllables re-indexed by frequency (0 the most
frequent), once, before any inference.

Resuming
--------
keypoint-moseq's ``fit_model`` runs the iterations ``start_iter .. num_iters`` (both included)
and saves a snapshot after iteration ``i`` (except after ``start_iter``), deleting snapshots
past ``start_iter`` when it starts. A rerun of an interrupted fit therefore starts after the
last snapshot (``start_iter = i + 1``), or from the start if only the initial state was
saved, and so runs exactly the iterations the uninterrupted fit would have: the result is the
same (tested). The fit's settings are kept in ``<model folder>/fit.json``; a rerun with other
settings under the same name is refused.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFormatError, ItemExistsError
from ..locking import atomic_write
from ._kpms import quiet
from .data import Keypoints, clean
from .params import FitParams, KappaScanParams

__all__ = [
    "choose_latent_dim",
    "fit_chains",
    "fit_moseq",
    "hyperparams",
    "init_chain",
    "prepare",
    "syllable_summary",
]

log = logging.getLogger(__name__)

#: Fields that do not change what a fit computes (a rerun may differ in them).
_NOT_FIT = ("save_every", "overwrite", "name")


def hyperparams(p: FitParams | KappaScanParams, latent_dim: int, sigmasq_loc: float, kappa: float) -> dict[str, Any]:
    """keypoint-moseq's hyperparameter groups, with its defaults where this library has no field.

    Parameters
    ----------
    p
        The fit's (or scan's) parameters.
    latent_dim
        Dimensions of the latent pose.
    sigmasq_loc
        Prior variance of the centroid's movement per frame (px^2).
    kappa
        The stickiness to start with.

    Returns
    -------
    dict
        ``trans_hypparams``, ``ar_hypparams``, ``obs_hypparams``, ``cen_hypparams``.
    """
    return {
        "trans_hypparams": {"num_states": p.num_states, "gamma": 1e3, "alpha": 5.7, "kappa": float(kappa)},
        "ar_hypparams": {"latent_dim": int(latent_dim), "nlags": p.nlags, "S_0_scale": 0.01, "K_0_scale": 10.0},
        "obs_hypparams": {"sigmasq_0": 0.1, "sigmasq_C": 0.1, "nu_sigma": 1e5, "nu_s": 5},
        "cen_hypparams": {"sigmasq_loc": float(sigmasq_loc)},
    }


def prepare(
    kpms: Any, kp: Keypoints, p: FitParams | KappaScanParams, seg_length: int | None = None
) -> tuple[dict, tuple, dict[str, Any]]:
    """Outlier removal and ``format_data``.

    Parameters
    ----------
    kpms
        The ``keypoint_moseq`` module.
    kp
        The keypoints (not changed).
    p
        Parameters naming the bodyparts and the outlier threshold.
    seg_length
        Frames per segment; ``None``: keypoint-moseq's choice.

    Returns
    -------
    data : dict
        ``Y`` (n_segs, seg_length, K_used, 2), ``conf`` (n_segs, seg_length, K_used), ``mask``
        (n_segs, seg_length); JAX float64 arrays.
    metadata : tuple
        keypoint-moseq's ``(recording names, (start, end) bounds)`` of the segments.
    anatomy : dict
        ``use_bodyparts``, ``anterior_idxs``, ``posterior_idxs`` (into the used bodyparts) and
        ``seg_length``.
    """
    use = list(p.use_bodyparts or kp.bodyparts)
    coords, confs = clean(kpms, kp, p.outlier_scale_factor)
    data, metadata = kpms.format_data(
        coords,
        confs,
        bodyparts=list(kp.bodyparts),
        use_bodyparts=use,
        conf_pseudocount=1e-3,
        added_noise_level=0.1,
        seg_length=seg_length,
    )
    anatomy = {
        "use_bodyparts": use,
        "anterior_idxs": [use.index(b) for b in p.anterior],
        "posterior_idxs": [use.index(b) for b in p.posterior],
        "seg_length": int(data["Y"].shape[1]),
    }
    return data, metadata, anatomy


def choose_latent_dim(kpms: Any, data: dict, anatomy: dict, p: FitParams | KappaScanParams) -> tuple[Any, int, list]:
    """PCA of the aligned poses and the latent dimension.

    Parameters
    ----------
    kpms
        The ``keypoint_moseq`` module.
    data
        From :func:`prepare`.
    anatomy
        From :func:`prepare`.
    p
        ``latent_dim`` (or None) and ``variance``.

    Returns
    -------
    pca : sklearn.decomposition.PCA
        keypoint-moseq's PCA.
    latent_dim : int
        ``p.latent_dim``, or the fewest components explaining ``p.variance`` (at least 2).
    scree : list of float
        Cumulative variance explained by 1, 2, ... components.

    Raises
    ------
    DataFormatError
        Fewer frames or pose dimensions than the latent dimension needs.
    """
    n_valid = int(np.asarray(data["mask"]).sum())
    need = max(p.latent_dim or 2, 2) + 1
    if n_valid < max(need, 10 * (p.nlags + 1)):
        raise DataFormatError(
            f"expected at least {max(need, 10 * (p.nlags + 1))} frames of keypoints to fit MoSeq "
            f"(latent dimension {p.latent_dim or 'from variance'}, {p.nlags} lags), got {n_valid}"
        )
    pca = kpms.fit_pca(
        **data,
        anterior_idxs=anatomy["anterior_idxs"],
        posterior_idxs=anatomy["posterior_idxs"],
        conf_threshold=p.conf_threshold,
        exclude_outliers_for_pca=True,
    )
    scree = [float(v) for v in np.cumsum(pca.explained_variance_ratio_)]
    if p.latent_dim is not None:
        if p.latent_dim > len(scree):
            raise DataFormatError(
                f"expected latent_dim <= {len(scree)} (the pose dimensions of {len(anatomy['use_bodyparts'])} "
                f"bodyparts in {n_valid} frames), got {p.latent_dim}"
            )
        return pca, p.latent_dim, scree
    dim = int(np.searchsorted(np.asarray(scree), p.variance - 1e-9) + 1)
    return pca, max(2, min(dim, len(scree))), scree


def init_chain(
    kpms: Any,
    data: dict,
    metadata: tuple,
    pca: Any,
    anatomy: dict,
    p: FitParams | KappaScanParams,
    seed: int,
    hyp: dict,
) -> dict:
    """keypoint-moseq's ``init_model`` for one chain.

    Parameters
    ----------
    kpms
        The ``keypoint_moseq`` module.
    data, metadata, anatomy
        From :func:`prepare`.
    pca
        From :func:`choose_latent_dim`.
    p
        The fit's (or scan's) parameters (``conf_threshold``).
    seed
        The chain's seed.
    hyp
        From :func:`hyperparams`.

    Returns
    -------
    dict
        The initial model.
    """
    return kpms.init_model(
        data,
        pca=pca,
        metadata=metadata,
        seed=seed,
        anterior_idxs=anatomy["anterior_idxs"],
        posterior_idxs=anatomy["posterior_idxs"],
        conf_threshold=p.conf_threshold,
        error_estimator={"slope": -0.5, "intercept": 0.25},
        verbose=False,
        **hyp,
    )


def _snapshots(path: Path) -> list[int]:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return sorted(int(k) for k in f["model_snapshots"])
    except (OSError, KeyError) as exc:
        log.warning("checkpoint %s cannot be read (%s); its chain starts again", path, exc)
        path.unlink()
        return []


def _fit_chain(
    kpms: Any, data: dict, metadata: tuple, init: Any, p: FitParams, folder: Path, name: str, progress: bool
) -> dict:
    """One chain (AR-HMM then full fit), resumed from its checkpoint when there is one."""
    ck = folder / name / "checkpoint.h5"
    last = _snapshots(ck) if ck.exists() else []
    total = p.ar_iters + p.full_iters
    common = {
        "project_dir": str(folder),
        "model_name": name,
        "save_every_n_iters": p.save_every,
        "generate_progress_plots": False,
        "parallel_message_passing": False,
        "verbose": False,
    }
    with quiet(progress):
        if last:
            model, data, metadata, it = kpms.load_checkpoint(path=str(ck))
            log.info("resuming MoSeq chain %s after iteration %d", name, it)
        else:
            model, it = init(), 0
        if it < p.ar_iters:
            start = it + 1 if it > 0 else 0
            model = kpms.update_hypparams(model, kappa=p.kappa_ar)
            model, _ = kpms.fit_model(
                model, data, metadata, ar_only=True, start_iter=start, num_iters=p.ar_iters, **common
            )
            it = p.ar_iters
        if p.full_iters and it < total:
            start = it if it == p.ar_iters else it + 1
            if it == p.ar_iters:
                model = kpms.update_hypparams(model, kappa=p.kappa_full)
            model, _ = kpms.fit_model(model, data, metadata, ar_only=False, start_iter=start, num_iters=total, **common)
    return model


def _check_spec(folder: Path, spec: dict[str, Any]) -> None:
    path = folder / "fit.json"
    if path.exists():
        old = json.loads(path.read_text())
        if old != spec:
            diff = sorted(k for k in set(old) | set(spec) if old.get(k) != spec.get(k))
            raise ItemExistsError(
                f"expected the settings of the interrupted fit in {str(folder)!r} to resume it, got other {diff}; "
                "pass overwrite=True to start again, or another name"
            )
        return
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(spec, indent=1, sort_keys=True)))


def fit_chains(kpms: Any, kp: Keypoints, p: FitParams, folder: Path, progress: bool = True) -> dict[str, Any]:
    """Fit one chain per seed and keep the best; see the module docstring.

    Parameters
    ----------
    kpms
        The ``keypoint_moseq`` module.
    kp
        The keypoints of the trials fitted on.
    p
        The fit's parameters.
    folder
        The model's folder (checkpoints, ``fit.json``, ``model.h5``).
    progress
        Show keypoint-moseq's progress bars.

    Returns
    -------
    dict
        ``checkpoint`` (``model.h5``), ``seg_length``, ``use_bodyparts``, ``latent_dim``,
        ``variance_explained``, ``scree``, ``sigmasq_loc``, ``scores`` (seed -> expected
        marginal likelihood, with ``score_errors``; empty for one seed), ``chosen_seed``,
        ``iterations``, and :func:`syllable_summary`'s fields.
    """
    spec = {k: v for k, v in p.to_dict().items() if k not in _NOT_FIT}
    spec.update(recordings=sorted(kp.recordings.values()), bodyparts=list(kp.bodyparts), fps=kp.fps)
    if p.overwrite and folder.exists():
        shutil.rmtree(folder)
    _check_spec(folder, spec)
    with quiet(progress):
        data, metadata, anatomy = prepare(kpms, kp, p, p.seg_length)
        pca, latent_dim, scree = choose_latent_dim(kpms, data, anatomy, p)
        sigmasq_loc = float(kpms.estimate_sigmasq_loc(data["Y"], data["mask"], filter_size=int(round(kp.fps))))
    log.info(
        "MoSeq: %d frames, latent dimension %d (%.1f%% variance)", kp.n_frames, latent_dim, 100 * scree[latent_dim - 1]
    )
    hyp = hyperparams(p, latent_dim, sigmasq_loc, p.kappa_ar)
    models = {}
    for seed in p.seeds:

        def init(seed: int = seed) -> dict:
            return init_chain(kpms, data, metadata, pca, anatomy, p, seed, hyp)

        models[seed] = _fit_chain(kpms, data, metadata, init, p, folder, f"seed{seed}", progress)
    scores: dict[str, float] = {}
    errors: dict[str, float] = {}
    chosen = p.seeds[0]
    if len(p.seeds) > 1:
        paths = [str(folder / f"seed{s}" / "checkpoint.h5") for s in p.seeds]
        with quiet(progress):
            eml, se = kpms.expected_marginal_likelihoods(checkpoint_paths=paths)
        scores = {str(s): float(v) for s, v in zip(p.seeds, eml)}
        errors = {str(s): float(v) for s, v in zip(p.seeds, se)}
        chosen = p.seeds[int(np.argmax(eml))]
    out = folder / "model.h5"
    _write_model(kpms, out, models[chosen], data, metadata, p.ar_iters + p.full_iters, progress)
    return {
        "checkpoint": str(out),
        "seg_length": anatomy["seg_length"],
        "use_bodyparts": anatomy["use_bodyparts"],
        "latent_dim": latent_dim,
        "variance_explained": scree[latent_dim - 1],
        "scree": scree,
        "sigmasq_loc": sigmasq_loc,
        "scores": scores,
        "score_errors": errors,
        "chosen_seed": chosen,
        "iterations": p.ar_iters + p.full_iters,
        **syllable_summary(out, kp.fps),
    }


def _write_model(kpms: Any, out: Path, model: dict, data: dict, metadata: tuple, it: int, progress: bool) -> None:
    """The chosen chain's last state, syllables re-indexed by frequency, written atomically."""

    def write(tmp: Path) -> None:
        with quiet(progress):
            kpms.save_hdf5(str(tmp), {"model_snapshots": {str(it): model}, "metadata": metadata, "data": data})
            kpms.reindex_syllables_in_checkpoint(path=str(tmp))

    atomic_write(out, write)


def syllable_summary(model_file: str | os.PathLike, fps: float) -> dict[str, Any]:
    """Syllable use in a fitted model's training data.

    Parameters
    ----------
    model_file
        A ``model.h5`` written by :func:`fit_chains`.
    fps
        Frame rate, frames per second.

    Returns
    -------
    dict
        ``n_syllables`` (syllables making at least 0.5% of the syllable instances),
        ``median_duration_ms`` and ``frequencies`` (fraction of the instances per syllable:
        keypoint-moseq's order, most frequent first).
    """
    import h5py

    with h5py.File(model_file, "r") as f:
        it = max(f["model_snapshots"], key=int)
        z = f[f"model_snapshots/{it}/states/z"][()]
        mask = f["data/mask"][()]
    from jax_moseq.utils import get_durations, get_frequencies

    nlags = mask.shape[1] - z.shape[1]
    m = mask[:, nlags:] > 0
    freq = np.asarray(get_frequencies(z, m, runlength=True))
    durations = get_durations(z, m)
    return {
        "n_syllables": int((freq >= 0.005).sum()),
        "median_duration_ms": float(np.median(durations) / fps * 1000) if len(durations) else float("nan"),
        "frequencies": [float(v) for v in freq[: int((freq > 0).sum())]],
    }


def fit_moseq(kp: Keypoints, p: FitParams, folder: str | os.PathLike, progress: bool = True) -> dict[str, Any]:
    """Fit a MoSeq model on gathered keypoints (keypoint-moseq imported here).

    Parameters
    ----------
    kp
        The keypoints (see :func:`behavior_soup.moseq.data.gather`).
    p
        The fit's parameters.
    folder
        The model's folder, created.
    progress
        Show keypoint-moseq's progress bars.

    Returns
    -------
    dict
        See :func:`fit_chains`.
    """
    from ._kpms import load

    folder = Path(folder)
    kpms = load(folder.parent / "jax_cache")
    return fit_chains(kpms, kp, p, folder, progress)

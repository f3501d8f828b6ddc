"""Analysis of inferred syllables across trials, through keypoint-moseq's own functions:
statistics per trial and syllable (:func:`syllable_stats`), transition matrices per group
(:func:`transitions`), grid movies (:func:`grid_movies`) and trajectory plots
(:func:`trajectory_plots`). Inputs are the trials' stored results (see
:mod:`behavior_soup.moseq.infer`); every output is keyed by the trial's uuid, so it joins the
trial table.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataFormatError, ItemNotFoundError, OutputsError
from ..jobs import TrialContext
from ._kpms import load, quiet
from .data import gather, recording_name
from .infer import moseq_key

__all__ = ["grid_movies", "load_results", "syllable_stats", "trajectory_plots", "transitions"]

log = logging.getLogger(__name__)


def load_results(contexts: Sequence[TrialContext], model: str) -> tuple[dict[str, dict[str, np.ndarray]], dict]:
    """The stored syllables of the trials, in keypoint-moseq's results layout.

    Parameters
    ----------
    contexts
        The trials; those without results from ``model`` are left out.
    model
        The MoSeq model's name.

    Returns
    -------
    results : dict
        Recording name -> ``syllable`` (T,), ``centroid`` (T, 2), ``heading`` (T,),
        ``latent_state`` (T, d).
    names : dict
        Recording name -> the trial's context.

    Raises
    ------
    ItemNotFoundError
        If no trial has results from ``model``.
    """
    results, names = {}, {}
    for ctx in contexts:
        try:
            data = ctx.read(moseq_key(model))
        except OutputsError:
            continue
        name = recording_name(ctx)
        results[name] = {k: np.asarray(data[k]) for k in ("syllable", "centroid", "heading", "latent_state")}
        names[name] = ctx
    if not results:
        raise ItemNotFoundError(
            f"expected trials with syllables from MoSeq model {model!r}, found none; run row.moseq.infer(model={model!r})"
        )
    return results, names


def syllable_stats(
    contexts: Sequence[TrialContext], model: str, fps: float, min_frequency: float = 0.005
) -> pd.DataFrame:
    """Per trial and syllable: frequency, duration, speed and heading (keypoint-moseq's
    ``compute_moseq_df`` and ``compute_stats_df``).

    Parameters
    ----------
    contexts
        The trials.
    model
        The MoSeq model's name.
    fps
        Frame rate, frames per second.
    min_frequency
        Syllables used in at most this fraction of all frames are left out.

    Returns
    -------
    pandas.DataFrame
        One row per trial and syllable: ``uuid``, ``animal_id``, ``session_id``, ``trial_id``,
        ``exp_type``, ``syllable``, ``frequency`` (fraction of the trial's syllable instances),
        ``duration`` (mean s), ``velocity_px_s_mean`` and keypoint-moseq's other columns
        (``heading_*``, ``angular_velocity_*``, ``velocity_px_s_*``).
    """
    kpms = load()
    results, names = load_results(contexts, model)
    with quiet(), tempfile.TemporaryDirectory() as empty:  # a project folder without an index.csv
        moseq_df = kpms.compute_moseq_df(empty, model, results_dict=results, fps=fps)
        stats = kpms.compute_stats_df(moseq_df, min_frequency=min_frequency, groupby=["name"])
    ids = pd.DataFrame(
        [
            {
                "name": n,
                "uuid": c.uuid,
                "animal_id": c.animal_id,
                "session_id": c.session_id,
                "trial_id": c.trial_id,
                "exp_type": c.exp_type,
            }
            for n, c in names.items()
        ]
    )
    out = ids.merge(stats, on="name", how="right").drop(columns=["name"])
    front = ["uuid", "animal_id", "session_id", "trial_id", "exp_type", "syllable"]
    return out[front + [c for c in out.columns if c not in front]].reset_index(drop=True)


def transitions(
    contexts: Sequence[TrialContext],
    model: str,
    groups: dict[str, Any],
    max_syllable: int | None = None,
    normalize: str = "bigram",
) -> dict[Any, pd.DataFrame]:
    """Syllable transition matrices per group (keypoint-moseq's ``get_transition_matrix``).

    Parameters
    ----------
    contexts
        The trials.
    model
        The MoSeq model's name.
    groups
        Trial uuid -> its group (e.g. its ``exp_type``).
    max_syllable
        Syllables ``0 .. max_syllable - 1`` are counted; ``None``: all that occur.
    normalize
        ``"bigram"`` (all entries sum to 1), ``"rows"`` (each row sums to 1), ``"columns"``.

    Returns
    -------
    dict
        Group -> ``(S, S)`` float64 DataFrame: from syllable (rows) to syllable (columns),
        self-transitions excluded (keypoint-moseq counts transitions between syllable runs).
    """
    if normalize not in ("bigram", "rows", "columns"):
        raise ValueError(f"expected normalize in ['bigram', 'rows', 'columns'], got {normalize!r}")
    kpms = load()
    results, names = load_results(contexts, model)
    if max_syllable is None:
        max_syllable = int(max(r["syllable"].max() for r in results.values())) + 1
    by_group: dict[Any, list[np.ndarray]] = {}
    for n, r in results.items():
        by_group.setdefault(groups.get(names[n].uuid), []).append(r["syllable"])
    out = {}
    with quiet():
        for g, labels in by_group.items():
            mat = kpms.get_transition_matrix(
                labels, max_syllable=max_syllable, normalize=normalize, combine=True, disable_output=True
            )
            mat = np.asarray(mat[0] if isinstance(mat, list) else mat, dtype=np.float64)
            idx = pd.Index(range(max_syllable), name="from")
            out[g] = pd.DataFrame(mat, index=idx, columns=pd.Index(range(max_syllable), name="to"))
    return out


def _inputs(contexts: Sequence[TrialContext], entry: dict[str, Any]) -> tuple[dict, dict, Any]:
    results, names = load_results(contexts, entry["name"])
    kp = gather(list(names.values()), entry["pose_model"], entry["view"], fps=entry["fps"])
    return results, names, kp


@contextlib.contextmanager
def _ffmpeg_without_preexec() -> Iterator[None]:
    """imageio-ffmpeg starts ffmpeg with ``preexec_fn=os.setpgrp``, which runs Python in the
    forked child of a process that JAX's threads share (JAX warns that this can deadlock);
    its ``IMAGEIO_FFMPEG_NO_PREVENT_SIGINT`` switch starts it without, while the block runs."""
    name = "IMAGEIO_FFMPEG_NO_PREVENT_SIGINT"
    before = os.environ.get(name)
    os.environ[name] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def grid_movies(
    contexts: Sequence[TrialContext], entry: dict[str, Any], out: Path, rows: int = 4, cols: int = 6, **kwargs: Any
) -> dict[str, Any]:
    """A grid movie per syllable (keypoint-moseq's ``generate_grid_movies``): instances cut
    from the videos of the model's view (only from the trials that have theirs), or keypoints
    only when no trial has one.

    Parameters
    ----------
    contexts
        The trials with results.
    entry
        The model's registry entry, with its ``name``.
    out
        Folder for the movies (created).
    rows, cols
        Instances per movie; a syllable needs ``rows * cols`` instances to get one.
    **kwargs
        Passed to ``generate_grid_movies`` (``before_onset_sec``, ``min_frequency``, ...).

    Returns
    -------
    dict
        ``movies``: syllable -> movie path; ``keypoints_only``: whether no video was found;
        ``from_videos``: how many trials the instances were cut from.
    """
    kpms = load()
    results, names, kp = _inputs(contexts, entry)
    view = entry["view"]
    paths = {n: c.video_path(view) for n, c in names.items() if view in c.videos}
    videos = {n: str(p) for n, p in paths.items() if p.is_file()}
    keypoints_only = not videos
    coordinates = kp.coordinates
    if videos and len(videos) < len(names):  # instances from the trials that have their video
        log.info("grid movies from the %d of %d trials with a %s video", len(videos), len(names), view)
        results = {n: r for n, r in results.items() if n in videos}
        coordinates = {n: xy for n, xy in coordinates.items() if n in videos}
    out.mkdir(parents=True, exist_ok=True)
    with quiet(), _ffmpeg_without_preexec():
        kpms.generate_grid_movies(
            results,
            output_dir=str(out),
            video_paths=None if keypoints_only else videos,
            coordinates=coordinates,
            bodyparts=list(kp.bodyparts),
            use_bodyparts=entry["use_bodyparts"],
            keypoints_only=keypoints_only,
            fps=kp.fps,
            rows=rows,
            cols=cols,
            **kwargs,
        )
    movies = {}
    for p in sorted(out.glob("syllable*.mp4")):
        digits = "".join(ch for ch in p.stem if ch.isdigit())
        if digits:
            movies[int(digits)] = str(p)
    return {"movies": movies, "keypoints_only": keypoints_only, "from_videos": len(videos)}


def trajectory_plots(contexts: Sequence[TrialContext], entry: dict[str, Any], out: Path, **kwargs: Any) -> list[str]:
    """Each syllable's average keypoint trajectory (keypoint-moseq's
    ``generate_trajectory_plots``), as PDFs and GIFs.

    Parameters
    ----------
    contexts
        The trials with results.
    entry
        The model's registry entry, with its ``name``.
    out
        Folder for the plots (created).
    **kwargs
        Passed to ``generate_trajectory_plots`` (``min_frequency``, ``save_gifs``, ...).

    Returns
    -------
    list of str
        The files written.

    Raises
    ------
    DataFormatError
        If no syllable has enough instances (keypoint-moseq's ``sampling_options``
        ``n_neighbors``, 50 by default).
    """
    kpms = load()
    results, _, kp = _inputs(contexts, entry)
    out.mkdir(parents=True, exist_ok=True)
    opts = {"save_gifs": False, "interactive": False, "fps": kp.fps, **kwargs}
    with quiet():
        try:
            kpms.generate_trajectory_plots(
                kp.coordinates,
                results,
                output_dir=str(out),
                bodyparts=list(kp.bodyparts),
                use_bodyparts=entry["use_bodyparts"],
                **opts,
            )
        except ValueError as exc:
            if "sufficient instances" not in str(exc):
                raise
            n = opts.get("sampling_options", {}).get("n_neighbors", 50)
            raise DataFormatError(
                f"expected at least {n} instances of a syllable in the trials' results to average its trajectory, "
                f"found none with so many; use more trials, or pass sampling_options={{'n_neighbors': ...}}"
            ) from None
    return sorted(str(p) for p in out.rglob("*") if p.is_file())

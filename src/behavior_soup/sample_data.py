"""A deterministic synthetic raw-data tree with known ground truth.

:func:`make_sample_data` writes::

    <root>/<animal>/<session>/front_v001.mp4, side_v001.mp4, ...   two views of a simulated mouse
    <root>/<animal>/<session>/labels/trial_001.csv                  per-frame behaviors (DeepEthogram CSV)
    <root>/<animal>/<session>/pose/front_v001DLC_synthetic.h5/.csv  keypoints in DLC format
    <root>/<animal>/<session>/truth/trial_001.npz                   exact keypoints and labels
    <root>/r1/s1/stim/movie.npy, stim/movie.json                    white-noise movie (T, H, W) int8, fps, onset
    <root>/r1/s1/spikes/units.h5                                    spike times (s) per unit
    <root>/r1/s1/truth/kernels.npz                                  each unit's true spatio-temporal kernel

The simulated mouse (front camera = top view) is an ellipse with two ears; its behaviors are
visually distinct: ``still`` (background: no motion), ``walk`` (translates along its heading),
``groom`` (stays put; two bright forepaws stroke from the snout back over the face about six
times a second while the head bobs with them, so grooming shows both in the frame and in its
motion), ``rear`` (top view:
body shortens; side view: silhouette tall). Keypoints ``snout, leftear, rightear, tailbase``
are known exactly.

The electrophysiology trial is a linear-nonlinear-Poisson neuron per unit: drive = spatio-
temporal kernel * stimulus, rate = exp(a + b * drive) per frame, spike counts Poisson, spike
times uniform within their frame.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .video import write_video

__all__ = ["BEHAVIORS", "BODYPARTS", "SampleData", "make_sample_data", "lnp_kernel"]

log = logging.getLogger(__name__)

#: Behavior names; index 0 is the background class.
BEHAVIORS: tuple[str, ...] = ("still", "walk", "groom", "rear")
BODYPARTS: tuple[str, ...] = ("snout", "leftear", "rightear", "tailbase")
DLC_SCORER = "DLC_resnet50_syntheticJan1shuffle1_1000"
#: Grooming strokes: radians per frame (about 6 strokes per second at 30 fps, as mice groom).
GROOM_RATE = 1.3
PAW = (255, 225, 90)


@dataclass
class SampleData:
    """Where the sample data went and what is true about them."""

    root: Path
    animals: list[str]
    sessions: list[str]
    trials: list[int]
    fps: float
    size: tuple[int, int]
    ephys: dict = field(default_factory=dict)

    def truth(self, animal: str, session: str, trial: int) -> dict[str, np.ndarray]:
        """``labels`` (T,) int64 behavior index; ``keypoints`` (T, 4, 2) float64 (x, y) px in the
        front view, bodyparts in :data:`BODYPARTS` order.

        Parameters
        ----------
        animal
            Animal id, one of :attr:`animals`.
        session
            Session id, one of :attr:`sessions`.
        trial
            Trial number, one of :attr:`trials`.

        Returns
        -------
        dict of str to numpy.ndarray
            ``{"labels": (T,) int64 index into BEHAVIORS, "keypoints": (T, 4, 2) float64}``,
            ``T`` the trial's frame count; the keypoints are exact (without the noise of the
            DLC files).
        """
        with np.load(self.root / animal / session / "truth" / f"trial_{trial:03d}.npz") as z:
            return {k: z[k] for k in z.files}


def _segments(rng: np.random.Generator, n: int) -> np.ndarray:
    labels = np.empty(n, np.int64)
    t = 0
    b = 0
    while t < n:
        b = int(rng.choice([x for x in range(len(BEHAVIORS)) if x != b]))
        length = int(rng.integers(12, 30))
        labels[t : t + length] = b
        t += length
    return labels


def _simulate(rng: np.random.Generator, labels: np.ndarray, size: tuple[int, int]) -> dict[str, np.ndarray]:
    h, w = size
    n = len(labels)
    pos = np.empty((n, 2))
    heading = np.empty(n)
    length = np.empty(n)
    bob = np.zeros(n)
    stroke = np.zeros(n)
    p = np.array([w / 2, h / 2])
    th = rng.uniform(0, 2 * np.pi)
    margin = 0.25 * min(h, w)
    for t, b in enumerate(labels):
        name = BEHAVIORS[b]
        if name == "walk":
            th += rng.normal(0, 0.08)
            step = 0.035 * min(h, w) * np.array([np.cos(th), np.sin(th)])
            q = p + step
            if not (margin < q[0] < w - margin and margin < q[1] < h - margin):
                th += np.pi / 2
                q = p
            p = q
        if name == "groom":
            stroke[t] = 0.5 * (1 - np.cos(GROOM_RATE * t))
            bob[t] = 0.05 * min(h, w) * np.sin(GROOM_RATE * t)
        pos[t], heading[t] = p, th
        length[t] = (0.17 if name == "rear" else 0.28) * min(h, w)
    u = np.stack([np.cos(heading), np.sin(heading)], axis=1)
    v = np.stack([-u[:, 1], u[:, 0]], axis=1)
    snout = pos + u * (length + bob)[:, None]
    tail = pos - u * length[:, None]
    ear_c = pos + u * (0.55 * length + bob)[:, None]
    half = 0.07 * min(h, w)
    # seen from above with image y pointing down, the animal's left is -v
    kp = np.stack([snout, ear_c - v * half, ear_c + v * half, tail], axis=1)
    return {"keypoints": kp, "pos": pos, "heading": heading, "length": length, "stroke": stroke}


def _render(
    sim: dict[str, np.ndarray], labels: np.ndarray, size: tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    h, w = size
    n = len(labels)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bg = np.array([40, 40, 48], np.float32)
    front = np.empty((n, h, w, 3), np.uint8)
    side = np.empty((n, h, w, 3), np.uint8)
    fur = np.array([200, 190, 170], np.float32)
    for t in range(n):
        img = np.broadcast_to(bg, (h, w, 3)).copy()
        cx, cy = sim["pos"][t]
        c, s = np.cos(sim["heading"][t]), np.sin(sim["heading"][t])
        a = sim["length"][t]
        b = 0.12 * min(h, w)
        dx, dy = xx - cx, yy - cy
        body = ((dx * c + dy * s) / a) ** 2 + ((-dx * s + dy * c) / b) ** 2 <= 1
        img[body] = fur
        for k in (1, 2):
            ex, ey = sim["keypoints"][t, k]
            img[(xx - ex) ** 2 + (yy - ey) ** 2 <= (0.045 * min(h, w)) ** 2] = (230, 150, 150)
        grooming = BEHAVIORS[labels[t]] == "groom"
        if grooming:  # two forepaws stroking from the snout back over the face
            snout = sim["keypoints"][t, 0]
            fwd, lat = np.array([c, s]), np.array([-s, c])
            back = (0.03 + 0.10 * sim["stroke"][t]) * min(h, w)
            for side_sign in (-1, 1):
                px, py = snout - fwd * back + side_sign * lat * 0.05 * min(h, w)
                img[(xx - px) ** 2 + (yy - py) ** 2 <= (0.05 * min(h, w)) ** 2] = PAW
        img += rng.normal(0, 3, img.shape).astype(np.float32)
        front[t] = np.clip(img, 0, 255).astype(np.uint8)
        # side view: x position along the width, silhouette height from the behavior
        simg = np.broadcast_to(bg, (h, w, 3)).copy()
        tall = BEHAVIORS[labels[t]] == "rear"
        sh = (0.32 if tall else 0.12) * h
        sw = (0.12 if tall else 0.26) * w
        scx, scy = cx, h - 0.1 * h - sh
        sil = ((xx - scx) / sw) ** 2 + ((yy - scy) / sh) ** 2 <= 1
        simg[sil] = fur
        if grooming:  # the near forepaw moving up and down in front of the face
            py = scy + (0.5 - sim["stroke"][t]) * 0.16 * h
            simg[((xx - scx - 0.95 * sw) ** 2 + (yy - py) ** 2) <= (0.055 * h) ** 2] = PAW
        simg += rng.normal(0, 3, simg.shape).astype(np.float32)
        side[t] = np.clip(simg, 0, 255).astype(np.uint8)
    return front, side


def write_dlc_pose(
    path_h5: Path,
    keypoints: np.ndarray,
    likelihood: np.ndarray,
    bodyparts: tuple[str, ...] = BODYPARTS,
    scorer: str = DLC_SCORER,
) -> None:
    """Write keypoints as a DeepLabCut prediction file (``.h5`` key ``df_with_missing`` and a
    ``.csv`` twin): columns (scorer, bodyparts, coords[x, y, likelihood]).

    Parameters
    ----------
    path_h5
        The ``.h5`` file to write (its parent folders are created); the CSV goes beside it with
        the suffix ``.csv``.
    keypoints
        (T, K, 2) float, x and y in pixels.
    likelihood
        (T, K) float in [0, 1].
    bodyparts
        ``K`` bodypart names, in the order of the keypoints' second axis.
    scorer
        The DLC scorer name, the top column level (and the part of DLC file names after the
        video stem).
    """
    n, k, _ = keypoints.shape
    cols = pd.MultiIndex.from_product(
        [[scorer], list(bodyparts), ["x", "y", "likelihood"]], names=["scorer", "bodyparts", "coords"]
    )
    data = np.concatenate([keypoints, likelihood[..., None]], axis=2).reshape(n, k * 3)
    df = pd.DataFrame(data, columns=cols)
    path_h5.parent.mkdir(parents=True, exist_ok=True)
    df.to_hdf(path_h5, key="df_with_missing", format="table", mode="w")
    df.to_csv(path_h5.with_suffix(".csv"))


def lnp_kernel(
    n_delays: int, shape: tuple[int, int], center: tuple[float, float], sigma: float, polarity: float = 1.0
) -> np.ndarray:
    """A separable spatio-temporal kernel, ``(n_delays, H, W)`` float64: a 2-D Gaussian at
    ``center`` = (x, y) px times a biphasic temporal profile; index ``d`` weights the frame
    ``d`` frames before the current one.

    Parameters
    ----------
    n_delays
        Number of frame delays (the kernel's first axis).
    shape
        ``(H, W)`` of the stimulus frames, in stimulus pixels.
    center
        ``(x, y)`` of the Gaussian's center, in stimulus pixels.
    sigma
        Gaussian standard deviation, in stimulus pixels.
    polarity
        Factor on the whole kernel (``-1`` for an OFF unit).

    Returns
    -------
    numpy.ndarray
        ``(n_delays, H, W)`` float64.
    """
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    spatial = np.exp(-((xx - center[0]) ** 2 + (yy - center[1]) ** 2) / (2 * sigma**2))
    d = np.arange(n_delays, dtype=float)
    temporal = np.exp(-((d - 3) ** 2) / 2.0) - 0.45 * np.exp(-((d - 7) ** 2) / 4.0)
    return polarity * temporal[:, None, None] * spatial[None]


def _ephys(
    root: Path, rng: np.random.Generator, n_frames: int, shape: tuple[int, int], fps: float, onset: float
) -> dict:
    import h5py

    d = root / "r1" / "s1"
    (d / "stim").mkdir(parents=True, exist_ok=True)
    (d / "spikes").mkdir(parents=True, exist_ok=True)
    (d / "truth").mkdir(parents=True, exist_ok=True)
    stim = rng.choice(np.array([-1, 1], np.int8), size=(n_frames, *shape))
    np.save(d / "stim" / "movie.npy", stim)
    with open(d / "stim" / "movie.json", "w") as fh:
        json.dump({"fps": fps, "stimulus_onset": onset, "pixel_size_um": 50.0}, fh)
    n_delays = 12
    units = {
        "unit_0": lnp_kernel(n_delays, shape, (shape[1] * 0.3, shape[0] * 0.6), 1.5, 1.0),
        "unit_1": lnp_kernel(n_delays, shape, (shape[1] * 0.7, shape[0] * 0.35), 2.0, -1.0),
    }
    flat = stim.reshape(n_frames, -1).astype(np.float64)
    centers = {}
    with h5py.File(d / "spikes" / "units.h5", "w") as f:
        for name, k in units.items():
            kf = k.reshape(n_delays, -1)
            drive = np.zeros(n_frames)
            for dl in range(n_delays):
                drive[dl:] += flat[: n_frames - dl] @ kf[dl]
            drive /= drive.std()
            rate = np.exp(-1.2 + 0.9 * drive)
            counts = rng.poisson(np.minimum(rate, 8.0))
            frames = np.repeat(np.arange(n_frames), counts)
            times = onset + (frames + rng.uniform(0, 1, len(frames))) / fps
            f.create_dataset(name, data=np.sort(times))
        centers = {
            n: list(c) for n, c in zip(units, [(shape[1] * 0.3, shape[0] * 0.6), (shape[1] * 0.7, shape[0] * 0.35)])
        }
    np.savez(d / "truth" / "kernels.npz", **units)
    return {
        "animal_id": "r1",
        "session_id": "s1",
        "trial_id": 1,
        "stimulus": "r1/s1/stim/movie.npy",
        "spikes": "r1/s1/spikes/units.h5",
        "fps": fps,
        "stimulus_onset": onset,
        "n_delays": n_delays,
        "units": list(units),
        "centers": centers,
    }


def make_sample_data(
    root: str | os.PathLike,
    *,
    n_animals: int = 2,
    n_sessions: int = 1,
    n_trials: int = 3,
    n_frames: int = 150,
    size: tuple[int, int] = (64, 64),
    fps: float = 30.0,
    seed: int = 0,
    ephys: bool = True,
    ephys_frames: int = 40000,
    ephys_shape: tuple[int, int] = (16, 16),
    lossless: bool = True,
) -> SampleData:
    """Write the sample raw-data tree under ``root`` (created; must be empty or absent).

    The same arguments always give the same labels, keypoints, stimulus and spikes, and
    videos that decode to the same frames in every run (lossless H.264; lossy encoding is
    not reproducible, see :func:`behavior_soup.video.write_video`). Decoded and resized
    frames can still differ by rounding between CPUs whose FFmpeg takes other SIMD paths.

    Parameters
    ----------
    root
        Folder to write into.
    n_animals
        Number of animals, ids ``m1``, ``m2``, ...
    n_sessions
        Sessions per animal, ids ``2024-01-05``, ``2024-01-06``, ...
    n_trials
        Trials per session, numbered from 1.
    n_frames
        Frames per trial video.
    size
        ``(height, width)`` of the videos in pixels; both must be even.
    fps
        Frame rate of the videos, frames per second.
    seed
        Seed of the random generator everything is drawn from.
    ephys
        Also write the electrophysiology session ``r1/s1``.
    ephys_frames
        Frames of the white-noise stimulus movie (shown at 60 fps from 0.5 s).
    ephys_shape
        ``(H, W)`` of the stimulus movie, in stimulus pixels.
    lossless
        Lossless H.264 videos (the default: the same frames in every run); False writes lossy
        ones (CRF 17) like a camera's, whose decoded frames may differ between runs.

    Returns
    -------
    SampleData
        Paths, ids and a :meth:`SampleData.truth` reader.

    Raises
    ------
    FileExistsError
        If ``root`` exists and is not empty.
    ValueError
        If ``size`` is not even.
    """
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(
            f"expected an empty or missing folder for the sample data, got {str(root)!r} with files in it"
        )
    if size[0] % 2 or size[1] % 2:
        raise ValueError(f"expected an even frame size (H.264), got {size}")
    rng = np.random.default_rng(seed)
    animals = [f"m{i + 1}" for i in range(n_animals)]
    sessions = [f"2024-01-{i + 5:02d}" for i in range(n_sessions)]
    trials = list(range(1, n_trials + 1))
    for a in animals:
        for s in sessions:
            d = root / a / s
            for t in trials:
                labels = _segments(rng, n_frames)
                sim = _simulate(rng, labels, size)
                front, side = _render(sim, labels, size, rng)
                write_video(d / f"front_v{t:03d}.mp4", front, fps, lossless=lossless)
                write_video(d / f"side_v{t:03d}.mp4", side, fps, lossless=lossless)
                onehot = np.eye(len(BEHAVIORS), dtype=np.int64)[labels]
                (d / "labels").mkdir(parents=True, exist_ok=True)
                pd.DataFrame(onehot, columns=list(BEHAVIORS)).to_csv(d / "labels" / f"trial_{t:03d}.csv")
                kp = sim["keypoints"]
                noisy = kp + rng.normal(0, 0.3, kp.shape)
                like = np.clip(rng.normal(0.97, 0.02, kp.shape[:2]), 0, 1)
                write_dlc_pose(d / "pose" / f"front_v{t:03d}{DLC_SCORER}.h5", noisy, like)
                (d / "truth").mkdir(exist_ok=True)
                np.savez(d / "truth" / f"trial_{t:03d}.npz", labels=labels, keypoints=kp)
    info = {}
    if ephys:
        info = _ephys(root, rng, ephys_frames, ephys_shape, 60.0, 0.5)
    log.info("sample data written to %s", root)
    return SampleData(root, animals, sessions, trials, fps, size, info)

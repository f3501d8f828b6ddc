"""DeepLabCut 3 (PyTorch engine) training and inference, fully offline.

``import deeplabcut`` costs seconds and gigabytes, so it happens only inside these
functions. Training never downloads weights: it starts from a snapshot of a randomly
initialised network built here (``PoseModel.build(..., pretrained_backbone=False)``), or from
a weight file the user supplies, and resumes from the newest snapshot of an interrupted run.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .._console import captured
from .._torch import resolve_device
from ..errors import DataFormatError, ItemNotFoundError, require
from .data import PoseData
from .io import load_pose
from .models import read_dlc_config

__all__ = ["analyze_video", "default_net_type", "make_dlc_project", "train_dlc"]

log = logging.getLogger(__name__)

#: The network used when none is given: small enough to train on a CPU.
CPU_NET = "cspnext_s"
GPU_NET = "resnet_50"


class _Quiet:
    """DeepLabCut's API with its console output (prints, its console log handler) sent to
    this module's logger; see :func:`behavior_soup._console.captured`."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        func = getattr(self._module, name)
        if not callable(func):
            return func

        def call(*args: Any, **kwargs: Any) -> Any:
            with captured(log):
                return func(*args, **kwargs)

        return call


def _deeplabcut() -> Any:
    with captured(log):
        dlc = require("deeplabcut", "pose", "DeepLabCut training and inference")
    return _Quiet(dlc)


def default_net_type(device: str) -> str:
    """The network to train when none is given.

    Parameters
    ----------
    device
        A resolved torch device (``"cpu"``, ``"cuda:0"``, ...).

    Returns
    -------
    str
        :data:`CPU_NET` on the CPU, :data:`GPU_NET` on any other device.
    """
    return CPU_NET if device == "cpu" else GPU_NET


def _train_folder(cfg: dict[str, Any], config: Path, shuffle: int, trainingsetindex: int) -> Path:
    from deeplabcut.core.engine import Engine
    from deeplabcut.utils import auxiliaryfunctions as af

    frac = cfg["TrainingFraction"][trainingsetindex]
    return config.parent / af.get_model_folder(frac, shuffle, cfg, engine=Engine.PYTORCH) / "train"


def _frame_size(config: Path) -> tuple[int, int]:
    """(height, width) of the labelled frames."""
    import imageio.v3 as iio

    pngs = sorted(glob.glob(str(config.parent / "labeled-data" / "*" / "*.png")))
    if not pngs:
        raise ItemNotFoundError(
            f"expected labelled frames (PNG) under {str(config.parent / 'labeled-data')!r}, found none"
        )
    shape = iio.improps(pngs[0]).shape
    return int(shape[0]), int(shape[1])


def _latest_snapshot(train_dir: Path) -> Path | None:
    snaps = []
    for p in train_dir.glob("snapshot-*.pt"):
        m = re.fullmatch(r"snapshot-(\d+)\.pt", p.name)
        if m:
            snaps.append((int(m.group(1)), p))
    return max(snaps)[1] if snaps else None


def _edit_pytorch_config(path: Path, crop: tuple[int, int], seed: int) -> None:
    import yaml

    with open(path) as fh:
        pc = yaml.safe_load(fh)
    pc["data"]["train"]["crop_sampling"] = {
        "width": crop[1],
        "height": crop[0],
        "max_shift": 0.1,
        "method": "hybrid",
    }
    pc["train_settings"]["seed"] = seed
    pc["runner"]["eval_interval"] = 10**6  # evaluated once after training instead
    with open(path, "w") as fh:
        yaml.safe_dump(pc, fh, sort_keys=False)


def train_dlc(
    config: str | os.PathLike,
    *,
    shuffle: int = 1,
    trainingsetindex: int = 0,
    epochs: int = 50,
    batch_size: int = 8,
    net_type: str | None = None,
    device: str = "auto",
    init_weights: str | os.PathLike | None = None,
    seed: int = 0,
    save_epochs: int | None = None,
) -> dict[str, Any]:
    """Train a DeepLabCut model of a project from its labelled frames, offline.

    Creates the shuffle's training dataset if it is missing (with ``net_type``, by default a
    small network on CPU and ResNet-50 on GPU), sizes the training crops to the frames,
    starts from ``init_weights`` or a random-init snapshot (or resumes from the newest
    snapshot of an earlier run), trains to ``epochs`` epochs in all, and evaluates.

    Parameters
    ----------
    config
        The project's ``config.yaml``.
    shuffle
        DeepLabCut's shuffle.
    trainingsetindex
        Index into the project's ``TrainingFraction``.
    epochs
        Total epochs of training, counting those of a resumed run.
    batch_size
        Images per training batch.
    net_type
        The network for a new training dataset; it must match that of an existing one.
        ``None``: the existing one's, or :func:`default_net_type`.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda[:N]"``.
    init_weights
        A weight file (snapshot) to start from, when there is no snapshot to resume; ``None``
        starts from randomly initialised weights.
    seed
        Seed of the random initialisation and of DeepLabCut's training.
    save_epochs
        Save a snapshot every this many epochs; ``None``: only at the end.

    Returns
    -------
    dict
        ``net_type``, ``snapshot`` (path), ``epochs``, ``train_rmse_px``, ``test_rmse_px``,
        ``resumed_from_epoch``, ``evaluated_epochs`` and the ``scorer`` name.

    Raises
    ------
    ValueError
        If ``epochs`` is not a positive integer, or ``net_type`` differs from the existing
        dataset's.
    ItemNotFoundError
        If ``config``, the labelled frames, or ``init_weights`` are missing.
    DataFormatError
        If DeepLabCut wrote no snapshot or no evaluation results.
    """
    dlc = _deeplabcut()
    import torch
    import yaml
    from deeplabcut.core.engine import Engine
    from deeplabcut.pose_estimation_pytorch.models import PoseModel

    config = Path(config).absolute()
    cfg = read_dlc_config(config)
    dev = resolve_device(device)
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"expected epochs >= 1, got {epochs!r}")
    train_dir = _train_folder(cfg, config, shuffle, trainingsetindex)
    pc_path = train_dir / "pytorch_config.yaml"
    if not pc_path.is_file():
        net = net_type or default_net_type(dev)
        log.info("creating the training dataset of shuffle %d (%s)", shuffle, net)
        dlc.create_training_dataset(str(config), Shuffles=[shuffle], net_type=net, engine=Engine.PYTORCH)
    with open(pc_path) as fh:
        pc = yaml.safe_load(fh)
    net = str(pc.get("net_type", net_type or ""))
    if net_type and net != net_type:
        raise ValueError(f"expected shuffle {shuffle} to use net_type {net_type!r}, found {net!r} in {pc_path}")
    h, w = _frame_size(config)
    _edit_pytorch_config(pc_path, (min(h, 448), min(w, 448)), seed)
    resume = _latest_snapshot(train_dir)
    start_epoch = 0
    if resume is not None:
        snap = resume
        start_epoch = int(torch.load(snap, map_location="cpu", weights_only=False).get("metadata", {}).get("epoch", 0))
        log.info("resuming from %s (epoch %d)", snap.name, start_epoch)
    elif init_weights is not None:
        snap = Path(init_weights)
        if not snap.is_file():
            raise ItemNotFoundError(f"expected a weight file at {str(snap)!r}, found none")
    else:
        torch.manual_seed(seed)
        with open(pc_path) as fh:
            model_cfg = yaml.safe_load(fh)["model"]
        model = PoseModel.build(model_cfg, pretrained_backbone=False)
        snap = train_dir / "random-init.pt"
        torch.save({"model": model.state_dict(), "metadata": {"epoch": 0}}, snap)
    if start_epoch < epochs:
        dlc.train_network(
            str(config),
            shuffle=shuffle,
            trainingsetindex=trainingsetindex,
            snapshot_path=str(snap),
            epochs=epochs - start_epoch,  # DeepLabCut counts epochs from the snapshot's
            batch_size=batch_size,
            device=dev,
            save_epochs=save_epochs or (epochs - start_epoch),
            display_iters=10**6,
        )
    last = _latest_snapshot(train_dir)
    if last is None:
        raise DataFormatError(f"expected DeepLabCut to write a snapshot in {str(train_dir)!r}, found none")
    evaluation = _evaluate(dlc, config, cfg, shuffle, trainingsetindex, dev)
    return {"net_type": net, "snapshot": str(last), "epochs": epochs, "resumed_from_epoch": start_epoch, **evaluation}


def _evaluate(dlc: Any, config: Path, cfg: dict, shuffle: int, trainingsetindex: int, device: str) -> dict[str, Any]:
    import pandas as pd

    dlc.evaluate_network(
        str(config), shuffles=[shuffle], trainingsetindex=trainingsetindex, device=device, show_errors=False
    )
    combined = config.parent / f"evaluation-results-pytorch/iteration-{cfg['iteration']}/CombinedEvaluation-results.csv"
    res = pd.read_csv(combined)
    frac = cfg["TrainingFraction"][trainingsetindex]
    rows = res[(res["Shuffle number"] == shuffle) & np.isclose(res["%Training dataset"], frac)]
    if rows.empty:
        raise DataFormatError(f"expected evaluation results of shuffle {shuffle} in {str(combined)!r}, found none")
    row = rows.sort_values("Training epochs").iloc[-1]
    # the per-snapshot results file is named after DeepLabCut's scorer of that snapshot
    results = sorted(
        combined.parent.glob(f"*shuffle{shuffle}/*-results.csv"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    scorer = results[0].name[: -len("-results.csv")] if results else ""
    return {
        "evaluated_epochs": int(row["Training epochs"]),
        "train_rmse_px": float(row["train rmse"]),
        "test_rmse_px": float(row["test rmse"]),
        "scorer": scorer,
    }


def analyze_video(
    config: str | os.PathLike,
    video: str | os.PathLike,
    *,
    shuffle: int = 1,
    trainingsetindex: int = 0,
    snapshotindex: int = -1,
    device: str = "auto",
    batch_size: int = 8,
) -> PoseData:
    """Run a trained DeepLabCut model on one video and return its keypoints.

    ``deeplabcut.analyze_videos`` writes its ``.h5`` into a temporary folder, read back with
    :func:`~behavior_soup.pose.io.load_pose`; nothing is left beside the video.

    Parameters
    ----------
    config
        The project's ``config.yaml``.
    video
        The video file.
    shuffle, trainingsetindex, snapshotindex
        DeepLabCut's identity of the model (``snapshotindex=-1``: the last snapshot).
    device
        ``"auto"``, ``"cpu"`` or ``"cuda[:N]"``.
    batch_size
        Frames per batch.

    Returns
    -------
    PoseData
        ``(T, K, 2)`` positions in pixels and ``(T, K)`` likelihoods, with DeepLabCut's scorer
        name and ``source="dlc_model"``.

    Raises
    ------
    ItemNotFoundError
        If ``config`` or ``video`` is missing.
    DataFormatError
        If the config is not valid, or DeepLabCut wrote no ``.h5`` for the video.
    """
    dlc = _deeplabcut()
    config = Path(config).absolute()
    read_dlc_config(config)
    video = Path(video)
    if not video.is_file():
        raise ItemNotFoundError(f"expected a video at {str(video)!r}, found none")
    dev = resolve_device(device)
    with tempfile.TemporaryDirectory(prefix="behavior_soup_dlc_") as tmp:
        scorer = dlc.analyze_videos(
            str(config),
            [str(video)],
            shuffle=shuffle,
            trainingsetindex=trainingsetindex,
            snapshot_index=snapshotindex,
            device=dev,
            destfolder=tmp,
            batch_size=batch_size,
            save_as_csv=False,
            auto_track=False,
        )
        found = sorted(Path(tmp).glob(f"{video.stem}*.h5"))
        found = [p for p in found if not p.name.endswith(("_full.h5", "_meta.h5"))] or found
        if not found:
            raise DataFormatError(f"expected DeepLabCut to write an .h5 for {video.name!r}, found {os.listdir(tmp)}")
        pose = load_pose(found[0], format="dlc_h5")
    pose.scorer = str(scorer or pose.scorer)
    pose.source = "dlc_model"
    return pose


def make_dlc_project(
    work_dir: str | os.PathLike,
    task: str,
    experimenter: str,
    labels: dict[str, tuple[np.ndarray, np.ndarray]],
    bodyparts: tuple[str, ...],
) -> Path:
    """Create a DeepLabCut project whose labelled frames are keypoints you already have.

    Parameters
    ----------
    work_dir
        Folder in which the project folder is created.
    task, experimenter
        DeepLabCut's project task and scorer names.
    labels
        Video path -> ``(frames, keypoints)``: ``(N,)`` int frame indices and ``(N, K, 2)``
        float x, y in pixels (NaN: not labelled).
    bodyparts
        The ``K`` bodypart names.

    Returns
    -------
    pathlib.Path
        The project's ``config.yaml``. Videos are linked, not copied; frames are written as
        PNG under ``labeled-data/<video>/`` with ``CollectedData_<experimenter>.h5``.
    """
    import imageio.v3 as iio
    import pandas as pd

    from ..video import VideoReader

    dlc = _deeplabcut()
    from deeplabcut.utils import auxiliaryfunctions as af

    videos = [str(Path(v).absolute()) for v in labels]
    cfg_path = dlc.create_new_project(task, experimenter, videos, working_directory=str(work_dir), copy_videos=False)
    if not cfg_path or cfg_path == "nothingcreated":
        raise DataFormatError(f"expected DeepLabCut to create a project in {str(work_dir)!r}, it did not")
    cfg_path = Path(cfg_path)
    cfg = af.read_config(str(cfg_path))
    cfg["bodyparts"] = list(bodyparts)
    cfg["skeleton"] = []
    af.write_config(str(cfg_path), cfg)
    cols = pd.MultiIndex.from_product(
        [[experimenter], list(bodyparts), ["x", "y"]], names=["scorer", "bodyparts", "coords"]
    )
    for video, (frames, kp) in labels.items():
        frames = np.asarray(frames, dtype=np.int64)
        kp = np.asarray(kp, dtype=np.float64)
        if kp.shape != (len(frames), len(bodyparts), 2):
            raise ValueError(f"expected keypoints of shape {(len(frames), len(bodyparts), 2)}, got {kp.shape}")
        name = Path(video).stem
        out = cfg_path.parent / "labeled-data" / name
        out.mkdir(parents=True, exist_ok=True)
        wanted = {int(f): i for i, f in enumerate(frames)}
        index = []
        with VideoReader(video) as reader:
            for f, img in enumerate(reader):
                if f in wanted:
                    fn = f"img{f:05d}.png"
                    iio.imwrite(out / fn, img)
                    index.append(("labeled-data", name, fn))
        if len(index) != len(frames):
            raise DataFormatError(
                f"expected frames {sorted(wanted)[:5]}... in {name!r}, found only {len(index)} of them"
            )
        df = pd.DataFrame(kp.reshape(len(frames), -1), columns=cols, index=pd.MultiIndex.from_tuples(index))
        df.to_hdf(out / f"CollectedData_{experimenter}.h5", key="keypoints", mode="w")
    return cfg_path

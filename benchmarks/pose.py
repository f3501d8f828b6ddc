"""Pose speed: the table's DeepLabCut inference against DeepLabCut alone, and tracking of 1M frames.

1. ``row.pose.infer`` against ``deeplabcut.analyze_videos`` on the same video with the same
   snapshot, interleaved, in one run (target: overhead <= 5%). A small model is trained for
   one epoch on the sample data first (offline, from a random-init snapshot).
2. ``process_tracking`` (head_from_ears, likelihood threshold, gap filling, Savitzky-Golay,
   cm, speeds) of 1M frames with 1% low-likelihood frames.

    python benchmarks/pose.py [--frames 900] [--repeats 3] [--skip-dlc]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import behavior_soup as bs
from behavior_soup.pose import PoseData, process_tracking
from behavior_soup.sample_data import BODYPARTS, make_sample_data


def bench_tracking(n: int = 1_000_000) -> float:
    rng = np.random.default_rng(0)
    t = np.arange(n) / 30.0
    centre = np.stack([300 + 200 * np.sin(t / 7), 240 + 150 * np.cos(t / 11)], axis=1)
    theta = t / 3
    u = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    left = np.stack([u[:, 1], -u[:, 0]], axis=1)
    kp = np.stack([centre + 20 * u, centre + 6 * left, centre - 6 * left, centre - 30 * u], axis=1)
    kp += rng.normal(0, 1, kp.shape)
    like = np.where(rng.random((n, 4)) < 0.01, 0.1, 0.99)
    pose = PoseData(kp, like, BODYPARTS)
    t0 = time.perf_counter()
    st = process_tracking(pose, "head_from_ears", fps=30.0, px_per_cm=10.0, smooth="savgol", window=7)
    dt = time.perf_counter() - t0
    assert len(st) == n and st["valid"].mean() > 0.97
    return dt


def bench_infer(tmp: Path, n_frames: int, repeats: int) -> tuple[float, float]:
    import deeplabcut

    from behavior_soup.pose.dlc import make_dlc_project

    sd = make_sample_data(tmp / "raw", n_animals=1, n_trials=2, n_frames=n_frames, ephys=False)
    df = bs.create_df(tmp / "exp" / "t.h5", raw_root=sd.root)
    df.behavior.add_item("m1")
    sess = sd.root / "m1" / "2024-01-05"
    labels = {str(sess / "front_v001.mp4"): (np.arange(0, 60, 2), sd.truth("m1", "2024-01-05", 1)["keypoints"][:60:2])}
    cfg = make_dlc_project(tmp / "exp" / "dlc", "bench", "bs", labels, BODYPARTS)
    model = df.pose.register_model(cfg)
    df.pose.train(model.name, epochs=1, device="cpu")
    row = df[df["trial_id"] == 2].iloc[0]
    video = row.paths.video("front")
    t_lib, t_dlc = [], []
    for i in range(repeats + 1):  # the first round warms caches and is not counted
        t0 = time.perf_counter()
        r = row.pose.infer(model.name, views=["front"], device="cpu")
        a = time.perf_counter() - t0
        assert r["status"] == "done", r["error"]
        out = tmp / f"direct{i}"
        out.mkdir()
        t0 = time.perf_counter()
        deeplabcut.analyze_videos(
            str(cfg), [str(video)], shuffle=1, snapshot_index=-1, device="cpu", destfolder=str(out), batch_size=8
        )
        b = time.perf_counter() - t0
        if i:
            t_lib.append(a)
            t_dlc.append(b)
    return statistics.median(t_lib), statistics.median(t_dlc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=900)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-dlc", action="store_true")
    a = ap.parse_args()
    dt = bench_tracking()
    print(f"tracking 1M frames (head_from_ears, savgol, cm, speeds): {dt:6.2f} s   {1e6 / dt / 1e6:5.2f} M frames/s")
    if a.skip_dlc:
        return
    with tempfile.TemporaryDirectory() as tmp:
        t_lib, t_dlc = bench_infer(Path(tmp), a.frames, a.repeats)
    print(
        f"row.pose.infer ({a.frames} frames)   : {t_lib:6.2f} s   deeplabcut.analyze_videos {t_dlc:6.2f} s   "
        f"overhead {100 * (t_lib / t_dlc - 1):+5.1f}%  (target <= 5%)"
    )


if __name__ == "__main__":
    main()

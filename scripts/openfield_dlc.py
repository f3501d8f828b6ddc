"""Train DeepLabCut offline on the open-field example and compare with published predictions.

Not part of the tests (it takes long on a CPU). It:

1. copies the DeepLabCut example project ``dlc_openfield`` (116 hand-labelled frames of video
   "m4s1", LGPL-3.0) to a working folder and points its config at the copy;
2. makes a trial table whose one trial's front video is ``m3v1mp4.mp4`` (2330 frames);
3. registers the model, trains it from a random-init snapshot (no downloaded weights) with
   ``df.pose.train`` and runs ``row.pose.infer`` on ``m3v1mp4.mp4``;
4. reports the median pixel distance to the DLC2NWB predictions for the same video (a
   ResNet-50 trained by the DeepLabCut authors, MIT), over frames where those are confident.

    python scripts/openfield_dlc.py --data ../shared/data --out /tmp/openfield --epochs 100
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np
import yaml

import behavior_soup as bs
from behavior_soup.pose import load_pose


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--net-type", default=None)
    ap.add_argument("--device", default="auto")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if a.out.exists():
        shutil.rmtree(a.out)
    raw = a.out / "raw" / "m3" / "s1"
    raw.mkdir(parents=True)
    video = raw / "front_v001.mp4"
    shutil.copy(a.data / "dlc_openfield" / "videos" / "m3v1mp4.mp4", video)
    project = a.out / "exp" / "dlc" / "openfield-Pranav-2018-10-30"
    shutil.copytree(a.data / "dlc_openfield", project, ignore=shutil.ignore_patterns("videos"))
    cfg_path = project / "config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["project_path"] = str(project)
    cfg["video_sets"] = {str(project / "videos" / "m4s1.mp4"): {"crop": "0, 640, 0, 480"}}
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    df = bs.create_df(a.out / "exp" / "table.h5", raw_root=a.out / "raw")
    df.behavior.add_item("m3", views=("front",), on_missing_view="skip")
    model = df.pose.register_model(cfg_path, shuffle=1, net_type=a.net_type or "")
    t0 = time.perf_counter()
    ev = df.pose.train(model.name, epochs=a.epochs, batch_size=a.batch_size, net_type=a.net_type, device=a.device)
    t_train = time.perf_counter() - t0
    row = df.iloc[0]
    t0 = time.perf_counter()
    r = row.pose.infer(model.name, views=["front"], device=a.device)
    t_infer = time.perf_counter() - t0
    if r["status"] != "done":
        raise SystemExit(f"inference failed: {r['error']}")
    ours = row.pose.result(model.name, "front")
    ref = load_pose(a.data / "dlc2nwb" / "m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.h5")
    order = [ours.bodyparts.index(b) for b in ref.bodyparts]
    d = np.linalg.norm(ours.positions[:, order] - ref.positions, axis=2)
    confident = ref.likelihood > 0.9
    report = {
        "epochs": a.epochs,
        "net_type": ev["net_type"],
        "train_rmse_px": ev["train_rmse_px"],
        "test_rmse_px": ev["test_rmse_px"],
        "train_s": round(t_train, 1),
        "infer_s": round(t_infer, 1),
        "infer_fps": round(ours.n_frames / t_infer, 1),
        "median_px_to_dlc2nwb": float(np.median(d[confident])),
        "median_px_per_bodypart": {b: float(np.median(d[:, k][confident[:, k]])) for k, b in enumerate(ref.bodyparts)},
        "frames_within_10px": float((d[confident] < 10).mean()),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Held-out F1 and training time of fast mode with each network set, in one run.

The same sample data, split, seed and training (flow generator, feature extractor, sequence
model; the settings of ``tests/integration/test_ethogram_pipeline.py``) with
``networks="deepethogram"`` (DeepEthogram's networks) and ``networks="lite"``; prints each
set's per-behavior F1 on the held-out trial, its training time, and the time ratio.

Then int8 on each trained model, per runtime (``--int8``, default OpenVINO and ONNX Runtime):
calibrated on the held-out trial and checked on the model's validation trials, as
``row.behavior.infer(runtime=..., precision="int8")`` does. Printed: the check's fp32 and int8
F1 and their drop (accepted within 0.01), and the held-out trial's F1 with int8 features against
fp32's; or the refusal.

    python benchmarks/ethogram_networks.py [--seed 0] [--size 32x64] [--int8 openvino onnxruntime]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import behavior_soup as bs
from behavior_soup.ethogram import class_metrics
from behavior_soup.sample_data import BEHAVIORS, make_sample_data

EPOCHS = {"flow": 4, "features": 12, "sequence": 30}
TOP_VIEW = {"front": {"rotate": 180, "flip_ud": 0.5}}


def held_out_f1(row, sd) -> dict[str, float]:
    """Per-behavior F1 of the row's fast-mode ethogram against the sample's truth."""
    truth = sd.truth(row["animal_id"], row["session_id"], int(row["trial_id"]))["labels"]
    m = class_metrics(row.behavior.ethogram("fast").to_numpy(), np.eye(len(BEHAVIORS), dtype=np.int8)[truth], BEHAVIORS)
    return {k: v["f1"] for k, v in m.items()}


def int8(row, sd, runtime: str, f32: dict[str, float]) -> str:
    """int8 inference of the held-out row with ``runtime``: the check's figures and held-out F1
    against ``f32``, the fp32 one."""
    r = row.behavior.infer(mode="fast", device="cpu", runtime=runtime, precision="int8")
    if r["status"] != "done":
        return f"refused: {r['error']}"
    c = row.outputs.provenance("fast/features")["params"]["check"]
    f8 = held_out_f1(row, sd)
    row.behavior.infer(mode="fast", device="cpu")  # back to fp32
    return (
        f"check F1 fp32 {c['f1_fp32']:.3f} int8 {c['f1_int8']:.3f} (drop {c['drop']:+.3f}, accepted) on "
        f"{len(c['trials'])} validation trials; held-out min F1 fp32 {min(f32.values()):.3f} "
        f"int8 {min(f8.values()):.3f}"
    )


def run(
    tmp: Path, networks: str, seed: int, size: tuple[int, int], runtimes: list[str]
) -> tuple[dict[str, float], float, dict[str, str]]:
    sd = make_sample_data(tmp / "raw", n_animals=3, n_trials=3, n_frames=150, ephys=False)
    df = bs.create_df(tmp / "exp" / "table.h5", raw_root=sd.root)
    for a in sd.animals:
        df.behavior.add_item(a)
    df.behavior.load_labels(progress=False)
    held = (df["animal_id"] == "m3") & (df["trial_id"] == 3)
    common = {"mode": "fast", "rows": df[~held], "device": "cpu", "progress": False, "seed": seed}
    t0 = time.perf_counter()
    df.flow_generator.train(model_out="flow", epochs=EPOCHS["flow"], input_size=size, networks=networks, **common)
    df.feature_extractor.train(model_out="fe", epochs=EPOCHS["features"], augment=TOP_VIEW, **common)
    df.sequence.train(model_out="seq", epochs=EPOCHS["sequence"], **common)
    seconds = time.perf_counter() - t0
    row = df[held].iloc[0]
    row.behavior.infer(mode="fast", device="cpu")
    f32 = held_out_f1(row, sd)
    return f32, seconds, {rt: int8(row, sd, rt, f32) for rt in runtimes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", default="32x64", help="network input HxW")
    ap.add_argument("--int8", nargs="*", default=["openvino", "onnxruntime"], help="runtimes to check int8 on")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    times = {}
    for networks in ("deepethogram", "lite"):
        with tempfile.TemporaryDirectory() as tmp:
            f1, times[networks], q = run(Path(tmp), networks, args.seed, size, args.int8)
        per = ", ".join(f"{k} {v:.3f}" for k, v in f1.items())
        print(f"{networks:<13} held-out F1: {per}; min {min(f1.values()):.3f}; training {times[networks]:.0f} s")
        for rt, line in q.items():
            print(f"{networks:<13} int8 {rt}: {line}")
    print(f"training time deepethogram / lite: {times['deepethogram'] / times['lite']:.2f}x")


if __name__ == "__main__":
    main()

"""Ethogram inference speed per mode and resolution: end to end against model-only.

For each mode (fast, medium, slow) and input size, with random-init networks saved as
checkpoints (speed does not depend on the weights):

- **end to end**: ``infer_trial`` on a sample trial (two views, decoded and normalised in a
  background thread, feature extractor, TGMJ, thresholds, writing ``outputs.h5``);
- **model-only**: the same networks' forward passes over the same batches, already decoded,
  normalised and cut into clips in memory;

and their ratio (target: end to end >= 0.8 of model-only). One warm-up run of each first.

    python benchmarks/ethogram_infer.py [--modes fast medium slow] [--sizes 112 224]
                                        [--frames fast=600,medium=96,slow=24] [--device auto]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

import behavior_soup as bs
from behavior_soup._torch import resolve_device
from behavior_soup.ethogram.build import untrained_models
from behavior_soup.ethogram.frames import stream_clips, view_paths
from behavior_soup.ethogram.infer import infer_trial, load_model
from behavior_soup.jobs import TrialContext
from behavior_soup.sample_data import BEHAVIORS, make_sample_data


def model_only(ctx: TrialContext, fe: Path, seq: Path, device: str, batch_size: int) -> float:
    meta, net = load_model(fe, "feature_extractor", device)
    _, seq_net = load_model(seq, "sequence", device)
    batches = list(stream_clips(view_paths(ctx), tuple(meta["input_size"]), meta["n_frames"], meta["norm"], batch_size))
    n = sum(len(b) for b in batches)
    channels_last = not net.spatial.is3d
    use_amp = device != "cpu"
    if device != "cpu":
        batches = [b.to(device) for b in batches]
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    sync()
    t0 = time.perf_counter()
    with torch.inference_mode(), torch.autocast(device_type=device.split(":")[0], enabled=use_amp):
        feats, logits = [], []
        for x in batches:
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            o = net(x)
            feats.append(torch.cat([o["spatial"], o["flow"]], dim=1).float())
            logits.append(o["logits"].float())
        seq_net(torch.cat(feats).T[None], torch.cat(logits).T[None])
    sync()
    return n / (time.perf_counter() - t0)


def end_to_end(ctx: TrialContext, fe: Path, seq: Path, device: str, batch_size: int, n: int) -> float:
    t0 = time.perf_counter()
    infer_trial(ctx, fe, seq, device=device, batch_size=batch_size)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modes", nargs="+", default=["fast", "medium", "slow"])
    ap.add_argument("--sizes", nargs="+", type=int, default=[112, 224])
    ap.add_argument("--frames", default="fast=600,medium=96,slow=24", help="frames per trial, per mode")
    ap.add_argument("--batch-size", type=int, default=0, help="clips per batch (0: 16 on CPU, 64 on GPU)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument(
        "--lossless", action="store_true", help="lossless sample videos (default: lossy, as cameras record them)"
    )
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    args.batch_size = args.batch_size or (16 if device == "cpu" else 64)
    frames = {k: int(v) for k, v in (kv.split("=") for kv in args.frames.split(","))}
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}; batch {args.batch_size}")
    print(f"{'mode':<7}{'size':>9}{'frames':>8}{'end-to-end f/s':>16}{'model-only f/s':>16}{'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for mode in args.modes:
            n = frames.get(mode, 64)
            sd = make_sample_data(
                tmp / mode / "raw",
                n_animals=1,
                n_trials=2,
                n_frames=n,
                size=(224, 224),
                ephys=False,
                lossless=args.lossless,
            )
            df = bs.create_df(tmp / mode / "t.h5", raw_root=sd.root)
            df.behavior.add_item("m1")
            ctxs = [TrialContext.from_row(r, df.behavior.info) for _, r in df.iterrows()]
            for size in args.sizes:
                fe, seq = untrained_models(tmp, mode, BEHAVIORS, size)
                end_to_end(ctxs[1], fe, seq, device, args.batch_size, n)  # warm-up (loads, allocates)
                model_only(ctxs[1], fe, seq, device, args.batch_size)
                e2e = end_to_end(ctxs[0], fe, seq, device, args.batch_size, n)
                mo = model_only(ctxs[0], fe, seq, device, args.batch_size)
                print(f"{mode:<7}{f'{size}x{size}':>9}{n:>8}{e2e:>16.1f}{mo:>16.1f}{e2e / mo:>7.2f}", flush=True)


if __name__ == "__main__":
    main()

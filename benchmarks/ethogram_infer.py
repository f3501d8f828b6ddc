"""Ethogram inference speed per mode, network set, runtime and precision, against the CPU's
measured ceiling, all in one run.

For each mode and network set (``deepethogram``: DeepEthogram's networks; ``lite``) with
random-init networks saved as checkpoints (speed does not depend on the weights):

- **cost**: multiply-accumulates per frame (``torch.utils.flop_counter``) and parameters;
- **ceiling**: this machine's fp32 peak, measured with a large ``torch.mm`` (a roofline
  anchor, not a datasheet figure), in GMAC/s;
- per runtime and precision (``torch`` fp32 first: the anchor), **end to end**: ``infer_trial``
  on a sample trial (decode and normalise in a background thread, feature extractor, TGMJ,
  thresholds, ``outputs.h5``); **model-only**: the same runner over the same batches,
  already decoded; the achieved fraction of the ceiling for both; CPU utilisation end to
  end (process CPU time / wall time / threads); and ``speedup <x>``: end-to-end frames/s over
  eager-torch fp32's, median of interleaved pairs;
- int8: the accuracy check's fp32 and int8 F1 on the labelled sample trials (with random
  weights these F1s are near chance; the drop is what the check bounds).

    python benchmarks/ethogram_infer.py [--modes fast medium slow] [--networks deepethogram lite]
        [--runs torch:fp32 torch:bf16 openvino:fp32 openvino:bf16 openvino:int8 onnxruntime:int8]
        [--size 224] [--frames fast=120,medium=48,slow=16] [--repeats 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

import torch

import behavior_soup as bs
from behavior_soup._torch import resolve_device
from behavior_soup.errors import BehaviorSoupError
from behavior_soup.ethogram.build import untrained_models
from behavior_soup.ethogram.checkpoint import load_checkpoint, save_checkpoint
from behavior_soup.ethogram.compile import clear_model_caches, compile_feature_extractor, run_batches
from behavior_soup.ethogram.frames import stream_clips, view_paths
from behavior_soup.ethogram.infer import infer_trial, load_model
from behavior_soup.ethogram.quantize import check_path
from behavior_soup.ethogram.runtimes import check_runtime, graph_path
from behavior_soup.jobs import TrialContext
from behavior_soup.sample_data import BEHAVIORS, make_sample_data

DEFAULT_RUNS = ["torch:fp32", "torch:bf16", "openvino:fp32", "openvino:bf16", "openvino:int8", "onnxruntime:int8"]


def peak_gmacs(n: int = 2048, reps: int = 10) -> float:
    """fp32 multiply-accumulates per second of a large matrix product (best of 3)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b)
        best = max(best, reps * n**3 / (time.perf_counter() - t0))
    return best / 1e9


def gmac_per_frame(net: torch.nn.Module, n_frames: int, size: int) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, 3 * n_frames, size, size)
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        net(x)
    return counter.get_total_flops() / 2 / 1e9


def with_validation(fe: Path, uuids: list[str]) -> Path:
    """The checkpoint with labelled trials as its validation trials, so int8 can be checked."""
    ck = load_checkpoint(fe)
    ck["validated_on"] = uuids
    return save_checkpoint(fe, {k: v for k, v in ck.items() if k != "path"})


def model_only(run, batches: list[torch.Tensor]) -> float:
    t0 = time.perf_counter()
    run_batches(run, batches)
    return sum(len(b) for b in batches) / (time.perf_counter() - t0)


def end_to_end(ctx, fe, seq, runtime, precision, device, batch_size, n) -> tuple[float, float]:
    cpu0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    infer_trial(ctx, fe, seq, device=device, batch_size=batch_size, runtime=runtime, precision=precision)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return n / wall, cpu / wall / torch.get_num_threads()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modes", nargs="+", default=["fast", "medium", "slow"])
    ap.add_argument("--networks", nargs="+", default=["deepethogram", "lite"])
    ap.add_argument("--runs", nargs="+", default=DEFAULT_RUNS, help="runtime:precision, torch:fp32 always first")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--frames", default="fast=120,medium=48,slow=16", help="frames per trial, per mode")
    ap.add_argument("--repeats", type=int, default=2, help="interleaved end-to-end rounds")
    ap.add_argument("--batch-size", type=int, default=0, help="clips per batch (0: 16 on CPU, 64 on GPU)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    bs_ = args.batch_size or (16 if device == "cpu" else 64)
    frames = {k: int(v) for k, v in (kv.split("=") for kv in args.frames.split(","))}
    runs = ["torch:fp32"] + [r for r in args.runs if r != "torch:fp32"]
    usable = []
    for r in runs:
        try:
            check_runtime(*r.split(":"), device)
            usable.append(r)
        except (ValueError, BehaviorSoupError) as exc:
            print(f"skipping {r}: {exc}")
    peak = peak_gmacs()
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}; batch {bs_}; fp32 peak (torch.mm) {peak:.1f} GMAC/s")
    head = f"{'mode':<7}{'networks':<13}{'run':<18}{'GMAC/f':>7}{'e2e f/s':>9}{'model f/s':>10}"
    print(head + f"{'%peak e2e':>10}{'%peak model':>12}{'cpu':>6}{'speedup':>9}  int8 F1 fp32/int8 (drop)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for mode in args.modes:
            n = frames.get(mode, 32)
            sd = make_sample_data(tmp / mode / "raw", n_animals=1, n_trials=2, n_frames=n,
                                  size=(args.size, args.size), ephys=False)  # fmt: skip
            df = bs.create_df(tmp / mode / "t.h5", raw_root=sd.root)
            df.behavior.add_item("m1")
            df.behavior.load_labels(progress=False)
            ctxs = [TrialContext.from_row(r, df.behavior.info) for _, r in df.iterrows()]
            for networks in args.networks:
                clear_model_caches()
                gc.collect()
                fe, seq = untrained_models(tmp / mode, mode, BEHAVIORS, args.size, networks=networks)
                fe = with_validation(fe, [c.uuid for c in ctxs])
                meta, net = load_model(fe, "feature_extractor", device)
                gmac = gmac_per_frame(net, meta["n_frames"], args.size)
                clips = stream_clips(
                    view_paths(ctxs[0]), tuple(meta["input_size"]), meta["n_frames"], meta["norm"], bs_
                )
                batches = list(clips)
                e2e: dict[str, list[float]] = {r: [] for r in usable}
                util: dict[str, list[float]] = {r: [] for r in usable}
                failed: dict[str, str] = {}
                for r in usable:  # warm-up: export, quantize and check once, load, allocate
                    rt, prec = r.split(":")
                    try:
                        infer_trial(ctxs[1], fe, seq, device=device, batch_size=bs_, runtime=rt, precision=prec)
                    except BehaviorSoupError as exc:
                        failed[r] = str(exc)
                for _ in range(args.repeats):
                    for r in usable:
                        if r not in failed:
                            rate, u = end_to_end(ctxs[0], fe, seq, *r.split(":"), device, bs_, n)
                            e2e[r].append(rate)
                            util[r].append(u)
                for r in usable:
                    rt, prec = r.split(":")
                    label = f"{mode:<7}{networks:<13}{r:<18}{gmac:>7.2f}"
                    if r in failed:
                        print(f"{label}  refused: {failed[r]}")
                        continue
                    run, _ = compile_feature_extractor(fe, net, meta, rt, prec, device)
                    mo = model_only(run, batches)
                    rate = statistics.median(e2e[r])
                    pairs = [a / b for a, b in zip(e2e[r], e2e["torch:fp32"])]
                    note = ""
                    if prec == "int8":
                        c = json.loads(check_path(graph_path(fe, rt, "int8", (args.size, args.size))).read_text())
                        note = f"  {c['f1_fp32']:.3f}/{c['f1_int8']:.3f} ({c['drop']:+.3f})"
                    print(
                        f"{label}{rate:>9.1f}{mo:>10.1f}{100 * rate * gmac / peak:>9.0f}%{100 * mo * gmac / peak:>11.0f}%"
                        f"{statistics.median(util[r]):>6.2f}   speedup {statistics.median(pairs):.2f}x{note}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()

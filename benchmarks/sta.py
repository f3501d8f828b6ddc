"""STA speed: per-spike loop vs the library vs one memory pass over the movie, in one run.

A 40x40 float32 movie of 100k frames (640 MB), 20 delays, 100k spikes. Target: the library
within 2x of a single pass over the movie (e.g. one sum over it). Both precisions are timed:
the default ``"mixed"`` (float32 block products, float64 across blocks) and ``"float64"``.

    python benchmarks/sta.py [--frames 100000] [--spikes 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from behavior_soup.sta import compute_sta, sta_sums


def per_spike_loop(stim: np.ndarray, frames: np.ndarray, n_delays: int) -> np.ndarray:
    acc = np.zeros((n_delays, *stim.shape[1:]))
    for f in frames:
        acc += stim[f - n_delays + 1 : f + 1][::-1]
    return acc / len(frames)


def timed(fn, repeats: int) -> tuple[float, object]:
    out, ts = None, []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--spikes", type=int, default=100_000)
    ap.add_argument("--size", type=int, default=40)
    ap.add_argument("--delays", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    stim = rng.standard_normal((a.frames, a.size, a.size), dtype=np.float32)
    fps = 60.0
    times = np.sort(rng.uniform(a.delays / fps, a.frames / fps, a.spikes))
    frames = np.floor(times * fps).astype(np.int64)
    frames = frames[frames >= a.delays - 1]
    t_pass, _ = timed(lambda: stim.sum(axis=0, dtype=np.float64), a.repeats)
    t_lib, res = timed(lambda: compute_sta(stim, {"u": times}, fps, 0.0, a.delays, n_shuffles=0, fit=False), a.repeats)
    t_f64, res64 = timed(
        lambda: compute_sta(stim, {"u": times}, fps, 0.0, a.delays, n_shuffles=0, fit=False, precision="float64"),
        a.repeats,
    )
    counts = np.bincount(frames, minlength=a.frames)[None].astype(float)
    t_core, _ = timed(lambda: sta_sums(stim.reshape(a.frames, -1), counts, a.delays), a.repeats)
    t_loop, ref = timed(lambda: per_spike_loop(stim, frames, a.delays), 1)
    scale = float(np.abs(ref).max())
    err = float(np.abs(res["u"].sta - ref).max()) / scale
    err64 = float(np.abs(res64["u"].sta - ref).max()) / scale
    t_null, _ = timed(lambda: compute_sta(stim, {"u": times}, fps, 0.0, a.delays, n_shuffles=20, fit=True), 1)
    print(
        f"movie {a.frames}x{a.size}x{a.size} float32 ({stim.nbytes / 2**20:.0f} MiB), {a.delays} delays, {len(frames)} spikes"
    )
    print(f"one memory pass (sum)       : {t_pass * 1000:8.1f} ms   1.00x")
    print(f"library compute_sta (mixed) : {t_lib * 1000:8.1f} ms   {t_lib / t_pass:5.2f}x pass   (target <= 2x)")
    print(f"  of which sta_sums (GEMM)  : {t_core * 1000:8.1f} ms   {t_core / t_pass:5.2f}x pass")
    print(f"library, precision=float64  : {t_f64 * 1000:8.1f} ms   {t_f64 / t_pass:5.2f}x pass")
    print(
        f"per-spike loop              : {t_loop * 1000:8.1f} ms   {t_loop / t_pass:5.2f}x pass   library is {t_loop / t_lib:.1f}x faster"
    )
    print(f"library, 20 shuffles + fit  : {t_null * 1000:8.1f} ms   {t_null / t_pass:5.2f}x pass")
    print(f"max |library - loop| / max|loop| : mixed {err:.1e}, float64 {err64:.1e}")


if __name__ == "__main__":
    main()

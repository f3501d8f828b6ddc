"""Result writes against the size of the session they go into, measured in one run.

Sessions of 1, 10 and 100 trials, each trial holding ``--trial-mb`` MB of results (default
50). In each session the same write is timed: one trial's 1 MB result replaced. Then the
file of that trial after 10 reruns of its largest result, against after one.

Targets: time per write flat in the session's size (100-trial / 1-trial <= 1.5); size after
10 reruns <= 1.1x one run.

    python benchmarks/outputs.py [--trial-mb 50] [--repeats 7] [--dir /big/scratch]

Writes ``111 * trial-mb`` MB to a temporary folder (5.4 GB at the default).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from behavior_soup import outputs
from behavior_soup.provenance import Provenance


def _write(path: Path, t: int, key: str, data: dict) -> float:
    t0 = time.perf_counter()
    outputs.write_results(path, trial_id=t, uuid=f"u{t}", results={key: (data, Provenance("bench", {}).finish())})
    return time.perf_counter() - t0


def _session(folder: Path, n_trials: int, trial_mb: int, rng: np.random.Generator) -> Path:
    path = folder / f"s{n_trials}" / "outputs.h5"
    big = rng.random(trial_mb * 1_000_000 // 8)  # incompressible float64
    for t in range(n_trials):
        _write(path, t, "pose/keypoints", {"xy": big})
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trial-mb", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--dir", type=Path, default=None, help="scratch folder (default: the system's temporary one)")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    small = {"x": rng.random(125_000)}  # 1 MB
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        sessions = {n: _session(folder, n, args.trial_mb, rng) for n in (1, 10, 100)}
        print(f"built sessions of 1, 10, 100 trials x {args.trial_mb} MB in {time.perf_counter() - t0:.0f} s")
        times: dict[int, list[float]] = {n: [] for n in sessions}
        for i in range(args.repeats):  # interleaved: each round times every session once
            for n, path in sessions.items():
                times[n].append(_write(path, 0, "behavior/stats", {**small, "i": i}))
        med = {n: statistics.median(v) for n, v in times.items()}
        pairs = [b / a for a, b in zip(times[1], times[100])]
        for n in sessions:
            print(f"write into a session of {n:3d} trials: median {med[n] * 1e3:7.1f} ms ({args.repeats} writes)")
        ratio = statistics.median(pairs)
        print(
            f"100-trial / 1-trial: {ratio:.2f} (median of per-round ratios; target <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})"
        )
        path = sessions[1]
        one = outputs.trial_file(path, 0).stat().st_size
        big = rng.random(args.trial_mb * 1_000_000 // 8)
        for _ in range(10):
            _write(path, 0, "pose/keypoints", {"xy": big})
        ten = outputs.trial_file(path, 0).stat().st_size
        print(
            f"trial file after 1 run {one / 1e6:.1f} MB, after 10 more reruns {ten / 1e6:.1f} MB: "
            f"{ten / one:.3f}x (target <= 1.1: {'met' if ten <= 1.1 * one else 'NOT met'})"
        )


if __name__ == "__main__":
    main()

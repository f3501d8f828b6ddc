"""Trial-table speed against raw pandas HDF5 I/O of the same data, measured in one run.

1. Add a 1000-trial session (discovery of 2000 files + locked, atomic save) vs
   ``DataFrame.to_hdf(format="table")`` of the resulting table.
2. Load a 100k-row table with ``bs.load_df`` vs ``pd.read_hdf`` of the same file.

Targets: add+save <= 1 s; both <= 1.5x raw pandas.

    python benchmarks/table_ops.py [--repeats 31]

Ratios are medians of per-pair ratios of interleaved runs (the load uses a third as many).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

import behavior_soup as bs
from behavior_soup import schema, store
from behavior_soup.store.format import encode


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_add(tmp: Path, repeats: int) -> tuple[float, float]:
    raw = tmp / "raw"
    d = raw / "a" / "s"
    d.mkdir(parents=True)
    for t in range(1000):
        (d / f"front_v{t:04d}.avi").write_bytes(b"")
        (d / f"side_v{t:04d}.avi").write_bytes(b"")
    warm = bs.create_df(tmp / "warm.h5", raw_root=raw)
    warm.behavior.add_item("a")
    enc = encode(warm)
    enc.to_hdf(tmp / "warm_raw.h5", key="trials", format="table", mode="w")
    t_lib, t_raw = [], []
    for i in range(repeats):  # interleaved pairs, so both see the same machine load
        table = bs.create_df(tmp / f"t{i}.h5", raw_root=raw)
        t0 = time.perf_counter()
        table.behavior.add_item("a")
        t_lib.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        enc.to_hdf(tmp / f"raw{i}.h5", key="trials", format="table", mode="w")
        t_raw.append(time.perf_counter() - t0)
    return _summary(t_lib, t_raw)


def _summary(t_lib: list[float], t_raw: list[float]) -> tuple[float, float, float]:
    """Median times, and the median of the per-pair ratios (robust to load that shifts during the run)."""
    ratio = statistics.median(a / b for a, b in zip(t_lib, t_raw))
    return statistics.median(t_lib), statistics.median(t_raw), ratio


def bench_load(tmp: Path, repeats: int, n: int = 100_000) -> tuple[float, float]:
    raw = tmp / "raw2"
    raw.mkdir()
    df = bs.create_df(tmp / "big.h5", raw_root=raw)
    rng = np.random.default_rng(0)
    trial = np.arange(n) % 500
    big = pd.DataFrame(
        {
            "uuid": [str(uuid.uuid4()) for _ in range(n)],
            "animal_id": [f"m{i // 5000}" for i in range(n)],
            "session_id": [f"2024-01-{(i // 500) % 10 + 1:02d}" for i in range(n)],
            "trial_id": trial,
            "exp_type": "table",
            "front_video": [f"m{i // 5000}/s/front_v{t:03d}.mp4" for i, t in enumerate(trial)],
            "side_video": [f"m{i // 5000}/s/side_v{t:03d}.mp4" for i, t in enumerate(trial)],
            "output_path": [f"m{i // 5000}/s/outputs.h5" for i in range(n)],
            "model_params": [{} for _ in range(n)],
            "added_time": pd.Timestamp.now(tz="UTC"),
            "behavior_status": rng.choice(["", "done", "failed"], n),
        }
    )
    big["session_id"] = big["session_id"] + "_" + (np.arange(n) // 500).astype(str)
    store.transact(df, lambda _: schema.coerce(big))
    path = tmp / "big.h5"
    t_lib, t_raw = [], []
    for _ in range(repeats):
        t_lib.append(_time(lambda: bs.load_df(path)))
        t_raw.append(_time(lambda: pd.read_hdf(path, "trials")))
    return _summary(t_lib, t_raw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=31)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        a_lib, a_raw, a_ratio = bench_add(tmp, args.repeats)
        l_lib, l_raw, l_ratio = bench_load(tmp, max(3, args.repeats // 3))
    print(
        f"add 1000-trial session + save : {a_lib * 1000:7.1f} ms   raw pandas to_hdf   {a_raw * 1000:7.1f} ms   "
        f"ratio {a_ratio:5.2f}x  (targets <= 1000 ms, <= 1.5x)"
    )
    print(
        f"load 100k-row table           : {l_lib * 1000:7.1f} ms   raw pandas read_hdf {l_raw * 1000:7.1f} ms   "
        f"ratio {l_ratio:5.2f}x  (target <= 1.5x)"
    )


if __name__ == "__main__":
    main()

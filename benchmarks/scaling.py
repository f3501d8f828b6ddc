"""The same batch of row jobs locally, on dask with 1 and 2 workers, and on SLURM through
dask-jobqueue, measured in one run.

``--trials`` trials of ``--frames`` frames at ``--size`` pixels; the job is ``video_stats`` (each
view decoded once: about a second per trial at the defaults). Printed:

- the wall time of each backend over the batch, with workers already up (starting a cluster
  is not part of a batch);
- speedup of 2 workers over 1 (dask ``LocalCluster`` and SLURM), the ceiling being this
  machine's cores;
- the SLURM path's overhead per row against ``local``, ``(wall_slurm_1 - wall_local) / rows``,
  and as a share of a one-minute job (target: <= 5%, 3 s), and SLURM's against a dask worker of
  a ``LocalCluster`` (what the scheduler and its job scripts add).

SLURM runs when ``SLURM_CONF`` points at a cluster, or when ``--start-slurm`` may start the
one-node SLURM of ``scripts/local_slurm.py`` (root, Debian's slurm-wlm and munge).

    python benchmarks/scaling.py [--trials 12] [--frames 900] [--size 128] [--start-slurm]
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import behavior_soup as bs
from behavior_soup.sample_data import make_sample_data

ROOT = Path(__file__).resolve().parents[1]


def table(tmp: Path, trials: int, frames: int, size: int):
    animals = max(1, -(-trials // 4))
    sd = make_sample_data(tmp / "raw", n_animals=animals, n_trials=4, n_frames=frames, size=(size, size), ephys=False)
    df = bs.create_df(tmp / "exp" / "t.h5", raw_root=sd.root)
    for a in range(animals):
        df.behavior.add_item(f"m{a + 1}")
    return df, df.iloc[:trials]


def batch(df, rows, **kw) -> float:
    t0 = time.perf_counter()
    out = df.behavior.run_job("video_stats", rows=rows, progress=False, **kw)
    wall = time.perf_counter() - t0
    if not (out["status"] == "done").all():
        sys.exit(f"rows failed: {out['error'].tolist()}")
    return wall


def dask_wall(df, rows, n: int) -> float:
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        with Client(lc) as client:
            client.wait_for_workers(n)
            return batch(df, rows, backend="dask", client=client)


def slurm_wall(df, rows, n: int, logs: Path) -> float:
    from dask.distributed import Client

    cluster = bs.cluster.slurm(
        cores=1, memory="2GB", walltime="00:30:00", jobs=n, log_directory=str(logs),
        scheduler_options={"dashboard_address": None},
    )  # fmt: skip
    try:
        with Client(cluster) as client:
            client.wait_for_workers(n, timeout=300)
            return batch(df, rows, backend="dask", client=client)
    finally:
        cluster.close()


def local_slurm():
    spec = importlib.util.spec_from_file_location("local_slurm", ROOT / "scripts" / "local_slurm.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["local_slurm"] = mod
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=12)
    ap.add_argument("--frames", type=int, default=900)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--start-slurm", action="store_true", help="start the local one-node SLURM if none is set")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("distributed").setLevel(logging.WARNING)
    started = None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not os.environ.get("SLURM_CONF") and args.start_slurm:
            started = local_slurm().start(tmp / "slurm")
        df, rows = table(tmp, args.trials, args.frames, args.size)
        n = len(rows)
        batch(df, rows.iloc[:1])  # warm: the first decode
        print(f"{n} rows of video_stats, {args.frames} frames at {args.size}x{args.size}, {os.cpu_count()} cores")
        walls = {"local": batch(df, rows)}
        walls["dask 1"] = dask_wall(df, rows, 1)
        walls["dask 2"] = dask_wall(df, rows, 2)
        if os.environ.get("SLURM_CONF"):
            walls["slurm 1"] = slurm_wall(df, rows, 1, tmp / "logs")
            walls["slurm 2"] = slurm_wall(df, rows, 2, tmp / "logs")
        if started is not None:
            started.stop()
    for name, wall in walls.items():
        print(f"{name:<8} {wall:7.2f} s  {wall / n:6.3f} s/row")
    print(f"speedup dask 2/1 workers {walls['dask 1'] / walls['dask 2']:.2f}x")
    if "slurm 1" in walls:
        per_row = (walls["slurm 1"] - walls["local"]) / n
        print(f"speedup slurm 2/1 jobs {walls['slurm 1'] / walls['slurm 2']:.2f}x")
        print(f"slurm overhead per row {per_row:.3f} s = {per_row / 60 * 100:.2f}% of a one-minute job (target <= 5%)")
        print(f"ratio slurm 1 / local {walls['slurm 1'] / walls['local']:.3f}")
        print(f"ratio slurm 1 / dask 1 {walls['slurm 1'] / walls['dask 1']:.3f} (what SLURM adds to any dask worker)")
    else:
        print("slurm: not measured (set SLURM_CONF, or pass --start-slurm as root with slurm-wlm installed)")


if __name__ == "__main__":
    main()

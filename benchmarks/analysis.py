"""The frame table's speed and memory against a hand-written pandas merge of the same arrays,
measured in one run.

A table of ``--trials`` trials (no videos), each with an ethogram (4 behaviors), MoSeq
syllables and head tracking of ``--frames`` frames in its ``outputs.h5``. Each variant runs in a
fresh process, alternating ``--repeats`` times:

- library: ``df.analysis.frames(moseq="b", ethogram="predicted")``;
- pandas: the same results read with the same reader, one DataFrame per source, merged on
  (uuid, frame) and concatenated, the ethogram's behavior column computed the same way.

Target: wall time ratio (library / pandas) <= 1.5. Peak memory (RSS) is printed per row.

    python benchmarks/analysis.py [--trials 1000] [--frames 3000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CHILD = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
import behavior_soup as bs
from behavior_soup.jobs import TrialContext
variant, path = sys.argv[1], sys.argv[2]
df = bs.load_df(path)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if variant == "library":
    f = df.analysis.frames(moseq="b", ethogram="predicted", progress=False)
else:
    info = bs.store.table_info(df)
    parts = []
    for _, r in df.iterrows():
        ctx = TrialContext.from_row(r, info)
        e = ctx.read("fast/ethogram")
        arr, names = e["array"], [str(b) for b in e["behaviors"]]
        eth = pd.DataFrame(arr, columns=[f"behavior_{b}" for b in names])
        first = np.argmax(arr[:, 1:] == 1, axis=1) + 1
        eth["behavior"] = pd.Categorical.from_codes(np.where((arr[:, 1:] == 1).any(1), first, 0), names)
        eth["frame"] = np.arange(len(arr))
        syl = pd.DataFrame({"syllable": ctx.read("moseq/b/syllable"), "frame": np.arange(len(arr))})
        st = ctx.read("tracking/head_from_ears")["state"].drop(columns="time_s")
        st = st.rename(columns={"x": "x_cm", "y": "y_cm", "speed": "speed_cm_s"})
        st["frame"] = np.arange(len(st))
        m = eth.merge(syl, on="frame").merge(st, on="frame")
        for c in ("uuid", "animal_id", "session_id", "trial_id", "exp_type"):
            m[c] = r[c]
        m["time_s"] = m["frame"] / 30.0
        parts.append(m)
    f = pd.concat(parts, ignore_index=True)
    for c in ("uuid", "animal_id", "session_id", "exp_type"):
        f[c] = f[c].astype("category")
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"wall_s": wall, "rows": len(f), "peak_mib": peak / 1024, "added_mib": (peak - base) / 1024}))
"""


def build(root: Path, n_trials: int, n_frames: int) -> str:
    import behavior_soup as bs
    from behavior_soup import schema, store
    from behavior_soup.items import new_uuids
    from behavior_soup.jobs import TrialContext
    from behavior_soup.provenance import Provenance

    (root / "raw").mkdir(parents=True)
    df = bs.create_df(root / "t.h5", raw_root=root / "raw")
    per = 100
    animals = np.array([f"m{i // per}" for i in range(n_trials)], dtype=object)
    values = {
        "uuid": new_uuids(n_trials),
        "animal_id": animals,
        "session_id": np.full(n_trials, "s1", dtype=object),
        "trial_id": np.arange(n_trials, dtype=np.int64) % per + 1,
        "exp_type": np.full(n_trials, "openfield", dtype=object),
        "output_path": animals + "/s1/outputs.h5",
    }
    new = schema.from_columns(n_trials, values)
    store.transact(df, lambda t: pd.concat([t, new], ignore_index=True))
    info = store.table_info(df)
    rng = np.random.default_rng(0)
    behaviors = np.array(["background", "walk", "groom", "rear"])
    for _, r in df.iterrows():
        ctx = TrialContext.from_row(r, info)
        lab = rng.integers(0, 4, n_frames)
        eth = np.eye(4, dtype=np.int8)[lab]
        xy = np.cumsum(rng.normal(0, 0.1, (n_frames, 2)), axis=0)
        state = pd.DataFrame(
            {
                "time_s": np.arange(n_frames) / 30.0,
                "x": xy[:, 0],
                "y": xy[:, 1],
                "speed": rng.random(n_frames),
                "acceleration": rng.random(n_frames),
                "head_angle": rng.random(n_frames),
                "angular_velocity": rng.random(n_frames),
                "valid": np.ones(n_frames, bool),
            }
        )
        ctx.write_many(
            {
                "fast/ethogram": ({"array": eth, "behaviors": behaviors}, Provenance("bench", {}).finish()),
                "moseq/b": (
                    {"syllable": rng.integers(0, 30, n_frames).astype(np.int32)},
                    Provenance("bench", {"fps": 30.0}).finish(),
                ),
                "tracking/head_from_ears": (
                    {"state": state},
                    Provenance("bench", {"fps": 30.0, "units": "cm"}).finish(),
                ),
            }
        )
    return str(root / "t.h5")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--frames", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = build(Path(tmp), args.trials, args.frames)
        print(f"built {args.trials} trials x {args.frames} frames in {time.perf_counter() - t0:.1f} s")
        runs: dict[str, list[dict]] = {"library": [], "pandas": []}
        for _ in range(args.repeats):
            for variant in runs:
                out = subprocess.run([sys.executable, "-c", CHILD, variant, path], capture_output=True, text=True)
                if out.returncode:
                    sys.exit(f"{variant} failed:\n{out.stderr[-3000:]}")
                rec = json.loads(out.stdout.strip().splitlines()[-1])
                runs[variant].append(rec)
                print(f"{variant}: {rec}")
    lib, raw = runs["library"], runs["pandas"]
    wall = statistics.median(a["wall_s"] / b["wall_s"] for a, b in zip(lib, raw))
    rows = lib[0]["rows"]
    print(f"rows {rows}; library {rows / statistics.median(r['wall_s'] for r in lib):,.0f} rows/s")
    print(f"memory per row: library {statistics.median(r['added_mib'] for r in lib) * 2**20 / rows:.0f} B, ", end="")
    print(f"pandas {statistics.median(r['added_mib'] for r in raw) * 2**20 / rows:.0f} B")
    print(f"ratio {wall:.3f} wall library/pandas (target <= 1.5)")
    print(f"ratio {statistics.median(a['peak_mib'] / b['peak_mib'] for a, b in zip(lib, raw)):.3f} peak memory")


if __name__ == "__main__":
    main()

"""MoSeq overhead: ``df.moseq.fit`` + ``row.moseq.infer`` against the same keypoint-moseq calls
made directly on the same keypoints, in one run.

Each variant runs in a fresh Python process (so both pay JAX's compilation, and peak memory is
the process's own), alternating library/direct ``--repeats`` times. The direct variant does what
the keypoint-moseq tutorial does: ``format_data``, ``fit_pca``, ``estimate_sigmasq_loc``,
``init_model``, an AR-HMM ``fit_model``, the full ``fit_model`` warm-started from it, and
``apply_model`` on each trial (outliers removed as the library does, without diagnostic
plots). The library's variant starts with an empty compilation cache.
Targets: wall time and peak memory ratios (library / direct) <= 1.10.

    python benchmarks/moseq.py [--trials 4] [--frames 600] [--iters 20] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time, glob, shutil
from pathlib import Path
import numpy as np
variant, root, iters = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
work = root / variant
shutil.rmtree(work, ignore_errors=True)
work.mkdir()
t0 = time.perf_counter()
if variant == "library":
    import behavior_soup as bs
    from behavior_soup.items import add_row
    df = bs.create_df(work / "t.h5", raw_root=root / "raw")
    for i, f in enumerate(sorted(glob.glob(str(root / "raw/m1/s1/pose/*.h5")))):
        add_row(df, "m1", "s1", i + 1, videos={"front": f"m1/s1/front_v{i + 1:03d}.mp4"})
    for (_, row), f in zip(df.iterrows(), sorted(glob.glob(str(root / "raw/m1/s1/pose/*.h5")))):
        row.pose.load(f, name="dlc")
    df.moseq.fit(name="b", pose_model="dlc", kappa_ar=1e4, ar_iters=iters, kappa_full=1e3, full_iters=iters,
                 save_every=iters, progress=False)
    for _, row in df.iterrows():
        assert row.moseq.infer(model="b", num_iters=iters)["status"] == "done"
else:
    import keypoint_moseq as kpms
    from behavior_soup.pose import load_pose
    coords, confs = {}, {}
    for f in sorted(glob.glob(str(root / "raw/m1/s1/pose/*.h5"))):
        p = load_pose(f)
        coords[Path(f).stem[:10]], confs[Path(f).stem[:10]] = p.positions.copy(), p.likelihood.copy()
    bp = ["snout", "leftear", "rightear", "tailbase"]
    c2, f2 = {}, {}
    for k, xy in coords.items():  # outlier_removal without its diagnostic plots, as the library does
        bad = kpms.find_medoid_distance_outliers(xy.copy())["mask"] | np.isnan(xy).any(-1)
        c2[k], f2[k] = kpms.interpolate_keypoints(xy.copy(), bad), np.where(bad, 0.0, confs[k])
    data, md = kpms.format_data(c2, f2, bodyparts=bp, use_bodyparts=bp)
    pca = kpms.fit_pca(**data, anterior_idxs=[0], posterior_idxs=[3], exclude_outliers_for_pca=True)
    dim = max(2, int(np.searchsorted(np.cumsum(pca.explained_variance_ratio_), 0.9) + 1))
    sig = kpms.estimate_sigmasq_loc(data["Y"], data["mask"], filter_size=30)
    model = kpms.init_model(data, pca=pca, seed=0, anterior_idxs=[0], posterior_idxs=[3],
        trans_hypparams={"num_states": 100, "gamma": 1e3, "alpha": 5.7, "kappa": 1e4},
        ar_hypparams={"latent_dim": dim, "nlags": 3, "S_0_scale": 0.01, "K_0_scale": 10.0},
        obs_hypparams={"sigmasq_0": 0.1, "sigmasq_C": 0.1, "nu_sigma": 1e5, "nu_s": 5},
        cen_hypparams={"sigmasq_loc": sig}, error_estimator={"slope": -0.5, "intercept": 0.25})
    model, name = kpms.fit_model(model, data, md, str(work), "b", ar_only=True, num_iters=iters,
                                 save_every_n_iters=iters, generate_progress_plots=False)
    model = kpms.update_hypparams(model, kappa=1e3)
    model, _ = kpms.fit_model(model, data, md, str(work), "b", ar_only=False, start_iter=iters,
                              num_iters=2 * iters, save_every_n_iters=iters, generate_progress_plots=False)
    kpms.reindex_syllables_in_checkpoint(str(work), "b")
    model, _, _, _ = kpms.load_checkpoint(str(work), "b")
    seg = int(data["Y"].shape[1])
    for k in coords:
        d1, m1 = kpms.format_data({k: c2[k].copy()}, {k: f2[k].copy()}, bodyparts=bp, use_bodyparts=bp, seg_length=seg)
        kpms.apply_model(model, d1, m1, save_results=False, num_iters=iters, anterior_idxs=[0], posterior_idxs=[3],
                         error_estimator={"slope": -0.5, "intercept": 0.25})
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=4)
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    from behavior_soup.sample_data import make_sample_data

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_sample_data(root / "raw", n_animals=1, n_trials=args.trials, n_frames=args.frames, ephys=False)
        (root / "raw" / "m1" / "s1").symlink_to(root / "raw" / "m1" / "2024-01-05")
        out: dict[str, list[dict]] = {"library": [], "direct": []}
        for _ in range(args.repeats):
            for variant in ("library", "direct"):
                r = subprocess.run(
                    [sys.executable, "-c", CHILD, variant, str(root), str(args.iters)], capture_output=True, text=True
                )
                if r.returncode != 0:
                    raise SystemExit(f"{variant} failed:\n{r.stderr[-3000:]}")
                out[variant].append(json.loads(r.stdout.strip().splitlines()[-1]))
                print(f"{variant}: {out[variant][-1]}", flush=True)
    for key in ("wall_s", "peak_mib"):
        lib = statistics.median(x[key] for x in out["library"])
        direct = statistics.median(x[key] for x in out["direct"])
        print(f"{key}: library {lib:.1f}, direct {direct:.1f}")
        print(f"ratio {lib / direct:.3f}  ({key}, library / direct; target <= 1.10)")


if __name__ == "__main__":
    main()

"""Command line: ``behavior-soup demo`` and ``behavior-soup info``."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
import time
from pathlib import Path

import numpy as np

log = logging.getLogger("behavior_soup.cli")


def _demo_pose(df, sd, raw: Path, progress: bool, dlc_epochs: int) -> None:
    from behavior_soup.sample_data import BODYPARTS, DLC_SCORER

    rows = df[df["exp_type"] == "table"]
    for _, row in rows.iterrows():
        pose_file = (
            raw / row["animal_id"] / row["session_id"] / "pose" / f"front_v{int(row['trial_id']):03d}{DLC_SCORER}.h5"
        )
        row.pose.load(pose_file, name="dlc_import")
    runs = df.pose.track(source="dlc_import", px_per_cm=10.0, progress=progress)
    print(
        f"pose: imported DLC files and tracked head_from_ears on {(runs['status'] == 'done').sum()}/{len(runs)} trials"
    )
    row = rows.iloc[0]
    st = row.pose.tracking("head_from_ears")
    print(
        f"  {row['animal_id']}/{row['session_id']}/trial {row['trial_id']}: median speed {st['speed'].median():.2f} cm/s, "
        f"head angle range {np.degrees(st['head_angle'].min()):.0f} to {np.degrees(st['head_angle'].max()):.0f} deg"
    )
    if dlc_epochs <= 0:
        return
    try:
        from behavior_soup.pose.dlc import make_dlc_project
    except ImportError:  # pragma: no cover
        return
    if importlib.util.find_spec("deeplabcut") is None:
        print("pose: DeepLabCut is not installed (pip install 'behavior_soup[pose]'); skipping training")
        return
    animal, session = sd.animals[0], sd.sessions[0]
    train, held = sd.trials[:-1], sd.trials[-1]
    sess = raw / animal / session
    labels = {
        str(sess / f"front_v{t:03d}.mp4"): (
            np.arange(0, len(sd.truth(animal, session, t)["labels"]), 2),
            sd.truth(animal, session, t)["keypoints"][::2],
        )
        for t in train
    }
    cfg = make_dlc_project(Path(df.paths.table_path).parent / "dlc", "demo", "bs", labels, BODYPARTS)
    model = df.pose.register_model(cfg)
    ev = df.pose.train(model.name, epochs=dlc_epochs, batch_size=16, device="auto")
    print(
        f"pose: trained DeepLabCut ({ev['net_type']}, {dlc_epochs} epochs, offline): test RMSE {ev['test_rmse_px']:.2f} px"
    )
    row = df[(df["animal_id"] == animal) & (df["trial_id"] == held)].iloc[0]
    r = row.pose.infer(model.name, views=["front"])
    if r["status"] == "done":
        err = np.linalg.norm(
            row.pose.result(model.name).positions - sd.truth(animal, session, held)["keypoints"], axis=2
        )
        print(f"  held-out trial {held}: median error {np.median(err):.2f} px against the true keypoints")
    else:
        print(f"  inference failed: {r['error']}")


def _demo_ethogram(df, sd, progress: bool, epochs: int) -> None:
    if epochs <= 0:
        return
    if importlib.util.find_spec("torch") is None:
        print("ethogram: torch is not installed (pip install 'behavior_soup[ethogram]'); skipping the models")
        return
    from behavior_soup.ethogram import class_metrics
    from behavior_soup.sample_data import BEHAVIORS

    t0 = time.perf_counter()
    rows = df[df["exp_type"] == "table"]
    df.behavior.load_labels(rows=rows, progress=progress)
    held = rows.iloc[-1]
    train = rows.iloc[:-1]
    common = {"mode": "fast", "rows": train, "device": "auto", "progress": progress}
    df.flow_generator.train(model_out="models/flow", epochs=max(1, epochs // 3), input_size=(32, 64), **common)
    # the front camera looks down on an open field: every heading and either mirror image
    # is a plausible frame, so the top view is augmented with any rotation and both flips
    top_view = {"front": {"rotate": 180, "flip_ud": 0.5}}
    df.feature_extractor.train(model_out="models/feature_extractor", epochs=epochs, augment=top_view, **common)
    df.sequence.train(model_out="models/sequence", epochs=30, **common)
    runs = df.behavior.infer(mode="fast", rows=rows, progress=progress)
    print(
        f"ethogram: fast mode trained on {len(train)} trials ({epochs} epochs, 32x64 input) in "
        f"{time.perf_counter() - t0:.0f} s; ethograms written for {(runs['status'] == 'done').sum()}/{len(runs)} trials"
    )
    truth = sd.truth(held["animal_id"], held["session_id"], int(held["trial_id"]))["labels"]
    pred = held.behavior.ethogram("fast").to_numpy()
    f1 = class_metrics(pred, np.eye(len(BEHAVIORS), dtype=np.int8)[truth], BEHAVIORS)
    scores = ", ".join(f"{b} {m['f1']:.2f}" for b, m in f1.items())
    print(f"  held-out {held['animal_id']}/{held['session_id']}/trial {held['trial_id']}: F1 {scores}")


def _demo_moseq(df, sd, progress: bool, iters: int) -> None:
    if iters <= 0:
        return
    if importlib.util.find_spec("keypoint_moseq") is None:
        print("moseq: keypoint-moseq is not installed (pip install 'behavior_soup[moseq]'); skipping")
        return
    from sklearn.metrics import normalized_mutual_info_score

    t0 = time.perf_counter()
    rows = df[df["exp_type"] == "table"]
    fit = df.moseq.fit(
        name="demo",
        pose_model="dlc_import",
        kappa_ar=1e4,
        ar_iters=iters,
        kappa_full=1e3,
        full_iters=iters,
        rows=rows,
        progress=progress,
    )
    runs = df.moseq.infer(model="demo", num_iters=100, rows=rows, progress=progress)
    print(
        f"moseq: fitted on {len(rows)} trials ({iters} AR-HMM + {iters} full iterations, latent dim "
        f"{fit['latent_dim']}) in {time.perf_counter() - t0:.0f} s: {fit['n_syllables']} syllables, median "
        f"{fit['median_duration_ms']:.0f} ms; syllables inferred for {(runs['status'] == 'done').sum()}/{len(runs)} trials"
    )
    truth, found = [], []
    for _, row in rows.iterrows():
        syl = row.moseq.result("demo")["syllable"].to_numpy()
        truth.append(sd.truth(row["animal_id"], row["session_id"], int(row["trial_id"]))["labels"])
        found.append(syl)
        used = np.bincount(syl)
        top = ", ".join(f"{i}: {used[i] / len(syl):.0%}" for i in np.argsort(used)[::-1][:3] if used[i])
        print(f"  {row['animal_id']}/{row['session_id']}/trial {row['trial_id']}: syllables {top}")
    nmi = normalized_mutual_info_score(np.concatenate(truth), np.concatenate(found))
    print(f"  syllables vs the true behaviors: normalized mutual information {nmi:.2f}")


def _demo_analysis(df, ethogram: bool, moseq: bool) -> None:
    """The results of the stages that ran, frame by frame, and per trial."""
    rows = df[df["exp_type"] == "table"]
    f = df.analysis.frames(
        ethogram="predicted" if ethogram else "none", moseq="demo" if moseq else None, rows=rows, progress=False
    )
    s = df.analysis.summary(frames=f)
    print(f"analysis: {len(f)} frames of {f['uuid'].nunique()} trials side by side ({', '.join(f.columns[7:12])}, ...)")
    behaviors = [c[: -len("_pct")] for c in s.columns if c.endswith("_pct") and not c.startswith("syllable_")]
    for _, r in s.head(3).iterrows():
        budget = ", ".join(f"{b} {r[f'{b}_pct']:.0f}%" for b in behaviors)
        print(
            f"  {r['animal_id']}/trial {r['trial_id']}: distance {r['distance_cm']:.1f} cm"
            + (f"; {budget}" if budget else "")
        )
    if ethogram and moseq:
        t = df.analysis.crosstab("behavior", "syllable", frames=f)
        print(f"  predicted behaviors vs syllables: normalized mutual information {t.attrs['nmi']:.2f}")


def _demo(out: Path, progress: bool, dlc_epochs: int = 0, ethogram_epochs: int = 0, moseq_iters: int = 0) -> int:
    import behavior_soup as bs
    from behavior_soup.sample_data import make_sample_data

    t0 = time.perf_counter()
    raw = out / "raw"
    table = out / "tables" / "behavior.h5"
    if raw.exists() or table.exists():
        raise SystemExit(f"expected an empty --out folder, found earlier demo files in {out}; pass another --out")
    sd = make_sample_data(raw, n_animals=3)
    print(
        f"sample data: {len(sd.animals)} animals x {len(sd.sessions)} session(s) x {len(sd.trials)} trials, and one recording, in {raw}"
    )
    df = bs.create_df(table, raw_root=raw)
    for animal in sd.animals:
        df.behavior.add_item(animal_id=animal, exp_type="table")
    e = sd.ephys
    df.sta.add_recording(
        e["animal_id"],
        e["session_id"],
        e["trial_id"],
        stimulus=e["stimulus"],
        spikes=e["spikes"],
        fps=e["fps"],
        stimulus_onset=e["stimulus_onset"],
    )
    print(f"table: {len(df)} trials in {table}")
    behavior_rows = df[df["exp_type"] == "table"]
    runs = df.behavior.run_job("video_stats", rows=behavior_rows, progress=progress)
    print(f"video_stats: {(runs['status'] == 'done').sum()}/{len(runs)} trials done")
    row = df[df["exp_type"] == "table"].iloc[0]
    stats = row.outputs.read("behavior/video_stats")
    print(
        f"  {row['animal_id']}/{row['session_id']}/trial {row['trial_id']}: {int(stats['n_frames'])} frames, front motion energy mean {float(np.mean(stats['front']['motion'])):.2f}"
    )
    runs = df.sta.compute(n_delays=e["n_delays"], progress=progress)
    print(f"sta: {(runs['status'] == 'done').sum()}/{len(runs)} recordings done")
    summary = df.sta.summary()
    kernels = np.load(raw / "r1" / "s1" / "truth" / "kernels.npz")
    rec = df[df["exp_type"] == "ephys"].iloc[0]
    for _, u in summary.iterrows():
        est = rec.sta.result(u["unit"], "centered")
        r = np.corrcoef(est.ravel(), kernels[u["unit"]].ravel())[0, 1]
        cx, cy = e["centers"][u["unit"]]
        print(
            f"  {u['unit']}: {u['n_spikes']} spikes, peak delay {u['peak_delay']}, RF centre ({u['rf_x']:.1f}, {u['rf_y']:.1f}) px (true ({cx:.1f}, {cy:.1f})), corr with true kernel {r:.2f}, SNR {u['snr']:.1f}"
        )
    _demo_pose(df, sd, raw, progress, dlc_epochs)
    _demo_ethogram(df, sd, progress, ethogram_epochs)
    _demo_moseq(df, sd, progress, moseq_iters)
    has = {m: importlib.util.find_spec(m) is not None for m in ("torch", "keypoint_moseq")}
    _demo_analysis(df, ethogram_epochs > 0 and has["torch"], moseq_iters > 0 and has["keypoint_moseq"])
    print(f"demo finished in {time.perf_counter() - t0:.1f} s; outputs under {bs.load_df(table).paths.output_root}")
    return 0


def _info(path: Path) -> int:
    import pandas as pd

    import behavior_soup as bs
    from behavior_soup import schema

    df = bs.load_df(path)
    info = df.behavior.info
    print(f"table        {info.table_path}")
    print(f"revision     {info.revision}")
    print(f"raw root     {info.raw_root}{'' if Path(info.raw_root).is_dir() else '  (missing here)'}")
    print(f"output root  {info.output_root}")
    print(f"naming       {info.naming['template']}")
    print(
        f"trials       {len(df)}  animals {df['animal_id'].nunique()}  sessions {df.groupby(['animal_id', 'session_id']).ngroups}"
    )
    if len(df):
        print(df.groupby(["animal_id", "session_id"]).size().rename("trials").to_string())
        counts = {
            ns: df[schema.status_column(ns)].replace("", "-").value_counts().to_dict()
            for ns in schema.STATUS_NAMESPACES
        }
        print(pd.DataFrame(counts).fillna(0).astype(int).T.to_string())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``behavior-soup`` command line.

    Parameters
    ----------
    argv
        The arguments after the program name (e.g. ``["info", "trials.h5"]``), or ``None`` for
        ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: ``0`` on success, ``2`` after printing a library error or a missing file to
        stderr. Bad arguments make ``argparse`` exit (``SystemExit``) instead.
    """
    parser = argparse.ArgumentParser(prog="behavior-soup", description="behavior_soup command line")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="build sample data and run the whole pipeline on it")
    p_demo.add_argument("--out", type=Path, default=Path("demo_out"), help="folder for the demo (default: demo_out)")
    p_demo.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p_demo.add_argument(
        "--dlc-epochs",
        type=int,
        default=0,
        help="also train DeepLabCut on the sample data for this many epochs and infer a held-out trial (needs [pose])",
    )
    p_demo.add_argument(
        "--ethogram-epochs",
        type=int,
        default=12,
        help="train the fast-mode ethogram models this many epochs and write ethograms (0: skip; needs [ethogram])",
    )
    p_demo.add_argument(
        "--moseq-iters",
        type=int,
        default=30,
        help="fit keypoint-MoSeq on the sample pose with this many AR-HMM and full iterations (0: skip; needs [moseq])",
    )
    p_info = sub.add_parser("info", help="summarise a trial table")
    p_info.add_argument("table", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    from behavior_soup.errors import BehaviorSoupError

    try:
        if args.command == "demo":
            return _demo(args.out, not args.no_progress, args.dlc_epochs, args.ethogram_epochs, args.moseq_iters)
        return _info(args.table)
    except (BehaviorSoupError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""keypoint-MoSeq on the sample data: fit, infer, resume, analysis and bad input.

The sample mouse switches between four behaviors every 12-30 frames (0.4-1 s), which change
its posture differently (still, walk: the same body; groom: the snout bobs; rear: the body
shortens). A short fit must find syllables that follow them well above chance.
"""

from __future__ import annotations

import os
import warnings

import h5py
import numpy as np
import pandas as pd
import pytest

import behavior_soup as bs
from behavior_soup.errors import DataFormatError, ItemExistsError, ItemNotFoundError, JobError
from behavior_soup.sample_data import DLC_SCORER, make_sample_data

pytest.importorskip("keypoint_moseq")

FIT = dict(name="m", pose_model="dlc", kappa_ar=1e4, ar_iters=30, kappa_full=1e3, full_iters=30, progress=False)


def _nmi(a, b):
    from sklearn.metrics import normalized_mutual_info_score

    return normalized_mutual_info_score(a, b)


@pytest.fixture(scope="module")
def moseq_table(tmp_path_factory):
    root = tmp_path_factory.mktemp("moseq")
    sd = make_sample_data(root / "raw", n_animals=2, n_trials=3, n_frames=300, ephys=False)
    df = bs.create_df(root / "t" / "table.h5", raw_root=root / "raw")
    for a in sd.animals:
        df.behavior.add_item(animal_id=a, exp_type="table")
    for _, row in df.iterrows():
        pose = (
            root
            / "raw"
            / row["animal_id"]
            / row["session_id"]
            / "pose"
            / f"front_v{row['trial_id']:03d}{DLC_SCORER}.h5"
        )
        assert row.pose.load(pose, name="dlc")["status"] == "done"
    return df, sd


@pytest.fixture(scope="module")
def fitted(moseq_table):
    """Two chains fitted on the first five trials; syllables of all six (m2/3 never seen)."""
    df, sd = moseq_table
    summary = df.moseq.fit(**FIT, seeds=(0, 1), rows=df.iloc[:5])
    runs = df.moseq.infer(model="m", num_iters=100, progress=False)
    return df, sd, summary, runs


def test_fit_and_infer_recover_the_movement_regimes(fitted):
    df, sd, summary, runs = fitted
    assert (runs["status"] == "done").all(), runs["error"].tolist()
    truth, found = [], []
    for _, row in df.iterrows():
        res = row.moseq.result("m")
        labels = sd.truth(row["animal_id"], row["session_id"], int(row["trial_id"]))["labels"]
        assert len(res) == len(labels) == 300
        assert res["syllable"].dtype == np.int32 and res["syllable"].min() >= 0
        assert np.isfinite(res[["centroid_x", "centroid_y", "heading"]].to_numpy()).all()
        truth.append(labels)
        found.append(res["syllable"].to_numpy())
    # normalized mutual information with the true behaviors; chance is ~0.0-0.05 here
    assert _nmi(np.concatenate(truth), np.concatenate(found)) >= 0.4
    assert _nmi(truth[-1], found[-1]) >= 0.3  # the trial not fitted on
    # syllables are ordered by use in the fit: 0 has the most instances
    freq = df.moseq.model("m")["frequencies"]
    assert freq == sorted(freq, reverse=True) and np.isclose(sum(freq), 1.0)


def test_registry_records_the_fit(fitted):
    df, _, summary, _ = fitted
    entry = df.moseq.model("m")
    assert entry["recordings"].keys() == set(df.iloc[:5]["uuid"])
    assert "/" not in "".join(entry["recordings"].values())
    assert entry["bodyparts"] == ["snout", "leftear", "rightear", "tailbase"]
    assert entry["use_bodyparts"] == entry["bodyparts"] and entry["anterior"] == ["snout"]
    assert entry["fps"] == pytest.approx(30.0)
    assert entry["latent_dim"] >= 2 and 0.9 <= entry["variance_explained"] <= 1.0
    assert entry["scree"] == sorted(entry["scree"]) and len(entry["scree"]) >= entry["latent_dim"]
    assert set(entry["scores"]) == {"0", "1"} and all(np.isfinite(list(entry["scores"].values())))
    best = max(entry["scores"], key=entry["scores"].get)
    assert entry["chosen_seed"] == int(best) == summary["chosen_seed"]
    assert not entry["checkpoint"].startswith("/")  # relative to the table's folder
    assert entry["versions"]["keypoint-moseq"] == "0.8.1" and entry["status"] == "done"
    assert entry["n_frames"] == 1500 and entry["n_syllables"] >= 2
    assert 0 < entry["median_duration_ms"] < 5000
    listing = df.moseq.models()
    assert listing["name"].tolist() == ["m"] and listing["n_rows"].tolist() == [5]
    prov = df.iloc[0].outputs.provenance("moseq/m")
    assert prov["job"] == "moseq_infer" and prov["params"]["pose_model"] == "dlc" and prov["status"] == "done"


def test_syllable_stats_and_transitions_join_the_table(fitted):
    df, _, _, _ = fitted
    stats = df.moseq.syllable_stats("m")
    assert set(stats["uuid"]) == set(df["uuid"])
    joined = stats.merge(df[["uuid", "animal_id"]], on="uuid", suffixes=("", "_t"))
    assert (joined["animal_id"] == joined["animal_id_t"]).all()
    per_trial = stats.groupby("uuid")["frequency"].sum()
    assert np.allclose(per_trial, 1.0, atol=0.1)  # frequencies of a trial's used syllables
    assert (stats["duration"] > 0).all() and np.isfinite(stats["velocity_px_s_mean"]).all()
    mats = df.moseq.transitions("m", groupby="animal_id")
    assert set(mats) == {"m1", "m2"}
    for m in mats.values():
        assert m.shape[0] == m.shape[1] and np.isclose(m.to_numpy().sum(), 1.0)
        assert np.allclose(np.diag(m.to_numpy()), 0)


def test_resume_gives_the_uninterrupted_fit(moseq_table, monkeypatch):
    df, _ = moseq_table
    rows = df.iloc[:5]
    short = {**FIT, "ar_iters": 4, "full_iters": 4, "save_every": 2, "seeds": (3,)}
    df.moseq.fit(**{**short, "name": "whole"}, rows=rows)

    import keypoint_moseq.fitting as kf

    real, calls = kf._wrapped_resample, []

    def dying(*a, **k):
        calls.append(1)
        if len(calls) == 8:  # inside the full fit, after a snapshot
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(kf, "_wrapped_resample", dying)
    with pytest.raises(KeyboardInterrupt):
        df.moseq.fit(**{**short, "name": "cut"}, rows=rows)
    monkeypatch.setattr(kf, "_wrapped_resample", real)
    folder = df.paths.output_root / "moseq" / "cut"
    with h5py.File(folder / "seed3" / "checkpoint.h5", "r") as f:
        kept = sorted(int(k) for k in f["model_snapshots"])
    assert kept[-1] in (4, 6) and "cut" not in df.moseq.models()["name"].tolist()
    # a rerun with other settings is refused, the checkpoint kept
    with pytest.raises(JobError, match="other"):
        df.moseq.fit(**{**short, "name": "cut", "kappa_full": 5e3}, rows=rows)
    df.moseq.fit(**{**short, "name": "cut"}, rows=rows)
    with h5py.File(df.paths.output_root / "moseq" / "whole" / "model.h5", "r") as a:
        with h5py.File(folder / "model.h5", "r") as b:
            (ka,), (kb,) = list(a["model_snapshots"]), list(b["model_snapshots"])
            assert ka == kb == "8"
            for key in ("states/z", "states/x", "params/Ab", "params/Q", "params/pi"):
                np.testing.assert_array_equal(
                    a[f"model_snapshots/{ka}/{key}"][()], b[f"model_snapshots/{kb}/{key}"][()]
                )


def test_fit_in_a_worker_process_and_infer_on_dask_give_the_local_results(fitted):
    df, _, _, _ = fitted
    rows = df.iloc[:5]
    short = {**FIT, "ar_iters": 4, "full_iters": 4, "save_every": 2, "seeds": (3,)}
    if "whole" not in df.moseq.models()["name"].tolist():
        df.moseq.fit(**{**short, "name": "whole"}, rows=rows)
    entry = df.moseq.fit(**{**short, "name": "sub"}, rows=rows, backend="subprocess")
    assert entry["status"] == "done" and df.moseq.model("sub")["n_frames"] == 1500
    assert entry["run"]["backend"] == "subprocess" and entry["run"]["pid"] != os.getpid()
    out = df.paths.output_root / "moseq"
    with h5py.File(out / "whole" / "model.h5", "r") as a, h5py.File(out / "sub" / "model.h5", "r") as b:
        for key in ("states/z", "params/Ab", "params/Q"):
            np.testing.assert_array_equal(a[f"model_snapshots/8/{key}"][()], b[f"model_snapshots/8/{key}"][()])
    pytest.importorskip("dask.distributed")
    before = {u: df[df["uuid"] == u].iloc[0].moseq.result("m")["syllable"].to_numpy() for u in df["uuid"][4:6]}
    runs = df.iloc[4:6].moseq.infer(model="m", num_iters=100, backend="dask", n_workers=1, progress=False)
    assert (runs["status"] == "done").all(), runs["error"].tolist()
    for u, local in before.items():
        np.testing.assert_array_equal(df[df["uuid"] == u].iloc[0].moseq.result("m")["syllable"].to_numpy(), local)


def test_behavior_by_syllable_across_accessors(fitted):
    df, sd, _, _ = fitted
    df.behavior.load_labels(progress=False)
    f = df.analysis.frames(ethogram="labels", moseq="m", tracking=None, progress=False)
    assert len(f) == 6 * 300 and isinstance(f["syllable"].dtype, pd.CategoricalDtype)
    table = df.analysis.crosstab("behavior", "syllable", frames=f, normalize="index")
    assert np.allclose(table.sum(axis=1), 1.0)
    # the same NMI as scikit-learn's, well above chance: syllables follow the behaviors
    assert table.attrs["nmi"] == pytest.approx(_nmi(f["behavior"].cat.codes, f["syllable"].cat.codes), abs=1e-9)
    assert table.attrs["nmi"] >= 0.4
    top = table.idxmax(axis=1)  # each behavior's most used syllable
    assert top.nunique() >= 2
    s = df.analysis.summary(frames=f)
    assert (s["n_syllables"] >= 1).all() and (s["syllable_entropy_bits"] > 0).all()
    pct = s[[c for c in s.columns if c.startswith("syllable_") and c.endswith("_pct")]]
    assert np.allclose(pct.sum(axis=1), 100)


def test_bad_input_is_refused_before_anything_runs(fitted, tmp_path):
    df, _, _, _ = fitted
    with pytest.raises(ValueError, match="kappa"):
        df.moseq.fit(**{**FIT, "name": "k", "kappa_full": 0})
    with pytest.raises(ValueError, match="latent_dim"):
        df.moseq.fit(**{**FIT, "name": "k", "latent_dim": 1})
    with pytest.raises(ValueError, match="list of names"):
        df.moseq.fit(**{**FIT, "name": "k", "use_bodyparts": "snout"})
    with pytest.raises(ItemExistsError, match="overwrite"):
        df.moseq.fit(**FIT)
    with pytest.raises(DataFormatError, match="nose"):
        df.moseq.fit(**{**FIT, "name": "k", "anterior": ("nose",)})
    with pytest.raises(ItemNotFoundError, match="row.pose.load"):
        df.moseq.fit(**{**FIT, "name": "k", "pose_model": "nothing"}, rows=df.iloc[:2])
    with pytest.raises(ItemNotFoundError, match="registered MoSeq model"):
        df.iloc[0].moseq.infer(model="unknown")
    assert not (df.paths.output_root / "moseq" / "k").exists()


def test_inference_refuses_other_keypoints_and_writes_nothing(fitted, tmp_path):
    df, sd, _, _ = fitted
    from behavior_soup.sample_data import write_dlc_pose

    row = df.iloc[5]
    truth = sd.truth(row["animal_id"], row["session_id"], int(row["trial_id"]))["keypoints"]
    other = tmp_path / "otherDLC_resnet50_elsewhereshuffle1_5.h5"
    write_dlc_pose(other, truth, np.ones(truth.shape[:2]), scorer="DLC_resnet50_elsewhereshuffle1_5")
    gone = tmp_path / "gone.h5"
    write_dlc_pose(gone, np.full_like(truth, np.nan), np.zeros(truth.shape[:2]))
    from behavior_soup.store import table_info

    original = f"{table_info(df).raw_root}/{row['animal_id']}/{row['session_id']}/pose/front_v{row['trial_id']:03d}{DLC_SCORER}.h5"
    try:
        for path in (other, gone):
            assert row.pose.load(path, name="dlc")["status"] == "done"
            before = row.outputs.read("moseq/m")["syllable"].copy()
            r = row.moseq.infer(model="m", num_iters=5)
            assert r["status"] == "failed"
            assert ("elsewhere" in r["error"]) if path is other else ("all missing" in r["error"])
            np.testing.assert_array_equal(row.outputs.read("moseq/m")["syllable"], before)  # the old result stays
    finally:
        assert row.pose.load(original, name="dlc")["status"] == "done"


def test_grid_movies_trajectories_and_kappa_scan(fitted):
    df, _, _, _ = fitted
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = df.moseq.grid_movies("m", rows=2, cols=2)
    assert not [w for w in seen if "os.fork()" in str(w.message)], "ffmpeg started by a fork running Python"
    assert out["movies"] and not out["keypoints_only"]
    from behavior_soup.video import probe

    first = next(iter(out["movies"].values()))
    assert probe(first).n_frames > 10
    recorded = df.moseq.model("m")["grid_movies"]
    assert {int(k) for k in recorded} == set(out["movies"]) and not any(v.startswith("/") for v in recorded.values())
    assert out["from_videos"] == 6
    gone = df.iloc[0].paths.video("front")  # a moved video: the other trials' videos are used
    gone.rename(gone.with_suffix(".moved"))
    try:
        partial = df.moseq.grid_movies("m", rows=2, cols=2)
    finally:
        gone.with_suffix(".moved").rename(gone)
    assert partial["movies"] and not partial["keypoints_only"] and partial["from_videos"] == 5
    files = df.moseq.trajectory_plots("m", sampling_options={"n_neighbors": 5})
    assert any(f.endswith("all_trajectories.pdf") for f in files)
    with pytest.raises(DataFormatError, match="instances"):
        df.moseq.trajectory_plots("m", sampling_options={"n_neighbors": 10**6})
    pytest.importorskip("dask.distributed")
    scan = df.moseq.kappa_scan(
        pose_model="dlc", kappas=(1e2, 1e6), ar_iters=10, rows=df.iloc[:3], progress=False, backend="dask"
    )
    short, long = (r["median_duration_ms"] for r in scan["rows"])
    assert short < long  # stickier transitions, longer syllables
    assert scan["best_kappa"] in (1e2, 1e6) and scan["plot"].endswith(".png")
    assert "kappa_scan" not in df.moseq.models()["name"].tolist()

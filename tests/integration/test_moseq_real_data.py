"""keypoint-MoSeq on real DeepLabCut predictions from other labs (../shared/data; skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest

import behavior_soup as bs

pytest.importorskip("keypoint_moseq")
pytestmark = pytest.mark.shared_data

QUICK = dict(kappa_ar=1e5, ar_iters=10, kappa_full=1e4, full_iters=5, progress=False)


def _table(tmp_path, video=None):
    """A table with one trial m1/s1/1, whose front video is ``video`` (or none)."""
    from behavior_soup.items import add_row

    raw = tmp_path / "raw"
    (raw / "m1" / "s1").mkdir(parents=True)
    videos = {}
    if video is not None:
        (raw / "m1" / "s1" / "front_v001.mp4").symlink_to(video)
        videos = {"front": "m1/s1/front_v001.mp4"}
    df = bs.create_df(tmp_path / "t.h5", raw_root=raw)
    add_row(df, "m1", "s1", 1, videos=videos)
    return df


def _fit_and_infer(df, path, n_frames, **kw):
    row = df.iloc[0]
    assert row.pose.load(path, name="dlc")["status"] == "done"
    entry = df.moseq.fit(name="real", pose_model="dlc", **QUICK, **kw)
    r = df.iloc[0].moseq.infer(model="real", num_iters=20)
    assert r["status"] == "done", r["error"]
    res = df.iloc[0].moseq.result("real")
    assert len(res) == n_frames and res["syllable"].min() >= 0
    assert np.isfinite(res[["centroid_x", "centroid_y", "heading"]].to_numpy()).all()
    assert res["syllable"].nunique() >= 2
    return entry, res


def test_open_field_dlc_predictions(shared_data, tmp_path):
    df = _table(tmp_path, shared_data / "dlc_openfield/videos/m3v1mp4.mp4")
    entry, res = _fit_and_infer(
        df, shared_data / "dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.h5", 2330, anterior=("snout",)
    )
    assert entry["fps"] == pytest.approx(30.0, rel=1e-3) and entry["n_frames"] == 2330
    # across accessors: head tracking and syllables, frame by frame, and the trial's summary
    assert df.iloc[0].pose.track(source="dlc")["status"] == "done"
    f = df.analysis.frames(ethogram=None, moseq="real", progress=False)
    assert len(f) == 2330 and f["syllable"].notna().all()
    assert f["x_px"].notna().mean() > 0.9 and f["time_s"].iloc[-1] == pytest.approx(2329 / 30.0, rel=1e-3)
    np.testing.assert_array_equal(f["syllable"].astype(int).to_numpy(), res["syllable"].to_numpy())
    s = df.analysis.summary(frames=f)
    assert s["distance_px"].iloc[0] > 100 and s["n_syllables"].iloc[0] == res["syllable"].nunique()


@pytest.mark.slow
def test_deepof_mouse_with_fourteen_bodyparts(shared_data, tmp_path):
    # the predictions cover the first 100 of the video's 251 frames: a trial without video
    df = _table(tmp_path)
    parts = ("Nose", "Left_ear", "Right_ear", "Spine_1", "Center", "Spine_2", "Tail_base")
    entry, _ = _fit_and_infer(
        df,
        shared_data / "deepof/single/testDLC_h5_table.h5",
        100,
        use_bodyparts=parts,
        anterior=("Nose",),
        posterior=("Tail_base",),
        fps=25.0,
        latent_dim=3,
    )
    assert entry["use_bodyparts"] == list(parts) and len(entry["bodyparts"]) == 14


@pytest.mark.slow
def test_dlcanalyzer_plus_maze_without_video(shared_data, tmp_path):
    df = _table(tmp_path)
    mouse = ("nose", "earl", "earr", "headcentre", "neck", "bodycentre", "hipl", "hipr", "tailbase")
    entry, _ = _fit_and_infer(
        df,
        shared_data / "dlcanalyzer/EPM_15DeepCut_resnet50_epmMay17shuffle1_1030000.csv",
        962,
        use_bodyparts=mouse,
        anterior=("nose",),
        posterior=("tailbase",),
        fps=25.0,
    )
    assert len(entry["bodyparts"]) == 25 and entry["fps"] == 25.0

"""Pose import, tracking and NWB export through the table, on the sample data."""

from __future__ import annotations

import numpy as np
import pytest

import behavior_soup as bs
from behavior_soup.sample_data import BODYPARTS, DLC_SCORER


def _pose_file(raw, trial):
    return raw / "m1" / "2024-01-05" / "pose" / f"front_v{trial:03d}{DLC_SCORER}.h5"


def test_load_track_and_read_back(table, raw_copy, sample):
    table.behavior.add_item("m1")
    row = table.iloc[0]
    r = row.pose.load(_pose_file(raw_copy, 1))
    assert r["status"] == "done", r["error"]
    pose = row.pose.result()
    truth = sample.truth("m1", "2024-01-05", 1)["keypoints"]
    assert pose.bodyparts == BODYPARTS and pose.scorer == DLC_SCORER
    assert np.abs(pose.positions - truth).max() < 2.0  # the file holds truth + 0.3 px noise
    r = row.pose.track(px_per_cm=8.0, smooth="none")
    assert r["status"] == "done", r["error"]
    st = row.pose.tracking()
    assert st.attrs["units"] == "cm" and st.attrs["px_per_cm"] == 8.0
    mid = (truth[:, 1] + truth[:, 2]) / 2 / 8.0
    np.testing.assert_allclose(st["x"], mid[:, 0], atol=0.1)
    heading = np.arctan2(*(truth[:, 0] - (truth[:, 1] + truth[:, 2]) / 2).T[::-1])
    assert np.abs(np.angle(np.exp(1j * (st["head_angle"] - heading)))).max() < 0.2
    # the import path is stored relative to the raw root; the table records the run
    df = bs.load_df(table.paths.table_path)
    run = df.set_index("trial_id").loc[1, "pose_run"]
    assert df.set_index("trial_id").loc[1, "pose_status"] == "done" and run["job"] == "pose_track"


def test_whole_table_tracking_and_failures(table, raw_copy):
    table.behavior.add_item("m1")
    for _, row in table.iterrows():
        row.pose.load(_pose_file(raw_copy, int(row["trial_id"])), name="dlc")
    out = table.pose.track(source="dlc", progress=False)
    assert (out["status"] == "done").all()
    # a trial without that source fails alone, with a clear error, and nothing is written
    out = table.pose.track(source="missing", progress=False)
    assert (out["status"] == "failed").all() and out["error"].str.contains("pose/missing/front").all()
    with pytest.raises(ValueError, match="expected method in"):
        table.pose.track(method="nope")
    with pytest.raises(ValueError, match="expected smooth in"):
        table.iloc[0].pose.track(smooth="gauss")


def test_import_must_match_the_video_frames(table, raw_copy, tmp_path):
    from behavior_soup.sample_data import write_dlc_pose

    table.behavior.add_item("m1")
    short = tmp_path / "short.h5"
    write_dlc_pose(short, np.zeros((10, 4, 2)), np.ones((10, 4)))
    r = table.iloc[0].pose.load(short)
    assert r["status"] == "failed" and "expected 60 frames" in r["error"] and "found 10" in r["error"]
    with pytest.raises(FileNotFoundError):
        table.iloc[0].pose.load(tmp_path / "none.h5")


def test_nwb_export_of_a_trial(table, raw_copy, tmp_path):
    pytest.importorskip("ndx_pose")
    from behavior_soup.pose import load_pose

    table.behavior.add_item("m1")
    row = table.iloc[1]
    row.pose.load(_pose_file(raw_copy, 2))
    out = row.pose.export_nwb(tmp_path / "trial2.nwb")
    back = load_pose(out)
    pose = row.pose.result()
    np.testing.assert_allclose(back.positions, pose.positions)
    assert back.bodyparts == BODYPARTS and back.metadata["fps"] == pytest.approx(30.0, rel=1e-3)


def test_bad_keypoints_and_tracking_parameters(table, raw_copy, tmp_path):
    import pandas as pd

    table.behavior.add_item("m1")
    row = table.iloc[0]
    frame = pd.read_hdf(_pose_file(raw_copy, 1))
    for value in (5.0, -1.0):
        bad = frame.copy()
        bad[(DLC_SCORER, "leftear", "likelihood")] = bad[(DLC_SCORER, "leftear", "likelihood")].where(
            bad.index != 7, value
        )
        path = tmp_path / f"bad{DLC_SCORER}.h5"
        bad.to_hdf(path, key="df_with_missing")
        r = row.pose.load(path, name="bad")
        assert r["status"] == "failed" and "likelihoods in [0, 1]" in r["error"] and path.name in r["error"]
    assert "pose/bad/front" not in bs.load_df(table.paths.table_path).iloc[0].outputs.keys()
    inf = frame.copy()
    inf.loc[7, (DLC_SCORER, "leftear", "x")] = np.inf
    inf.loc[7, (DLC_SCORER, "leftear", "likelihood")] = 0.99
    path = tmp_path / f"inf{DLC_SCORER}.h5"
    inf.to_hdf(path, key="df_with_missing")
    assert row.pose.load(path, name="inf")["status"] == "done"
    assert row.pose.track(source="inf", smooth=None, max_gap=0)["status"] == "done"  # None: no smoothing
    st = row.pose.tracking()
    numeric = st.select_dtypes("number").to_numpy()
    assert not np.isinf(numeric).any()
    assert np.isnan(st.loc[7, "x"]) and np.isfinite(st.loc[6, "x"])  # the frame is missing, not at infinity
    for fps in (0, -30, True, float("nan")):
        with pytest.raises(ValueError, match="expected fps > 0"):
            row.pose.track(source="inf", fps=fps)


def test_a_sleap_file_whose_video_moved_takes_the_trials_frame_count(table, tmp_path):
    sio = pytest.importorskip("sleap_io")
    table.behavior.add_item("m1")
    skel = sio.Skeleton(["head", "tail"])
    video = sio.Video(filename=str(tmp_path / "gone" / "front.mp4"), open_backend=False)
    frames = [
        sio.LabeledFrame(
            video=video,
            frame_idx=f,
            instances=[sio.PredictedInstance.from_numpy(np.array([[f, 1.0], [f, 2.0]]), skeleton=skel, score=0.9)],
        )
        for f in (2, 9)
    ]
    path = tmp_path / "moved.slp"
    sio.save_slp(sio.Labels(labeled_frames=frames, videos=[video], skeletons=[skel]), str(path))
    r = table.iloc[0].pose.load(path, name="sleap")
    assert r["status"] == "done", r["error"]
    pose = table.iloc[0].pose.result("sleap")
    assert pose.n_frames == 60  # the trial's video, not the last labelled frame (10)
    assert pose.positions[9, 0, 0] == 9 and np.isnan(pose.positions[10:]).all()

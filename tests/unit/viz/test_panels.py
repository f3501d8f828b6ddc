"""The one-trial viewers: keypoints over video, syllable track, STA per delay."""

from __future__ import annotations

import numpy as np
import pytest

import behavior_soup as bs
from behavior_soup.provenance import Provenance
from behavior_soup.sample_data import DLC_SCORER, write_dlc_pose

KEY_RIGHT = {"fastplotlib": "ArrowRight", "matplotlib": "right"}
KEY_UP = {"fastplotlib": "ArrowUp", "matplotlib": "up"}


def test_pose_view_draws_the_frames_keypoints_and_hides_unlikely_ones(table, sample, tmp_path, backend):
    table.behavior.add_item("m1", exp_type="openfield")
    row = table.iloc[0]
    kp = sample.truth("m1", row["session_id"], int(row["trial_id"]))["keypoints"]
    lk = np.ones(kp.shape[:2])
    lk[1, 0] = 0.1
    path = tmp_path / f"m1{DLC_SCORER}.h5"
    write_dlc_pose(path, kp, lk, scorer=DLC_SCORER)
    assert row.pose.load(path)["status"] == "done"
    w = row.pose.view(min_likelihood=0.5, backend=backend)
    p = w.panel
    assert p.n == len(kp) and np.allclose(p.points(), kp[0])
    w.render()
    w.press(KEY_RIGHT[backend])
    assert p.index == 1
    pts = p.points()
    assert np.isnan(pts[0]).all() and np.allclose(pts[1:], kp[1, 1:])
    w.press(KEY_UP[backend])
    assert p.index == 31
    assert w.render().shape[-1] == 4
    w.close()


def test_syllable_view_follows_the_frame(table, backend):
    table.behavior.add_item("m1", exp_type="openfield")
    row = table.iloc[0]
    ctx = row.behavior.context()
    syl = np.repeat(np.arange(6), 10).astype(np.int32)
    data = {"syllable": syl, "centroid": np.zeros((60, 2)), "heading": np.zeros(60), "latent_state": np.zeros((60, 3))}
    ctx.write("moseq/m1", data, Provenance("moseq_infer", {"fps": 30.0}).finish())
    w = row.moseq.view("m1", backend=backend)
    assert w.panel.current() == 0 and w.panel.n == 60
    w.render()
    w.panel.set_index(35)
    assert w.panel.current() == 3
    w.render()
    w.close()


def test_sta_view_steps_through_delays_with_the_peak_profile(sample, tmp_path, backend):
    df = bs.create_df(tmp_path / "t.h5", raw_root=sample.root)
    e = sample.ephys
    df.sta.add_recording(
        "r1", "s1", 1, stimulus=e["stimulus"], spikes=e["spikes"], fps=e["fps"], stimulus_onset=e["stimulus_onset"]
    )
    row = df.iloc[0]
    assert row.sta.compute(n_delays=6, units=["unit_0"], n_shuffles=0)["status"] == "done"
    w = row.sta.view("unit_0", backend=backend)
    p = w.panel
    sta = row.sta.result("unit_0", "centered")
    assert p.n == 6 and np.allclose(p.image(), sta[0])
    y, x = p.peak
    dev = np.abs(sta - sta.mean(axis=0))
    assert dev[:, y, x].max() == pytest.approx(dev.max())
    assert np.allclose(p.profile(), sta[:, y, x])
    assert np.allclose(p.delays(), np.arange(6) * 1000 / e["fps"])
    w.press(KEY_RIGHT[backend])
    assert p.index == 1 and np.allclose(p.image(), sta[1])
    w.render()
    w.close()

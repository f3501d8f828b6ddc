"""Pose import and tracking on real public data in ../shared/data (skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest

import behavior_soup as bs
from behavior_soup.errors import DataFormatError
from behavior_soup.pose import load_pose

pytestmark = pytest.mark.shared_data

H5 = "dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.h5"
NWB = "dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.nwb"


@pytest.fixture
def openfield(shared_data, tmp_path):
    """A table with one trial whose front video is the DLC open-field video (2330 frames)."""
    pytest.importorskip("ndx_pose")
    raw = tmp_path / "raw"
    (raw / "m3" / "s1").mkdir(parents=True)
    (raw / "m3" / "s1" / "front_v001.mp4").symlink_to(shared_data / "dlc_openfield/videos/m3v1mp4.mp4")
    df = bs.create_df(tmp_path / "t.h5", raw_root=raw)
    df.behavior.add_item("m3", views=("front",), on_missing_view="skip")
    return df


def test_dlc_h5_and_nwb_import_identically(openfield, shared_data):
    row = openfield.iloc[0]
    assert row.pose.load(shared_data / H5, name="dlc")["status"] == "done"
    assert row.pose.load(shared_data / NWB, name="nwb")["status"] == "done"
    a, b = row.pose.result("dlc"), row.pose.result("nwb")
    assert a.positions.shape == (2330, 4, 2) and a.bodyparts == ("snout", "leftear", "rightear", "tailbase")
    assert b.bodyparts == a.bodyparts
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.likelihood, b.likelihood)
    # the plain function reads both the same way too
    np.testing.assert_array_equal(load_pose(shared_data / H5).positions, load_pose(shared_data / NWB).positions)


def test_head_from_ears_on_the_open_field(openfield, shared_data):
    row = openfield.iloc[0]
    row.pose.load(shared_data / H5, name="dlc")
    # the arena is ~ 600 px across in the 640x480 video; call it 60 cm
    r = row.pose.track(method="head_from_ears", source="dlc", px_per_cm=10.0, smooth="savgol", window=7)
    assert r["status"] == "done", r["error"]
    st = row.pose.tracking("head_from_ears")
    assert len(st) == 2330 and st.attrs["units"] == "cm" and st.attrs["fps"] == pytest.approx(30.0, rel=1e-3)
    assert st["valid"].mean() > 0.95
    v = st[st["valid"]]
    assert v["x"].between(0, 64).all() and v["y"].between(0, 48).all()
    assert np.all(np.abs(v["head_angle"]) <= np.pi)
    speed = v["speed"].dropna()
    assert 0.5 < speed.median() < 20  # a mouse exploring: cm/s
    assert speed.quantile(0.99) < 150
    assert np.abs(v["angular_velocity"].dropna()).median() < 10  # rad/s
    # the head points at the snout: ear-axis angle vs the ear-midpoint -> snout direction
    pose = row.pose.result("dlc")
    mid = (pose.bodypart("leftear") + pose.bodypart("rightear")) / 2
    to_snout = pose.bodypart("snout") - mid
    ref = np.arctan2(to_snout[:, 1], to_snout[:, 0])
    good = (pose.likelihood > 0.9).all(axis=1) & st["valid"].to_numpy()
    diff = np.abs(np.angle(np.exp(1j * (st["head_angle"].to_numpy() - ref))))[good]
    assert np.median(diff) < np.deg2rad(30)


def test_frame_count_must_match_the_video(openfield, shared_data):
    r = openfield.iloc[0].pose.load(shared_data / "deepof/single/testDLC_h5_table.h5")
    assert r["status"] == "failed"
    assert "expected 2330 frames" in r["error"] and "found 100" in r["error"]


def test_sleap_files(shared_data):
    pytest.importorskip("sleap_io")
    with pytest.raises(DataFormatError, match=r"individuals are \['female', 'male'\]"):
        load_pose(shared_data / "sleap/clip.slp")
    fem = load_pose(shared_data / "sleap/clip.slp", individual="female")
    male = load_pose(shared_data / "sleap/clip.slp", individual="male")
    assert fem.positions.shape == male.positions.shape == (1500, 13, 2)
    assert fem.bodyparts[:3] == ("head", "thorax", "abdomen") and fem.metadata["fps"] == 25.0
    assert not np.allclose(fem.positions, male.positions, equal_nan=True)
    slp = load_pose(shared_data / "deepof/single/testDLC_sleap.slp")
    ana = load_pose(shared_data / "deepof/single/testDLC_sleap.analysis.h5")
    assert ana.source == "sleap_analysis_h5" and ana.positions.shape == (101, 14, 2)
    np.testing.assert_allclose(slp.positions, ana.positions, equal_nan=True)


def test_multi_animal_dlc(shared_data):
    path = shared_data / "deepof/madlc/testDLC_h5_table_madlc.h5"
    with pytest.raises(DataFormatError, match="mouse_black_tail"):
        load_pose(path)
    p = load_pose(path, individual="mouse_white_tail")
    assert p.positions.shape[0] == 100 and p.individual == "mouse_white_tail"

import numpy as np
import pytest

from behavior_soup.errors import DataFormatError
from behavior_soup.pose import PoseData, interpolate_gaps, process_tracking


def _pose_from_heading(theta, centre, half=5.0, like=None, names=("snout", "leftear", "rightear", "tailbase")):
    """Ears at +-half along the left-hand normal of heading theta (image coordinates)."""
    u = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    left = np.stack([u[:, 1], -u[:, 0]], axis=1)  # the animal's left, seen from above, y down
    kp = np.stack([centre + 20 * u, centre + half * left, centre - half * left, centre - 30 * u], axis=1)
    like = np.ones(kp.shape[:2]) if like is None else like
    return PoseData(kp, like, names)


def test_head_from_ears_recovers_position_angle_and_speeds():
    fps, n = 50.0, 200
    t = np.arange(n) / fps
    theta = np.angle(np.exp(1j * (0.3 + 2.0 * t)))  # 2 rad/s, wraps through +-pi
    centre = np.stack([100 + 30 * t, 80 - 10 * t], axis=1)  # (30, -10) px/s
    pose = _pose_from_heading(theta, centre)
    st = process_tracking(pose, "head_from_ears", fps=fps, px_per_cm=10.0, smooth="none")
    np.testing.assert_allclose(st["x"], centre[:, 0] / 10, atol=1e-9)
    np.testing.assert_allclose(st["y"], centre[:, 1] / 10, atol=1e-9)
    np.testing.assert_allclose(np.angle(np.exp(1j * (st["head_angle"] - theta))), 0, atol=1e-9)
    np.testing.assert_allclose(st["speed"], np.hypot(3.0, 1.0), rtol=1e-6)  # cm/s
    np.testing.assert_allclose(st["angular_velocity"], 2.0, rtol=1e-6)  # across the wrap too
    np.testing.assert_allclose(st["acceleration"], 0, atol=1e-6)
    assert st["valid"].all() and st.attrs["units"] == "cm"
    assert np.allclose(st["time_s"], t)


def test_likelihood_gaps_and_interpolation():
    n = 60
    theta = np.zeros(n)
    centre = np.stack([np.arange(n, dtype=float), np.full(n, 10.0)], axis=1)
    like = np.ones((n, 4))
    like[10:13, 1] = 0.1  # 3-frame gap: filled
    like[30:40, 2] = 0.2  # 10-frame gap: stays missing
    st = process_tracking(
        _pose_from_heading(theta, centre, like=like), fps=10.0, max_gap=5, smooth="none", likelihood_threshold=0.5
    )
    np.testing.assert_allclose(st["x"][10:13], np.arange(10, 13))
    assert st["valid"][:30].all() and not st["valid"][30:40].any() and st["valid"][40:].all()
    assert np.isnan(st["speed"][30:40]).all()
    # gaps at the edges are never extrapolated
    x = np.array([np.nan, 1.0, np.nan, 3.0, np.nan, np.nan])
    out = interpolate_gaps(x, 2)
    assert np.isnan(out[0]) and out[2] == 2.0 and np.isnan(out[4:]).all()


@pytest.mark.parametrize("how", ["savgol", "median"])
def test_smoothing_reduces_jitter_and_keeps_ramps(how):
    rng = np.random.default_rng(0)
    n = 300
    centre = np.stack([np.linspace(0, 100, n), np.full(n, 50.0)], axis=1)
    pose = _pose_from_heading(np.zeros(n), centre)
    pose.positions[:, 1:3] += rng.normal(0, 1.0, (n, 2, 2))
    raw = process_tracking(pose, fps=30.0, smooth="none")
    smooth = process_tracking(pose, fps=30.0, smooth=how, window=9)
    err_raw = np.abs(raw["x"] - centre[:, 0]).mean()
    err_smooth = np.abs(smooth["x"] - centre[:, 0]).mean()
    assert err_smooth < 0.6 * err_raw


def test_bodypart_names_must_match_or_be_mapped():
    n = 20
    pose = _pose_from_heading(np.zeros(n), np.zeros((n, 2)), names=("nose", "left_ear", "right_ear", "tail"))
    with pytest.raises(DataFormatError) as e:
        process_tracking(pose, fps=30.0)
    msg = str(e.value)
    assert "['leftear', 'rightear']" in msg and "'left_ear'" in msg and "missing ['leftear', 'rightear']" in msg
    st = process_tracking(pose, fps=30.0, bodyparts={"leftear": "left_ear", "rightear": "right_ear"}, smooth="none")
    np.testing.assert_allclose(st["head_angle"], 0, atol=1e-12)


def test_all_missing_bodypart_and_bad_arguments():
    n = 20
    like = np.ones((n, 4))
    like[:, 1] = 0.0
    pose = _pose_from_heading(np.zeros(n), np.zeros((n, 2)), like=like)
    with pytest.raises(DataFormatError, match="expected valid frames of bodypart 'leftear'"):
        process_tracking(pose, fps=30.0)
    with pytest.raises(ValueError, match="expected fps > 0"):
        process_tracking(pose, fps=0)
    with pytest.raises(ValueError, match="expected method in"):
        process_tracking(pose, "nope", fps=30)
    with pytest.raises(ValueError, match="odd smoothing window"):
        process_tracking(pose, fps=30, window=4)


def test_centroid_ignores_missing_bodyparts():
    n = 10
    pose = _pose_from_heading(np.zeros(n), np.full((n, 2), 50.0))
    pose.positions[:5, 0] = np.nan
    st = process_tracking(pose, "centroid", fps=10.0, smooth="none", bodyparts=["snout", "tailbase"])
    np.testing.assert_allclose(st["x"][5:], 50 + (20 - 30) / 2)
    np.testing.assert_allclose(st["x"][:5], 50 - 30)  # only the tail base left
    assert "head_angle" not in st

"""SLEAP files whose video cannot be opened: the frame count comes from the caller's video."""

from pathlib import Path

import numpy as np
import pytest

from behavior_soup.errors import DataFormatError
from behavior_soup.pose import load_pose
from behavior_soup.pose.formats import FRAMES_FROM_LABELS

sio = pytest.importorskip("sleap_io")

LABELLED = (0, 3, 7)


@pytest.fixture
def moved_slp(tmp_path):
    """A .slp of frames 0, 3 and 7 whose video is not where the file says."""
    skel = sio.Skeleton(["head", "thorax", "tail"])
    video = sio.Video(filename=str(tmp_path / "gone" / "session1.mp4"), open_backend=False)
    frames = []
    for f in LABELLED:
        pts = np.array([[f, 1.0], [f, 2.0], [f, 3.0]])
        inst = sio.PredictedInstance.from_numpy(pts, skeleton=skel, point_scores=np.array([0.5, 0.9, 1.02]), score=0.9)
        frames.append(sio.LabeledFrame(video=video, frame_idx=f, instances=[inst]))
    path = tmp_path / "moved.slp"
    sio.save_slp(sio.Labels(labeled_frames=frames, videos=[video], skeletons=[skel]), str(path))
    return path


def test_frame_count_from_the_callers_video(moved_slp):
    alone = load_pose(moved_slp)
    assert alone.n_frames == 8 and alone.metadata[FRAMES_FROM_LABELS] is True  # the last labelled frame + 1
    p = load_pose(moved_slp, n_frames=20)
    assert p.positions.shape == (20, 3, 2) and FRAMES_FROM_LABELS not in p.metadata
    for f in LABELLED:
        np.testing.assert_array_equal(p.positions[f], [[f, 1.0], [f, 2.0], [f, 3.0]])
    unlabelled = [f for f in range(20) if f not in LABELLED]
    assert np.isnan(p.positions[unlabelled]).all() and np.isnan(p.likelihood[unlabelled]).all()
    np.testing.assert_allclose(p.likelihood[3], [0.5, 0.9, 1.0])  # SLEAP's 1.02 peak clipped to 1
    assert load_pose(moved_slp, n_frames=8).n_frames == 8


def test_labels_beyond_the_video_are_an_error(moved_slp):
    with pytest.raises(DataFormatError, match=r"labelled frames below 5 .* found labels up to frame 7"):
        load_pose(moved_slp, n_frames=5)
    with pytest.raises(ValueError, match="positive integer"):
        load_pose(moved_slp, n_frames=0)


@pytest.mark.shared_data
def test_real_slp_with_a_moved_video(shared_data):
    """DeepOF's SLEAP example (MIT, see ../shared/data/MANIFEST.md): labels for frames 0-100 of a
    251-frame video, stored with a relative path to that video that does not exist here."""
    from behavior_soup.video import probe

    slp = shared_data / "deepof/single/testDLC_sleap.slp"
    labels = sio.load_file(str(slp))
    assert not Path(labels.videos[0].filename).exists()
    n = probe(shared_data / "deepof/single/testDLC_video_circular_arena.mp4").n_frames
    assert n == 251
    p = load_pose(slp, n_frames=n)
    assert p.positions.shape == (251, 14, 2) and p.bodyparts[0] == "Nose"
    ref = labels.numpy(video=0, return_confidence=True)[:, 0]  # (101, 14, 3)
    np.testing.assert_allclose(p.positions[:101], ref[..., :2], equal_nan=True)
    assert np.isfinite(p.positions[:101]).mean() > 0.9 and np.isnan(p.positions[101:]).all()
    assert (p.likelihood[:101][np.isfinite(p.likelihood[:101])] <= 1.0).all()


@pytest.mark.shared_data
def test_real_slp_with_its_video_keeps_the_video_count(shared_data):
    """SLEAP's fly clip (BSD-3-Clause-Clear): its video sits beside it, so its 1500 frames stand."""
    path = shared_data / "sleap/clip.slp"
    assert load_pose(path, individual="male", n_frames=1500).n_frames == 1500
    with pytest.raises(DataFormatError, match=r"expected 1400 frames .* in 'clip.slp', found 1500"):
        load_pose(path, individual="male", n_frames=1400)

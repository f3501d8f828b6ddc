"""The windows, drawn offscreen (fastplotlib on lavapipe where installed, matplotlib always):
keys go through each backend's own event path, edits reach the array, the pixels and the
file."""

from __future__ import annotations

import numpy as np
import pytest

from behavior_soup.accessors._common import contexts
from behavior_soup.errors import MissingDependencyError
from behavior_soup.viz import backends
from behavior_soup.viz.backends import usable_backend

KEY = {  # how each backend spells a key press
    "fastplotlib": {
        "right": ("ArrowRight", ()),
        "undo": ("z", ("Control",)),
        "redo": ("y", ("Control",)),
        "next_trial": ("PageDown", ()),
    },
    "matplotlib": {
        "right": ("right", ()),
        "undo": ("ctrl+z", ()),
        "redo": ("ctrl+y", ()),
        "next_trial": ("pagedown", ()),
    },
}


def _split(img, frac):
    cut = int(img.shape[0] * frac)
    return img[:cut], img[cut:]


def test_cleaner_keys_edit_the_array_repaint_the_tracks_and_save(trials, backend):
    w = trials.behavior.clean_ethograms(backend=backend, autosave_s=None)
    s = w.session
    assert w.backend == backend
    img0 = w.render()
    w.select(20, 35)  # as a drag over the tracks
    assert s.editor.selection == (20, 35)
    w.press("s")
    w.press("1")
    assert s.editor.array[20:36, s.editor.current].tolist() == [1] * 16
    img1 = w.render()
    video0, tracks0 = _split(img0, 0.6)
    video1, tracks1 = _split(img1, 0.6)
    assert np.array_equal(video0, video1), "an edit does not redraw the videos"
    assert (np.abs(tracks1.astype(int) - tracks0.astype(int)).sum(axis=-1) > 30).sum() > 50
    w.press(*KEY[backend]["undo"])
    assert s.editor.array[20:36, s.editor.current].tolist() != [1] * 16
    w.press("1")
    w.press("y")
    ctx = contexts(trials)[0]
    assert ctx.read("fast/cleaned")["array"][20:36, s.editor.current].tolist() == [1] * 16
    w.press(*KEY[backend]["right"])
    assert s.frame == 1
    img2 = w.render()
    assert not np.array_equal(_split(img2, 0.6)[0], video1), "a frame step redraws the videos"
    w.press(*KEY[backend]["next_trial"])
    assert s.trial == 1
    w.render()
    w.close()


def test_keys_that_matplotlib_binds_reach_the_cleaner(trials):
    import matplotlib

    matplotlib.use("Agg")
    w = trials.behavior.clean_ethograms(backend="matplotlib", autosave_s=None)
    for k in ("q", "s", "r", "left", "right"):
        assert matplotlib.rcParams["keymap.quit"] is not None
        w.press(k)
    assert w.session.status and w.figure.number is not None  # "q" did not close the figure
    w.close()


def test_compare_lists_disagreements_and_jumps_to_them(trials, backend):
    ctxs = contexts(trials)
    k = trials.behavior.compare_ethograms("labels", "fast")
    per = k.per_behavior().set_index("behavior")
    assert set(per.index) == set(ctxs[0].read("fast/ethogram")["behaviors"])
    assert ((per["f1"] > 0.5) & (per["f1"] < 1.0)).all()  # 10% of frames flipped
    assert len(k.summary) == 3 * len(per) and not k.segments.empty
    seg = k.segments.iloc[-1]
    w = k.view(backend=backend)
    assert w.session.reference is not None
    trial, frame = k.jump(len(k.segments) - 1)
    assert (trial, frame) == (int(seg["trial"]), int(seg["start"]))
    assert w.session.editor.selection == (int(seg["start"]), int(seg["stop"]))
    lab = ctxs[trial].read("behavior/labels")["array"]
    pred = ctxs[trial].read("fast/ethogram")["array"]
    c = list(ctxs[trial].read("fast/ethogram")["behaviors"]).index(seg["behavior"])
    assert (lab[seg["start"] : seg["stop"] + 1, c] != pred[seg["start"] : seg["stop"] + 1, c]).all()
    w.render()
    w.close()


def test_promoted_cleaned_ethogram_becomes_the_labels(trials):
    w = trials.behavior.clean_ethograms(backend="matplotlib", autosave_s=0)
    w.select(0, 9)
    w.press("1")
    w.close()
    row = trials.iloc[0]
    labels = row.behavior.promote_cleaned("fast")
    ctx = contexts(trials)[0]
    assert np.array_equal(labels.array, ctx.read("fast/cleaned")["array"])
    assert np.array_equal(row.behavior.labels().array, labels.array)
    assert ctx.provenance("behavior/labels")["params"]["source"] == "fast/cleaned"


def test_auto_falls_back_to_matplotlib_and_says_why(monkeypatch, caplog):
    monkeypatch.setattr(backends, "_CHECKED", {"fastplotlib": "no Vulkan adapter (test)"})
    with caplog.at_level("WARNING", logger="behavior_soup.viz.backends"):
        assert usable_backend("auto") == "matplotlib"
    assert "fastplotlib cannot draw here: no Vulkan adapter (test)" in caplog.text
    with pytest.raises(MissingDependencyError, match="no Vulkan adapter"):
        usable_backend("fastplotlib")
    with pytest.raises(ValueError, match="expected backend 'auto' or one of"):
        usable_backend("qt")  # type: ignore[arg-type]


def test_pose_keypoints_follow_the_frame_over_the_videos(trials, sample, tmp_path, backend):
    from behavior_soup.sample_data import DLC_SCORER, write_dlc_pose

    row = trials.iloc[0]
    kp = sample.truth("m1", row["session_id"], int(row["trial_id"]))["keypoints"]
    path = tmp_path / f"m1{DLC_SCORER}.h5"
    write_dlc_pose(path, kp, np.ones(kp.shape[:2]), scorer=DLC_SCORER)
    assert row.pose.load(path)["status"] == "done"
    w = trials.behavior.clean_ethograms(backend=backend, autosave_s=None)
    s = w.session
    assert set(s.keypoints) == {"front"} and s.keypoints["front"].source == "imported"
    assert np.allclose(s.points("front"), kp[0]) and s.points("side") is None
    w.render()
    s.set_frame(40)
    assert np.allclose(s.points("front"), kp[40])
    plain = trials.behavior.view(pose=False, backend=backend)
    assert plain.session.keypoints == {}
    plain.render()
    plain.session.set_frame(40)
    with_points, without = _split(w.render(), 0.6)[0], _split(plain.render(), 0.6)[0]
    assert (np.abs(with_points.astype(int) - without.astype(int)).sum(axis=-1) > 60).sum() > 10, "points drawn"
    plain.close()
    w.close()


def test_delete_redo_resets_and_next_bout_through_the_keys_reach_the_file(trials, backend):
    w = trials.behavior.clean_ethograms(backend=backend, autosave_s=None)
    s = w.session
    pred = s.editor.original.copy()
    w.press("s")
    c = s.editor.current
    on = np.flatnonzero(pred[:, c] == 1)
    lo, hi = int(on[0]), int(on[0]) + 3
    w.select(lo, hi)
    w.press("2")  # delete the current behavior over the selection
    assert (s.editor.array[lo : hi + 1, c] == 0).all() and (s.editor.array[lo : hi + 1, 0] == 1).any()
    w.press(*KEY[backend]["undo"])
    assert np.array_equal(s.editor.array, pred)
    w.press(*KEY[backend]["redo"])
    assert (s.editor.array[lo : hi + 1, c] == 0).all()
    w.press("t")  # reset the current behavior to the prediction
    assert np.array_equal(s.editor.array[:, c], pred[:, c])
    w.select(0, 9)
    w.press("1")
    w.press("r")  # reset everything
    assert np.array_equal(s.editor.array, pred)
    w.select(0, 4)
    w.press("1")
    s.set_frame(0)
    w.press("n")  # the next bout of the current behavior after frame 0
    later = np.flatnonzero(np.diff(np.r_[0, s.editor.array[:, c]]) == 1)
    assert s.frame == int(later[later > 0][0])
    w.press("y")
    ctx = contexts(trials)[0]
    saved = ctx.read("fast/cleaned")["array"]
    assert np.array_equal(saved, s.editor.array) and (saved[:5, c] == 1).all()
    assert ctx.provenance("fast/cleaned")["params"]["edit_count"] == s.editor.edit_count
    w.close()


AFTER_A_WINDOW = """
import os, sys
os.environ["RENDERCANVAS_FORCE_OFFSCREEN"] = "1"
import behavior_soup as bs
from behavior_soup.sample_data import make_sample_data
sd = make_sample_data(sys.argv[1] + "/raw", n_animals=1, n_trials=1, n_frames=40, ephys=False)
df = bs.create_df(sys.argv[1] + "/t/t.h5", raw_root=sd.root)
df.behavior.add_item("m1")
w = df.behavior.manual_ethograms(behaviors=["background", "groom"], backend="fastplotlib", autosave_s=None)
w.render()
import torch, torchvision
print(tuple(torchvision.models.resnet18()(torch.zeros(1, 3, 64, 64)).shape))
"""


def test_torch_vision_models_load_after_a_window_was_drawn(tmp_path):
    """Where lavapipe draws, triton's LLVM loaded after it crashed the process (segfault)."""
    import subprocess
    import sys

    from .conftest import fastplotlib_or_skip

    fastplotlib_or_skip()
    pytest.importorskip("torchvision")
    res = subprocess.run([sys.executable, "-c", AFTER_A_WINDOW, str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip().endswith("(1, 1000)"), res.stderr[-2000:]

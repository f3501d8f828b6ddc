"""DeepLabCut trained offline on CPU on the sample data, then run through the table.

The sample animal's keypoints are known exactly (``truth/trial_NNN.npz``), so the network's
pixel error on a trial it never saw is measured against the truth.
"""

from __future__ import annotations

import numpy as np
import pytest

import behavior_soup as bs
from behavior_soup.sample_data import BODYPARTS, make_sample_data

pytest.importorskip("deeplabcut")
pytestmark = pytest.mark.timeout(1800)  # CPU training; slower when the machine is shared

TRAIN_TRIALS = (1, 2, 3, 4)
#: Random-init cspnext_s needs about this many epochs on 150 labelled frames; 30 left the
#: tail base of the grooming frames (forepaws over the face) 17 px off at the 95th percentile.
EPOCHS = 40
HELD_OUT = 5


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from behavior_soup.pose.dlc import make_dlc_project

    tmp = tmp_path_factory.mktemp("dlc")
    sd = make_sample_data(tmp / "raw", n_animals=1, n_trials=5, n_frames=150, ephys=False, seed=3)
    df = bs.create_df(tmp / "exp" / "t.h5", raw_root=sd.root)
    df.behavior.add_item("m1")
    sess = sd.root / "m1" / "2024-01-05"
    labels = {
        str(sess / f"front_v{t:03d}.mp4"): (np.arange(0, 150, 2), sd.truth("m1", "2024-01-05", t)["keypoints"][::2])
        for t in TRAIN_TRIALS
    }
    cfg = make_dlc_project(tmp / "exp" / "dlc", "synthetic", "bs", labels, BODYPARTS)
    model = df.pose.register_model(cfg, shuffle=1)
    ev = df.pose.train(model.name, epochs=EPOCHS, batch_size=16, device="cpu", seed=0)
    return sd, df, model, ev


def test_training_is_recorded_with_the_model(trained):
    _, df, model, ev = trained
    assert ev["net_type"] == "cspnext_s" and ev["evaluated_epochs"] == EPOCHS
    assert 0 < ev["test_rmse_px"] < 6 and 0 < ev["train_rmse_px"] < 6
    m = bs.load_df(df.paths.table_path).pose.models().set_index("name").loc[model.name]
    assert m["test_rmse_px"] == ev["test_rmse_px"] and m["net_type"] == "cspnext_s"
    assert m["scorer"] == ev["scorer"] and m["scorer"].startswith("DLC_CspnextS_synthetic")
    assert not ev["snapshot"].startswith("/")  # relative to the project


def test_inference_on_a_held_out_trial_beats_a_constant_guess(trained):
    sd, df, model, _ = trained
    row = df[df["trial_id"] == HELD_OUT].iloc[0]
    r = row.pose.infer(model.name, views=["front"], device="cpu")
    assert r["status"] == "done", r["error"]
    pose = row.pose.result(model.name, "front")
    truth = sd.truth("m1", "2024-01-05", HELD_OUT)["keypoints"]
    assert pose.positions.shape == truth.shape and pose.bodyparts == BODYPARTS
    err = np.linalg.norm(pose.positions - truth, axis=2)
    med = np.median(err, axis=0)
    assert np.median(err) < 4.0 and np.all(med < 5.0), med  # px, in 64x64 frames
    # no bodypart confused with another: even the worst frames stay well inside the body
    body = np.median(np.linalg.norm(truth[:, 0] - truth[:, 3], axis=1))
    assert np.all(np.quantile(err, 0.95, axis=0) < 0.4 * body), (np.quantile(err, 0.95, axis=0), body)
    assert get_scorer(df, model.name).startswith("DLC_")
    # the provenance records the scorer and the run is in the table
    assert bs.load_df(df.paths.table_path).set_index("trial_id").loc[HELD_OUT, "pose_status"] == "done"


def get_scorer(df, name):
    from behavior_soup.pose import get_model

    return get_model(df, name).scorer


def test_training_resumes_from_the_last_snapshot(trained):
    _, df, model, _ = trained
    ev = df.pose.train(model.name, epochs=EPOCHS + 1, batch_size=16, device="cpu")
    assert ev["resumed_from_epoch"] == EPOCHS and ev["evaluated_epochs"] == EPOCHS + 1


def test_unknown_model_and_cuda_without_gpu(trained):
    import torch

    _, df, model, _ = trained
    with pytest.raises(bs.ItemNotFoundError, match="expected a registered pose model"):
        df.iloc[0].pose.infer("nope")
    if not torch.cuda.is_available():
        r = df.iloc[0].pose.infer(model.name, device="cuda")
        assert r["status"] == "failed" and "expected a CUDA GPU" in r["error"]

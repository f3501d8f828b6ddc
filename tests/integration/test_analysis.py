"""Analysis across accessors on the sample data, whose behaviors and keypoints are known."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import behavior_soup as bs
from behavior_soup.analysis import normalized_mutual_information
from behavior_soup.errors import DataFormatError, ItemNotFoundError
from behavior_soup.jobs import TrialContext
from behavior_soup.provenance import Provenance
from behavior_soup.sample_data import BEHAVIORS, DLC_SCORER

PX_PER_CM = 8.0


@pytest.fixture
def tracked(table, sample, tmp_path):
    """Every trial with its labels and head tracking from its exact keypoints (in cm)."""
    from behavior_soup.sample_data import write_dlc_pose

    for a in sample.animals:
        table.behavior.add_item(a, exp_type="openfield" if a == "m1" else "table")
    table.behavior.load_labels(progress=False)
    for _, row in table.iterrows():
        kp = _truth(sample, row)["keypoints"]
        path = tmp_path / f"{row['animal_id']}_{row['trial_id']}{DLC_SCORER}.h5"
        write_dlc_pose(path, kp, np.ones(kp.shape[:2]), scorer=DLC_SCORER)
        assert row.pose.load(path)["status"] == "done"
    out = table.pose.track(px_per_cm=PX_PER_CM, smooth=None, progress=False)
    assert (out["status"] == "done").all()
    return table


def _truth(sample, row):
    return sample.truth(row["animal_id"], row["session_id"], int(row["trial_id"]))


def test_frames_line_up_labels_and_tracking(tracked, sample):
    f = tracked.analysis.frames(ethogram="labels", progress=False)
    assert len(f) == 6 * 60 and list(f.columns[:7]) == [
        "uuid",
        "animal_id",
        "session_id",
        "trial_id",
        "exp_type",
        "frame",
        "time_s",
    ]
    assert isinstance(f["behavior"].dtype, pd.CategoricalDtype) and list(f["behavior"].cat.categories) == list(
        BEHAVIORS
    )
    assert {"x_cm", "y_cm", "speed_cm_s", "head_angle", "valid"} <= set(f.columns)
    for _, row in tracked.iterrows():
        part = f[f["uuid"] == row["uuid"]]
        truth = _truth(sample, row)
        assert part["behavior"].astype(str).tolist() == [BEHAVIORS[i] for i in truth["labels"]]
        assert (part["frame"].to_numpy() == np.arange(60)).all()
        np.testing.assert_allclose(part["time_s"], np.arange(60) / sample.fps)
        mid = (truth["keypoints"][:, 1] + truth["keypoints"][:, 2]) / 2 / PX_PER_CM
        np.testing.assert_allclose(part["x_cm"], mid[:, 0], rtol=1e-6)  # stored as float32
    assert f.attrs["fps"] == {u: pytest.approx(sample.fps) for u in tracked["uuid"]}


def test_summary_time_budgets_and_distance_equal_the_truth(tracked, sample):
    s = tracked.analysis.summary(ethogram="labels")
    assert len(s) == 6 and set(s["uuid"]) == set(tracked["uuid"])
    joined = tracked.merge(s, on="uuid", suffixes=("", "_s"))
    assert (joined["animal_id"] == joined["animal_id_s"]).all()
    for _, row in joined.iterrows():
        truth = _truth(sample, row)
        labels = truth["labels"]
        for i, b in enumerate(BEHAVIORS):
            on = labels == i
            assert row[f"{b}_s"] == pytest.approx(on.sum() / sample.fps)
            assert row[f"{b}_pct"] == pytest.approx(100 * on.mean())
            bouts = int(on[0]) + int(np.count_nonzero(on[1:] & ~on[:-1]))
            assert row[f"{b}_bouts"] == bouts
        mid = (truth["keypoints"][:, 1] + truth["keypoints"][:, 2]) / 2 / PX_PER_CM
        path = np.hypot(*np.diff(mid, axis=0).T).sum()
        assert row["distance_cm"] == pytest.approx(path, rel=1e-5)
        assert row["duration_s"] == pytest.approx(60 / sample.fps)
    assert np.allclose(s[[f"{b}_pct" for b in BEHAVIORS]].sum(axis=1), 100)


def test_crosstab_and_nmi(tracked):
    f = tracked.analysis.frames(ethogram="labels", progress=False)
    f["same"] = f["behavior"]
    t = tracked.analysis.crosstab("behavior", "same", frames=f, normalize="index")
    assert np.allclose(np.diag(t.to_numpy()), 1) and t.attrs["nmi"] == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    noise = pd.Series(rng.integers(0, 4, len(f)))
    assert normalized_mutual_information(f["behavior"], noise) < 0.05
    with pytest.raises(KeyError, match="expected a column of the frame table, got 'nope'"):
        tracked.analysis.crosstab("behavior", "nope", frames=f)


def test_the_cleaned_ethogram_wins_and_a_missing_one_is_warned(tracked, caplog):
    from behavior_soup.ethogram.jobs import cleaned_key

    row = tracked.iloc[0]
    ctx = TrialContext.from_row(row, bs.store.table_info(tracked))
    labels = row.behavior.labels()
    cleaned = np.zeros_like(labels.array)
    cleaned[:, 2] = 1  # every frame the third behavior
    ctx.write(cleaned_key("fast"), {"array": cleaned, "behaviors": np.array(labels.behaviors)}, Provenance("t", {}))
    with caplog.at_level(logging.WARNING, logger="behavior_soup.analysis.frames"):
        f = tracked.analysis.frames(progress=False)  # auto: cleaned where present, else the prediction
    first = f[f["uuid"] == row["uuid"]]
    assert (first["behavior"] == BEHAVIORS[2]).all() and (first[f"behavior_{BEHAVIORS[2]}"] == 1).all()
    rest = f[f["uuid"] != row["uuid"]]
    assert rest["behavior"].isna().all() and (rest[f"behavior_{BEHAVIORS[1]}"] == -1).all()
    assert "has no ethogram result" in caplog.text
    with pytest.raises(ItemNotFoundError, match="expected a ethogram result .*strict=True"):
        tracked.analysis.frames(strict=True, progress=False)
    with pytest.raises(ValueError, match="expected ethogram in"):
        tracked.analysis.frames(ethogram="best")


def test_sources_of_another_length_are_refused(tracked):
    row = tracked.iloc[1]
    ctx = TrialContext.from_row(row, bs.store.table_info(tracked))
    labels = row.behavior.labels()
    ctx.write(
        "behavior/labels", {"array": labels.array[:50], "behaviors": np.array(labels.behaviors)}, Provenance("t", {})
    )
    with pytest.raises(DataFormatError, match="found video 60, ethogram 50, tracking 60"):
        tracked.analysis.frames(ethogram="labels", progress=False)
    assert len(tracked.analysis.frames(ethogram="labels", rows=tracked.iloc[2:], progress=False)) == 4 * 60


def test_plots_and_export(tracked, tmp_path):
    s = tracked.analysis.summary(ethogram="labels")
    fig = tracked.analysis.plot_time_budget(groupby="exp_type", summary=s)
    assert len(fig.axes[0].patches) == len(BEHAVIORS) * 2
    f = tracked.analysis.frames(ethogram="labels", progress=False)
    fig = tracked.analysis.plot_ethogram_raster(frames=f)
    assert fig.axes[0].images[0].get_array().shape == (6, 60)
    fig = tracked.analysis.plot_trajectories(frames=f, color="behavior")
    assert len(fig.axes) == 6
    fig.savefig(tmp_path / "t.png")
    with pytest.raises(KeyError, match="groupby"):
        tracked.analysis.plot_time_budget(groupby="cage", summary=s)
    f.to_parquet(tmp_path / "f.parquet")
    back = pd.read_parquet(tmp_path / "f.parquet")
    pd.testing.assert_frame_equal(back, f, check_categorical=True)
    f.to_csv(tmp_path / "f.csv", index=False)
    assert len(pd.read_csv(tmp_path / "f.csv")) == len(f)

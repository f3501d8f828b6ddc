"""Accessor methods declared from parameter objects: one signature for df and row methods,
bad parameters refused at the call before any row runs, and registrations from outside the
package used through the accessors."""

from __future__ import annotations

import inspect

import h5py
import numpy as np
import pytest

import behavior_soup as bs
from behavior_soup import store
from behavior_soup.jobs import TASKS, register_task
from behavior_soup.pose import POSE_LOADERS, PoseData, register_pose_loader
from behavior_soup.pose.formats import detect_format
from behavior_soup.pose.tracking import TrackingParams
from behavior_soup.sta.recording import StaParams


@pytest.fixture
def trials(table):
    table.behavior.add_item("m1")
    return table


def test_df_and_row_methods_share_one_signature(trials):
    row = trials.iloc[0]
    for df_method, row_method, params in [
        (trials.pose.track, row.pose.track, TrackingParams),
        (trials.sta.compute, row.sta.compute, StaParams),
    ]:
        names = list(params.__dataclass_fields__)
        df_sig, row_sig = inspect.signature(df_method), inspect.signature(row_method)
        assert list(df_sig.parameters)[: len(names)] == names == list(row_sig.parameters)[: len(names)]
        assert all(df_sig.parameters[n].default == row_sig.parameters[n].default for n in names)
        assert {"rows", "backend", "progress"} <= set(df_sig.parameters) and "backend" in row_sig.parameters
        assert "smooth" in (df_method.__doc__ or "") or "n_delays" in (df_method.__doc__ or "")


BAD = [
    ("pose", "track", {"window": 4}, "expected window to be an odd smoothing window >= 3, got 4"),
    ("pose", "track", {"window": 2, "smooth": "median"}, "odd smoothing window"),
    ("pose", "track", {"smooth": "gauss"}, r"expected smooth in \['savgol', 'median', 'none'\], got 'gauss'"),
    ("pose", "track", {"fps": 0}, r"expected fps > 0 \(a finite number\), got 0.0"),
    ("pose", "track", {"likelihood_threshold": 5.0}, r"expected likelihood_threshold in \[0, 1\]"),
    ("pose", "track", {"max_gap": -1}, "expected max_gap to be an integer >= 0, got -1"),
    ("pose", "track", {"method": "nope"}, "expected method in"),
    ("pose", "track", {"view": "top"}, r"expected view in \['front', 'side'\], got 'top'"),
    ("sta", "compute", {"n_delays": 0}, "expected n_delays to be an integer >= 1, got 0"),
    ("sta", "compute", {"units": "unit_0"}, r"expected units to be a list of names, got 'unit_0' \(write \['unit_0'\]"),
    ("sta", "compute", {"precision": "half"}, "expected precision in"),
    ("behavior", "infer", {"mode": "turbo"}, r"expected mode in \['fast', 'medium', 'slow'\], got 'turbo'"),
    ("behavior", "infer", {"min_bout": -2, "feature_extractor": "a.pt", "sequence": "b.pt"}, "expected min_bout"),
    ("behavior", "infer", {"batch_size": 0}, "expected batch_size to be an integer >= 1"),
    ("pose", "infer", {"model": "x", "views": "front"}, "expected views to be a list of names"),
    ("feature_extractor", "infer", {"device": "tpu"}, "expected device 'auto', 'cpu' or 'cuda"),
]


@pytest.mark.parametrize("ns, method, kwargs, message", BAD, ids=[f"{b[0]}.{b[1]}-{next(iter(b[2]))}" for b in BAD])
@pytest.mark.parametrize("on", ["df", "row"])
def test_bad_parameters_fail_at_the_call_before_any_row(trials, ns, method, kwargs, message, on):
    target = trials if on == "df" else trials.iloc[0]
    before = store.read_meta(trials.paths.table_path)["revision"]
    with pytest.raises(ValueError, match=message):
        getattr(getattr(target, ns), method)(**kwargs)
    assert store.read_meta(trials.paths.table_path)["revision"] == before  # no status written, nothing ran
    assert (bs.load_df(trials.paths.table_path)[["behavior_status", "pose_status", "sta_status"]] == "").all().all()


def test_none_means_no_smoothing_and_numpy_numbers_are_numbers():
    p = TrackingParams(smooth=None, fps=np.float32(60), px_per_cm=np.int64(10), max_gap=np.int32(3))
    assert p.smooth == "none" and p.fps == 60.0 and p.px_per_cm == 10.0 and p.max_gap == 3
    assert type(p.max_gap) is int
    with pytest.raises(ValueError, match="expected fps > 0"):
        TrackingParams(fps=True)
    assert TrackingParams.from_mapping(p.to_dict()) == p
    with pytest.raises(TypeError, match=r"got unknown \['smoothing'\]"):
        TrackingParams.from_mapping({"smoothing": "none"})


# ------------------------------------------------------------ registrations from outside


def _lab_sniff(path):
    with h5py.File(path, "r") as f:
        return "lab_tracks" in f


def test_a_new_h5_pose_format_is_detected_and_loaded_through_the_accessor(trials, tmp_path):
    n = 60  # the sample trials' frames
    path = tmp_path / "mouse.h5"
    with h5py.File(path, "w") as f:
        f["lab_tracks"] = np.stack([np.linspace(10, 50, n), np.full(n, 20.0)], axis=1)[:, None, :].repeat(2, axis=1)
        f["lab_tracks"].attrs["parts"] = ["leftear", "rightear"]

    @register_pose_loader("lab_h5", (".h5",), sniff=_lab_sniff)
    def load_lab(p, individual):
        with h5py.File(p, "r") as f:
            xy = f["lab_tracks"][()] + np.array([[0.0, 0.0], [0.0, 4.0]])
            parts = tuple(str(x) for x in f["lab_tracks"].attrs["parts"])
        return PoseData(xy, np.ones(xy.shape[:2]), parts, scorer="lab", source="lab_h5")

    try:
        assert detect_format(path) == "lab_h5"
        assert detect_format(trials.paths.raw_root / "m1" / "2024-01-05" / "pose" / _dlc_name(trials)) == "dlc_h5"
        row = trials.iloc[0]
        r = row.pose.load(path, name="lab")
        assert r["status"] == "done", r["error"]
        assert row.pose.result("lab").scorer == "lab"
        assert row.outputs.provenance("pose/lab/front")["params"]["format"] == "lab_h5"
        r = row.pose.track(source="lab", fps=30.0)
        assert r["status"] == "done", r["error"]
        assert np.isfinite(row.pose.tracking()["x"]).all()
    finally:
        POSE_LOADERS.pop("lab_h5")


def _dlc_name(df):
    folder = df.paths.raw_root / "m1" / "2024-01-05" / "pose"
    return next(p.name for p in folder.iterdir() if p.name.startswith("front_v001") and p.suffix == ".h5")


def test_a_new_table_level_task_runs_through_the_accessor(trials):
    @register_task("count_front_videos")
    def count_front_videos(table_path: str) -> dict:
        df = bs.load_df(table_path)
        df.at[0, "notes"] = "counted"
        df.behavior.save()
        return {"n": int((df["front_video"] != "").sum())}

    try:
        for backend in ("local", "subprocess"):
            rec = trials.behavior.run_task(
                "count_front_videos", {"table_path": str(trials.paths.table_path)}, backend=backend
            )
            if backend == "subprocess":  # the worker cannot import a function defined in a test
                assert rec["status"] == "failed" and "count_front_videos" in rec["error"]
            else:
                assert rec["status"] == "done" and rec["summary"] == {"n": 3}
                assert trials.loc[0, "notes"] == "counted"  # the DataFrame sees what the task saved
    finally:
        TASKS.pop("count_front_videos")
    with pytest.raises(bs.BehaviorSoupError, match="expected a registered task name"):
        trials.behavior.run_task("nope")

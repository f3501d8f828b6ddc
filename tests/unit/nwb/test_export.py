"""NWB export: every kind of result read back with pynwb equals what outputs.h5 holds, the files
pass nwbinspector, incomplete trials say what they lack, bad input writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pynwb = pytest.importorskip("pynwb")
pytest.importorskip("ndx_pose")
pytest.importorskip("ndx_ethogram")

from behavior_soup.errors import DataFormatError  # noqa: E402
from behavior_soup.nwb import export_trials, inspect_nwb, trial_item  # noqa: E402
from behavior_soup.provenance import Provenance  # noqa: E402
from behavior_soup.sample_data import DLC_SCORER  # noqa: E402
from behavior_soup.sta.loaders import load_spikes  # noqa: E402

SUBJECT = {"species": "Mus musculus", "sex": "F", "age": "P90D"}
META = {"subject": SUBJECT, "spike_resolution": 1 / 30000, "session": {"session_start_time": "2024-01-05T09:00:00"}}


def _prov(job: str, **params) -> Provenance:
    return Provenance(job, params).finish()


@pytest.fixture
def full(table, sample):
    """m1's three trials with every kind of result, and the ephys recording with STAs."""
    table.behavior.add_item("m1", exp_type="openfield")
    df = table
    df.behavior.load_labels(progress=False)
    rng = np.random.default_rng(1)
    for _, row in df.iterrows():
        raw = Path(df.behavior.info.raw_root) / row["animal_id"] / row["session_id"]
        row.pose.load(raw / "pose" / f"front_v{int(row['trial_id']):03d}{DLC_SCORER}.h5", name="dlc")
        ctx = row.behavior.context()
        lab = ctx.read("behavior/labels")
        array = np.asarray(lab["array"]).copy()
        behaviors = [str(b) for b in lab["behaviors"]]
        n = len(array)
        pred = np.roll(array, 3, axis=0)
        cleaned = pred.copy()
        cleaned[:10] = array[:10]
        array[20:25] = -1  # unlabelled frames
        row.behavior.set_labels(array, behaviors)
        probs = rng.random(pred.shape).astype(np.float32)
        syll = rng.integers(0, 5, n).repeat(1)[:n].astype(np.int32)
        ctx.write_many(
            {
                "fast/ethogram": ({"array": pred, "behaviors": behaviors}, _prov("ethogram_infer", threshold=0.5)),
                "fast/cleaned": ({"array": cleaned, "behaviors": behaviors}, _prov("clean", source="fast/ethogram")),
                "fast/sequence": ({"probabilities": probs, "behaviors": behaviors}, _prov("ethogram_infer")),
                "moseq/m1fit": (
                    {
                        "syllable": syll,
                        "centroid": rng.random((n, 2)).astype(np.float32) * 60,
                        "heading": rng.uniform(-np.pi, np.pi, n).astype(np.float32),
                        "latent_state": rng.normal(size=(n, 3)).astype(np.float32),
                    },
                    _prov("moseq_infer", model="m1fit", fps=30.0, pose_model="dlc", view="front"),
                ),
            }
        )
    df.pose.track(source="dlc", px_per_cm=10.0, progress=False)
    df.behavior.run_job("video_stats", progress=False)
    e = sample.ephys
    df.sta.add_recording(
        e["animal_id"], e["session_id"], e["trial_id"], stimulus=e["stimulus"], spikes=e["spikes"], fps=e["fps"],
        stimulus_onset=e["stimulus_onset"],
    )  # fmt: skip
    df.sta.compute(n_delays=e["n_delays"], n_shuffles=5, progress=False)
    return df.behavior.reload()


def _read(path):
    io = pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True)
    return io, io.read()


def _from_bouts(bouts, columns, n, fps, offset=0.0):
    """The (T, C) 0/1 array a bouts table describes."""
    out = np.zeros((n, len(columns)), dtype=np.int8)
    df = bouts.to_dataframe()
    for _, b in df.iterrows():
        a, z = round((b.start_time - offset) * fps), round((b.stop_time - offset) * fps)
        out[a:z, columns.index(b.label)] = 1
    return out


def test_trial_round_trip_equals_outputs(full, tmp_path):
    row = full[(full.animal_id == "m1") & (full.trial_id == 2)].iloc[0]
    res = row.behavior.to_nwb(tmp_path / "t2.nwb", **META)
    ctx = row.behavior.context()
    assert res.missing == []
    assert "fast/features" not in ctx.keys() or "fast/features" in res.trials[0].skipped
    assert set(res.trials[0].exported) == set(ctx.keys())
    io, nwb = _read(res.path)
    with io:
        beh = nwb.processing["behavior"]
        fps = beh["ethogram_fast_frames"].rate
        assert fps == pytest.approx(30.0)
        # video linked relative to the file, and pointing at the trial's video
        video = nwb.acquisition["video_front"]
        ext = video.external_file[0]
        assert not Path(ext).is_absolute()
        assert (res.path.parent / ext).resolve() == ctx.video_path("front").resolve()
        # pose
        pose = row.pose.result("dlc")
        pe = beh["pose_dlc_front"]
        assert pe.source_video is video
        assert list(pe.skeleton.nodes[:]) == list(pose.bodyparts)
        for k, b in enumerate(pose.bodyparts):
            s = pe.pose_estimation_series[b]
            np.testing.assert_allclose(s.data[:], pose.positions[:, k], equal_nan=True)
            conf = s.confidence[:]
            np.testing.assert_allclose(np.where(conf == -1, np.nan, conf), pose.likelihood[:, k], equal_nan=True)
        # tracking
        st = row.pose.tracking("head_from_ears")
        xy = beh["position_head_from_ears"].spatial_series["xy"]
        assert xy.unit == "centimeters"
        np.testing.assert_allclose(xy.data[:], st[["x", "y"]].to_numpy(), equal_nan=True)
        hd = beh["head_direction_head_from_ears"].spatial_series["head_angle"]
        np.testing.assert_allclose(hd.data[:], st["head_angle"].to_numpy(), equal_nan=True)
        kin = beh["kinematics_head_from_ears"]
        for col in ("speed", "acceleration", "angular_velocity"):
            np.testing.assert_allclose(kin.time_series[col].data[:], st[col].to_numpy(), equal_nan=True)
        np.testing.assert_array_equal(kin.time_series["valid"].data[:].astype(bool), st["valid"].to_numpy())
        # ethograms: frames equal the stored arrays, and the bouts alone give them back
        for name, key in (("ethogram_fast", "fast/ethogram"), ("ethogram_fast_cleaned", "fast/cleaned")):
            stored = ctx.read(key)
            cols = [str(b) for b in stored["behaviors"]]
            frames = beh[f"{name}_frames"]
            assert json.loads(frames.comments) == cols
            np.testing.assert_array_equal(frames.data[:], stored["array"])
            bouts = beh[name]
            assert bouts.labeling_method == ("curated" if "cleaned" in name else "automated")
            assert list(bouts.ethogram.to_dataframe()["behavior"]) == cols
            np.testing.assert_array_equal(_from_bouts(bouts, cols, len(stored["array"]), fps), stored["array"])
        np.testing.assert_array_equal(
            beh["ethogram_fast_probabilities"].data[:], ctx.read("fast/sequence")["probabilities"]
        )
        # labels: -1 kept frame by frame; bouts only where labelled, with the observed spans
        lab = row.behavior.labels()
        np.testing.assert_array_equal(beh["ethogram_labels_frames"].data[:], lab.array)
        obs = beh["ethogram_labels"].observation_intervals.to_dataframe()
        assert [(round(a * fps), round(b * fps)) for a, b in zip(obs.start_time, obs.stop_time)] == [(0, 20), (25, 60)]
        assert beh["ethogram_labels"].labeling_method == "manual"
        expect = np.where(lab.array < 0, 0, lab.array)
        np.testing.assert_array_equal(_from_bouts(beh["ethogram_labels"], list(lab.behaviors), 60, fps), expect)
        # syllables
        syl = row.moseq.result("m1fit")
        np.testing.assert_array_equal(beh["syllables_m1fit_index"].data[:], syl["syllable"])
        bouts = beh["syllables_m1fit"]
        assert bouts.source_pose is pe and bouts.ethogram.exclusive
        events = bouts.to_dataframe()
        rebuilt = np.full(len(syl), -1)
        for _, b in events.iterrows():
            rebuilt[round(b.start_time * fps) : round(b.stop_time * fps)] = int(b.label)
        np.testing.assert_array_equal(rebuilt, syl["syllable"])
        np.testing.assert_allclose(
            beh["centroid_m1fit"].spatial_series["xy"].data[:], syl[["centroid_x", "centroid_y"]], rtol=1e-6
        )
        np.testing.assert_allclose(beh["heading_m1fit"].spatial_series["heading"].data[:], syl["heading"], rtol=1e-6)
        assert beh["latent_state_m1fit"].data.shape == (60, 3)
        # video statistics
        stats = ctx.read("behavior/video_stats")
        vs = beh["video_stats"].time_series
        for view in ("front", "side"):
            for what in ("mean", "motion"):
                np.testing.assert_array_equal(vs[f"{view}_{what}"].data[:], stats[view][what])
        # metadata and provenance
        assert nwb.subject.subject_id == "m1" and nwb.subject.species == "Mus musculus" and nwb.subject.age == "P90D"
        trials = nwb.trials.to_dataframe()
        assert list(trials.trial_id) == [2] and trials.uuid.iloc[0] == row["uuid"]
        assert trials.stop_time.iloc[0] == pytest.approx(60 / 30.0)
        runs = nwb.processing["misc"]["behavior_soup_results"].to_dataframe()
        assert set(runs.result) == set(res.trials[0].exported)
        params = nwb.processing["misc"]["behavior_soup_parameters"].to_dataframe()
        track = params[(params.result == "tracking/head_from_ears") & (params.kind == "params")]
        assert json.loads(track.set_index("parameter").loc["px_per_cm", "value"]) == 10.0


def test_files_pass_nwbinspector(full, tmp_path):
    pytest.importorskip("nwbinspector")
    out = full.behavior.to_nwb(tmp_path / "nwb", per="session", progress=False, **META)
    assert len(out) == 2 and set(out.trials) == {3, 1}
    for path in out.path:
        found = inspect_nwb(path, "BEST_PRACTICE_VIOLATION")
        assert found == [], [(m.check_function_name, m.object_name, m.message) for m in found]


def test_session_file_places_trials_end_to_end(full, tmp_path):
    rows = full[full.animal_id == "m1"]
    out = rows.behavior.to_nwb(tmp_path / "nwb", per="session", progress=False, **META)
    path = Path(out.path.iloc[0])
    assert path.name == "sub-m1_ses-2024-01-05.nwb" and path.parent.name == "sub-m1"
    io, nwb = _read(path)
    with io:
        trials = nwb.trials.to_dataframe()
        assert list(trials.trial_id) == [1, 2, 3]
        np.testing.assert_allclose(trials.start_time, [0.0, 2.0, 4.0])
        beh = nwb.processing["behavior"]
        for tid, start in zip((1, 2, 3), (0.0, 2.0, 4.0)):
            frames = beh[f"ethogram_fast_frames_trial_{tid}"]
            assert frames.starting_time == pytest.approx(start)
            bouts = beh[f"ethogram_fast_trial_{tid}"].to_dataframe()
            assert bouts.start_time.min() >= start - 1e-9 and bouts.stop_time.max() <= start + 2.0 + 1e-9
            assert f"pose_dlc_front_trial_{tid}" in beh.data_interfaces
        assert len([k for k in beh.data_interfaces if k.startswith("behaviors")]) == 1  # one shared catalogue


def test_recording_units_and_receptive_fields(full, tmp_path):
    row = full[full.exp_type == "ephys"].iloc[0]
    res = row.behavior.to_nwb(tmp_path / "rec.nwb", **META)
    assert res.missing == []
    spikes = load_spikes(row.behavior.context().file_path("spikes"))
    io, nwb = _read(res.path)
    with io:
        units = nwb.units.to_dataframe()
        assert sorted(units.unit_name) == sorted(str(u) for u in spikes)
        for _, u in units.iterrows():
            np.testing.assert_allclose(u.spike_times, np.sort(spikes[u.unit_name]))
        rf = nwb.processing["ecephys"]["receptive_fields"].to_dataframe()
        summary = row.sta.summary().set_index("unit")
        for _, r in rf.iterrows():
            np.testing.assert_array_equal(np.asarray(r["sta_centered"]), row.sta.result(r.unit, "centered"))
            np.testing.assert_array_equal(np.asarray(r["zscore"]), row.sta.result(r.unit, "zscore"))
            assert r.n_spikes == summary.loc[r.unit, "n_spikes"]
            assert r.snr == pytest.approx(summary.loc[r.unit, "snr"])
            assert units.iloc[r.units.index[0]].unit_name == r.unit


def test_incomplete_trial_writes_what_exists_and_says_what_is_missing(table, tmp_path):
    table.behavior.add_item("m1", exp_type="openfield")
    df = table
    row = df.iloc[0]
    res = row.behavior.to_nwb(tmp_path / "bare.nwb", subject=SUBJECT)
    said = " ".join(res.missing)
    for what in ("keypoints", "tracking", "ethogram", "syllables"):
        assert what in said
    assert "spike" not in said  # not a recording
    io, nwb = _read(res.path)
    with io:
        assert set(nwb.acquisition) == {"video_front", "video_side"}
        assert nwb.trials.to_dataframe().stop_time.iloc[0] == pytest.approx(2.0)
    assert inspect_nwb(res.path, "BEST_PRACTICE_VIOLATION") == []


def test_missing_subject_metadata_is_reported(table, tmp_path):
    table.behavior.add_item("m1", exp_type="openfield")
    df = table
    res = df.iloc[0].behavior.to_nwb(tmp_path / "a.nwb")
    said = " ".join(res.missing_metadata)
    assert "species" in said and "sex" in said and "age" in said and "session_start_time" in said
    # the table's own columns fill the subject, and the columns a lab added go to the trials table
    df["species"], df["sex"], df["age"] = "Mus musculus", "m", "P12W"
    df["weight_g"] = [20.5, np.nan, 21.0]
    df["cage"] = ["A1", None, "A2"]
    df["surgery_time"] = pd.Timestamp("2024-01-01T08:00:00Z")
    df["session_start_time"] = pd.Timestamp("2024-01-05T09:30:00Z")
    df["start_time"] = 1.5  # a name NWB's trials table has already
    out = df.behavior.to_nwb(tmp_path / "nwb", per="session", progress=False)
    assert "subject" not in out.missing.iloc[0] and "session_start_time" not in out.missing.iloc[0]
    io, nwb = _read(out.path.iloc[0])
    with io:
        assert (nwb.subject.species, nwb.subject.sex, nwb.subject.age) == ("Mus musculus", "M", "P12W")
        assert nwb.session_start_time == pd.Timestamp("2024-01-05T09:30:00Z")
        trials = nwb.trials.to_dataframe()
        np.testing.assert_array_equal(trials.weight_g, [20.5, np.nan, 21.0])
        assert list(trials.cage) == ["A1", "", "A2"]
        assert set(trials.surgery_time_iso) == {"2024-01-01T08:00:00+00:00"}
        assert list(trials.table_start_time) == [1.5] * 3 and trials.start_time.iloc[0] == 0.0
    assert inspect_nwb(out.path.iloc[0], "BEST_PRACTICE_VIOLATION") == []


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"subject": {"sex": "X"}}, "sex one of"),
        ({"subject": {"age": "90 days"}}, "ISO 8601 duration"),
        ({"subject": {"colour": "brown"}}, r"unknown \['colour'\]"),
        ({"session": {"session_start_time": "yesterday"}}, "ISO 8601"),
        ({"fps": 0}, "fps"),
    ],
)
def test_bad_metadata_writes_nothing(table, tmp_path, kw, message):
    table.behavior.add_item("m1", exp_type="openfield")
    df = table
    with pytest.raises((ValueError, TypeError), match=message):
        df.iloc[0].behavior.to_nwb(tmp_path / "x.nwb", **kw)
    assert not list(tmp_path.glob("*.nwb*"))


def test_bad_path_and_mixed_sessions(full, tmp_path):
    info = full.behavior.info
    with pytest.raises(ValueError, match=r"ending in '\.nwb'"):
        full.iloc[0].behavior.to_nwb(tmp_path / "x.h5")
    items = [trial_item(r, info) for _, r in full.iterrows()]
    with pytest.raises(ValueError, match="one animal's session"):
        export_trials(items, tmp_path / "mixed.nwb")
    with pytest.raises(ValueError, match="per="):
        full.behavior.to_nwb(tmp_path, per="animal")
    assert not list(tmp_path.rglob("*.nwb"))


def test_no_frame_rate_is_an_error_unless_given(full, tmp_path):
    row = full[(full.animal_id == "m1") & (full.trial_id == 1)].iloc[0]
    for view in ("front", "side"):
        row.behavior.context().video_path(view).unlink()
    with pytest.raises(DataFormatError, match="pass fps="):
        row.behavior.to_nwb(tmp_path / "t1.nwb", **META)
    assert not (tmp_path / "t1.nwb").exists()
    res = row.behavior.to_nwb(tmp_path / "t1.nwb", fps=30.0, **META)
    assert any("front video is not linked" in m for m in res.missing)
    io, nwb = _read(res.path)
    with io:
        assert "video_front" not in nwb.acquisition
        assert nwb.processing["behavior"]["ethogram_fast_frames"].rate == 30.0


def test_failed_write_keeps_the_previous_file(full, tmp_path, monkeypatch):
    row = full[full.exp_type == "ephys"].iloc[0]
    path = tmp_path / "out" / "rec.nwb"
    row.behavior.to_nwb(path, **META)
    before = path.read_bytes()

    def boom(self, *a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pynwb.NWBHDF5IO, "write", boom)
    with pytest.raises(OSError, match="No space"):
        row.behavior.to_nwb(path, **META)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["rec.nwb"]

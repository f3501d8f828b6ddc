"""STA on the sample data's linear-nonlinear-Poisson neurons recovers their kernels."""

import numpy as np
import pytest

import behavior_soup as bs
from behavior_soup.errors import DataFormatError
from behavior_soup.sample_data import make_sample_data


@pytest.fixture(scope="module")
def lnp(tmp_path_factory):
    root = tmp_path_factory.mktemp("lnp") / "raw"
    return make_sample_data(root, n_animals=1, n_trials=1, n_frames=30, ephys_frames=80000)


def test_recovers_kernel_and_centre(lnp, tmp_path):
    df = bs.create_df(tmp_path / "t.h5", raw_root=lnp.root)
    e = lnp.ephys
    df.sta.add_recording(
        "r1",
        "s1",
        1,
        stimulus=e["stimulus"],
        spikes=e["spikes"],
        fps=e["fps"],
        stimulus_onset=e["stimulus_onset"],
        pixel_size=50.0,
    )
    row = df.iloc[0]
    out = row.sta.compute(n_delays=e["n_delays"], n_shuffles=10)
    assert out["status"] == "done", out["error"]
    kernels = np.load(lnp.root / "r1" / "s1" / "truth" / "kernels.npz")
    summary = df.sta.summary().set_index("unit")
    assert sorted(summary.index) == ["unit_0", "unit_1"]
    for unit in ("unit_0", "unit_1"):
        est = row.sta.result(unit, "centered")
        assert est.shape == (e["n_delays"], 16, 16) and est.dtype == np.float32
        r = np.corrcoef(est.ravel(), kernels[unit].ravel())[0, 1]
        assert r >= 0.9, (unit, r)
        cx, cy = e["centers"][unit]
        assert abs(summary.loc[unit, "rf_x"] - cx) <= 1 and abs(summary.loc[unit, "rf_y"] - cy) <= 1
        assert summary.loc[unit, "peak_delay"] == 3
        assert summary.loc[unit, "snr"] > 10
    assert row.sta.result("0").shape == (e["n_delays"], 16, 16)  # "unit_0" by number
    assert row.sta.result(1, "zscore").shape == (e["n_delays"], 16, 16)
    assert row.sta.result("unit_1", "temporal_profile").shape == (e["n_delays"],)
    prov = row.outputs.provenance("sta/unit_0")
    assert prov["params"]["n_delays"] == e["n_delays"] and prov["params"]["recording"]["fps"] == e["fps"]
    fig = row.sta.plot("unit_0")
    assert len(fig.axes) == e["n_delays"] + 1


def test_subset_and_bad_units(lnp, tmp_path):
    df = bs.create_df(tmp_path / "t.h5", raw_root=lnp.root)
    e = lnp.ephys
    df.sta.add_recording(
        "r1", "s1", 1, stimulus=e["stimulus"], spikes=e["spikes"], fps=e["fps"], stimulus_onset=e["stimulus_onset"]
    )
    row = df.iloc[0]
    out = row.sta.compute(n_delays=5, units=["unit_7"], n_shuffles=0)
    assert out["status"] == "failed" and "unknown ['unit_7']" in out["error"]
    assert row.outputs.keys() == []  # nothing half-written
    assert row.sta.compute(n_delays=5, units=[1], n_shuffles=0)["status"] == "done"
    assert row.outputs.keys() == ["sta/unit_1"]
    with pytest.raises(bs.ItemNotFoundError, match=r"found units \['unit_1'\]"):
        row.sta.result("unit_0")


def test_add_recording_refuses_bad_input(lnp, tmp_path):
    df = bs.create_df(tmp_path / "t.h5", raw_root=lnp.root)
    e = lnp.ephys
    base = {"stimulus": e["stimulus"], "spikes": e["spikes"], "fps": e["fps"]}
    with pytest.raises(ValueError, match="fps > 0"):
        df.sta.add_recording("r1", "s1", 1, **{**base, "fps": 0})
    with pytest.raises(DataFormatError, match="found every spike outside it"):
        df.sta.add_recording("r1", "s1", 1, **base, stimulus_onset=1e6)
    with pytest.raises(DataFormatError, match="extensions"):
        df.sta.add_recording("r1", "s1", 1, **{**base, "spikes": "r1/s1/stim/movie.json"})
    assert len(df) == 0

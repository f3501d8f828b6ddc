"""``add_recording`` checks its arguments and both files before the trial enters the table."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import behavior_soup as bs
from behavior_soup.errors import DataFormatError


def _add(table, sample, **kw):
    e = sample.ephys
    args = {"stimulus": e["stimulus"], "spikes": e["spikes"], "fps": e["fps"], "stimulus_onset": e["stimulus_onset"]}
    return table.sta.add_recording("r9", "s1", 1, **{**args, **kw})


def _rows(table):
    return len(bs.load_df(bs.store.table_info(table).table_path))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"fps": True}, "expected fps > 0"),
        ({"fps": 0}, "expected fps > 0"),
        ({"fps": float("inf")}, "expected fps > 0"),
        ({"fps": "60"}, "expected fps > 0"),
        ({"stimulus_onset": "0.5"}, "expected stimulus_onset .*a finite number.*got '0.5'"),
        ({"stimulus_onset": float("nan")}, "stimulus_onset"),
        ({"pixel_size": -2.0}, "expected pixel_size > 0"),
    ],
)
def test_bad_arguments_are_refused(table, sample, kw, message):
    with pytest.raises(ValueError, match=message):
        _add(table, sample, **kw)
    assert _rows(table) == 0


def test_numpy_numbers_are_numbers(table, sample):
    row = _add(table, sample, fps=np.float32(sample.ephys["fps"]), stimulus_onset=np.float64(0.0))
    assert row.iloc[0]["model_params"]["sta"]["fps"] == pytest.approx(sample.ephys["fps"])


def test_a_stimulus_with_inf_or_nan(table, sample, raw_copy):
    movie = np.load(raw_copy / sample.ephys["stimulus"]).astype(np.float32)
    for value in (np.inf, np.nan):
        bad = movie.copy()
        bad[3, 2, 1] = value
        np.save(raw_copy / "r1" / "s1" / "stim" / "bad.npy", bad)
        with pytest.raises(DataFormatError, match=r"expected .*stimulus.*bad.npy.*frame 3"):
            _add(table, sample, stimulus="r1/s1/stim/bad.npy")
    assert _rows(table) == 0


def test_spikes_outside_the_movie(table, sample, raw_copy):
    late = raw_copy / "r1" / "s1" / "spikes" / "late.h5"
    with h5py.File(late, "w") as f:
        f["u0"] = np.array([1e6, 1e6 + 1.0])
        f["u1"] = np.array([2e6])
    with pytest.raises(DataFormatError, match=r"late.h5.*during the stimulus .* found every spike outside it"):
        _add(table, sample, spikes="r1/s1/spikes/late.h5")
    assert _rows(table) == 0
    with h5py.File(late, "a") as f:
        f["u2"] = np.array([sample.ephys["stimulus_onset"] + 1.0, sample.ephys["stimulus_onset"] + 2.0])
    assert len(_add(table, sample, spikes="r1/s1/spikes/late.h5")) == 1  # one unit in the movie is enough


def test_units_must_be_a_list(table, sample):
    _add(table, sample)
    row = table[table["exp_type"] == "ephys"].iloc[0]
    with pytest.raises(ValueError, match=r"expected units to be a list of names, got 'unit_0' \(write \['unit_0'\]"):
        row.sta.compute(units="unit_0")

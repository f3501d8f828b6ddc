import pickle

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io

from behavior_soup.errors import DataFormatError
from behavior_soup.sta import load_spikes, load_stimulus

STIM = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
UNITS = {"unit_0": np.array([0.1, 0.5]), "unit_1": np.array([0.2])}


def _check_units(got):
    assert sorted(got) == sorted(UNITS)
    for k, v in UNITS.items():
        np.testing.assert_array_equal(got[k], v)


def test_stimulus_formats(tmp_path):
    np.save(tmp_path / "s.npy", STIM)
    np.savez(tmp_path / "s.npz", movie=STIM, other=np.zeros(3))
    with h5py.File(tmp_path / "s.h5", "w") as f:
        f["stimulus"] = STIM
    scipy.io.savemat(tmp_path / "s.mat", {"stim": STIM})
    with open(tmp_path / "s.pkl", "wb") as fh:
        pickle.dump({"stimulus": STIM, "fps": 60}, fh)
    for name in ["s.npy", "s.npz", "s.h5", "s.mat"]:
        np.testing.assert_array_equal(load_stimulus(tmp_path / name), STIM, err_msg=name)
    np.testing.assert_array_equal(load_stimulus(tmp_path / "s.pkl", allow_pickle=True), STIM)
    with pytest.raises(DataFormatError, match="allow_pickle=True"):
        load_stimulus(tmp_path / "s.pkl")
    np.testing.assert_array_equal(load_stimulus(tmp_path / "s.npz", key="movie"), STIM)
    with pytest.raises(DataFormatError, match="named 'nope'"):
        load_stimulus(tmp_path / "s.npz", key="nope")


def test_stimulus_validation(tmp_path):
    np.save(tmp_path / "flicker.npy", np.arange(10.0))
    assert load_stimulus(tmp_path / "flicker.npy").shape == (10, 1, 1)
    np.save(tmp_path / "rank2.npy", np.zeros((10, 3)))
    with pytest.raises(DataFormatError, match=r"shape \(T, H, W\) or \(T,\).*rank 2"):
        load_stimulus(tmp_path / "rank2.npy")
    bad = STIM.copy()
    bad[1, 2, 3] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(DataFormatError, match="NaN in frame 1"):
        load_stimulus(tmp_path / "nan.npy")
    (tmp_path / "s.tif").write_bytes(b"x")
    with pytest.raises(DataFormatError, match=r"one of the extensions \["):
        load_stimulus(tmp_path / "s.tif")
    with pytest.raises(FileNotFoundError):
        load_stimulus(tmp_path / "missing.npy")


def test_spike_formats(tmp_path):
    np.savez(tmp_path / "u.npz", **UNITS)
    with h5py.File(tmp_path / "u.h5", "w") as f:
        g = f.create_group("spikes")
        for k, v in UNITS.items():
            g[k] = v
    scipy.io.savemat(tmp_path / "u.mat", UNITS)
    pd.DataFrame({"unit": ["unit_0", "unit_0", "unit_1"], "time": [0.1, 0.5, 0.2]}).to_csv(
        tmp_path / "u.csv", index=False
    )
    with open(tmp_path / "u.pkl", "wb") as fh:
        pickle.dump({"spike_times": UNITS}, fh)
    for name in ["u.npz", "u.h5", "u.mat", "u.csv"]:
        _check_units(load_spikes(tmp_path / name))
    _check_units(load_spikes(tmp_path / "u.pkl", allow_pickle=True))
    np.save(tmp_path / "one.npy", UNITS["unit_0"])
    assert list(load_spikes(tmp_path / "one.npy")) == ["unit_0"]
    cell = np.empty(2, dtype=object)
    cell[0], cell[1] = UNITS["unit_0"], UNITS["unit_1"]
    scipy.io.savemat(tmp_path / "cell.mat", {"spikes": cell})
    _check_units(load_spikes(tmp_path / "cell.mat"))


def test_spike_errors(tmp_path):
    pd.DataFrame({"cluster": [1], "when": [0.1]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataFormatError, match="columns unit and time"):
        load_spikes(tmp_path / "bad.csv")
    np.savez(tmp_path / "nan.npz", u=np.array([0.1, np.nan]))
    with pytest.raises(DataFormatError, match="without NaN"):
        load_spikes(tmp_path / "nan.npz")
    (tmp_path / "x.bin").write_bytes(b"")
    with pytest.raises(DataFormatError, match="extensions"):
        load_spikes(tmp_path / "x.bin")

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


def _cells(*vectors, column=False):
    """A MATLAB cell array as scipy.io.savemat writes it: 1xN (or Nx1) object array."""
    cell = np.empty((len(vectors), 1) if column else (1, len(vectors)), dtype=object)
    for i, v in enumerate(vectors):
        cell.flat[i] = v
    return cell


@pytest.mark.parametrize("column", [False, True], ids=["1xN", "Nx1"])
def test_mat_cell_array_under_any_name(tmp_path, column):
    """Tutorial data ships spike times as ``SpTimes``, a cell of column vectors, one per unit."""
    times = [np.array([[0.1], [0.5], [2.25]]), np.zeros((0, 0)), np.array([[1.5]]), np.array([[0.3, 0.4]])]
    scipy.io.savemat(tmp_path / "sp.mat", {"SpTimes": _cells(*times, column=column), "fs": 30000.0})
    got = load_spikes(tmp_path / "sp.mat")
    assert list(got) == ["unit_0", "unit_1", "unit_2", "unit_3"]
    np.testing.assert_array_equal(got["unit_0"], [0.1, 0.5, 2.25])
    assert got["unit_1"].shape == (0,) and got["unit_1"].dtype == np.float64
    np.testing.assert_array_equal(got["unit_2"], [1.5])
    np.testing.assert_array_equal(got["unit_3"], [0.3, 0.4])


def test_mat_cell_array_errors(tmp_path):
    two = {"SpTimesA": _cells(np.array([[0.1]])), "SpTimesB": _cells(np.array([[0.2]]))}
    scipy.io.savemat(tmp_path / "two.mat", two)
    with pytest.raises(DataFormatError, match=r"two\.mat'.*cell arrays \['SpTimesA', 'SpTimesB'\]; save the one"):
        load_spikes(tmp_path / "two.mat")
    scipy.io.savemat(tmp_path / "text.mat", {"SpTimes": _cells(np.array([[0.1]]), "unit two")})
    with pytest.raises(
        DataFormatError, match=r"numeric spike times in cell 1 of the variable 'SpTimes' .* text 'unit two'"
    ):
        load_spikes(tmp_path / "text.mat")
    grid = np.empty((2, 2), dtype=object)  # units x trials: not one vector per unit
    for i in range(4):
        grid.flat[i] = np.ones((2, 1))
    scipy.io.savemat(tmp_path / "grid.mat", {"SpTimes": grid})
    with pytest.raises(DataFormatError, match=r"1xN or Nx1 cell array .* 'SpTimes' .* shape \(2, 2\)"):
        load_spikes(tmp_path / "grid.mat")
    scipy.io.savemat(tmp_path / "matrix.mat", {"SpTimes": _cells(np.ones((3, 2)))})
    with pytest.raises(DataFormatError, match=r"vector of spike times in cell 0 .* shape \(3, 2\)"):
        load_spikes(tmp_path / "matrix.mat")
    # a cell array named 'spikes' is the one taken when there are several
    scipy.io.savemat(tmp_path / "named.mat", {**two, "spikes": _cells(np.array([[0.7, 0.9]]))})
    np.testing.assert_array_equal(load_spikes(tmp_path / "named.mat")["unit_0"], [0.7, 0.9])


def test_mat_v73_cell_array(tmp_path):
    """A MATLAB v7.3 (HDF5) file: a cell is a dataset of references into ``#refs#``."""
    path = tmp_path / "v73.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        refs = f.create_group("#refs#")
        cells = []
        for i, t in enumerate([np.array([[0.1, 0.5]]), None, np.array([[2.5]])]):
            d = refs.create_dataset(f"c{i}", data=np.array([0, 0], np.uint64) if t is None else t)
            d.attrs["MATLAB_class"] = np.bytes_("double")
            if t is None:
                d.attrs["MATLAB_empty"] = np.uint8(1)
            cells.append(d.ref)
        f.create_dataset("SpTimes", data=np.array(cells, dtype=h5py.ref_dtype).reshape(3, 1))
        f["SpTimes"].attrs["MATLAB_class"] = np.bytes_("cell")
    header = b"MATLAB 7.3 MAT-file, HDF5 schema 1.00 .".ljust(116) + b" " * 8 + np.array([0x0200], "<u2").tobytes()
    with open(path, "r+b") as fh:
        fh.write(header + b"IM")
    got = load_spikes(path)
    assert list(got) == ["unit_0", "unit_1", "unit_2"]
    np.testing.assert_array_equal(got["unit_0"], [0.1, 0.5])
    assert got["unit_1"].size == 0
    np.testing.assert_array_equal(got["unit_2"], [2.5])

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from behavior_soup.errors import DataFormatError
from behavior_soup.pose import POSE_LOADERS, PoseData, detect_format, export_nwb, load_pose
from behavior_soup.sample_data import write_dlc_pose

DATA = Path(__file__).parents[2] / "data"


def _random_pose(n=50, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 100, (n, k, 2)), rng.uniform(0, 1, (n, k))


def test_dlc_h5_and_csv_round_trip(tmp_path):
    kp, like = _random_pose()
    write_dlc_pose(tmp_path / "v1DLC_x.h5", kp, like, bodyparts=("a", "b", "c"), scorer="DLC_x")
    for name in ("v1DLC_x.h5", "v1DLC_x.csv"):
        p = load_pose(tmp_path / name)
        assert p.bodyparts == ("a", "b", "c") and p.scorer == "DLC_x" and p.individual is None
        np.testing.assert_allclose(p.positions, kp, rtol=1e-12)
        np.testing.assert_allclose(p.likelihood, like, rtol=1e-12)
    assert detect_format(tmp_path / "v1DLC_x.h5") == "dlc_h5"
    assert detect_format(tmp_path / "v1DLC_x.csv") == "dlc_csv"


def _multi_animal_frame(n=30):
    rng = np.random.default_rng(1)
    cols = pd.MultiIndex.from_product(
        [["DLC_ma"], ["mouse1", "mouse2"], ["nose", "tail"], ["x", "y", "likelihood"]],
        names=["scorer", "individuals", "bodyparts", "coords"],
    )
    return pd.DataFrame(rng.uniform(0, 1, (n, len(cols))), columns=cols)


def test_multi_animal_dlc_needs_an_individual(tmp_path):
    df = _multi_animal_frame()
    df.to_hdf(tmp_path / "ma.h5", key="df_with_missing", format="table")
    df.to_csv(tmp_path / "ma.csv")
    for name in ("ma.h5", "ma.csv"):
        with pytest.raises(DataFormatError, match=r"expected individual= .* individuals are \['mouse1', 'mouse2'\]"):
            load_pose(tmp_path / name)
        p = load_pose(tmp_path / name, individual="mouse2")
        assert p.individual == "mouse2" and p.bodyparts == ("nose", "tail")
        np.testing.assert_allclose(p.positions[:, 1, 0], df[("DLC_ma", "mouse2", "tail", "x")], rtol=1e-12)
        with pytest.raises(DataFormatError, match="expected an individual in"):
            load_pose(tmp_path / name, individual="mouse3")


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_pose(tmp_path / "missing.h5")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(DataFormatError, match="expected a pose file with a suffix in"):
        load_pose(tmp_path / "x.txt")
    pd.DataFrame({"a": [1.0]}).to_hdf(tmp_path / "foreign.h5", key="df")
    with pytest.raises(DataFormatError, match="expected DeepLabCut columns"):
        load_pose(tmp_path / "foreign.h5")
    (tmp_path / "bad.h5").write_bytes(b"not hdf5" * 10)
    with pytest.raises(DataFormatError, match="readable HDF5"):
        load_pose(tmp_path / "bad.h5")
    with pytest.raises(DataFormatError, match=r"shape \(T, K, 2\)"):
        PoseData(np.zeros((3, 2)), np.zeros((3, 2)), ("a", "b"))
    assert {"dlc_h5", "dlc_csv", "slp", "sleap_analysis_h5", "nwb"} <= set(POSE_LOADERS)


def test_real_dlc_file_from_the_movement_project():
    """A real DLC output (wasp, BSD-3, see tests/data/README.md)."""
    p = load_pose(DATA / "DLC_sample_poses.h5")
    assert p.positions.shape == (1085, 2, 2) and p.bodyparts == ("head", "stinger")
    low = (p.likelihood < 0.6).mean()
    assert 0.02 < low < 0.3  # some low-confidence frames, as documented
    assert np.nanmax(p.positions) < 2000 and np.nanmin(p.positions) >= 0


def test_nwb_export_round_trip(tmp_path):
    pytest.importorskip("ndx_pose")
    p = load_pose(DATA / "DLC_sample_poses.h5")
    out = export_nwb(p, tmp_path / "wasp.nwb", fps=40.0, subject_id="wasp1")
    back = load_pose(out)
    assert back.bodyparts == p.bodyparts and back.metadata["fps"] == 40.0
    np.testing.assert_array_equal(back.positions, p.positions)
    np.testing.assert_allclose(back.likelihood, p.likelihood)
    assert not list(tmp_path.glob(".*tmp*"))


def test_missing_stack_names_the_extra(monkeypatch, tmp_path):
    import sys

    from behavior_soup.errors import MissingDependencyError
    from behavior_soup.pose import dlc

    monkeypatch.setitem(sys.modules, "deeplabcut", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'behavior_soup\[pose\]'"):
        dlc.train_dlc(tmp_path / "config.yaml")
    monkeypatch.setitem(sys.modules, "sleap_io", None)
    (tmp_path / "x.slp").write_bytes(b"")
    with pytest.raises(MissingDependencyError, match="sleap_io"):
        load_pose(tmp_path / "x.slp")


def test_likelihoods_outside_0_1_and_infinite_keypoints():
    kp, like = _random_pose(n=10, k=2)
    for bad in (5.0, -1.0, np.inf):
        lk = like.copy()
        lk[4, 1] = bad
        with pytest.raises(DataFormatError, match=r"expected likelihoods in \[0, 1\] .* at frame 4, bodypart 'b'"):
            PoseData(kp, lk, ("a", "b"))
    lk = like.copy()
    lk[0, 0], lk[1, 0] = 1 + 1e-7, np.nan  # float32 rounding of 1.0; no likelihood at all
    p = PoseData(kp, lk, ("a", "b"))
    assert p.likelihood[0, 0] == 1.0 and np.isnan(p.likelihood[1, 0])
    pos = kp.copy()
    pos[3, 1, 0] = np.inf
    pos[5, 0, 1] = -np.inf
    p = PoseData(pos, like, ("a", "b"))
    assert np.isnan(p.positions[3, 1]).all() and np.isnan(p.positions[5, 0]).all()
    assert p.likelihood[3, 1] == 0 and p.likelihood[5, 0] == 0
    assert np.isinf(pos).sum() == 2  # the caller's array is left as it was
    assert np.isfinite(p.positions[~np.isnan(p.positions)]).all()


def test_a_text_cell_names_the_file(tmp_path):
    kp, like = _random_pose(n=10, k=2)
    write_dlc_pose(tmp_path / "v1DLC_x.csv", kp, like, bodyparts=("a", "b"), scorer="DLC_x")
    csv = tmp_path / "v1DLC_x.csv"
    lines = csv.read_text().splitlines()
    cells = lines[6].split(",")
    cells[2] = "oops"
    lines[6] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=rf"{csv.name}.*oops|oops.*{csv.name}"):
        load_pose(csv)

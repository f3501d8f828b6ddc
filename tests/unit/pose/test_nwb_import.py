"""NWB (ndx-pose) import: bodypart names as the file gives them, individuals only where the file
says so, and DataFormatError for files pynwb cannot read."""

from datetime import datetime, timezone

import h5py
import numpy as np
import pytest

from behavior_soup.errors import DataFormatError
from behavior_soup.pose import PoseData, export_nwb, load_pose

pytest.importorskip("ndx_pose")

DLC2NWB = "dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.nwb"
PAWS = ("front_left_paw", "front_right_paw", "snout")


def _pose(bodyparts, individual=None, n=40, seed=3):
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0, 500, (n, len(bodyparts), 2))
    like = rng.uniform(0, 1, (n, len(bodyparts)))
    pos[5, 1] = np.nan
    like[5, 1] = np.nan
    return PoseData(pos, like, bodyparts, individual=individual, scorer="DLC_paws")


@pytest.mark.parametrize("bodyparts", [PAWS, PAWS[:2]], ids=["with_snout", "paws_only"])
@pytest.mark.parametrize("individual", [None, "mouse2"])
def test_export_round_trip_keeps_names_sharing_a_prefix(tmp_path, bodyparts, individual):
    pose = _pose(bodyparts, individual)
    back = load_pose(export_nwb(pose, tmp_path / "paws.nwb", fps=50.0))
    assert back.bodyparts == bodyparts and back.individual == individual
    assert back.scorer == "DLC_paws" and back.metadata["fps"] == 50.0
    np.testing.assert_array_equal(back.positions, pose.positions)
    np.testing.assert_array_equal(back.likelihood, pose.likelihood)  # NaN (written as -1) comes back NaN
    if individual:
        assert load_pose(tmp_path / "paws.nwb", individual=individual).individual == individual


def _write_nwb(path, estimations):
    """An NWB file with one PoseEstimation per entry of ``estimations``: ``{name: (series, skeleton
    nodes or None)}``, series ``[(name, description)]``."""
    import ndx_pose
    import pynwb

    nwb = pynwb.NWBFile(
        session_description="test", identifier="test-" + path.stem, session_start_time=datetime.now(timezone.utc)
    )
    mod = nwb.create_processing_module(name="behavior", description="pose")
    skeletons, pes = [], []
    for k, (pe_name, (series, nodes)) in enumerate(estimations.items()):
        skel = ndx_pose.Skeleton(name=f"{pe_name}_skeleton", nodes=nodes) if nodes is not None else None
        if skel is not None:
            skeletons.append(skel)
        ser = [
            ndx_pose.PoseEstimationSeries(
                name=name,
                description=desc,
                data=np.full((6, 2), 10.0 * k + i),
                unit="pixels",
                reference_frame="top left",
                rate=25.0,
                confidence=np.full(6, 0.5),
            )
            for i, (name, desc) in enumerate(series)
        ]
        pes.append(ndx_pose.PoseEstimation(name=pe_name, pose_estimation_series=ser, description="x", skeleton=skel))
    if skeletons:
        mod.add(ndx_pose.Skeletons(skeletons=skeletons))
    for pe in pes:
        mod.add(pe)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def test_series_names_are_the_bodyparts_without_a_skeleton(tmp_path):
    series = [("front_left_paw", "a paw"), ("front_right_paw", "a paw")]
    p = load_pose(_write_nwb(tmp_path / "a.nwb", {"PoseEstimation": (series, None)}))
    assert p.individual is None and set(p.bodyparts) == {"front_left_paw", "front_right_paw"}
    np.testing.assert_array_equal(p.bodypart("front_right_paw")[:, 0], 1.0)


def test_skeleton_order_and_names(tmp_path):
    nodes = ["snout", "front_right_paw", "front_left_paw"]
    series = [(n, f"marker on {n}") for n in sorted(nodes)]
    p = load_pose(_write_nwb(tmp_path / "b.nwb", {"PoseEstimation": (series, nodes)}))
    assert p.bodyparts == tuple(nodes) and p.individual is None
    np.testing.assert_array_equal(p.bodypart("snout")[:, 1], float(sorted(nodes).index("snout")))


def test_dlc2nwb_descriptions_name_the_individual(tmp_path):
    parts = ["front_left_paw", "front_right_paw"]
    series = [(f"ind1_{b}", f"Keypoint {b} from individual ind1.") for b in parts]
    p = load_pose(_write_nwb(tmp_path / "c.nwb", {"PoseEstimation": (series, [s for s, _ in series])}))
    assert p.bodyparts == tuple(parts) and p.individual == "ind1"


def test_one_pose_estimation_per_individual(tmp_path):
    nodes = ["front_left_paw", "front_right_paw"]
    series = [(n, n) for n in nodes]
    path = _write_nwb(tmp_path / "d.nwb", {"female": (series, nodes), "male": (series, nodes)})
    with pytest.raises(DataFormatError, match=r"individuals are \['female', 'male'\]"):
        load_pose(path)
    male = load_pose(path, individual="male")
    assert male.individual == "male" and male.bodyparts == tuple(nodes)
    np.testing.assert_array_equal(male.positions[:, :, 0], [[10.0, 11.0]] * 6)


def test_truncated_file_is_a_format_error(tmp_path):
    full = export_nwb(_pose(PAWS), tmp_path / "full.nwb", fps=30.0)
    cut = tmp_path / "cut.nwb"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        DataFormatError, match=r"expected an NWB file .* in '.*cut\.nwb', found a file HDF5 cannot"
    ) as e:
        load_pose(cut)
    assert isinstance(e.value.__cause__, OSError)


def test_hdf5_that_is_not_nwb_is_a_format_error(tmp_path):
    path = tmp_path / "plain.nwb"
    with h5py.File(path, "w") as f:
        f["tracks"] = np.zeros((3, 2))
    with pytest.raises(DataFormatError, match=r"in '.*plain\.nwb', found an HDF5 file without the 'nwb_version'") as e:
        load_pose(path)
    assert e.value.__cause__ is not None and not isinstance(e.value.__cause__, DataFormatError)


@pytest.mark.shared_data
def test_real_dlc2nwb_file(shared_data):
    """DLC2NWB's example (MIT, see ../shared/data/MANIFEST.md): ndx-pose 0.1 layout, series
    ``ind1_<bodypart>`` described as keypoints of individual ind1."""
    p = load_pose(shared_data / DLC2NWB)
    assert p.bodyparts == ("snout", "leftear", "rightear", "tailbase") and p.individual == "ind1"
    assert p.positions.shape == (2330, 4, 2) and p.scorer == "DLC_resnet50_openfieldAug20shuffle1"
    ref = load_pose(shared_data / "dlc2nwb/m3v1mp4DLC_resnet50_openfieldAug20shuffle1_30000.h5")
    np.testing.assert_array_equal(p.positions, ref.positions)
    np.testing.assert_array_equal(p.likelihood, ref.likelihood)

"""DeepLabCut labelled-data CSVs (``CollectedData_<scorer>.csv``): the one-column image-path index
of DeepLabCut < 2.2 and the three index columns (``labeled-data``, video, image) of 2.2 and later."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from behavior_soup.errors import DataFormatError
from behavior_soup.pose import detect_format, load_pose

COLLECTED = "dlc_openfield/labeled-data/m4s1/CollectedData_Pranav.csv"

# written the way DeepLabCut >= 2.2 writes labelled frames: three index columns, empty cells unlabelled
SINGLE_3_INDEX = """\
scorer,,,Ann,Ann,Ann,Ann
bodyparts,,,snout,snout,tailbase,tailbase
coords,,,x,y,x,y
labeled-data,trial07,img0012.png,10.5,20.25,30.0,40.0
labeled-data,trial07,img0140.png,,,31.5,41.5
labeled-data,trial07,img0391.png,12.0,22.0,33.0,43.0
"""

MULTI_3_INDEX = """\
scorer,,,Ann,Ann,Ann,Ann,Ann,Ann,Ann,Ann
individuals,,,mouse1,mouse1,mouse1,mouse1,mouse2,mouse2,mouse2,mouse2
bodyparts,,,snout,snout,tailbase,tailbase,snout,snout,tailbase,tailbase
coords,,,x,y,x,y,x,y,x,y
labeled-data,pair01,img0005.png,1,2,3,4,101,102,103,104
labeled-data,pair01,img0050.png,5,6,7,8,105,106,,
"""

MULTI_1_INDEX = """\
scorer,Ann,Ann,Ann,Ann,Ann,Ann,Ann,Ann
individuals,mouse1,mouse1,mouse1,mouse1,mouse2,mouse2,mouse2,mouse2
bodyparts,snout,snout,tailbase,tailbase,snout,snout,tailbase,tailbase
coords,x,y,x,y,x,y,x,y
labeled-data/pair01/img0005.png,1,2,3,4,101,102,103,104
labeled-data/pair01/img0050.png,5,6,7,8,105,106,,
"""


def test_single_animal_three_index_columns(tmp_path):
    path = tmp_path / "CollectedData_Ann.csv"
    path.write_text(SINGLE_3_INDEX)
    assert detect_format(path) == "dlc_csv"
    p = load_pose(path)
    assert p.scorer == "Ann" and p.individual is None and p.bodyparts == ("snout", "tailbase")
    want = np.array([[[10.5, 20.25], [30.0, 40.0]], [[np.nan, np.nan], [31.5, 41.5]], [[12.0, 22.0], [33.0, 43.0]]])
    np.testing.assert_array_equal(p.positions, want)  # rows in file order, unlabelled points NaN
    assert np.isnan(p.likelihood).all() and p.likelihood.shape == (3, 2)


@pytest.mark.parametrize("text", [MULTI_3_INDEX, MULTI_1_INDEX], ids=["three_index_columns", "path_index"])
def test_multi_animal_labelled_data(tmp_path, text):
    path = tmp_path / "CollectedData_Ann.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=r"individuals are \['mouse1', 'mouse2'\]"):
        load_pose(path)
    m2 = load_pose(path, individual="mouse2")
    assert m2.scorer == "Ann" and m2.individual == "mouse2" and m2.bodyparts == ("snout", "tailbase")
    np.testing.assert_array_equal(m2.positions, [[[101, 102], [103, 104]], [[105, 106], [np.nan, np.nan]]])
    m1 = load_pose(path, individual="mouse1")
    np.testing.assert_array_equal(m1.positions, [[[1, 2], [3, 4]], [[5, 6], [7, 8]]])


def test_header_without_coords_is_a_format_error(tmp_path):
    path = tmp_path / "CollectedData_Ann.csv"
    path.write_text("scorer,,,Ann,Ann\nbodyparts,,,snout,snout\nlabeled-data,v,img1.png,1,2\n")
    with pytest.raises(DataFormatError, match=r"expected DeepLabCut header rows .* in 'CollectedData_Ann.csv', found"):
        load_pose(path)


@pytest.mark.shared_data
def test_real_collected_data_in_both_layouts(shared_data, tmp_path):
    """DeepLabCut's open-field example (LGPL-3.0, see ../shared/data/MANIFEST.md): 116 labelled frames of
    video m4s1, as shipped (one image-path column) and rewritten with the 2.2 index columns."""
    old = shared_data / COLLECTED
    ref = pd.read_hdf(old.with_suffix(".h5"))
    p = load_pose(old)
    assert p.positions.shape == (116, 4, 2) and p.scorer == "Pranav"
    assert p.bodyparts == ("snout", "leftear", "rightear", "tailbase")
    np.testing.assert_allclose(p.positions[:, 0, 0], ref[("Pranav", "snout", "x")].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(p.positions[:, 3, 1], ref[("Pranav", "tailbase", "y")].to_numpy(), rtol=1e-12)

    new = ref.copy()
    new.index = pd.MultiIndex.from_tuples([tuple(str(i).split("/")) for i in ref.index])
    assert new.index.nlevels == 3 and new.index[0] == ("labeled-data", "m4s1", "img0000.png")
    out = tmp_path / "labeled-data" / "m4s1" / "CollectedData_Pranav.csv"
    out.parent.mkdir(parents=True)
    new.to_csv(out)
    assert Path(out).read_text().startswith("scorer,,,Pranav")
    q = load_pose(out)
    assert q.scorer == "Pranav" and q.bodyparts == p.bodyparts
    np.testing.assert_array_equal(q.positions, p.positions)

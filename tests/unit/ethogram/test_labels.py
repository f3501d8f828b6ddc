import numpy as np
import pandas as pd
import pytest

from behavior_soup.errors import DataFormatError
from behavior_soup.ethogram import UNLABELED, Labels, check_same_behaviors, labels_from_array, read_label_csv
from behavior_soup.sample_data import BEHAVIORS


def test_sample_label_csv_matches_the_truth(sample):
    lab = read_label_csv(sample.root / "m1" / "2024-01-05" / "labels" / "trial_001.csv")
    truth = sample.truth("m1", "2024-01-05", 1)["labels"]
    assert lab.behaviors == BEHAVIORS and lab.n_frames == len(truth)
    np.testing.assert_array_equal(lab.array.argmax(axis=1), truth)
    assert lab.labelled.all()


def test_from_indices_with_unlabelled_frames():
    lab = labels_from_array([0, 2, -1, 1], ("background", "a", "b"))
    np.testing.assert_array_equal(lab.array, [[1, 0, 0], [0, 0, 1], [-1, -1, -1], [0, 1, 0]])
    assert lab.labelled.tolist() == [True, True, False, True]
    with pytest.raises(DataFormatError, match=r"indices in \[-1, 2\]"):
        labels_from_array([0, 3], ("background", "a", "b"))


def test_bad_labels(tmp_path):
    with pytest.raises(DataFormatError, match="expected label values 1, 0 or -1"):
        Labels(np.array([[0, 2]]), ("background", "a"))
    with pytest.raises(DataFormatError, match=r"shape \(T, 3\)"):
        Labels(np.zeros((4, 2)), ("background", "a", "b"))
    with pytest.raises(DataFormatError, match="unique behavior names"):
        Labels(np.zeros((4, 2)), ("a", "a"))
    with pytest.raises(DataFormatError, match="expected 10 frames of labels for trial 1"):
        labels_from_array(np.zeros(9, int), ("background", "a")).check_frames(10, "trial 1")
    (tmp_path / "x.csv").write_text(",background,a\n0,1,x\n")
    with pytest.raises(DataFormatError, match="found .x. at row 0, column .a."):
        read_label_csv(tmp_path / "x.csv")


def test_label_files_that_disagree_name_the_difference(tmp_path):
    a = labels_from_array([0, 1], ("background", "walk", "groom"))
    b = labels_from_array([0, 1], ("background", "walk", "rear"))
    c = labels_from_array([0, 1], ("background", "groom", "walk"))
    assert check_same_behaviors({"t1": a, "t2": a}) == ("background", "walk", "groom")
    with pytest.raises(DataFormatError, match=r"t1 has \['groom'\] that t2 lacks, t2 has \['rear'\] that t1 lacks"):
        check_same_behaviors({"t1": a, "t2": b})
    with pytest.raises(DataFormatError, match="another order"):
        check_same_behaviors({"t1": a, "t3": c})
    pd.DataFrame(a.array, columns=list(a.behaviors)).to_csv(tmp_path / "t.csv")
    back = read_label_csv(tmp_path / "t.csv")
    assert back.behaviors == a.behaviors and np.array_equal(back.array, a.array)
    assert UNLABELED == -1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (",background,a\n0,1,0\n1,0.5,0\n", r"found 0\.5 at row 1, column 'background'"),
        (",background,a\n0,1,0\n1,,0\n", "found an empty cell at row 1, column 'background'"),
        (",background,a\n0,1,0\n1,1,0\n2,1,7\n", "found 7 at row 2, column 'a'"),
        ("", "cannot be read as one"),
        (";background;a\n0;1;0\n", "found columns separated by ';'"),
        (",background\n0,1\n", "1 behavior columns"),
        (",a,a\n0,1,0\n", r"unique behavior names in the header .* found \[.a.\] twice"),
    ],
)
def test_a_bad_label_csv_names_the_file_and_the_cell(tmp_path, content, message):
    path = tmp_path / "trial_001.csv"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=message) as err:
        read_label_csv(path)
    assert str(path) in str(err.value)


def test_a_binary_label_file(tmp_path):
    path = tmp_path / "trial_001.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 30)
    with pytest.raises(DataFormatError, match="cannot be read as one"):
        read_label_csv(path)


def test_labels_from_arrays_must_be_whole_numbers():
    assert labels_from_array(np.array([0.0, 1.0, -1.0]), ("background", "a")).array.tolist() == [
        [1, 0],
        [0, 1],
        [-1, -1],
    ]
    for bad, found in [(np.array([0, 0.5]), "0.5"), (np.array([0, np.nan]), "nan"), (np.array(["0", "1"]), "'0'")]:
        with pytest.raises(DataFormatError, match=f"expected whole-number labels .* found {found}"):
            labels_from_array(bad, ("background", "a"))
    with pytest.raises(ValueError, match="expected behaviors to be a list of names, got 'bgw'"):
        labels_from_array(np.zeros(3, int), "bgw")

"""Ground-truth labels through the table, on the sample data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import behavior_soup as bs
from behavior_soup.errors import DataFormatError
from behavior_soup.sample_data import BEHAVIORS


def test_load_label_csvs_for_the_table(table, sample):
    table.behavior.add_item("m1")
    table.behavior.add_item("m2")
    out = table.behavior.load_labels(progress=False)
    assert (out["status"] == "done").all() and len(out) == 6
    for _, row in table.iterrows():
        lab = row.behavior.labels()
        truth = sample.truth(row["animal_id"], row["session_id"], int(row["trial_id"]))["labels"]
        assert lab.behaviors == BEHAVIORS
        np.testing.assert_array_equal(lab.array.argmax(axis=1), truth)


def test_disagreeing_label_files_write_nothing(table, raw_copy):
    table.behavior.add_item("m1")
    f = raw_copy / "m1" / "2024-01-05" / "labels" / "trial_002.csv"
    df = pd.read_csv(f, index_col=0).rename(columns={"groom": "scratch"})
    df.to_csv(f)
    with pytest.raises(DataFormatError, match=r"has \['groom'\] that .* lacks, .* has \['scratch'\]"):
        table.behavior.load_labels(progress=False)
    assert (bs.load_df(table.paths.table_path)["behavior_status"] == "").all()
    (raw_copy / "m1" / "2024-01-05" / "labels" / "trial_003.csv").unlink()
    with pytest.raises(FileNotFoundError, match="trial_003.csv"):
        table.behavior.load_labels(progress=False)


def test_set_labels_from_arrays(table):
    table.behavior.add_item("m1")
    row = table.iloc[0]
    idx = np.zeros(60, int)
    idx[10:20] = 2
    idx[50:] = -1
    lab = row.behavior.set_labels(idx, behaviors=("background", "walk", "groom"))
    back = row.behavior.labels()
    assert back.behaviors == ("background", "walk", "groom") and np.array_equal(back.array, lab.array)
    assert back.labelled.sum() == 50
    with pytest.raises(DataFormatError, match="expected 60 frames of labels"):
        row.behavior.set_labels(np.zeros(59, int), behaviors=("background", "walk"))
    with pytest.raises(ValueError, match="expected behaviors="):
        row.behavior.set_labels(idx)
    for bad, err in [(np.full(60, 0.5), DataFormatError), (np.full(60, np.nan), DataFormatError)]:
        with pytest.raises(err, match="whole-number labels"):
            row.behavior.set_labels(bad, behaviors=("background", "walk", "groom"))
    with pytest.raises(ValueError, match="got 'bgw'"):
        row.behavior.set_labels(idx, behaviors="bgw")
    assert np.array_equal(row.behavior.labels().array, lab.array)  # the stored labels are untouched

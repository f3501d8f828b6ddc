"""Bad input at the table's edges (roots, locks, files on disk, rows, metadata) raises the
library's errors, naming what was expected and what was found, with nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import behavior_soup as bs
from behavior_soup.errors import (
    DataRootError,
    InvalidIdError,
    LockError,
    LockTimeoutError,
    TableExistsError,
    TableFormatError,
)
from behavior_soup.ids import validate_trial_id
from behavior_soup.jobs import TrialContext
from behavior_soup.locking import check_timeout, locked
from behavior_soup.provenance import Provenance

from ..conftest import edit_meta


@pytest.mark.parametrize("root", ["", "   "])
def test_an_empty_root_is_not_the_current_folder(tmp_path, raw_copy, root):
    with pytest.raises(DataRootError, match="expected the raw-data root to be a directory path, got"):
        bs.create_df(tmp_path / "a.h5", raw_root=root)
    with pytest.raises(DataRootError, match="expected the output root to be a folder path"):
        bs.create_df(tmp_path / "b.h5", raw_root=raw_copy, output_root=root)
    with pytest.raises(DataRootError):
        bs.set_parent_raw_data_path(root)
    assert not (tmp_path / "a.h5").exists() and not (tmp_path / "b.h5").exists()


def test_create_df_on_a_folder_or_a_file(tmp_path, raw_copy):
    folder = tmp_path / "t.h5"
    folder.mkdir()
    with pytest.raises(TableExistsError, match="got the folder"):
        bs.create_df(folder, raw_root=raw_copy, overwrite=True)
    bs.create_df(tmp_path / "u.h5", raw_root=raw_copy)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        bs.create_df(tmp_path / "u.h5", raw_root=raw_copy)


@pytest.mark.parametrize("timeout", [-1, float("inf"), float("nan"), True, "5"])
def test_a_lock_timeout_is_a_finite_number_of_seconds(table, timeout):
    with pytest.raises(ValueError, match="expected lock_timeout >= 0"):
        check_timeout(timeout)
    rev = bs.store.table_info(table).revision
    with pytest.raises(ValueError, match="lock_timeout"):
        table.behavior.save(lock_timeout=timeout)
    with pytest.raises(ValueError, match="lock_timeout"):
        table.behavior.run_job("video_stats", lock_timeout=timeout, progress=False)
    assert bs.store.table_info(bs.load_df(bs.store.table_info(table).table_path)).revision == rev
    assert check_timeout(None) > 0 and check_timeout(0) == 0.0


def test_a_lock_that_is_a_folder(tmp_path):
    target = tmp_path / "x.h5"
    (tmp_path / "x.h5.lock").mkdir()
    with pytest.raises(LockError, match="to be a file it can open, found a folder"):
        with locked(target, 1, what="trial table"):
            pass
    assert issubclass(LockTimeoutError, LockError) and issubclass(LockError, OSError)


def test_rows_of_another_table_are_refused(table, sample, tmp_path, raw_copy):
    other = bs.create_df(tmp_path / "other" / "t.h5", raw_root=raw_copy)
    other.behavior.add_item(animal_id=sample.animals[1])
    table.behavior.add_item(animal_id=sample.animals[0])
    with pytest.raises(ValueError, match="expected rows of the table .*, got rows of"):
        table.behavior.run_job("video_stats", rows=other, progress=False)
    stray = table.iloc[:1].copy()
    stray["uuid"] = "not-a-row"
    with pytest.raises(ValueError, match="uuids not in it"):
        table.behavior.run_job("video_stats", rows=stray, progress=False)
    with pytest.raises(TypeError, match="expected rows to be a DataFrame"):
        table.behavior.run_job("video_stats", rows=[0], progress=False)
    assert (table["behavior_status"] == "").all()  # nothing ran
    again = bs.load_df(bs.store.table_info(table).table_path)  # the same table loaded again is fine
    out = table.behavior.run_job("video_stats", rows=again.iloc[:1], progress=False)
    assert out["status"].tolist() == ["done"]


def test_ids_that_cannot_name_a_folder(table, raw_copy):
    for bad, match in [("a" * 5000, "at most 255 bytes"), ("é" * 128, "at most 255 bytes"), ("a\tb", "control")]:
        with pytest.raises(InvalidIdError, match=match):
            table.behavior.add_row(bad, "s1", 1)
        with pytest.raises(InvalidIdError, match=match):
            table.behavior.add_item(animal_id=bad)
    assert len(bs.load_df(bs.store.table_info(table).table_path)) == 0
    for bad in ["²", "1.5", -1, 2**63, True]:
        with pytest.raises(InvalidIdError, match="trial_id"):
            validate_trial_id(bad)
    assert validate_trial_id("007") == 7 and validate_trial_id(np.int64(3)) == 3


def test_a_symlink_loop_in_the_raw_tree_is_named(table, raw_copy, sample):
    loop = raw_copy / sample.animals[0] / "looped"
    os.symlink(loop, loop)
    with pytest.raises(DataRootError, match="looped.*cannot be opened.*symbolic link loop"):
        table.behavior.add_item(animal_id=sample.animals[0])
    assert len(table) == 0


def test_metadata_with_a_revision_that_is_not_a_number(table):
    path = bs.store.table_info(table).table_path
    edit_meta(path, revision="abc")
    with pytest.raises(TableFormatError, match="expected the revision in the metadata of .* whole number, found 'abc'"):
        bs.load_df(path)
    edit_meta(path, revision="3", schema_version="two")
    with pytest.raises(TableFormatError, match="schema_version"):
        bs.load_df(path)


@pytest.mark.parametrize("name", ["", ".", "a/b"])
def test_a_result_dataset_needs_a_name(table, sample, name):
    table.behavior.add_item(animal_id=sample.animals[0])
    ctx = TrialContext.from_row(table.iloc[0], bs.store.table_info(table))
    with pytest.raises(ValueError, match="expected non-empty dataset names without '/'"):
        ctx.write("x", {name: np.ones(3)}, Provenance("x", {}).finish())
    assert not Path(ctx.outputs_file).exists()  # nothing written

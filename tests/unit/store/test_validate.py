"""Every edit of the table is validated on save: bad values are refused with a message naming
the column, the value and the row, and nothing is written."""

from __future__ import annotations

import math
import os
from pathlib import Path, PurePosixPath

import h5py
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import behavior_soup as bs
from behavior_soup.errors import InvalidIdError, ItemExistsError, TableEditError
from behavior_soup.ids import MAX_ID_BYTES, validate_id
from behavior_soup.store.validate import problems

FIXTURE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def filled(table, sample):
    table.behavior.add_item(animal_id=sample.animals[0], exp_type="table")
    return bs.store.table_info(table).table_path


def _set(df: pd.DataFrame, col: str, value: object) -> None:
    df[col] = df[col].astype(object)  # any value, as a user's assignment can hold
    df.at[df.index[0], col] = value


def _revision(path: str) -> int:
    return bs.store.table_info(bs.load_df(path)).revision


@pytest.mark.parametrize(
    ("col", "value", "message"),
    [
        ("animal_id", "../../etc", r"expected animal_id to be a folder name .* found '\.\./\.\./etc' in row 0"),
        ("animal_id", "a" * 5000, rf"<= {MAX_ID_BYTES} bytes"),
        ("session_id", "two\nlines", "session_id"),
        ("trial_id", 1.7, r"expected whole numbers in column 'trial_id', found 1\.7 in row 0"),
        ("trial_id", None, r"found None in row 0"),
        ("trial_id", -3, "expected trial_id to be a non-negative integer, found -3"),
        ("trial_id", "seven", "found 'seven'"),
        ("exp_type", "bogus", r"expected exp_type to be one of \['table', .*found 'bogus'"),
        ("output_path", "../../..", "expected output_path to be a relative POSIX path"),
        ("output_path", "", "output_path"),
        ("behavior_status", "exploded", r"expected behavior_status to be a run status .* found 'exploded'"),
        ("pose_status", "DONE", "pose_status"),
        ("front_video", r"C:\videos\a.mp4", r"expected front_video to be '' or a relative POSIX path"),
        ("side_video", "/abs/video.mp4", "side_video"),
        ("uuid", None, "expected uuid to be a non-empty id"),
        ("uuid", "a/b", "uuid"),
        ("added_time", "not a time", r"expected times in column 'added_time' .* found 'not a time' in row 0"),
        ("files", {"stimulus": "../outside.npy"}, "expected files to be a dict of role"),
        ("files", "stimulus.npy", r"expected dicts \(or missing values\) in column 'files'"),
        ("model_params", 3, "model_params"),
    ],
)
def test_a_bad_edit_is_refused_and_nothing_written(filled, col, value, message):
    df = bs.load_df(filled)
    before = Path(filled).read_bytes()
    _set(df, col, value)
    with pytest.raises(TableEditError, match=message) as err:
        df.behavior.save()
    assert "the table was not saved" in str(err.value)
    assert Path(filled).read_bytes() == before  # not a byte written


def test_every_broken_rule_is_named_at_once(filled):
    df = bs.load_df(filled)
    _set(df, "exp_type", "bogus")
    _set(df, "behavior_status", "exploded")
    df.at[df.index[1], "behavior_status"] = "exploded"
    with pytest.raises(TableEditError) as err:
        df.behavior.save()
    text = str(err.value)
    assert "exp_type" in text and "behavior_status" in text and "and 1 more rows" in text


def test_good_edits_save_and_load_back(filled):
    df = bs.load_df(filled)
    df.loc[df.index[0], "exp_type"] = "openfield"
    df.loc[df.index[0], "notes"] = "line one\nline two"
    df.loc[df.index[1], "front_video"] = "elsewhere/clip.mp4"
    df.loc[df.index[1], "trial_id"] = 41
    df.behavior.save()
    back = bs.load_df(filled)
    assert back.loc[0, "exp_type"] == "openfield" and back.loc[0, "notes"] == "line one\nline two"
    assert back.loc[1, "front_video"] == "elsewhere/clip.mp4" and back.loc[1, "trial_id"] == 41
    assert problems(back.iloc[:0]) is not None and not list(problems(back))


def test_whole_floats_are_trial_ids(filled):
    df = bs.load_df(filled)
    _set(df, "trial_id", 12.0)
    df.behavior.save()
    assert bs.load_df(filled).loc[0, "trial_id"] == 12


_TEXT = st.text(st.characters(codec="utf-8"), max_size=300) | st.sampled_from(["..", ".", " a", "a/b", "é" * 128])


@FIXTURE
@given(text=_TEXT)
def test_an_accepted_id_is_a_folder_and_an_hdf5_group_name(tmp_path, text):
    try:
        name = validate_id(text, "animal_id")
    except InvalidIdError as exc:
        assert "animal_id" in str(exc)
        return
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    assert folder.is_dir() and folder.parent == tmp_path
    with h5py.File(tmp_path / "ids.h5", "a") as f:
        f.require_group(name.replace(".", "_") if name.startswith(".") else name)


@FIXTURE
@given(
    col=st.sampled_from(["animal_id", "session_id", "exp_type", "behavior_status", "front_video", "output_path"]),
    value=_TEXT,
)
def test_an_edit_saves_exactly_or_is_refused_untouched(filled, col, value):
    df = bs.load_df(filled)
    rev = bs.store.table_info(df).revision
    _set(df, col, value)
    try:
        df.behavior.save()
    except (TableEditError, ItemExistsError):
        assert _revision(filled) == rev
        return
    back = bs.load_df(filled)
    assert back.loc[back["uuid"] == df["uuid"].iloc[0], col].item() == value
    if col in ("front_video", "output_path") and value:
        parts = PurePosixPath(value).parts
        assert ".." not in parts and not PurePosixPath(value).is_absolute() and "\\" not in value
    if col in ("animal_id", "session_id"):
        assert os.sep not in value and value not in (".", "..")


@FIXTURE
@given(value=st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=True), st.none(), st.booleans()))
def test_trial_ids_are_whole_non_negative_numbers(filled, value):
    df = bs.load_df(filled)
    _set(df, "trial_id", value)
    whole = (
        not isinstance(value, bool)
        and value is not None
        and math.isfinite(value)
        and float(value).is_integer()
        and 0 <= value < 2**63
    )
    try:
        df.behavior.save()
    except (TableEditError, ItemExistsError) as exc:
        assert not whole or isinstance(exc, ItemExistsError)
        return
    assert whole and bs.load_df(filled).loc[0, "trial_id"] == int(value)

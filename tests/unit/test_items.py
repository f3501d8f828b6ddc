import shutil
import warnings

import numpy as np
import pytest

import behavior_soup as bs
from behavior_soup.errors import DataRootError, InvalidIdError, ItemExistsError, ItemNotFoundError, MissingViewError
from behavior_soup.jobs.builtin import video_stats  # noqa: F401


def test_add_animal_session_trial(table):
    added = table.behavior.add_item(animal_id="m1")
    assert len(added) == 3 and len(table) == 3
    assert added["output_path"].unique().tolist() == ["m1/2024-01-05/outputs.h5"]
    table.behavior.add_item("m2", "2024-01-05", 2, exp_type="table")
    assert len(table) == 4
    r = table.iloc[3]
    assert (r["animal_id"], r["session_id"], r["trial_id"], r["exp_type"]) == ("m2", "2024-01-05", 2, "table")
    assert r["front_video"] == "m2/2024-01-05/front_v002.mp4" and r["side_video"] == "m2/2024-01-05/side_v002.mp4"
    assert table["uuid"].is_unique


def test_duplicates_refused_or_skipped(table):
    table.behavior.add_item("m1", "2024-01-05", 1)
    with pytest.raises(ItemExistsError, match="already there") as ei:
        table.behavior.add_item("m1")
    assert "m1/2024-01-05/trial 1" in str(ei.value)
    assert len(table) == 1
    assert len(table.behavior.add_item("m1", skip_existing=True)) == 2
    assert len(table) == 3


def test_trial_8_never_matches_18_or_80(table, raw_copy):
    d = raw_copy / "m1" / "2024-01-05"
    for t in (18, 80):
        for v in ("front", "side"):
            shutil.copy(d / f"{v}_v001.mp4", d / f"{v}_v{t:03d}.mp4")
    shutil.copy(d / "front_v001.mp4", d / "front_v8.mp4")
    shutil.copy(d / "side_v001.mp4", d / "side_v0008.mp4")
    added = table.behavior.add_item("m1", "2024-01-05", 8)
    assert added["front_video"].tolist() == ["m1/2024-01-05/front_v8.mp4"]
    assert added["side_video"].tolist() == ["m1/2024-01-05/side_v0008.mp4"]


def test_missing_view_reported(table, raw_copy):
    (raw_copy / "m1" / "2024-01-05" / "side_v002.mp4").unlink()
    with pytest.raises(MissingViewError, match=r"trial 2 \(found \['front'\]\)"):
        table.behavior.add_item("m1", on_missing_view="raise")
    assert len(table) == 0
    with pytest.warns(UserWarning, match="not added"):
        added = table.behavior.add_item("m1", on_missing_view="skip")
    assert added["trial_id"].tolist() == [1, 3]
    table.behavior.remove_item("m1")
    with pytest.warns(UserWarning, match="missing paths empty"):
        added = table.behavior.add_item("m1")
    assert added.set_index("trial_id").loc[2, "side_video"] == ""
    with pytest.raises(MissingViewError, match="expected a 'side' video"):
        table[table["trial_id"] == 2].iloc[0].paths.video("side")


def test_not_found_errors(table):
    with pytest.raises(ItemNotFoundError, match=r"animals under the root: \['m1', 'm2', 'r1'\]"):
        table.behavior.add_item("m9")
    with pytest.raises(ItemNotFoundError, match="sessions of m1"):
        table.behavior.add_item("m1", "2099-01-01")
    with pytest.raises(ItemNotFoundError, match=r"found trials \[1, 2, 3\]"):
        table.behavior.add_item("m1", "2024-01-05", 7)
    with pytest.raises(ItemNotFoundError, match="matching"):
        table.behavior.add_item("r1", "s1")


@pytest.mark.parametrize("bad", ["../m1", "m1/2024", "", "a\x00"])
def test_bad_ids(table, bad):
    with pytest.raises(InvalidIdError, match="expected"):
        table.behavior.add_item(bad)


def test_bad_exp_type(table):
    with pytest.raises(InvalidIdError, match="exp_type"):
        table.behavior.add_item("m1", exp_type="nope")
    assert len(table) == 0


def test_missing_root(table, raw_copy):
    shutil.rmtree(raw_copy)
    with pytest.raises(DataRootError, match="does not exist"):
        table.behavior.add_item("m1")


def test_remove_with_outputs(table):
    table.behavior.add_item("m1")
    table.behavior.add_item("m2")
    table.behavior.run_job("video_stats", progress=False)
    out = table.iloc[0].paths.outputs()
    assert out.is_file()
    gone = table.behavior.remove_item("m1", "2024-01-05", 2, remove_outputs=True)
    assert gone["trial_id"].tolist() == [2]
    assert len(table) == 5
    assert table.iloc[0].outputs.keys() == ["behavior/video_stats"]
    import h5py

    with h5py.File(out) as f:
        assert sorted(f) == ["trial_1", "trial_3"]
    table.behavior.remove_item("m1", remove_outputs=True)
    assert not out.exists()
    assert set(table["animal_id"]) == {"m2"}
    with pytest.raises(ItemNotFoundError):
        table.behavior.remove_item("m1")
    with pytest.raises(ValueError, match="session_id when trial_id"):
        table.behavior.remove_item("m2", trial_id=1)


def test_readded_trial_does_not_see_old_results(table):
    table.behavior.add_item("m1", "2024-01-05", 1)
    table.behavior.run_job("video_stats", progress=False)
    table.behavior.remove_item("m1")  # outputs kept
    table.behavior.add_item("m1", "2024-01-05", 1)
    row = table.iloc[0]
    assert row.outputs.keys() == []
    with pytest.raises(bs.OutputsError, match="removed trial"):
        row.outputs.read("behavior/video_stats")


def test_add_row_explicit_files(table, raw_copy):
    added = table.behavior.add_row(
        "x1",
        "s1",
        4,
        videos={"front": "m1/2024-01-05/front_v001.mp4"},
        files={"pose": raw_copy / "m1/2024-01-05/pose/front_v001DLC_resnet50_syntheticJan1shuffle1_1000.h5"},
    )
    assert added.loc[0, "files"]["pose"].startswith("m1/2024-01-05/pose/")
    with pytest.raises(ItemNotFoundError, match="found no file"):
        table.behavior.add_row("x1", "s1", 5, videos={"front": "m1/nope.mp4"})
    with pytest.raises(DataRootError, match="inside the root"):
        table.behavior.add_row("x1", "s1", 6, files={"a": "/etc/hostname"})
    assert len(table) == 1


def test_add_1000_trials_is_linear(tmp_path):
    raw = tmp_path / "raw"
    d = raw / "a" / "s"
    d.mkdir(parents=True)
    for t in range(1000):
        (d / f"front_v{t:04d}.avi").write_bytes(b"")
        (d / f"side_v{t:04d}.avi").write_bytes(b"")
    df = bs.create_df(tmp_path / "t.h5", raw_root=raw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        added = df.behavior.add_item("a")
    assert len(added) == 1000 and np.array_equal(df["trial_id"].to_numpy(), np.arange(1000))


def test_added_rows_have_every_column(table):
    from behavior_soup import schema

    added = table.behavior.add_item("m1", "2024-01-05", 1)
    assert list(added.columns) == list(schema.COLUMNS)
    assert added.loc[0, "behavior_run"] == {} and added.loc[0, "behavior_status"] == ""


def test_discover_trials_columns(raw_copy):
    from behavior_soup.discovery import DISCOVERY_COLUMNS, discover_trials

    (raw_copy / "m1" / "2024-01-05" / "side_v002.mp4").unlink()
    found = discover_trials(raw_copy, "m1")
    assert tuple(found.columns) == DISCOVERY_COLUMNS
    assert found["trial_id"].dtype == np.int64 and found["trial_id"].tolist() == [1, 2, 3]
    assert found["front_video"].tolist() == [f"m1/2024-01-05/front_v00{t}.mp4" for t in (1, 2, 3)]
    assert found["side_video"].tolist() == ["m1/2024-01-05/side_v001.mp4", "", "m1/2024-01-05/side_v003.mp4"]
    one = discover_trials(raw_copy, "m1", "2024-01-05", 3)
    assert one["trial_id"].tolist() == [3] and one.index.tolist() == [0]
    with pytest.raises(ItemNotFoundError, match=r"expected trial 7 in m1/2024-01-05, found trials \[1, 2, 3\]"):
        discover_trials(raw_copy, "m1", "2024-01-05", 7)


def test_two_files_for_one_view_refused(table, raw_copy):
    d = raw_copy / "m1" / "2024-01-05"
    shutil.copy(d / "front_v001.mp4", d / "front_v1.mp4")
    with pytest.raises(ItemExistsError, match="expected one 'front' video for trial 1"):
        table.behavior.add_item("m1")
    assert len(table) == 0


def test_new_uuids_are_version_4_and_distinct():
    import uuid

    from behavior_soup.items import new_uuids

    u = new_uuids(2000)
    assert u.dtype == object and len(set(u.tolist())) == 2000
    for s in u[:50]:
        parsed = uuid.UUID(s)
        assert str(parsed) == s and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert len(new_uuids(0)) == 0


def test_rows_returned_by_add_do_not_alias_the_table(table):
    added = table.behavior.add_item("m1")
    added.loc[0, "notes"] = "edited"  # (dict cells are shared, as in any pandas copy)
    assert table.loc[0, "notes"] == ""
    more = table.behavior.add_item("m2", skip_existing=True)
    assert more.index.tolist() == list(range(len(more)))

"""create -> add -> run -> save -> move the raw tree (and the table) -> load -> resolve."""

import shutil

import numpy as np
import pandas as pd
import pytest

import behavior_soup as bs
from behavior_soup.errors import DataRootError
from tests.conftest import edit_meta


def test_move_raw_tree_and_table(tmp_path, raw_copy):
    exp = tmp_path / "exp"
    df = bs.create_df(exp / "behavior.h5", raw_root=raw_copy)
    df.behavior.add_item("m1")
    df.behavior.add_item("m2", "2024-01-05", 1, exp_type="table")
    df.behavior.run_job("video_stats", progress=False)
    before = df.iloc[0].outputs.read("behavior/video_stats")["front"]["mean"]
    # move everything: raw data to a new disk, the table folder (with its outputs) elsewhere
    moved_raw = tmp_path / "new_disk" / "behavior_raw"
    moved_raw.parent.mkdir()
    shutil.move(raw_copy, moved_raw)
    shutil.move(exp, tmp_path / "elsewhere")
    table = tmp_path / "elsewhere" / "behavior.h5"
    stale = bs.load_df(table)  # stored root is gone: loads, but resolving says what to do
    with pytest.raises(DataRootError, match="raw_root="):
        stale.iloc[0].paths.video("front")
    df2 = bs.load_df(table, raw_root=moved_raw)
    assert df2.iloc[0].paths.video("front") == moved_raw / "m1" / "2024-01-05" / "front_v001.mp4"
    assert df2.iloc[0].paths.video("front").is_file()
    assert df2.paths.output_root == tmp_path / "elsewhere" / "behavior_outputs"
    np.testing.assert_array_equal(df2.iloc[0].outputs.read("behavior/video_stats")["front"]["mean"], before)
    assert df2["behavior_status"].tolist() == ["done"] * 4
    # the global root works the same
    bs.set_parent_raw_data_path(moved_raw)
    df3 = bs.load_df(table)
    assert df3.paths.raw_root == moved_raw
    assert df3.paths.videos("side").iloc[3] == moved_raw / "m2" / "2024-01-05" / "side_v001.mp4"
    df3.behavior.add_item("m2", skip_existing=True)
    assert len(bs.load_df(table)) == 6
    # stored paths stayed relative POSIX
    raw = pd.read_hdf(table, "trials")
    assert all(not p.startswith("/") and "\\" not in p for p in raw["front_video"])


def test_table_from_another_os(tmp_path, raw_copy):
    df = bs.create_df(tmp_path / "t.h5", raw_root=raw_copy)
    df.behavior.add_item("m1")
    path = tmp_path / "t.h5"
    edit_meta(path, raw_root="D:\\lab\\behavior")  # written on Windows
    df2 = bs.load_df(path, raw_root=raw_copy)
    assert df2.iloc[2].paths.video("side") == raw_copy / "m1" / "2024-01-05" / "side_v003.mp4"
    assert df2.iloc[2].paths.video("side").is_file()

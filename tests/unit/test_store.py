import warnings

import h5py
import numpy as np
import pandas as pd
import pytest
import tables

import behavior_soup as bs
from behavior_soup import schema, store
from behavior_soup.errors import DataRootError, StaleTableError, TableFormatError
from tests.conftest import edit_meta


def test_create_and_load_roundtrip(table):
    table.behavior.add_item("m1")
    table.at[0, "notes"] = "good trial"
    table.at[0, "model_params"] = {"thr": 0.5, "classes": ["a", "b"]}
    table.behavior.save()
    df = bs.load_df(table.paths.table_path)
    assert len(df) == 3
    assert df.loc[0, "notes"] == "good trial"
    assert df.loc[0, "model_params"] == {"thr": 0.5, "classes": ["a", "b"]}
    assert df.loc[1, "model_params"] == {}
    assert df["trial_id"].tolist() == [1, 2, 3]
    assert df["trial_id"].dtype == np.int64
    assert df.behavior.info.revision == table.behavior.info.revision
    # times survive to the microsecond, through load_df and through plain pandas
    assert str(df["added_time"].dtype) == "datetime64[us, UTC]"
    assert df["added_time"].tolist() == table["added_time"].tolist()
    assert abs(df.loc[0, "added_time"] - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(minutes=10)
    plain = pd.read_hdf(table.paths.table_path, "trials")["added_time"]
    assert plain.tolist() == table["added_time"].tolist()


def test_times_of_other_units_survive(table):
    """pandas reads non-nanosecond times back as nanoseconds (2024 becomes 1970); they are
    stored in nanoseconds."""
    table.behavior.add_item("m1")
    table["seen"] = pd.DatetimeIndex(["2024-01-05 10:00:01", "NaT", "2023-12-31"]).as_unit("s")
    table["lag"] = pd.to_timedelta([1, 2, 3], unit="s").as_unit("ms")
    table.behavior.save()
    df = bs.load_df(table.paths.table_path)
    assert df["seen"].tolist()[::2] == [pd.Timestamp("2024-01-05 10:00:01"), pd.Timestamp("2023-12-31")]
    assert pd.isna(df.loc[1, "seen"])
    assert df["lag"].tolist() == [pd.Timedelta(seconds=s) for s in (1, 2, 3)]
    table["far"] = np.array(["2400-01-01"] * 3, dtype="datetime64[s]")
    with pytest.raises(ValueError, match="column 'far': expected times within 1677-2262"):
        table.behavior.save()


def test_version_1_tables_get_their_times_back(table):
    """Schema version 1 stored ``added_time`` in microseconds; loading restores the true times."""
    table.behavior.add_item("m1")
    path = table.paths.table_path
    meta = store.read_meta(path)
    from behavior_soup.store.commit import _write
    from behavior_soup.store.format import to_disk

    enc = to_disk(table)
    enc["added_time"] = enc["added_time"].dt.as_unit("us")
    _write(path, enc, {**meta, "schema_version": "1"})  # the version 1 layout
    assert pd.read_hdf(path, "trials")["added_time"].dt.year.tolist() == [1970] * 3  # pandas' misreading
    df = bs.load_df(path)
    assert df["added_time"].tolist() == table["added_time"].tolist()
    df.behavior.save()  # rewritten as version 2
    assert store.read_meta(path)["schema_version"] == str(schema.SCHEMA_VERSION)
    assert pd.read_hdf(path, "trials")["added_time"].tolist() == table["added_time"].tolist()


def test_plain_pandas_reads_table_without_pickles(table):
    table.behavior.add_item("m1")
    raw = pd.read_hdf(table.paths.table_path, "trials")
    assert raw["front_video"].tolist()[0] == "m1/2024-01-05/front_v001.mp4"
    assert raw["model_params"].tolist()[0] == "{}"
    meta = store.read_meta(table.paths.table_path)
    assert meta["schema_version"] == str(schema.SCHEMA_VERSION)
    assert meta["n_rows"] == str(len(raw)) and meta["format"] == "behavior_soup.trials"
    # data are plain HDF5 types: no object (pickled) arrays; only pandas' own small metadata
    # attributes are Python lists
    with tables.open_file(table.paths.table_path) as f:
        kinds = set()
        for node in f.walk_nodes("/"):
            assert not isinstance(node, tables.VLArray), f"object (pickled) node {node._v_pathname}"
            if isinstance(node, tables.Table):
                kinds |= {col.kind for col in node.description._v_colobjects.values()}
        assert "object" not in kinds and "string" in kinds


def test_create_refuses(tmp_path, raw_copy):
    with pytest.raises(DataRootError, match="pass raw_root"):
        bs.create_df(tmp_path / "t.h5")
    with pytest.raises(DataRootError, match="does not exist"):
        bs.create_df(tmp_path / "t.h5", raw_root=tmp_path / "missing")
    with pytest.raises(DataRootError, match="output root outside the raw-data tree"):
        bs.create_df(tmp_path / "t.h5", raw_root=raw_copy, output_root=raw_copy / "out")
    with pytest.raises(ValueError, match=r"ending in \.h5"):
        bs.create_df(tmp_path / "t.csv", raw_root=raw_copy)
    bs.create_df(tmp_path / "t.h5", raw_root=raw_copy)
    with pytest.raises(FileExistsError, match="overwrite=True"):  # a TableExistsError
        bs.create_df(tmp_path / "t.h5", raw_root=raw_copy)


def test_global_raw_root(tmp_path, raw_copy):
    bs.set_parent_raw_data_path(raw_copy)
    df = bs.create_df(tmp_path / "t.h5")
    assert df.paths.raw_root == raw_copy
    assert len(df.behavior.add_item("m2")) == 3


def test_empty_table_loads(table):
    df = bs.load_df(table.paths.table_path)
    assert len(df) == 0 and list(df.columns) == list(schema.COLUMNS)


def test_stale_table_refused_then_merged(table):
    table.behavior.add_item("m1")
    path = table.paths.table_path
    other = bs.load_df(path)
    other.behavior.add_item("m2")  # another writer saves first
    table.at[0, "notes"] = "edited in memory"
    edited = table.loc[0, "uuid"]
    before = open(path, "rb").read()
    with pytest.raises(StaleTableError, match="expected the table on disk to be revision"):
        table.behavior.save()
    assert open(path, "rb").read() == before  # nothing written
    table.behavior.save(merge=True)
    df = bs.load_df(path)
    assert len(df) == 6  # m2's rows kept
    assert df.set_index("uuid").loc[edited, "notes"] == "edited in memory"
    assert (df["notes"] == "edited in memory").sum() == 1


def test_merge_keeps_removals_elsewhere_rows_missing_here_and_newer_status(table):
    table.behavior.add_item("m1")
    path = table.paths.table_path
    other = bs.load_df(path)
    uid = table.loc[1, "uuid"]
    other.behavior.remove_item(uuid=uid)  # removed elsewhere
    gone_here = table.loc[2, "uuid"]
    with warnings.catch_warnings():  # pandas >= 3.1 deprecates inplace=True
        warnings.simplefilter("ignore")
        table.drop(index=2, inplace=True)  # removed in memory
    table.at[0, "notes"] = "x"
    edited = table.loc[0, "uuid"]
    store.update_rows(
        path, {edited: {"behavior_status": "done", "behavior_run": {"job": "j", "updated": "2999-01-01"}}}
    )
    table.behavior.save(merge=True)
    df = bs.load_df(path)
    # removed elsewhere through remove_item: gone; merely missing from this DataFrame: kept
    assert uid not in set(df["uuid"]) and gone_here in set(df["uuid"])
    assert len(df) == 2 and table["uuid"].tolist() == [edited]  # the DataFrame still holds only its row
    r = df.set_index("uuid").loc[edited]
    assert r["notes"] == "x" and r["behavior_status"] == "done" and r["behavior_run"]["job"] == "j"


def test_refresh_takes_disk_status_keeps_edits(table):
    table.behavior.add_item("m1")
    table.at[1, "notes"] = "unsaved"
    store.update_rows(table.paths.table_path, {table.loc[0, "uuid"]: {"behavior_status": "failed"}})
    table.behavior.refresh()
    assert table.loc[0, "behavior_status"] == "failed"
    assert table.loc[1, "notes"] == "unsaved"


def test_corrupt_and_foreign_files(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5 at all" * 100)
    with pytest.raises(TableFormatError, match="expected a readable HDF5"):
        bs.load_df(bad)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(TableFormatError, match="found an HDF5 file without it"):
        bs.load_df(foreign)
    pd.DataFrame({"key": ["format"], "value": ["something.else"]}).to_hdf(
        tmp_path / "f2.h5", key="meta", format="table"
    )  # the older layout, with a /meta table, of another format
    with pytest.raises(TableFormatError, match="expected format"):
        bs.load_df(tmp_path / "f2.h5")
    with pytest.raises(FileNotFoundError):
        bs.load_df(tmp_path / "missing.h5")


def test_newer_schema_refused(table):
    path = table.paths.table_path
    edit_meta(path, schema_version=99)
    with pytest.raises(TableFormatError, match="found version 99"):
        bs.load_df(path)


def test_large_metadata_has_no_size_limit(table):
    """Registries live in the metadata; it is a dataset, not an attribute (HDF5 caps those at 64 KiB)."""
    big = "x" * 300_000
    store.transact(table, None, meta_change=lambda m: {**m, "notes_registry": big})
    assert store.read_meta(table.paths.table_path)["notes_registry"] == big
    table.behavior.add_item("m1")
    assert store.read_meta(table.paths.table_path)["notes_registry"] == big
    assert len(bs.load_df(table.paths.table_path)) == 3


def test_reads_tables_with_the_older_meta_table(table):
    """Tables whose metadata is a /meta key/value table (the first layout) still load."""
    table.behavior.add_item("m1")
    path = table.paths.table_path
    meta = store.read_meta(path)
    trials = pd.read_hdf(path, "trials")
    path.unlink()
    trials.to_hdf(path, key="trials", format="table")
    pd.DataFrame({"key": list(meta), "value": list(meta.values())}).to_hdf(path, key="meta", format="table")
    df = bs.load_df(path)
    assert df["uuid"].tolist() == table["uuid"].tolist()
    df.behavior.remove_item("m1", trial_id=1, session_id="2024-01-05")
    assert store.read_meta(path)["revision"] == str(int(meta["revision"]) + 1)
    assert len(bs.load_df(path)) == len(table) - 1


def test_failed_change_writes_nothing(table):
    table.behavior.add_item("m1")
    path = table.paths.table_path
    before = open(path, "rb").read()

    def boom(df):
        raise RuntimeError("change failed")

    with pytest.raises(RuntimeError):
        store.transact(table, boom)
    assert open(path, "rb").read() == before
    assert len(table) == 3
    assert not list(path.parent.glob(".*tmp*"))


def test_unsavable_user_column(table):
    table.behavior.add_item("m1")
    table["bad"] = [object(), object(), object()]
    with pytest.raises(ValueError, match="expected strings, numbers"):
        table.behavior.save()


def test_user_column_survives(table):
    table.behavior.add_item("m1")
    table["quality"] = [1.0, 2.0, 3.0]
    table.behavior.save()
    assert bs.load_df(table.paths.table_path)["quality"].tolist() == [1.0, 2.0, 3.0]


def test_accessor_refuses_plain_frames():
    assert not hasattr(pd.DataFrame({"a": [1]}), "behavior")
    with pytest.raises(AttributeError, match="expected a behavior_soup trial table"):
        pd.DataFrame({"a": [1]}).behavior  # noqa: B018
    with pytest.raises(TableFormatError):
        store.table_info(pd.DataFrame())


def test_strings_named_nan_survive(tmp_path):
    # pandas writes missing strings as "nan" by default and reads "nan" back as missing
    raw = tmp_path / "raw"
    for name in ("front_v1.mp4", "side_v1.mp4"):
        (raw / "nan" / "NaN").mkdir(parents=True, exist_ok=True)
        (raw / "nan" / "NaN" / name).write_bytes(b"")
    df = bs.create_df(tmp_path / "t.h5", raw_root=raw)
    df.behavior.add_item("nan", notes="nan")
    back = bs.load_df(tmp_path / "t.h5")
    assert back.loc[0, ["animal_id", "session_id", "notes"]].tolist() == ["nan", "NaN", "nan"]
    assert pd.read_hdf(tmp_path / "t.h5", "trials").loc[0, "notes"] == "nan"


def test_user_block_stamp_carries_the_write_id(table):
    table.behavior.add_item("m1")
    path = table.paths.table_path
    head = open(path, "rb").read(store.STAMP_SIZE)
    assert head.startswith(store.STAMP_MAGIC)
    info = table.behavior.info
    assert store.read_stamp(path) == info.write_id == store.read_meta(path)["write_id"]
    assert f'"revision": "{info.revision}"'.encode() in head
    with h5py.File(path, "r") as f:  # HDF5 readers skip it
        assert f.userblock_size == store.STAMP_SIZE
    assert len(pd.read_hdf(path, "trials")) == 3


def test_unchanged_table_is_not_reread(table, monkeypatch):
    """A change to a table no one else wrote reads only the stamp; after another writer's
    save the metadata is read and the two are merged."""
    table.behavior.add_item("m1", session_id="2024-01-05", trial_id=1)
    path = table.paths.table_path
    reads = []
    from behavior_soup.store import load

    real = load.read_checked_meta
    monkeypatch.setattr(load, "read_checked_meta", lambda p: reads.append(p) or real(p))
    table.behavior.add_item("m1", session_id="2024-01-05", trial_id=2)
    assert reads == []
    other = bs.load_df(path)
    other.behavior.add_item("m1", session_id="2024-01-05", trial_id=3)
    reads.clear()
    table.behavior.add_item("m2", session_id="2024-01-05", trial_id=1)
    assert reads  # the stamp changed: the metadata and rows were read
    assert sorted(bs.load_df(path)["trial_id"].tolist()) == [1, 1, 2, 3]
    assert int(store.read_meta(path)["revision"]) == table.behavior.info.revision == 5


def test_tables_without_a_stamp_still_work(table):
    """Files whose user block is blank or garbled (older versions, other tools) fall back to
    reading the metadata; the next save stamps them again."""
    table.behavior.add_item("m1", session_id="2024-01-05", trial_id=1)
    path = table.paths.table_path
    for head in (b"\0" * store.STAMP_SIZE, store.STAMP_MAGIC + b"{not json"):
        with open(path, "r+b") as fh:
            fh.write(head)
        assert store.read_stamp(path) is None
        other = bs.load_df(path)
        other.at[0, "notes"] = "kept"
        other.behavior.save()
        assert store.read_stamp(path) == other.behavior.info.write_id
    table.behavior.add_item("m1", session_id="2024-01-05", trial_id=2)  # merges the other writer's edit
    df = bs.load_df(path)
    assert df["notes"].tolist() == ["kept", ""] and df["trial_id"].tolist() == [1, 2]


def test_no_user_block_means_no_stamp(table, monkeypatch):
    """If the HDF5 layer ignores the user-block request, the stamp is not written over the
    file's own first bytes: the table stays readable and is checked through its metadata."""
    real_init = pd.HDFStore.__init__

    def no_user_block(self, *args, **kwargs):
        kwargs.pop("user_block_size", None)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(pd.HDFStore, "__init__", no_user_block)
    table.behavior.add_item("m1")
    path = table.paths.table_path
    assert store.read_stamp(path) is None
    assert len(pd.read_hdf(path, "trials")) == 3
    other = bs.load_df(path)
    other.at[0, "notes"] = "from the other writer"
    other.behavior.save()
    table.behavior.add_item("m2")  # sees the other save through the metadata, merges it
    df = bs.load_df(path)
    assert len(df) == 6 and df.loc[0, "notes"] == "from the other writer"

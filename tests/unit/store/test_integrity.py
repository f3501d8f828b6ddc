"""What users and faults do to the table: slices, dropped columns, full disks, damaged bytes,
malformed files, interrupted removals, read-only data. Nothing is lost."""

from __future__ import annotations

import os
import random
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import tables

import behavior_soup as bs
from behavior_soup import outputs, store
from behavior_soup.errors import TableEditError, TableFormatError, WriteError
from behavior_soup.store.stamp import STAMP_SIZE

from .._child import run_python


@pytest.fixture
def two(table):
    table.behavior.add_item("m1")
    table.behavior.add_item("m2")
    return table


def _on_disk(df):
    return bs.load_df(df.paths.table_path)


# ------------------------------------------------------------------------------------ slices


def test_saving_a_slice_keeps_the_other_rows(two):
    m1 = two[two["animal_id"] == "m1"]
    m1.loc[m1.index[0], "notes"] = "edited in the slice"
    m1.behavior.save()
    disk = _on_disk(two)
    assert len(disk) == 6 and disk["animal_id"].tolist() == ["m1"] * 3 + ["m2"] * 3  # order kept
    assert disk.loc[0, "notes"] == "edited in the slice"
    assert len(m1) == 3 and set(m1["animal_id"]) == {"m1"}  # the slice stays a slice
    # merge=True from a slice, after another writer saved, keeps every row too
    other = _on_disk(two)
    other.at[5, "notes"] = "elsewhere"
    other.behavior.save()
    m1.loc[m1.index[1], "notes"] = "again"
    m1.behavior.save(merge=True)
    disk = _on_disk(two)
    assert len(disk) == 6 and disk.loc[1, "notes"] == "again" and disk.loc[5, "notes"] == "elsewhere"


def test_add_and_remove_through_a_slice(two, raw_copy):
    m2 = two[two["animal_id"] == "m2"].copy()
    shutil.copytree(raw_copy / "m1", raw_copy / "m9")
    m2.behavior.add_item("m9")
    assert len(_on_disk(two)) == 9
    assert sorted(set(m2["animal_id"])) == ["m2", "m9"]  # its rows and those it added
    m2.behavior.remove_item("m2")  # an explicit removal removes, from the whole table
    disk = _on_disk(two)
    assert sorted(disk["animal_id"].unique()) == ["m1", "m9"] and len(disk) == 6
    assert set(m2["animal_id"]) == {"m9"}


def test_rows_dropped_in_memory_are_not_deleted(two):
    kept = two[two["trial_id"] != 2].reset_index(drop=True)
    kept.behavior.save()
    assert len(_on_disk(two)) == 6


def test_dropped_or_renamed_schema_columns_are_refused(two):
    path = two.paths.table_path
    before = open(path, "rb").read()
    for broken in (two.drop(columns=["notes"]), two.rename(columns={"exp_type": "kind"})):
        with pytest.raises(TableEditError, match=r"expected every column .* found \['(notes|exp_type)'\] missing"):
            broken.behavior.save()
    assert open(path, "rb").read() == before


# -------------------------------------------------------------------------------- full disk


SAVE_BIG = """
    import sys, behavior_soup as bs
    from behavior_soup.errors import WriteError
    df = bs.load_df(sys.argv[1])
    df["notes"] = "x" * 200_000
    try:
        df.behavior.save()
    except WriteError as exc:
        print("WriteError", exc)
    else:
        print("saved")
"""


def test_full_disk_keeps_the_old_table(two):
    path = two.paths.table_path
    before = _on_disk(two)
    r = run_python(SAVE_BIG, str(path), fsize=os.path.getsize(path) + 20_000)
    assert r.stdout.startswith("WriteError") and "the previous table is kept" in r.stdout, r.stdout + r.stderr
    pd.testing.assert_frame_equal(_on_disk(two), before)
    assert not list(path.parent.glob(f".{path.name}.tmp-*"))


def test_a_truly_full_filesystem_keeps_the_old_table(two, tmp_path):
    """A real ENOSPC on a small tmpfs (needs root and mount; skipped elsewhere)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)]).returncode:
        pytest.skip("needs root and mount to make a small filesystem")
    try:
        path = mnt / "t.h5"
        shutil.copy(two.paths.table_path, path)
        df = bs.load_df(path, output_root=tmp_path / "out")
        before = df.copy()
        with open(mnt / "filler", "wb") as fh:  # leave about 40 kB free
            fh.write(b"\0" * (os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize - 40_000))
        df["notes"] = "y" * 30_000
        with pytest.raises(WriteError, match="the previous table is kept"):
            df.behavior.save()
        pd.testing.assert_frame_equal(bs.load_df(path, output_root=tmp_path / "out"), before, check_like=True)
        assert not list(mnt.glob(".t.h5.tmp-*"))
    finally:
        subprocess.run(["umount", str(mnt)])


def test_a_write_that_does_not_read_back_is_refused(two, monkeypatch):
    """What PyTables does on some full disks: returns normally, file incomplete."""
    from behavior_soup.store import commit

    real = commit._check_written

    def truncate_then_check(tmp, *args):
        with open(tmp, "r+b") as fh:
            fh.truncate(os.path.getsize(tmp) // 2)
        real(tmp, *args)

    monkeypatch.setattr(commit, "_check_written", truncate_then_check)
    before = _on_disk(two)
    two.at[0, "notes"] = "lost?"
    with pytest.raises(WriteError, match="the previous table is kept"):
        two.behavior.save()
    pd.testing.assert_frame_equal(_on_disk(two), before)


# --------------------------------------------------------------------------- damaged bytes


def test_every_flipped_byte_is_caught_on_load(two):
    path = two.paths.table_path
    good = path.read_bytes()
    rng = random.Random(0)
    positions = sorted(rng.sample(range(STAMP_SIZE, len(good)), 150)) + [STAMP_SIZE, len(good) - 1]
    for pos in positions:
        bad = bytearray(good)
        bad[pos] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(bad))
        with pytest.raises(TableFormatError, match="damaged or changed"):
            bs.load_df(path)
    path.write_bytes(good[:-100])  # truncated
    with pytest.raises(TableFormatError, match="found size"):
        bs.load_df(path)
    path.write_bytes(good)
    assert len(bs.load_df(path)) == 6


def test_a_damaged_table_is_not_merged_into(two):
    other = _on_disk(two)
    other.at[0, "notes"] = "saved elsewhere"
    other.behavior.save()
    path = two.paths.table_path
    data = bytearray(path.read_bytes())
    data[-50] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(TableFormatError, match="damaged"):
        two.behavior.add_item("m1", skip_existing=True)
    assert path.read_bytes() == bytes(data)  # nothing written over it


def test_malformed_table_fails_cleanly_and_poisons_nothing(two, tmp_path, raw_copy):
    bad = tmp_path / "bad.h5"
    shutil.copy(two.paths.table_path, bad)
    with tables.open_file(bad, "a") as f:
        f.remove_node("/trials/table")
    with open(bad, "r+b") as fh:
        fh.write(b"\0" * STAMP_SIZE)  # as an older version wrote it, without a checksum
    with pytest.raises(TableFormatError, match="data node is missing|expected a readable /trials"):
        bs.load_df(bad)
    fresh = bs.create_df(tmp_path / "fresh.h5", raw_root=raw_copy)
    fresh.behavior.add_item("m1")  # later saves in this process still work
    two.behavior.add_item("m1", skip_existing=True)
    assert len(bs.load_df(tmp_path / "fresh.h5")) == 3


def test_row_count_must_match_the_metadata(two):
    from tests.conftest import edit_meta

    path = two.paths.table_path
    edit_meta(path, n_rows=5)
    with pytest.raises(TableFormatError, match="expected 5 rows in /trials .* found 6"):
        bs.load_df(path)


# -------------------------------------------------------------------- interrupted removals


def _with_results(df):
    from behavior_soup.provenance import Provenance

    for _, row in df.iterrows():
        outputs.write_result(
            row.outputs.path,
            trial_id=int(row["trial_id"]),
            uuid=row["uuid"],
            key="behavior/x",
            data={"a": np.arange(3)},
            provenance=Provenance("j", {}),
        )


def test_remove_outputs_is_finished_by_the_next_write(two, monkeypatch):
    _with_results(two)
    m1 = two[two["animal_id"] == "m1"]
    files = [outputs.trial_file(r.outputs.path, int(r["trial_id"])) for _, r in m1.iterrows()]
    assert all(f.is_file() for f in files)
    calls = []

    def crash(*a, **k):  # the process dies between committing the removal and deleting results
        calls.append(a)
        raise KeyboardInterrupt

    monkeypatch.setattr(bs.outputs, "delete_trial", crash)
    with pytest.raises(KeyboardInterrupt):
        two.behavior.remove_item("m1", remove_outputs=True)
    monkeypatch.undo()
    assert calls and set(_on_disk(two)["animal_id"]) == {"m2"}  # rows removed, results still there
    assert all(f.is_file() for f in files)
    assert store.PENDING_KEY in store.read_meta(two.paths.table_path)
    bs.load_df(two.paths.table_path).behavior.save()  # any later write finishes the job
    assert not any(f.is_file() for f in files)
    assert store.PENDING_KEY not in store.read_meta(two.paths.table_path)
    m2 = _on_disk(two)
    assert all(r.outputs.keys() == ["behavior/x"] for _, r in m2.iterrows())  # other trials untouched


def test_pending_removal_spares_a_new_trial_with_the_same_id(two, monkeypatch):
    _with_results(two)
    monkeypatch.setattr(bs.outputs, "delete_trial", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        two.behavior.remove_item("m1", "2024-01-05", 1, remove_outputs=True)
    monkeypatch.undo()
    df = _on_disk(two)
    df.behavior.add_item("m1", "2024-01-05", 1)  # re-added before the sweep: a new uuid
    _with_results(df[df["animal_id"] == "m1"])
    df.behavior.save()
    row = _on_disk(two).query("animal_id == 'm1' and trial_id == 1").iloc[0]
    assert row.outputs.keys() == ["behavior/x"]  # the new trial's results survived the sweep


# ----------------------------------------------------------------------------- read-only


@pytest.fixture
def read_only(tmp_path):
    """A function making a folder read-only for this process: a read-only bind mount as root
    (root ignores permissions), the permission bits otherwise."""
    mounts = []

    def make(folder):
        if os.geteuid() == 0:
            ok = subprocess.run(["mount", "--bind", str(folder), str(folder)]).returncode == 0
            ok = ok and subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)]).returncode == 0
            if not ok:
                pytest.skip("needs mount to make read-only storage as root")
            mounts.append(folder)
        else:
            for p in [folder, *folder.rglob("*")]:
                os.chmod(p, 0o555 if p.is_dir() else 0o444)
        with pytest.raises(OSError):
            (folder / "probe").write_bytes(b"")

    yield make
    for m in mounts:
        subprocess.run(["umount", str(m)])


def test_results_on_read_only_storage_can_be_read(two, tmp_path, read_only):
    _with_results(two)
    ro = tmp_path / "readonly"
    shutil.copytree(two.paths.table_path.parent, ro, ignore=shutil.ignore_patterns("*.lock"))
    read_only(ro)
    df = bs.load_df(ro / two.paths.table_path.name)
    assert len(df) == 6
    assert [r.outputs.read("behavior/x")["a"].tolist() for _, r in df.iterrows()] == [[0, 1, 2]] * 6
    assert [r.outputs.provenance("behavior/x")["job"] for _, r in df.iterrows()] == ["j"] * 6
    assert not list(ro.rglob("*.lock"))

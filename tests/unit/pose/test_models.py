import shutil

import pytest
import yaml

import behavior_soup as bs
from behavior_soup.errors import DataFormatError, ItemExistsError, ItemNotFoundError
from behavior_soup.pose import get_model, update_model


def _config(folder, task="openfield", date="Oct30", iteration=0):
    folder.mkdir(parents=True, exist_ok=True)
    cfg = {
        "Task": task,
        "scorer": "Pranav",
        "date": date,
        "iteration": iteration,
        "TrainingFraction": [0.95, 0.8],
        "bodyparts": ["snout", "leftear", "rightear", "tailbase"],
        "multianimalproject": False,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_register_is_idempotent_and_names_are_unique(table, tmp_path):
    cfg = _config(table.paths.table_path.parent / "dlc" / "openfield")
    m = table.pose.register_model(cfg, shuffle=1)
    assert m.name == "openfield_Oct30_it0_shuffle1_ts0_snap-1"
    assert m.root == "table" and m.config == "dlc/openfield/config.yaml"
    assert m.bodyparts == ("snout", "leftear", "rightear", "tailbase")
    assert table.pose.register_model(cfg, shuffle=1) == m  # same model: same entry
    other = table.pose.register_model(cfg, shuffle=2, name="shuffle2")
    assert other.name == "shuffle2"
    with pytest.raises(ItemExistsError, match="already registered for a different model"):
        table.pose.register_model(cfg, shuffle=3, name="shuffle2")
    models = table.pose.models()
    assert sorted(models["name"]) == sorted([m.name, "shuffle2"])
    # the registry lives in the table file
    again = bs.load_df(table.paths.table_path)
    assert set(again.pose.models()["name"]) == set(models["name"])


def test_bad_registrations(table, tmp_path):
    with pytest.raises(ItemNotFoundError, match="config.yaml"):
        table.pose.register_model(tmp_path / "nope" / "config.yaml")
    bad = tmp_path / "bad" / "config.yaml"
    bad.parent.mkdir()
    bad.write_text("Task: x\n")
    with pytest.raises(DataFormatError, match="expected DeepLabCut config keys"):
        table.pose.register_model(bad)
    cfg = _config(tmp_path / "dlc")
    with pytest.raises(ValueError, match="trainingsetindex < 2"):
        table.pose.register_model(cfg, trainingsetindex=2)
    with pytest.raises(ItemNotFoundError, match="expected a registered pose model"):
        table.pose.train("unknown")


def test_moved_table_and_project_keep_working(table, tmp_path, raw_copy):
    cfg = _config(table.paths.table_path.parent / "dlc")
    m = table.pose.register_model(cfg)
    update_model(table.paths.table_path, m.name, scorer="DLC_resnet50_openfieldOct30shuffle1_1000")
    moved = tmp_path.parent / (tmp_path.name + "_moved")
    shutil.copytree(tmp_path, moved)
    df = bs.load_df(moved / "exp" / table.paths.table_path.name, raw_root=raw_copy)
    m2 = get_model(df, m.name)
    assert m2.scorer.startswith("DLC_resnet50")
    assert m2.config_path(df.paths.table_path, raw_copy) == moved / "exp" / "dlc" / "config.yaml"
    assert m2.config_path(df.paths.table_path, raw_copy).is_file()
    shutil.rmtree(moved)

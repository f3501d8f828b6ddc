"""The table's registry of trained models: relative paths that survive moving the project,
replacement per mode and kind, listing, and unknown kinds refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from behavior_soup.ethogram.models import list_models, model_path, register_trained, registry


def test_register_replace_list_and_move(table, tmp_path):
    tp = Path(table.behavior.info.table_path)
    ck = tp.parent / "models" / "seq" / "model.pt"
    ck.parent.mkdir(parents=True)
    ck.write_bytes(b"x")
    rec = register_trained(tp, "fast", "sequence", ck, {"model_id": "a", "behaviors": ["bg", "walk"]})
    assert rec["path"] == "models/seq/model.pt"  # relative, POSIX
    assert model_path(tp, "fast", "sequence") == ck.resolve()
    outside = tmp_path / "elsewhere.pt"
    register_trained(tp, "fast", "sequence", outside, {"model_id": "b"})
    register_trained(tp, "slow", "flow_generator", ck, {"model_id": "c"})
    assert registry(tp)["fast"]["sequence"] == {"model_id": "b", "path": str(outside.resolve())}
    listed = list_models(tp)
    assert listed[["mode", "kind", "model_id"]].values.tolist() == [
        ["fast", "sequence", "b"],
        ["slow", "flow_generator", "c"],
    ]
    moved = tmp_path / "moved"
    shutil.copytree(tp.parent, moved)
    assert model_path(moved / tp.name, "slow", "flow_generator") == (moved / "models/seq/model.pt").resolve()


def test_unknown_kind_is_refused(table):
    with pytest.raises(ValueError, match="expected a model kind in"):
        model_path(table.behavior.info.table_path, "fast", "tgm")

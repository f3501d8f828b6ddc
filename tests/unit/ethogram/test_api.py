"""The table-level ethogram entry points: model paths, and training settings, kinds and
trials checked before anything runs or is written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from behavior_soup.errors import ItemNotFoundError
from behavior_soup.ethogram import api


@pytest.fixture
def df(table):
    table.behavior.add_item("m1")
    return table


def _table_dir(df) -> Path:
    return Path(df.behavior.info.table_path).parent


def test_resolve_model_paths(df, tmp_path):
    d = _table_dir(df)
    assert api.resolve_model(df, "fast", "sequence", "models/seq.pt") == str(d / "models/seq.pt")
    (d / "models" / "fe").mkdir(parents=True)
    assert api.resolve_model(df, "fast", "feature_extractor", "models/fe") == str(d / "models/fe/model.pt")
    assert api.resolve_model(df, "fast", "sequence", tmp_path / "x.pt") == str(tmp_path / "x.pt")
    with pytest.raises(ItemNotFoundError, match=r"train one with df\.sequence\.train\(mode='fast'"):
        api.resolve_model(df, "fast", "sequence", None)


@pytest.mark.parametrize(
    "accessor, settings, error, match",
    [
        ("flow_generator", {"epochs": 0}, ValueError, "expected epochs to be an integer >= 1, got 0"),
        ("flow_generator", {"smooth_weight": -1}, ValueError, "expected smooth_weight"),
        ("flow_generator", {"epoch": 3}, TypeError, r"unknown \['epoch'\]"),
        ("feature_extractor", {"lr": 0}, ValueError, "expected lr > 0"),
        ("sequence", {"length": 4}, ValueError, "expected length to be an odd integer"),
        ("sequence", {"seq_len": -5}, ValueError, "expected seq_len"),
    ],
)
def test_bad_training_settings_fail_at_the_call_before_anything_is_written(df, accessor, settings, error, match):
    before = sorted(p.name for p in _table_dir(df).iterdir())
    with pytest.raises(error, match=match):
        getattr(df, accessor).train(mode="fast", model_out="models/new", device="cpu", progress=False, **settings)
    assert sorted(p.name for p in _table_dir(df).iterdir()) == before  # no model folder, no outputs


def test_unknown_kind_and_mode(df):
    with pytest.raises(ValueError, match=r"expected a model kind in \['flow_generator'.*got 'flow'"):
        api.train(df, "flow", "fast", "models/x")
    with pytest.raises(ValueError, match="expected mode"):
        api.train(df, "sequence", "fastest", "models/x")


def test_supervised_kinds_need_labels_and_a_parent(df):
    with pytest.raises(ItemNotFoundError, match="expected trials with ground-truth labels to train on, found none"):
        df.feature_extractor.train(mode="fast", model_out="models/fe", device="cpu", progress=False)
    df.behavior.load_labels(progress=False)
    with pytest.raises(ItemNotFoundError, match=r"train one with df\.flow_generator\.train\(mode='fast'"):
        df.feature_extractor.train(mode="fast", model_out="models/fe", device="cpu", progress=False)
    assert not (_table_dir(df) / "models").exists()


def test_training_runs_on_the_dask_client_it_is_given(df):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.Client(processes=True, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        worker_pid = next(iter(client.run(os.getpid).values()))
        s = df.flow_generator.train(mode="fast", model_out="models/flow", epochs=1, input_size=(16, 32),
                                    steps_per_epoch=1, device="cpu", progress=False, backend="dask", client=client)  # fmt: skip
    assert s["run"]["backend"] == "dask" and s["run"]["pid"] == worker_pid != os.getpid()
    registered = df.flow_generator.models().set_index("kind").loc["flow_generator"]
    assert registered["model_id"] == s["model_id"] and (_table_dir(df) / registered["path"]).is_file()

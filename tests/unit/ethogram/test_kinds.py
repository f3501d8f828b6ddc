"""The model-kind registry: the built-in kinds, and a new kind used by building, checkpoint
loading and the table's model registry without other edits."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from behavior_soup.errors import ItemNotFoundError, ModelError  # noqa: E402
from behavior_soup.ethogram import kinds  # noqa: E402
from behavior_soup.ethogram.build import build, from_checkpoint  # noqa: E402
from behavior_soup.ethogram.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from behavior_soup.ethogram.kinds import ModelKind, get_model_kind, register_model_kind  # noqa: E402
from behavior_soup.ethogram.models import model_path  # noqa: E402


@pytest.fixture
def toy_kind():
    kind = ModelKind(
        "toy",
        lambda arch: torch.nn.Linear(arch["n_in"], arch["n_out"]),
        "train_toy",
        __name__,
        parent="sequence",
        parent_param="sequence_model_in",
    )
    yield register_model_kind(kind)
    kinds.MODEL_KINDS.pop("toy")


def test_built_in_kinds_and_their_chain():
    names = list(kinds.MODEL_KINDS)
    assert names[:3] == ["flow_generator", "feature_extractor", "sequence"]
    chain = [(k.name, k.parent, k.parent_param, k.supervised) for k in map(get_model_kind, names[:3])]
    assert chain == [
        ("flow_generator", None, None, False),
        ("feature_extractor", "flow_generator", "flow_model_in", True),
        ("sequence", "feature_extractor", "feature_model_in", True),
    ]
    assert get_model_kind("sequence").train_call == "df.sequence.train"


def test_unknown_kind_and_bad_parent_are_refused():
    with pytest.raises(ValueError, match=r"expected a model kind in \['flow_generator', .*got 'flow'"):
        get_model_kind("flow")
    with pytest.raises(ValueError, match=r"expected a model kind in .*got 'sequence '"):
        build("sequence ", {})
    with pytest.raises(ValueError, match="expected the parent of 'x' to be a registered kind"):
        register_model_kind(ModelKind("x", lambda a: None, "t", __name__, parent="nope", parent_param="p"))


def test_a_new_kind_builds_saves_loads_and_names_its_training_call(toy_kind, tmp_path, table):
    net = build("toy", {"n_in": 3, "n_out": 2})
    assert isinstance(net, torch.nn.Linear) and net.in_features == 3
    save_checkpoint(
        tmp_path / "toy.pt",
        {"kind": "toy", "mode": "fast", "architecture": {"n_in": 3, "n_out": 2}, "state_dict": net.state_dict()},
    )
    back = load_checkpoint(tmp_path / "toy.pt", kind="toy", mode="fast")
    assert torch.equal(from_checkpoint(back).weight, net.weight)
    with pytest.raises(ModelError, match="expected a sequence checkpoint, got a toy checkpoint"):
        load_checkpoint(tmp_path / "toy.pt", kind="sequence")
    with pytest.raises(ItemNotFoundError, match=r"train one with df\.toy\.train\(mode='fast'"):
        model_path(table.behavior.info.table_path, "fast", "toy")


def test_an_unregistered_kind_in_a_file_is_not_a_checkpoint(tmp_path):
    torch.save({"kind": "toy", "state_dict": {}}, tmp_path / "toy.pt")
    with pytest.raises(ModelError, match="expected a behavior_soup ethogram checkpoint"):
        load_checkpoint(tmp_path / "toy.pt")

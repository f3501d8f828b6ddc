"""Checkpoints: round trip without pickled objects, kind and mode checks, atomic writes."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from behavior_soup.errors import ModelError  # noqa: E402
from behavior_soup.ethogram.build import build, from_checkpoint, sequence_arch  # noqa: E402
from behavior_soup.ethogram.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402


def _ckpt(kind="sequence", mode="fast"):
    arch = sequence_arch(3, 8, hidden=4, n_layers=1, length=3)
    torch.manual_seed(0)
    net = build("sequence", arch)
    return net, {
        "kind": kind,
        "mode": mode,
        "architecture": arch,
        "behaviors": ["bg", "a", "b"],
        "thresholds": [0.5, 0.4, 0.3],
        "model_id": "abc",
        "state_dict": net.state_dict(),
    }


def test_round_trip(tmp_path):
    net, ck = _ckpt()
    save_checkpoint(tmp_path / "m.pt", ck)
    back = load_checkpoint(tmp_path / "m.pt", kind="sequence", mode="fast")
    assert back["behaviors"] == ["bg", "a", "b"] and back["thresholds"] == [0.5, 0.4, 0.3]
    assert set(back["versions"]) >= {"torch", "behavior_soup"} and back["created"].endswith("+00:00")
    x, prior = torch.randn(1, 8, 20), torch.randn(1, 3, 20)
    assert torch.equal(from_checkpoint(back)(x, prior), net.eval()(x, prior))
    assert not list(tmp_path.glob(".*tmp"))


def test_wrong_kind_mode_and_foreign_files(tmp_path):
    _, ck = _ckpt()
    save_checkpoint(tmp_path / "m.pt", ck)
    with pytest.raises(ModelError, match="expected a feature_extractor checkpoint, got a sequence"):
        load_checkpoint(tmp_path / "m.pt", kind="feature_extractor")
    with pytest.raises(ModelError, match="expected a checkpoint of mode 'slow', got mode 'fast'"):
        load_checkpoint(tmp_path / "m.pt", mode="slow")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ModelError, match="expected a behavior_soup ethogram checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="expected a readable checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(ModelError, match="found none"):
        load_checkpoint(tmp_path / "missing.pt")

"""The training skeleton: epoch loop, learning-rate schedule, best-epoch selection, warnings,
and the checked configs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from behavior_soup.ethogram.training import FeatureConfig, FlowConfig, SequenceConfig  # noqa: E402
from behavior_soup.ethogram.training.base import TrainConfig, Trainer, cosine_lr  # noqa: E402
from behavior_soup.jobs import TrialContext  # noqa: E402

CTX = TrialContext("u1", "m1", "s1", 1, "behavior", {}, {}, {}, "", "", "", "")


class _Scripted(Trainer):
    """A trainer whose epochs do nothing and whose validation results are scripted."""

    kind = "sequence"

    def run_epoch(self, rng):
        return {"train_loss": 1.0}

    def validate(self):
        score, loss = next(self.script)
        classes = {b: {"f1": f, "accuracy": 1.0, "support": 10} for b, f in self.f1s.items()}
        return score, {"val_loss": loss, "classes": classes}, {"thresholds": [0.5]}


def _scripted_fit(tmp_path, scores, losses, f1s=None, epochs=None):
    """Run the shared epoch loop on a one-parameter model whose validation is scripted."""
    config = TrainConfig(epochs=epochs or len(scores), lr=0.1, resume=False, progress=False)
    trainer = _Scripted([CTX], "fast", str(tmp_path), config)
    trainer.model = torch.nn.Linear(1, 1)
    trainer.optimizer = torch.optim.SGD(trainer.model.parameters(), lr=0.1)
    trainer.script = iter(zip(scores, losses))
    trainer.f1s = f1s or {}
    meta = {"kind": "sequence", "mode": "fast", "architecture": {}, "behaviors": ["a", "b"], "input_size": [8, 8]}
    return trainer.fit(meta)


def test_best_epoch_breaks_saturated_score_ties_by_validation_loss(tmp_path):
    # F1 saturates from epoch 2: the first epoch to reach it is not the best model; epoch 5
    # has the lowest loss but a clearly lower score
    s = _scripted_fit(tmp_path, [0.9, 1.0, 1.0, 0.9996, 0.95], [0.5, 0.4, 0.2, 0.1, 0.05])
    assert s["best_epoch"] == 4
    hist = pd.read_csv(tmp_path / "metrics.csv")
    assert hist["epoch"].tolist() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "scores, losses, best",
    [
        ([0.9, 1.0, 0.985, 0.985], [0.5, 0.3, 0.1, 0.05], 4),  # a one-frame peak does not win
        ([0.5, 0.9, 0.7, 0.95], [0.1, 0.4, 0.05, 0.3], 4),  # a clearly better score does
        ([0.8, 0.6, 0.7], [0.5, 0.1, 0.05], 1),  # a lower loss alone does not
    ],
)
def test_best_epoch_cases(tmp_path, scores, losses, best):
    assert _scripted_fit(tmp_path, scores, losses)["best_epoch"] == best


def test_cosine_learning_rate_per_epoch(tmp_path):
    _scripted_fit(tmp_path, [0.5] * 5, [1.0] * 5)
    lrs = pd.read_csv(tmp_path / "metrics.csv")["lr"].to_numpy()
    np.testing.assert_allclose(lrs[[0, -1]], [0.1, 0.005])
    assert (np.diff(lrs) < 0).all()
    np.testing.assert_allclose(lrs[2], 0.1 * (0.05 + 0.95 * 0.5))  # half way: the mean of both ends
    assert cosine_lr(1.0, 1, 1, 0.05) == 1.0  # a single epoch runs at the full rate


def test_weak_class_warns_with_its_name(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="behavior_soup.ethogram.training.base"):
        _scripted_fit(tmp_path, [0.6, 0.7], [0.5, 0.4], f1s={"walk": 0.95, "groom": 0.31})
    msg = " ".join(r.getMessage() for r in caplog.records)
    assert "validation F1 below 0.5" in msg and "'groom': 0.31" in msg and "walk" not in msg


@pytest.mark.parametrize(
    "cls, bad, match",
    [
        (FlowConfig, {"epochs": 0}, "expected epochs to be an integer >= 1, got 0"),
        (FlowConfig, {"lr": -1e-3}, "expected lr > 0"),
        (FlowConfig, {"val_fraction": 1.0}, "expected val_fraction"),
        (FeatureConfig, {"dropout": 1.5}, "expected dropout"),
        (SequenceConfig, {"length": 14}, "expected length to be an odd integer >= 1, got 14"),
        (SequenceConfig, {"stream_dropout": 2}, "expected stream_dropout"),
    ],
)
def test_configs_refuse_bad_settings(cls, bad, match):
    with pytest.raises(ValueError, match=match):
        cls(**bad)


def test_config_merges_settings_and_refuses_unknown_names():
    cfg = SequenceConfig.merged({"epochs": 3}, {"lr": np.float32(0.5)})
    assert (cfg.epochs, cfg.lr, cfg.batch_size) == (3, 0.5, 8) and type(cfg.lr) is float
    assert SequenceConfig.merged(cfg, {"epochs": 4}).epochs == 4
    with pytest.raises(TypeError, match="unknown \\['epoch'\\]"):
        FlowConfig.merged(None, {"epoch": 3})


def test_trainer_refuses_another_kinds_config(tmp_path):
    class _Seq(_Scripted):
        config_class = SequenceConfig

    with pytest.raises(TypeError, match="expected a SequenceConfig, got FlowConfig"):
        _Seq([CTX], "fast", str(tmp_path), FlowConfig())
    with pytest.raises(ValueError, match="expected model_out to be a folder"):
        _Scripted([CTX], "fast", str(tmp_path / "m.pt"), TrainConfig())

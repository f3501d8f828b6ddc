"""Training mechanics on tiny inputs: trial split, determinism, resume, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from behavior_soup.errors import DeviceError, ItemNotFoundError, ModelError  # noqa: E402
from behavior_soup.ethogram.train import (  # noqa: E402
    split_trials,
    train_feature_extractor,
    train_flow_generator,
)
from behavior_soup.jobs import TrialContext  # noqa: E402

TINY = {"input_size": (16, 32), "batch_size": 4, "steps_per_epoch": 2, "device": "cpu", "progress": False}


@pytest.fixture
def ctxs(table):
    table.behavior.add_item("m1")
    return [TrialContext.from_row(r, table.behavior.info) for _, r in table.iterrows()]


def test_split_by_trial():
    u = [f"u{i}" for i in range(10)]
    train, val = split_trials(u, 0.2, seed=1)
    assert len(val) == 2 and sorted(train + val) == sorted(u) and not set(train) & set(val)
    assert split_trials(u, 0.2, seed=1) == (train, val)
    assert split_trials(u, 0.99)[0]  # never all trials in validation
    assert split_trials(["a", "b"], 0.01)[1] == ["a"] or split_trials(["a", "b"], 0.01)[1] == ["b"]
    assert split_trials(u, val_uuids=["u3"]) == ([x for x in u if x != "u3"], ["u3"])
    with pytest.raises(ValueError, match="at least 2 trials"):
        split_trials(["a"])
    with pytest.raises(ValueError, match="proper subset"):
        split_trials(["a", "b"], val_uuids=["a", "b"])
    with pytest.raises(ValueError, match="proper subset"):
        split_trials(["a", "b"], val_uuids=["zz"])


def _weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


def test_deterministic_and_resume_equals_uninterrupted(ctxs, tmp_path, monkeypatch):
    from behavior_soup.ethogram import train

    torch.set_num_threads(1)
    a = train_flow_generator(ctxs, "fast", str(tmp_path / "a"), epochs=3, **TINY)
    real = train._cosine_lr

    def crash_at_epoch_3(lr, epoch, epochs, frac):
        if epoch == 3:
            raise KeyboardInterrupt  # the process dies after epoch 2
        return real(lr, epoch, epochs, frac)

    monkeypatch.setattr(train, "_cosine_lr", crash_at_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        train_flow_generator(ctxs, "fast", str(tmp_path / "b"), epochs=3, **TINY)
    monkeypatch.undo()
    b = train_flow_generator(ctxs, "fast", str(tmp_path / "b"), epochs=3, **TINY)  # resumes
    wa, wb = _weights(tmp_path / "a" / "last.pt"), _weights(tmp_path / "b" / "last.pt")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert a["model_id"] != b["model_id"]
    hist = pd.read_csv(tmp_path / "b" / "metrics.csv")
    assert hist["epoch"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(hist["val_loss"], pd.read_csv(tmp_path / "a" / "metrics.csv")["val_loss"], rtol=1e-6)
    ck = torch.load(tmp_path / "b" / "model.pt", weights_only=True)
    assert ck["mode"] == "fast" and ck["input_size"] == [16, 32] and len(ck["norm"]["mean"]) == 3
    assert ck["epoch"] == int(hist["epoch"][hist["score"].idxmax()])
    assert set(ck["trained_on"]).isdisjoint(ck["validated_on"]) and len(ck["validated_on"]) == 1
    # a different model in the same folder is not silently resumed
    with pytest.raises(ModelError, match="same model to resume"):
        train_flow_generator(ctxs, "fast", str(tmp_path / "b"), epochs=4, **{**TINY, "input_size": (24, 32)})


def test_refusals(ctxs, tmp_path):
    flow = train_flow_generator(ctxs, "fast", str(tmp_path / "flow"), epochs=1, **TINY)["checkpoint"]
    common = {"epochs": 1, "device": "cpu", "progress": False}
    with pytest.raises(ModelError, match="expected a checkpoint of mode 'slow', got mode 'fast'"):
        train_feature_extractor(ctxs, "slow", str(tmp_path / "fe"), flow, **common)
    with pytest.raises(ItemNotFoundError, match=r"expected ground-truth labels .* found none for \['m1/"):
        train_feature_extractor(ctxs, "fast", str(tmp_path / "fe"), flow, **common)
    with pytest.raises(ValueError, match="expected model_out to be a folder"):
        train_flow_generator(ctxs, "fast", str(tmp_path / "x.pt"), epochs=1, **TINY)
    with pytest.raises(ValueError, match="multiples of 8"):
        train_flow_generator(ctxs, "fast", str(tmp_path / "f2"), epochs=1, **{**TINY, "input_size": (20, 32)})
    with pytest.raises(ValueError, match="expected mode in"):
        train_flow_generator(ctxs, "turbo", str(tmp_path / "f3"), epochs=1, **TINY)
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="expected a CUDA GPU"):
            train_flow_generator(ctxs, "fast", str(tmp_path / "f4"), epochs=1, **{**TINY, "device": "cuda"})


def test_views_are_recorded_and_required(ctxs, tmp_path):
    from behavior_soup.errors import MissingViewError
    from behavior_soup.jobs import TrialContext as TC

    out = train_flow_generator(ctxs, "fast", str(tmp_path / "flow"), epochs=1, **TINY)
    assert torch.load(out["checkpoint"], weights_only=True)["views"] == ["front", "side"]
    one_view = TC(**{**ctxs[0].__dict__, "videos": {"front": ctxs[0].videos["front"]}})
    with pytest.raises(MissingViewError, match="expected a 'side' video for m1/"):
        train_flow_generator([*ctxs[1:], one_view], "fast", str(tmp_path / "f2"), epochs=1, **TINY)


def _scripted_fit(tmp_path, scores, losses, f1s=None, epochs=None):
    """Run the shared epoch loop on a one-parameter model whose validation is scripted."""
    from behavior_soup.ethogram.train import _fit

    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    it = iter(range(len(scores)))

    def run_epoch(rng):
        return {"train_loss": 1.0}

    def validate():
        i = next(it)
        classes = {b: {"f1": f, "accuracy": 1.0, "support": 10} for b, f in (f1s or {}).items()}
        return scores[i], {"val_loss": losses[i], "classes": classes}, {"thresholds": [0.5]}

    meta = {"kind": "sequence", "mode": "fast", "architecture": {}, "behaviors": ["a", "b"], "input_size": [8, 8]}
    return _fit(
        out=tmp_path,
        kind="sequence",
        model=model,
        optimizer=opt,
        epochs=epochs or len(scores),
        seed=0,
        meta=meta,
        run_epoch=run_epoch,
        validate=validate,
        resume=False,
        progress=False,
        lr=0.1,
    )


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
    from behavior_soup.ethogram.train import _cosine_lr

    _scripted_fit(tmp_path, [0.5] * 5, [1.0] * 5)
    lrs = pd.read_csv(tmp_path / "metrics.csv")["lr"].to_numpy()
    np.testing.assert_allclose(lrs[[0, -1]], [0.1, 0.005])
    assert (np.diff(lrs) < 0).all()
    np.testing.assert_allclose(lrs[2], 0.1 * (0.05 + 0.95 * 0.5))  # half way: the mean of both ends
    assert _cosine_lr(1.0, 1, 1, 0.05) == 1.0  # a single epoch runs at the full rate


def test_weak_class_warns_with_its_name(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="behavior_soup.ethogram.train"):
        _scripted_fit(tmp_path, [0.6, 0.7], [0.5, 0.4], f1s={"walk": 0.95, "groom": 0.31})
    msg = " ".join(r.getMessage() for r in caplog.records)
    assert "validation F1 below 0.5" in msg and "'groom': 0.31" in msg and "walk" not in msg


def test_stream_mask_drops_one_stream_and_keeps_the_sum():
    from behavior_soup.ethogram.train import _stream_mask

    m = _stream_mask(10_000, 0.5, np.random.default_rng(0))
    assert set(np.unique(m.sum(axis=1))) == {2.0}
    dropped = (m == 0).any(axis=1)
    assert 0.47 < dropped.mean() < 0.53 and 0.45 < (m[dropped, 0] == 0).mean() < 0.55
    assert (_stream_mask(5, 0.0, np.random.default_rng(0)) == 1).all()

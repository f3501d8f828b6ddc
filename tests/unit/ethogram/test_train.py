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


def test_deterministic_and_resume_equals_uninterrupted(ctxs, tmp_path):
    torch.set_num_threads(1)
    a = train_flow_generator(ctxs, "fast", str(tmp_path / "a"), epochs=3, **TINY)
    train_flow_generator(ctxs, "fast", str(tmp_path / "b"), epochs=2, **TINY)  # "crashes" after epoch 2
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

"""The training tasks on tiny inputs: determinism, resume, views, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from behavior_soup.errors import DeviceError, ItemNotFoundError, ModelError  # noqa: E402
from behavior_soup.ethogram.training import train_feature_extractor, train_flow_generator  # noqa: E402
from behavior_soup.jobs import TrialContext  # noqa: E402

TINY = {"input_size": (16, 32), "batch_size": 4, "steps_per_epoch": 2, "device": "cpu", "progress": False}


@pytest.fixture
def ctxs(table):
    table.behavior.add_item("m1")
    return [TrialContext.from_row(r, table.behavior.info) for _, r in table.iterrows()]


def _weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


def test_deterministic_and_resume_equals_uninterrupted(ctxs, tmp_path, monkeypatch):
    from behavior_soup.ethogram.training import base

    torch.set_num_threads(1)
    a = train_flow_generator(ctxs, "fast", str(tmp_path / "a"), epochs=3, **TINY)
    real = base.cosine_lr

    def crash_at_epoch_3(lr, epoch, epochs, frac):
        if epoch == 3:
            raise KeyboardInterrupt  # the process dies after epoch 2
        return real(lr, epoch, epochs, frac)

    monkeypatch.setattr(base, "cosine_lr", crash_at_epoch_3)
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

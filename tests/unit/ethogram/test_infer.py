"""Running a sequence model on a trial's features: shapes, the residual prior, refusals and
the model cache."""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from behavior_soup.errors import ModelError  # noqa: E402
from behavior_soup.ethogram.build import build, sequence_arch  # noqa: E402
from behavior_soup.ethogram.checkpoint import save_checkpoint  # noqa: E402
from behavior_soup.ethogram.infer import load_model, run_sequence  # noqa: E402


def _sequence(tmp_path, residual=True, name="seq.pt"):
    arch = sequence_arch(3, 8, hidden=4, n_layers=1, length=3, residual=residual)
    torch.manual_seed(0)
    net = build("sequence", arch)
    body = {
        "kind": "sequence",
        "mode": "fast",
        "architecture": arch,
        "behaviors": ["bg", "a", "b"],
        "thresholds": [0.5] * 3,
        "model_id": "m1",
        "state_dict": net.state_dict(),
    }
    return save_checkpoint(tmp_path / name, body), net.eval()


def test_run_sequence_shapes_and_probabilities(tmp_path):
    path, net = _sequence(tmp_path)
    rng = np.random.default_rng(0)
    feats, prior = rng.normal(size=(40, 8)).astype(np.float32), rng.normal(size=(40, 3)).astype(np.float32)
    logits, probs, meta = run_sequence(feats, path, device="cpu", prior=prior)
    assert logits.shape == probs.shape == (40, 3) and logits.dtype == probs.dtype == np.float32
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-logits)), rtol=1e-6)
    with torch.no_grad():
        want = net(torch.from_numpy(feats.T)[None], torch.from_numpy(prior.T)[None])[0].T.numpy()
    np.testing.assert_allclose(logits, want, rtol=1e-5, atol=1e-6)
    assert meta["model_id"] == "m1" and "state_dict" not in meta
    other, _, _ = run_sequence(feats, path, device="cpu", prior=prior + 1)
    assert not np.allclose(other, logits)  # the residual model uses the prior


def test_run_sequence_refusals(tmp_path):
    path, _ = _sequence(tmp_path)
    feats = np.zeros((10, 8), np.float32)
    with pytest.raises(ModelError, match=r"expected features of shape \(T, 8\) .*got \(10, 7\)"):
        run_sequence(feats[:, :7], path, device="cpu", prior=np.zeros((10, 3), np.float32))
    with pytest.raises(ModelError, match=r"expected the feature extractor's logits of shape \(10, 3\).*got None"):
        run_sequence(feats, path, device="cpu")
    with pytest.raises(ModelError, match=r"got \(9, 3\)"):
        run_sequence(feats, path, device="cpu", prior=np.zeros((9, 3), np.float32))


def test_a_model_without_residual_needs_no_prior(tmp_path):
    path, _ = _sequence(tmp_path, residual=False)
    feats = np.random.default_rng(1).normal(size=(12, 8)).astype(np.float32)
    a, _, _ = run_sequence(feats, path, device="cpu")
    b, _, _ = run_sequence(feats, path, device="cpu", prior=np.ones((12, 3), np.float32))
    np.testing.assert_array_equal(a, b)


def test_load_model_caches_by_file_and_checks_kind_and_mode(tmp_path):
    path, _ = _sequence(tmp_path)
    meta, net = load_model(path, "sequence", "cpu")
    assert load_model(path, "sequence", "cpu")[1] is net
    before = path.stat().st_mtime_ns
    save_checkpoint(path, {**torch.load(path, weights_only=True), "model_id": "m2"})
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a new mtime even on a coarse-clock file system
    assert load_model(path, "sequence", "cpu")[0]["model_id"] == "m2"
    with pytest.raises(ModelError, match="expected a sequence checkpoint of mode 'slow', got mode 'fast'"):
        load_model(path, "sequence", "cpu", mode="slow")
    with pytest.raises(ModelError, match="expected a feature_extractor checkpoint, got a sequence checkpoint"):
        load_model(path, "feature_extractor", "cpu")
    with pytest.raises(ModelError, match="found none"):
        load_model(tmp_path / "none.pt", "sequence", "cpu")

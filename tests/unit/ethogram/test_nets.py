"""Shapes and behaviour of the ethogram networks on tiny inputs (CPU, random weights)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from behavior_soup.ethogram.build import build, feature_extractor_arch  # noqa: E402
from behavior_soup.ethogram.modes import get_mode  # noqa: E402
from behavior_soup.ethogram.nets import (  # noqa: E402
    TGM,
    TGMJ,
    HiddenTwoStream,
    build_backbone,
    build_flow_generator,
    load_backbone_weights,
    photometric_loss,
)
from behavior_soup.ethogram.nets.flow import warp  # noqa: E402


@pytest.mark.parametrize("networks", ["deepethogram", "lite"])
@pytest.mark.parametrize("name", ["TinyMotionNet", "MotionNet", "TinyMotionNet3D"])
def test_flow_generator_shapes(name, networks):
    torch.manual_seed(0)
    g = build_flow_generator(name, n_frames=5, networks=networks)
    x = torch.randn(2, 15, 32, 64)
    flows = g(x)
    assert len(flows) >= 3 and flows[0].shape == (2, 8, 16, 32)  # finest: H/2, 2*(L-1) channels
    for a, b in zip(flows, flows[1:]):
        assert b.shape[-1] * 2 == a.shape[-1] and b.shape[1] == 8
    assert 64 % g.coarsest == 0


def test_unknown_flow_generator_and_network_set():
    with pytest.raises(ValueError, match="expected a flow generator in"):
        build_flow_generator("FlowNet9000")
    with pytest.raises(ValueError, match="expected networks in"):
        build_flow_generator("TinyMotionNet", networks="huge")


def two_stream(mode: str, networks: str, n_classes: int = 3):
    arch = feature_extractor_arch(get_mode(mode, networks), n_classes)
    return build("feature_extractor", {**arch, "n_frames": 5})


@pytest.mark.parametrize("networks", ["deepethogram", "lite"])
@pytest.mark.parametrize("mode", ["fast", "medium", "slow"])
def test_two_stream_shapes(mode, networks):
    torch.manual_seed(0)
    m = two_stream(mode, networks).eval()
    assert m.is3d == (mode == "slow")
    with torch.no_grad():
        o = m(torch.randn(2, 15, 32, 64))
    assert o["spatial"].shape == (2, 512) and o["flow"].shape == (2, 512)
    assert o["logits"].shape == (2, 3)
    w = 1.5 if networks == "deepethogram" else 1.0  # DeepEthogram weights the flow stream 1.5
    np.testing.assert_allclose(o["logits"], (o["spatial_logits"] + w * o["flow_logits"]) / (1 + w), atol=1e-6)


@pytest.mark.parametrize("networks", ["deepethogram", "lite"])
def test_frozen_flow_generator_gets_no_gradient(networks):
    torch.manual_seed(0)
    m = two_stream("fast", networks, 2).train()
    assert not m.flow_generator.training
    m(torch.randn(2, 15, 32, 32))["logits"].sum().backward()
    assert all(p.grad is None for p in m.flow_generator.parameters())
    assert all(p.grad is not None for p in m.spatial_backbone.parameters())


def test_lite_streams_by_name():
    m = HiddenTwoStream(build_flow_generator("TinyMotionNet", 5, "lite"), "resnet18", 5, 2)
    assert m.spatial_backbone is m.spatial.backbone and not m.is3d


def test_tgm_kernels_are_normalised_and_any_length_works():
    torch.manual_seed(0)
    layer = TGM(6, n_gaussians=4, n_kernels=3, length=9)
    k = layer.kernels()
    assert k.shape == (3, 9)
    np.testing.assert_allclose(k.sum(1).detach(), 1.0, atol=1e-6)
    for t in (1, 7, 50):
        assert layer(torch.randn(2, 6, t)).shape == (2, 6, t)
    with pytest.raises(ValueError, match="odd kernel length"):
        TGM(4, length=8)


def test_tgmj_shapes_and_causality_window():
    torch.manual_seed(0)
    m = TGMJ(16, 3, hidden=8, n_layers=2, length=5, dropout=0.0).eval()
    x = torch.randn(1, 16, 40)
    y = m(x)
    assert y.shape == (1, 3, 40)
    # the receptive field is 2 layers x 2 frames each side: frame 0 cannot see frame 30
    x2 = x.clone()
    x2[..., 30] += 10
    assert torch.allclose(m(x2)[..., :20], y[..., :20])
    assert not torch.allclose(m(x2)[..., 30], y[..., 30])


def test_residual_tgmj_corrects_the_prior():
    torch.manual_seed(0)
    plain = TGMJ(16, 3, hidden=8, n_layers=2, length=5, dropout=0.0).eval()
    res = TGMJ(16, 3, hidden=8, n_layers=2, length=5, dropout=0.0, residual=True).eval()
    res.load_state_dict(plain.state_dict())
    x, prior = torch.randn(2, 16, 30), torch.randn(2, 3, 30)
    torch.testing.assert_close(res(x, prior), plain(x) + prior)
    with pytest.raises(ValueError, match="expected the feature extractor's logits"):
        res(x)


def test_warp_follows_the_flow_convention():
    # frame_{k+1} is frame_k shifted right by 2 px: frame_k(p) = frame_{k+1}(p + (2, 0))
    torch.manual_seed(0)
    a = torch.rand(1, 3, 16, 24)
    b = torch.roll(a, shifts=2, dims=-1)
    flow = torch.zeros(1, 2, 16, 24)
    flow[:, 0] = 2.0
    np.testing.assert_allclose(warp(b, flow)[..., :, :20], a[..., :, :20], atol=1e-5)


def test_photometric_loss_prefers_the_true_flow():
    torch.manual_seed(0)
    base = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 64, 96), 5, 1, 2)
    frames = [torch.roll(base, shifts=2 * k, dims=-1) for k in range(3)]  # 2 px/frame at full res
    clip = torch.cat(frames, dim=1)
    h, w = 32, 48  # finest flow at H/2: 1 px per frame there

    def flows(v):
        return [torch.full((1, 4, h // s, w // s), 0.0).index_fill_(1, torch.tensor([0, 2]), v / s) for s in (1, 2, 4)]

    assert photometric_loss(clip, flows(1.0)) < 0.5 * photometric_loss(clip, flows(0.0))


def test_load_backbone_weights_adapts_the_first_conv(tmp_path):
    torch.manual_seed(0)
    rgb, _, _ = build_backbone("resnet18", 3)
    path = tmp_path / "weights.pt"
    torch.save(rgb.state_dict(), path)
    flow, _, _ = build_backbone("resnet18", 20)
    missing = load_backbone_weights(flow, path)
    assert missing == []
    w_rgb, w_flow = rgb.conv1.weight, flow.conv1.weight
    np.testing.assert_allclose(w_flow[:, 0].detach(), (w_rgb.mean(1) * 3 / 20).detach(), rtol=1e-5, atol=1e-7)
    assert torch.equal(flow.layer1[0].conv1.weight, rgb.layer1[0].conv1.weight)
    torch.save({"nothing": torch.zeros(1)}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="no parameter names in common"):
        load_backbone_weights(flow, tmp_path / "foreign.pt")

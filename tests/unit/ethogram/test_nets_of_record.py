"""The networks of record are DeepEthogram's, layer for layer: parameter names and shapes
equal to DeepEthogram 0.5.0's (``tests/data/deepethogram_manifest.json``, written by
``scripts/deepethogram_manifest.py`` from DeepEthogram's own code), and the same outputs for
the same weights and input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from behavior_soup.ethogram.build import build, feature_extractor_arch, flow_arch  # noqa: E402
from behavior_soup.ethogram.modes import get_mode  # noqa: E402
from behavior_soup.ethogram.nets import build_flow_generator  # noqa: E402

from .deepethogram_reference import fill, probe_input, probes  # noqa: E402

MANIFEST = json.loads((Path(__file__).parents[2] / "data" / "deepethogram_manifest.json").read_text())
N_CLASSES, L = MANIFEST["n_classes"], MANIFEST["n_frames"]
MODES = ("fast", "medium", "slow")


def entries(net) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in net.state_dict().items()}


def assert_same_entries(ours: dict, theirs: dict) -> None:
    missing, extra = sorted(set(theirs) - set(ours)), sorted(set(ours) - set(theirs))
    assert not missing and not extra, f"missing {missing[:5]}, extra {extra[:5]}"
    wrong = {k: (ours[k], theirs[k]) for k in theirs if ours[k] != theirs[k]}
    assert not wrong, f"shapes differ (ours, DeepEthogram's): {dict(list(wrong.items())[:5])}"


@pytest.mark.parametrize("name", ["TinyMotionNet", "MotionNet", "TinyMotionNet3D"])
def test_flow_generators_have_deepethograms_parameters(name):
    assert_same_entries(entries(build_flow_generator(name, L, "deepethogram")), MANIFEST["flow_generator"][name])


def feature_extractor(mode: str):
    arch = feature_extractor_arch(get_mode(mode), N_CLASSES)
    if mode != "slow":
        arch["spatial_channel"] = int(L / 2 * 3)  # DeepEthogram's own choice of "middle" channels
    return build("feature_extractor", arch)


@pytest.mark.parametrize("mode", MODES)
def test_feature_extractors_have_deepethograms_parameters(mode):
    assert_same_entries(entries(feature_extractor(mode)), MANIFEST["feature_extractor"][mode])


@pytest.mark.parametrize("mode", MODES)
def test_same_weights_give_deepethograms_outputs(mode):
    """Flows at every scale, both streams' 512-d features and the fused logits match what
    DeepEthogram's code computed with the same weights on the same input."""
    net = feature_extractor(mode)
    fill(net)
    net.eval()
    x = probe_input((1, 3 * L, *MANIFEST["probe_size"]))
    if mode == "slow":  # DeepEthogram's 3-D input is (N, 3, L, H, W); ours stacks frames on channels
        x = probe_input((1, 3, L, *MANIFEST["probe_size"])).permute(0, 2, 1, 3, 4).reshape(1, 3 * L, *x.shape[-2:])
    with torch.no_grad():
        flows = net.flow_generator(x)
        out = net(x)
    want = MANIFEST["outputs"][mode]
    got = {f"flow{i}": probes(f) for i, f in enumerate(flows)}
    if mode == "slow":  # DeepEthogram's 3-D flows are (N, 2, L-1, h, w): probe them in that layout
        got = {
            f"flow{i}": probes(f.reshape(1, L - 1, 2, *f.shape[-2:]).permute(0, 2, 1, 3, 4))
            for i, f in enumerate(flows)
        }
    got.update(spatial=probes(out["spatial"]), flow=probes(out["flow"]))
    for key, values in got.items():
        scale = want[key][-1]  # the norm
        np.testing.assert_allclose(values, want[key], rtol=1e-4, atol=1e-4 * scale, err_msg=key)
    np.testing.assert_allclose(out["logits"][0].numpy(), want["logits"], rtol=1e-4, atol=1e-5)


def test_fast_mode_is_deepethograms_size():
    """About 1.95 M parameters in DeepEthogram's TinyMotionNet (the lite one has 0.42 M)."""
    n = sum(p.numel() for p in build_flow_generator("TinyMotionNet", L, "deepethogram").parameters())
    lite = sum(p.numel() for p in build_flow_generator("TinyMotionNet", L, "lite").parameters())
    assert 1.9e6 < n < 2.0e6 and lite < n / 4


def test_architecture_records_name_their_network_set():
    assert flow_arch(get_mode("fast"))["networks"] == "deepethogram"
    assert flow_arch(get_mode("fast", "lite"))["networks"] == "lite"
    old = {"flow_generator": "TinyMotionNet", "n_frames": 5}  # a record from before the networks of record
    assert type(build("flow_generator", old)).__name__ == "TinyMotionNetLite"
    with pytest.raises(ValueError, match="expected networks in"):
        get_mode("fast", "tiny")

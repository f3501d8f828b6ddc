"""Converting DeepEthogram checkpoints: a checkpoint in DeepEthogram's layout (names and shapes
from its manifest, wrapped as DeepEthogram and Lightning save them) becomes a checkpoint of
this library that gives DeepEthogram's outputs; bad files are refused with what was expected."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from behavior_soup.errors import ModelError  # noqa: E402
from behavior_soup.ethogram.build import from_checkpoint  # noqa: E402
from behavior_soup.ethogram.checkpoint import load_checkpoint  # noqa: E402
from behavior_soup.ethogram.convert import import_deepethogram  # noqa: E402

from .deepethogram_reference import probe_input, probes, state  # noqa: E402

MANIFEST = json.loads((Path(__file__).parents[2] / "data" / "deepethogram_manifest.json").read_text())
L = MANIFEST["n_frames"]
BEHAVIORS = ["background", "walk", "groom", "rear", "still"]
NORM = {"mean": [0.4, 0.4, 0.4], "std": [0.2, 0.2, 0.2]}


def deg_checkpoint(path: Path, mode: str, wrap: str = "model.", lightning: bool = True) -> Path:
    sd = {wrap + k: v for k, v in state(MANIFEST["feature_extractor"][mode]).items()}
    torch.save({"epoch": 7, "state_dict": sd} if lightning else sd, path)
    return path


@pytest.mark.parametrize("mode", ["fast", "slow"])
def test_a_deepethogram_feature_extractor_converts_and_gives_its_outputs(tmp_path, mode):
    src = deg_checkpoint(tmp_path / "checkpoint.pt", mode)
    out = import_deepethogram(src, tmp_path / "fe.pt", "feature_extractor", mode, norm=NORM, behaviors=BEHAVIORS,
                              input_size=(64, 64))  # fmt: skip
    ckpt = load_checkpoint(out, kind="feature_extractor", mode=mode)
    assert ckpt["behaviors"] == BEHAVIORS and ckpt["input_size"] == [64, 64] and ckpt["norm"] == NORM
    assert ckpt["architecture"]["networks"] == "deepethogram" and ckpt["thresholds"] == [0.5] * 5
    net = from_checkpoint(ckpt)
    if mode == "slow":
        x = probe_input((1, 3, L, 64, 64)).permute(0, 2, 1, 3, 4).reshape(1, 3 * L, 64, 64)
    else:
        x = probe_input((1, 3 * L, 64, 64))
    with torch.no_grad():
        o = net(x)
    want = MANIFEST["outputs"][mode]
    np.testing.assert_allclose(o["logits"][0].numpy(), want["logits"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(probes(o["spatial"]), want["spatial"], rtol=1e-4, atol=1e-4 * want["spatial"][-1])


def test_a_flow_generator_is_taken_out_of_a_feature_extractor_under_any_wrapper(tmp_path):
    src = deg_checkpoint(tmp_path / "dp.pt", "fast", wrap="module.", lightning=False)
    out = import_deepethogram(src, tmp_path / "flow.pt", "flow_generator", "fast", norm=NORM)
    net = from_checkpoint(load_checkpoint(out, kind="flow_generator"))
    with torch.no_grad():
        flows = net(probe_input((1, 3 * L, 64, 64)))
    np.testing.assert_allclose(probes(flows[0]), MANIFEST["outputs"]["fast"]["flow0"], rtol=1e-4,
                               atol=1e-4 * MANIFEST["outputs"]["fast"]["flow0"][-1])  # fmt: skip


def test_the_table_accessor_registers_the_converted_model(table, tmp_path):
    table.behavior.add_item("m1")
    deg_checkpoint(Path(table.behavior.info.table_path).parent / "deg.pt", "fast")
    out = table.feature_extractor.import_deepethogram("deg.pt", "fast", norm=NORM, behaviors=BEHAVIORS)
    models = table.feature_extractor.models().set_index("kind")
    assert models.loc["feature_extractor", "path"] == "models/deepethogram/fast_feature_extractor.pt"
    assert Path(out).is_file() and models.loc["feature_extractor", "behaviors"] == BEHAVIORS


def test_bad_files_and_fields_are_refused_and_nothing_is_written(tmp_path):
    src = deg_checkpoint(tmp_path / "c.pt", "fast")
    out = tmp_path / "out.pt"
    with pytest.raises(ValueError, match="expected 5 behaviors .* got 3"):
        import_deepethogram(src, out, "feature_extractor", "fast", norm=NORM, behaviors=BEHAVIORS[:3])
    with pytest.raises(ModelError, match="expected DeepEthogram's medium mode shapes|missing"):
        import_deepethogram(src, out, "feature_extractor", "medium", norm=NORM, behaviors=BEHAVIORS)
    with pytest.raises(ValueError, match="expected norm="):
        import_deepethogram(src, out, "flow_generator", "fast", norm={"mean": [0.5]})
    sd = torch.load(src, weights_only=True)["state_dict"]
    del sd["model.flow_generator.conv1.0.weight"]
    torch.save(sd, tmp_path / "cut.pt")
    with pytest.raises(ModelError, match=r"missing \['conv1.0.weight'\]"):
        import_deepethogram(tmp_path / "cut.pt", out, "flow_generator", "fast", norm=NORM)
    torch.save({"state_dict": sd, "hyper": Path("x")}, tmp_path / "pickled.pt")  # needs unpickling a class
    with pytest.raises(ModelError, match="weights_only=True"):
        import_deepethogram(tmp_path / "pickled.pt", out, "flow_generator", "fast", norm=NORM)
    with pytest.raises(ModelError, match="found no file"):
        import_deepethogram(tmp_path / "none.pt", out, "flow_generator", "fast", norm=NORM)
    assert not out.exists()

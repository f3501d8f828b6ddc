"""Write the parameter manifest of DeepEthogram's networks: every ``state_dict`` entry's name
and shape, per network, as DeepEthogram's own code builds them.

The manifest (``tests/data/deepethogram_manifest.json``) is what the networks of record in
:mod:`behavior_soup.ethogram.nets.deepethogram` are tested against: same names, same shapes,
so a DeepEthogram checkpoint loads. Run it with DeepEthogram importable (its model modules need
torch, numpy, opencv and omegaconf, not its GUI or training stack), e.g.::

    pip download deepethogram==0.5.0 --no-deps && unzip deepethogram-0.5.0-py3-none-any.whl -d deg
    PYTHONPATH=deg python scripts/deepethogram_manifest.py tests/data/deepethogram_manifest.json
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.unit.ethogram.deepethogram_reference import fill, probe_input, probes

N_CLASSES = 5  # background + 4 behaviors, as the sample data has
N_FRAMES = 11


PROBE_SIZE = (64, 64)  # a multiple of MotionNet's 32


def outputs(mode: str, model) -> dict[str, list[float]]:
    """Probes of a feature extractor's flows, 512-d features and fused logits on the probe
    input, with :func:`fill`'s weights, in eval mode."""
    import torch

    fill(model)
    model.eval()
    slow = mode == "slow"
    x = probe_input((1, 3, N_FRAMES, *PROBE_SIZE) if slow else (1, 3 * N_FRAMES, *PROBE_SIZE))
    with torch.no_grad():
        flows = model.flow_generator(x)
        spatial = model.spatial_classifier[0](model.viewer(x))
        flow = model.flow_classifier[0](flows[0])
        logits = model.fusion(model.spatial_classifier[1](spatial), model.flow_classifier[1](flow))
    out = {f"flow{i}": probes(f) for i, f in enumerate(flows)}
    out.update(spatial=probes(spatial), flow=probes(flow), logits=[float(v) for v in logits[0]])
    return out


def manifest() -> dict:
    from deepethogram.feature_extractor.models.hidden_two_stream import deg_f, deg_m, deg_s
    from deepethogram.flow_generator.models.MotionNet import MotionNet
    from deepethogram.flow_generator.models.TinyMotionNet import TinyMotionNet
    from deepethogram.flow_generator.models.TinyMotionNet3D import TinyMotionNet3D

    def entries(net) -> dict[str, list[int]]:
        return {k: list(v.shape) for k, v in net.state_dict().items()}

    flows = {"TinyMotionNet": TinyMotionNet, "MotionNet": MotionNet, "TinyMotionNet3D": TinyMotionNet3D}
    out: dict = {"n_classes": N_CLASSES, "n_frames": N_FRAMES, "probe_size": list(PROBE_SIZE)}
    out.update(flow_generator={}, feature_extractor={}, outputs={})
    for name, cls in flows.items():
        out["flow_generator"][name] = entries(cls(num_images=N_FRAMES))
    for mode, make in (("fast", deg_f), ("medium", deg_m), ("slow", deg_s)):
        model = make(N_CLASSES, reload_imagenet=False)
        out["feature_extractor"][mode] = entries(model)
        out["outputs"][mode] = outputs(mode, model)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    body = manifest()
    body["source"] = {
        "package": "deepethogram",
        "version": importlib.metadata.version("deepethogram"),
        "license": "Copyright (c) 2020 President and Fellows of Harvard College; free for academic use",
        "what": "state_dict names and shapes only (no code, no weights)",
    }
    args.out.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n")
    logging.getLogger(__name__).info("wrote %s", args.out)


if __name__ == "__main__":
    main()

"""Networks from checkpoints, and the architecture records checkpoints carry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .modes import ModeSpec

__all__ = ["feature_extractor_arch", "flow_arch", "from_checkpoint", "sequence_arch"]


def flow_arch(spec: ModeSpec) -> dict[str, Any]:
    return {"flow_generator": spec.flow_generator, "n_frames": spec.n_frames}


def feature_extractor_arch(spec: ModeSpec, n_classes: int, dropout: float = 0.25) -> dict[str, Any]:
    return {**flow_arch(spec), "backbone": spec.backbone, "n_classes": n_classes, "dropout": dropout}


def sequence_arch(n_classes: int, in_features: int = 1024, **kw: Any) -> dict[str, Any]:
    arch = {"in_features": in_features, "n_classes": n_classes, "hidden": 128, "n_layers": 3}
    arch.update({"n_gaussians": 16, "n_kernels": 8, "length": 15, "dropout": 0.5, "residual": True})
    arch.update(kw)
    return arch


def build(kind: str, arch: Mapping[str, Any]) -> Any:
    """A randomly initialised network of ``kind`` from its architecture record."""
    from .nets import TGMJ, HiddenTwoStream, build_flow_generator

    if kind == "flow_generator":
        return build_flow_generator(arch["flow_generator"], arch["n_frames"])
    if kind == "feature_extractor":
        gen = build_flow_generator(arch["flow_generator"], arch["n_frames"])
        return HiddenTwoStream(gen, arch["backbone"], arch["n_frames"], arch["n_classes"], arch["dropout"])
    if kind == "sequence":
        return TGMJ(**arch)
    raise ValueError(f"expected a model kind in ('flow_generator', 'feature_extractor', 'sequence'), got {kind!r}")


def from_checkpoint(ckpt: Mapping[str, Any]) -> Any:
    """The network of a loaded checkpoint with its weights, in eval mode."""
    net = build(ckpt["kind"], ckpt["architecture"])
    net.load_state_dict(ckpt["state_dict"])
    return net.eval()

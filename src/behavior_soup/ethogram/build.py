"""Networks from checkpoints, and the architecture records checkpoints carry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .kinds import get_model_kind
from .modes import ModeSpec

__all__ = ["feature_extractor_arch", "flow_arch", "from_checkpoint", "sequence_arch"]


def flow_arch(spec: ModeSpec) -> dict[str, Any]:
    """The architecture record of a mode's flow generator.

    Parameters
    ----------
    spec
        The mode (see :mod:`.modes`).

    Returns
    -------
    dict
        ``{"flow_generator": str, "n_frames": int}``: the network's name and the clip length.
    """
    return {"flow_generator": spec.flow_generator, "n_frames": spec.n_frames}


def feature_extractor_arch(spec: ModeSpec, n_classes: int, dropout: float = 0.25) -> dict[str, Any]:
    """The architecture record of a mode's hidden two-stream feature extractor.

    Parameters
    ----------
    spec
        The mode (see :mod:`.modes`).
    n_classes
        Behaviors it predicts, background included.
    dropout
        Dropout before each stream's classifier, in [0, 1).

    Returns
    -------
    dict
        :func:`flow_arch`'s fields plus ``backbone`` (the ResNet's name), ``n_classes`` and
        ``dropout``.
    """
    return {**flow_arch(spec), "backbone": spec.backbone, "n_classes": n_classes, "dropout": dropout}


def sequence_arch(n_classes: int, in_features: int = 1024, **kw: Any) -> dict[str, Any]:
    """The architecture record of a TGMJ sequence model.

    Parameters
    ----------
    n_classes
        Behaviors it predicts, background included.
    in_features
        Width of the per-frame features (spatial and flow, concatenated).
    **kw
        Values replacing the defaults: ``hidden`` (128), ``n_layers`` (3), ``n_gaussians``
        (16), ``n_kernels`` (8), ``length`` (15), ``dropout`` (0.5), ``residual`` (True).

    Returns
    -------
    dict
        ``in_features``, ``n_classes`` and the fields above.
    """
    arch = {"in_features": in_features, "n_classes": n_classes, "hidden": 128, "n_layers": 3}
    arch.update({"n_gaussians": 16, "n_kernels": 8, "length": 15, "dropout": 0.5, "residual": True})
    arch.update(kw)
    return arch


def build(kind: str, arch: Mapping[str, Any]) -> Any:
    """A randomly initialised network of ``kind`` from its architecture record.

    Parameters
    ----------
    kind
        A registered model kind (see :mod:`.kinds`).
    arch
        The architecture record (``flow_arch``, ``feature_extractor_arch``, ``sequence_arch``).

    Returns
    -------
    torch.nn.Module
    """
    return get_model_kind(kind).build(arch)


def from_checkpoint(ckpt: Mapping[str, Any]) -> Any:
    """The network of a loaded checkpoint with its weights, in eval mode.

    Parameters
    ----------
    ckpt
        A checkpoint as :func:`.checkpoint.load_checkpoint` returns it (``kind``,
        ``architecture``, ``state_dict``).

    Returns
    -------
    torch.nn.Module
        The network with the checkpoint's weights, on the CPU, in eval mode.
    """
    net = build(ckpt["kind"], ckpt["architecture"])
    net.load_state_dict(ckpt["state_dict"])
    return net.eval()

"""Networks from checkpoints, and the architecture records checkpoints carry."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .kinds import get_model_kind
from .modes import ModeSpec

__all__ = ["feature_extractor_arch", "flow_arch", "from_checkpoint", "sequence_arch", "untrained_models"]


def flow_arch(spec: ModeSpec) -> dict[str, Any]:
    """The architecture record of a mode's flow generator.

    Parameters
    ----------
    spec
        The mode (see :mod:`.modes`).

    Returns
    -------
    dict
        ``{"flow_generator": str, "n_frames": int, "networks": str}``: the network's name,
        the clip length and the network set (``"deepethogram"`` or ``"lite"``).
    """
    return {"flow_generator": spec.flow_generator, "n_frames": spec.n_frames, "networks": spec.networks}


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


def untrained_models(
    folder: str | os.PathLike,
    mode: str,
    behaviors: Sequence[str],
    size: int = 224,
    seed: int = 0,
    networks: str = "deepethogram",
) -> tuple[Path, Path]:
    """A feature extractor and a sequence model for ``mode`` with random weights (seeded),
    saved as checkpoints ``df.behavior.infer`` accepts: for benchmarks and for checking that a
    pipeline runs (and gives the same numbers wherever it runs) without training first.

    Parameters
    ----------
    folder
        Where the two ``.pt`` files go (created).
    mode
        ``"fast"``, ``"medium"`` or ``"slow"``.
    behaviors
        Behavior names, background first.
    size
        Input height and width in pixels.
    seed
        Torch seed of the weights.
    networks
        ``"deepethogram"`` (the networks of record) or ``"lite"``.

    Returns
    -------
    tuple of pathlib.Path
        The feature extractor's and the sequence model's checkpoints.
    """
    from .._torch import torch
    from .checkpoint import save_checkpoint
    from .modes import get_mode

    spec = get_mode(mode, networks)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = len(behaviors)
    common = {
        "mode": mode,
        "behaviors": list(behaviors),
        "input_size": [size, size],
        "n_frames": spec.n_frames,
        "views": None,
        "norm": {"mean": [0.3] * 3, "std": [0.2] * 3},
        "thresholds": [0.5] * n,
    }
    torch().manual_seed(seed)
    out = []
    for kind, arch in (("feature_extractor", feature_extractor_arch(spec, n)), ("sequence", sequence_arch(n))):
        tag = f"{mode}_{networks}_{size}_{'fe' if kind == 'feature_extractor' else 'seq'}"
        ckpt = {**common, "kind": kind, "architecture": arch, "model_id": f"untrained-{tag}-{seed}",
                "state_dict": build(kind, arch).state_dict()}  # fmt: skip
        out.append(save_checkpoint(folder / f"{tag}.pt", ckpt))
    return out[0], out[1]

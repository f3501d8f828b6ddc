"""Checkpoints from DeepEthogram (and tools that wrap it, such as animal-soup) as checkpoints
of this library.

The networks of record are DeepEthogram's, layer for layer, so converting is renaming: the
file's ``state_dict`` (a bare one, or one under ``"state_dict"``, as DeepEthogram and
PyTorch Lightning save them) loses the prefixes wrappers add (``module.`` from
``DataParallel``, ``model.`` from a Lightning module, ``flow_generator.`` when a flow generator
is taken out of a whole feature extractor), every parameter of the network is checked to be
there with its shape, and the result is written with what DeepEthogram keeps outside the
checkpoint: behaviors, normalisation (its ``project_config.yaml`` has them under ``project.
class_names`` and ``augs.normalization``) and input size (``augs.resize``). Files are read
with ``weights_only=True``: a checkpoint that needs unpickling arbitrary objects is refused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from .._torch import torch as _torch
from ..errors import ModelError
from ..provenance import now_iso
from .build import build, feature_extractor_arch, flow_arch
from .checkpoint import new_model_id, save_checkpoint
from .models import register_trained
from .modes import check_input_size, get_mode

__all__ = ["import_deepethogram", "strip_prefixes"]

WRAPPER_PREFIXES = ("", "module.", "model.", "model.module.", "module.model.")
INNER_PREFIXES = {"flow_generator": ("", "flow_generator."), "feature_extractor": ("",)}


def _read_state(path: Path) -> dict[str, Any]:
    torch = _torch()
    if not path.is_file():
        raise ModelError(f"expected a DeepEthogram checkpoint at {str(path)!r}, found no file")
    try:
        body = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(
            f"expected a checkpoint of tensors and plain values at {str(path)!r}, got one that does not load "
            f"with weights_only=True ({type(exc).__name__}: {str(exc).splitlines()[0]}); re-save its state_dict "
            "with torch.save(ckpt['state_dict'], 'weights.pt')"
        ) from exc
    if isinstance(body, Mapping) and isinstance(body.get("state_dict"), Mapping):
        body = body["state_dict"]
    if not isinstance(body, Mapping) or not all(hasattr(v, "shape") for v in body.values()):
        raise ModelError(
            f"expected a state_dict (parameter name -> tensor) in {str(path)!r}, got {type(body).__name__}"
        )
    return dict(body)


def strip_prefixes(state: Mapping[str, Any], want: Sequence[str], inner: Sequence[str] = ("",)) -> dict[str, Any]:
    """The entries of ``state`` named as in ``want`` once a wrapper prefix is removed.

    Parameters
    ----------
    state
        A foreign ``state_dict``.
    want
        The parameter names of the network to load.
    inner
        Prefixes of the part to take (``"flow_generator."`` to take a flow generator out of a
        feature extractor), tried after each wrapper prefix.

    Returns
    -------
    dict
        ``want``'s names -> tensors, for the first prefix that provides every one of them.

    Raises
    ------
    ModelError
        No prefix provides them all; the message names the closest prefix and what it lacks.
    """
    best: tuple[int, str, list[str]] = (-1, "", list(want))
    for outer in WRAPPER_PREFIXES:
        for part in inner:
            prefix = outer + part
            missing = [k for k in want if prefix + k not in state]
            if not missing:
                return {k: state[prefix + k] for k in want}
            if len(want) - len(missing) > best[0]:
                best = (len(want) - len(missing), prefix, missing)
    found, prefix, missing = best
    raise ModelError(
        f"expected the {len(want)} parameters of the network (e.g. {want[0]!r}), found {found} "
        f"(with prefix {prefix!r}); missing {missing[:4]}{' ...' if len(missing) > 4 else ''}"
    )


def import_deepethogram(
    path: str | os.PathLike,
    out: str | os.PathLike,
    kind: Literal["flow_generator", "feature_extractor"],
    mode: str,
    *,
    norm: Mapping[str, Sequence[float]],
    input_size: Sequence[int] = (224, 224),
    behaviors: Sequence[str] | None = None,
    views: Sequence[str] | None = None,
    thresholds: Sequence[float] | None = None,
    table_path: str | os.PathLike | None = None,
) -> Path:
    """Convert a DeepEthogram flow generator or feature extractor checkpoint.

    Parameters
    ----------
    path
        The DeepEthogram (or animal-soup) checkpoint: ``checkpoint.pt`` or a Lightning
        ``.ckpt``. For a flow generator, a feature extractor's file works too (its flow
        generator is taken).
    out
        The ``.pt`` file to write.
    kind
        ``"flow_generator"`` or ``"feature_extractor"``.
    mode
        ``"fast"``, ``"medium"`` or ``"slow"``: which DeepEthogram model it is (DEG_f,
        DEG_m, DEG_s).
    norm
        ``{"mean": [r, g, b], "std": [r, g, b]}`` for pixels in [0, 1]: DeepEthogram's
        ``augs.normalization``.
    input_size
        ``(H, W)`` the model was trained at: DeepEthogram's ``augs.resize``.
    behaviors
        For a feature extractor: the class names, background first (DeepEthogram's
        ``project.class_names``); their number must equal the checkpoint's classes.
    views
        Camera views side by side in its input; None for one view.
    thresholds
        Per-class thresholds; None for 0.5 each.
    table_path
        When given, register the converted model in this table as the mode's ``kind``.

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    ModelError
        The file is not a state dict, lacks a parameter, or a shape differs.
    ValueError
        Bad ``kind``, ``mode``, ``norm``, ``input_size`` or ``behaviors``.
    """
    if kind not in INNER_PREFIXES:
        raise ValueError(f"expected kind in {sorted(INNER_PREFIXES)}, got {kind!r}")
    spec = get_mode(mode)
    size = check_input_size(input_size, spec, len(views) if views else 1)
    if not isinstance(norm, Mapping) or any(len(list(norm.get(k, ()))) != 3 for k in ("mean", "std")):
        raise ValueError(f"expected norm={{'mean': [r, g, b], 'std': [r, g, b]}}, got {norm!r}")
    path = Path(path)
    state = _read_state(path)
    n_classes = None
    if kind == "feature_extractor":
        key = next((k for k in state if k.endswith("spatial_classifier.1.weight")), None)
        if key is None:
            raise ModelError(f"expected a hidden two-stream feature extractor in {str(path)!r}, found no classifier")
        n_classes = int(state[key].shape[0])
        if behaviors is None or len(behaviors) != n_classes:
            raise ValueError(
                f"expected {n_classes} behaviors (background first) for the checkpoint's {n_classes} classes, "
                f"got {None if behaviors is None else len(behaviors)}"
            )
        arch = feature_extractor_arch(spec, n_classes)
        if not spec.backbone.startswith("resnet3d"):
            arch["spatial_channel"] = int(spec.n_frames / 2 * 3)  # DeepEthogram's "middle" channels
    else:
        arch = flow_arch(spec)
    net = build(kind, arch)
    own = net.state_dict()
    taken = strip_prefixes(state, list(own), INNER_PREFIXES[kind])
    wrong = [f"{k}: expected {tuple(v.shape)}, got {tuple(taken[k].shape)}" for k, v in own.items()
             if tuple(taken[k].shape) != tuple(v.shape)]  # fmt: skip
    if wrong:
        raise ModelError(f"expected DeepEthogram's {mode} mode shapes in {str(path)!r}; {'; '.join(wrong[:3])}")
    net.load_state_dict(taken)
    n = len(behaviors) if behaviors is not None else None
    if thresholds is not None and len(thresholds) != n:
        raise ValueError(f"expected {n} thresholds, one per behavior, got {len(thresholds)}")
    ckpt = {
        "kind": kind,
        "mode": mode,
        "architecture": arch,
        "behaviors": list(behaviors) if behaviors is not None else None,
        "input_size": list(size),
        "n_frames": spec.n_frames,
        "views": list(views) if views else None,
        "norm": {"mean": [float(v) for v in norm["mean"]], "std": [float(v) for v in norm["std"]]},
        "thresholds": [float(t) for t in thresholds] if thresholds is not None else ([0.5] * n if n else None),
        "model_id": new_model_id(),
        "parents": [],
        "params": {"converted_from": str(path), "layout": "deepethogram"},
        "state_dict": net.state_dict(),
    }
    written = save_checkpoint(out, ckpt)
    if table_path is not None:
        entry = {"model_id": ckpt["model_id"], "behaviors": ckpt["behaviors"], "created": now_iso(), "metrics": {}}
        register_trained(table_path, mode, kind, written, {**entry, "converted_from": str(path)})
    return written

"""Loading trained checkpoints as networks ready for inference, with a small cache.

:func:`load_model` checks a checkpoint's kind and mode and keeps the last few loaded
networks (by file, modification time and device), so running many trials in one process
loads each checkpoint once.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

from .._torch import torch as _torch
from ..errors import ModelError
from .build import from_checkpoint
from .checkpoint import load_checkpoint

__all__ = ["load_model"]

_CACHE: OrderedDict[tuple, tuple[dict, Any]] = OrderedDict()
_CACHE_SIZE = 4


def load_model(path: str | os.PathLike, kind: str, device: str, mode: str | None = None) -> tuple[dict, Any]:
    """``(checkpoint metadata, network on device in eval mode)``, cached by path, file
    modification time and device.

    Parameters
    ----------
    path
        The checkpoint file.
    kind
        ``"flow_generator"``, ``"feature_extractor"`` or ``"sequence"``: what the checkpoint must be.
    device
        A resolved torch device (``"cpu"``, ``"cuda:0"``, ...), not ``"auto"``.
    mode
        If given, the mode the checkpoint must have been trained for.

    Returns
    -------
    meta : dict
        The checkpoint without its weights, optimizer state and history (``mode``,
        ``model_id``, ``behaviors``, ``architecture``, ...).
    net : torch.nn.Module
        The network on ``device`` (a 2-D feature extractor in channels-last memory format).

    Raises
    ------
    ModelError
        If there is no file at ``path``, it is not a checkpoint of ``kind``, or its mode is not
        ``mode``.
    """
    torch = _torch()
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"expected a {kind} checkpoint at {str(p)!r}, found none")
    key = (str(p.resolve()), p.stat().st_mtime_ns, kind, device)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        meta, net = _CACHE[key]
    else:
        ckpt = load_checkpoint(p, kind=kind)  # type: ignore[arg-type]
        net = from_checkpoint(ckpt).to(device)
        if kind == "feature_extractor" and not net.is3d:
            net = net.to(memory_format=torch.channels_last)
        meta = {k: v for k, v in ckpt.items() if k not in ("state_dict", "optimizer", "history")}
        _CACHE[key] = (meta, net)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    if mode is not None and meta.get("mode") != mode:
        raise ModelError(f"expected a {kind} checkpoint of mode {mode!r}, got mode {meta.get('mode')!r} at {str(p)!r}")
    return meta, net

"""Ethogram model checkpoints: weights plus everything needed to use them correctly.

A checkpoint is a ``torch.save``'d dict of tensors and plain values only (loaded with
``weights_only=True``; nothing pickled):

- ``kind``: ``"flow_generator"``, ``"feature_extractor"`` or ``"sequence"``;
- ``mode``, ``architecture`` (network names and sizes), ``behaviors`` (background first),
  ``input_size`` ``(H, W)``, ``n_frames``, ``views``, ``norm`` (per-channel mean and std);
- ``thresholds`` (per class, fitted on validation), ``metrics`` (per epoch), ``epoch``;
- ``model_id`` (random), ``parents`` (model ids it was built on), ``trained_on`` and
  ``validated_on`` (trial uuids), ``versions``, ``created``, ``seed``, ``params``;
- ``state_dict``; a resumable ``last.pt`` also has ``optimizer`` and ``history``.

Files are written to a temporary name and moved into place, so a crash never leaves a
half-written checkpoint.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from .._torch import torch as _torch
from ..errors import ModelError
from ..locking import atomic_write
from ..provenance import now_iso, package_versions
from .kinds import MODEL_KINDS

__all__ = ["Kind", "load_checkpoint", "new_model_id", "save_checkpoint"]

#: The built-in kinds (see :mod:`.kinds` for all registered ones).
Kind = Literal["flow_generator", "feature_extractor", "sequence"]
VERSION_PACKAGES = ("torch", "torchvision")


def new_model_id() -> str:
    """A new random model id.

    Returns
    -------
    str
        32 lowercase hexadecimal characters (a random UUID).
    """
    return uuid.uuid4().hex


def save_checkpoint(path: str | os.PathLike, ckpt: Mapping[str, Any]) -> Path:
    """Write ``ckpt`` (see the module docstring) atomically; fills ``versions`` and
    ``created`` when absent.

    Parameters
    ----------
    path
        The file to write; its folder is made if missing.
    ckpt
        The checkpoint: tensors and plain values only.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    torch = _torch()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = dict(ckpt)
    body.setdefault("versions", package_versions(VERSION_PACKAGES))
    body.setdefault("created", now_iso())
    atomic_write(path, lambda tmp: torch.save(body, tmp))
    return path


def load_checkpoint(
    path: str | os.PathLike,
    kind: Kind | None = None,
    mode: str | None = None,
    map_location: str = "cpu",
) -> dict[str, Any]:
    """Read a checkpoint and check it is of ``kind`` and ``mode``.

    Parameters
    ----------
    path
        The checkpoint file.
    kind
        The kind it must be; None for any.
    mode
        The mode it must have been trained for; None for any.
    map_location
        Where to load the tensors (``torch.load``'s ``map_location``).

    Returns
    -------
    dict
        The checkpoint (see the module docstring), with ``path`` set to ``str(path)``.

    Raises
    ------
    ModelError
        No such file, not a behavior_soup checkpoint, or of another kind or mode.
    """
    torch = _torch()
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"expected a model checkpoint at {str(path)!r}, found none")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise ModelError(f"expected a readable checkpoint at {str(path)!r}, got {type(exc).__name__}: {exc}") from exc
    if not isinstance(ckpt, dict) or ckpt.get("kind") not in MODEL_KINDS or "state_dict" not in ckpt:
        raise ModelError(f"expected a behavior_soup ethogram checkpoint at {str(path)!r}, found another kind of file")
    if kind is not None and ckpt["kind"] != kind:
        raise ModelError(f"expected a {kind} checkpoint, got a {ckpt['kind']} checkpoint at {str(path)!r}")
    if mode is not None and ckpt.get("mode") != mode:
        raise ModelError(
            f"expected a checkpoint of mode {mode!r}, got mode {ckpt.get('mode')!r} at {str(path)!r}; "
            "train or pick a model of the same mode"
        )
    ckpt["path"] = str(path)
    return ckpt

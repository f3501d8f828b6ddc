"""Small torch helpers shared by the ethogram and pose stacks (torch imported when called)."""

from __future__ import annotations

import os
from typing import Any

from .errors import DeviceError, require

_THREADS_SET: list[str] = []


def torch() -> Any:
    """``import torch``, or a :class:`MissingDependencyError` naming the ``ethogram`` extra.

    Where ``BEHAVIOR_SOUP_TORCH_THREADS`` is set (a cluster worker's setting, see
    :class:`behavior_soup.cluster.WorkerSettings`), torch's intra-op threads are set to it.
    """
    t = require("torch", "ethogram", "the ethogram models")
    want = os.environ.get("BEHAVIOR_SOUP_TORCH_THREADS", "")
    if want and _THREADS_SET != [want]:
        _THREADS_SET[:] = [want]
        if want.isdigit() and int(want) > 0 and t.get_num_threads() != int(want):
            t.set_num_threads(int(want))
    return t


def resolve_device(device: str) -> str:
    """``"auto"`` -> ``"cuda"`` if a GPU is usable, else ``"cpu"``.

    Raises
    ------
    DeviceError
        ``"cuda"`` (or ``"cuda:N"``) asked for without a usable GPU.
    """
    t = torch()
    if device == "auto":
        return "cuda" if t.cuda.is_available() else "cpu"
    if not isinstance(device, str) or not (device == "cpu" or device.startswith("cuda")):
        raise ValueError(f"expected device 'auto', 'cpu' or 'cuda[:N]', got {device!r}")
    if device.startswith("cuda") and not t.cuda.is_available():
        raise DeviceError(f"expected a CUDA GPU for device={device!r}, found none; use device='cpu' or 'auto'")
    return device


def seed_all(seed: int) -> None:
    """Seed torch's CPU and CUDA generators (numpy generators are passed explicitly)."""
    t = torch()
    t.manual_seed(seed)
    if t.cuda.is_available():
        t.cuda.manual_seed_all(seed)

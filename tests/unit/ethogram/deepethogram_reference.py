"""Deterministic weights, inputs and output probes for comparing networks layer for layer
(ours against DeepEthogram's, in ``scripts/deepethogram_manifest.py`` and the tests): every
``state_dict`` entry gets values that depend only on its name and shape, so two networks with
the same names and the same computation give the same outputs."""

from __future__ import annotations

import zlib

import numpy as np

PROBES = 4


def state(shapes: dict[str, list[int]]) -> dict:
    """A ``state_dict`` for parameter names and shapes: values from each name (numpy PCG64,
    platform-stable), batch-norm statistics in sane ranges."""
    import torch

    out = {}
    for name, shape in shapes.items():
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        shape = tuple(shape)
        if name.endswith("num_batches_tracked"):
            out[name] = torch.zeros(shape, dtype=torch.long)
            continue
        if name.endswith("running_var") or (len(shape) == 1 and name.endswith("weight")):
            v = rng.uniform(0.5, 1.5, shape)
        elif len(shape) == 1:
            v = rng.uniform(-0.1, 0.1, shape)
        else:
            v = rng.uniform(-1.0, 1.0, shape) * np.sqrt(3.0 / int(np.prod(shape[1:])))
        out[name] = torch.from_numpy(np.asarray(v, dtype=np.float32))
    return out


def fill(net) -> None:
    """Set every ``state_dict`` entry of ``net`` with :func:`state`'s values."""
    net.load_state_dict(state({k: list(v.shape) for k, v in net.state_dict().items()}))


def probe_input(shape: tuple[int, ...]):
    """A fixed float32 input tensor of ``shape``, values in [-0.5, 0.5)."""
    import torch

    return torch.from_numpy(np.random.default_rng(12345).random(shape).astype(np.float32) - 0.5)


def probes(t) -> list[float]:
    """Fixed random projections of a tensor, plus its norm: a compact fingerprint."""
    x = t.detach().double().reshape(-1).numpy()
    proj = np.random.default_rng(x.size).random((PROBES, x.size)) - 0.5
    return [float(v) for v in proj @ x] + [float(np.linalg.norm(x))]

"""Trials with videos, labels and a stored predicted ethogram (the labels with some frames
flipped), for the viewers and the cleaner."""

from __future__ import annotations

import os

import numpy as np
import pytest

from behavior_soup.ethogram.jobs import LABELS_KEY
from behavior_soup.provenance import Provenance

os.environ.setdefault("RENDERCANVAS_FORCE_OFFSCREEN", "1")
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")


def predicted(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Labels with 10% of the frames' behavior moved to a random other one."""
    idx = labels.argmax(axis=1)
    flip = rng.random(len(idx)) < 0.1
    idx[flip] = rng.integers(0, labels.shape[1], flip.sum())
    out = np.zeros_like(labels)
    out[np.arange(len(idx)), idx] = 1
    return out.astype(np.int8)


@pytest.fixture
def trials(table, sample):
    """Animal m1's three trials: labels, ``fast/ethogram`` and ``fast/sequence``."""
    rng = np.random.default_rng(0)
    table.behavior.add_item("m1", exp_type="openfield")
    table.behavior.load_labels(progress=False)
    for _, row in table.iterrows():
        ctx = row.behavior.context()
        lab = ctx.read(LABELS_KEY)
        pred = predicted(np.asarray(lab["array"]), rng)
        probs = np.clip(pred * 0.8 + rng.random(pred.shape) * 0.2, 0, 1).astype(np.float32)
        behaviors = list(lab["behaviors"])
        ctx.write_many(
            {
                "fast/ethogram": ({"array": pred, "behaviors": behaviors}, Provenance("test", {}).finish()),
                "fast/sequence": ({"probabilities": probs, "behaviors": behaviors}, Provenance("test", {}).finish()),
            }
        )
    return table


def fastplotlib_or_skip() -> None:
    from behavior_soup.viz.backends import BACKENDS

    why = BACKENDS["fastplotlib"].check()
    if why is not None:
        pytest.skip(why)


@pytest.fixture(params=["fastplotlib", "matplotlib"])
def backend(request):
    """Each drawing backend in turn: fastplotlib (skipped without a Vulkan adapter), matplotlib on Agg."""
    if request.param == "fastplotlib":
        fastplotlib_or_skip()
    else:
        import matplotlib

        matplotlib.use("Agg")
    return request.param

"""Per-view training augmentation: settings, exact flips, one transform per clip."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from behavior_soup.ethogram.augment import (  # noqa: E402
    Augmentation,
    as_record,
    augment_clips,
    resolve_augmentation,
)

VIEWS = ("front", "side")
ONLY = {f: 0.0 for f in ("flip_lr", "flip_ud", "rotate", "shift", "scale", "brightness", "contrast")}


def _clip(b=3, n_frames=3, h=8, w=16, same_frames=False):
    g = torch.Generator().manual_seed(0)
    if same_frames:
        one = torch.randn(b, 3, h, w, generator=g)
        return one.repeat(1, n_frames, 1, 1)
    return torch.randn(b, 3 * n_frames, h, w, generator=g)


def test_resolve_settings():
    assert resolve_augmentation(True, VIEWS) == {"front": Augmentation(), "side": Augmentation()}
    off = resolve_augmentation(False, VIEWS)
    assert all(a == Augmentation.none() for a in off.values())
    mixed = resolve_augmentation({"front": {"rotate": 180, "flip_ud": 0.5}}, VIEWS)
    assert mixed["front"].rotate == 180.0 and mixed["front"].flip_ud == 0.5 and mixed["side"] == Augmentation()
    assert as_record(mixed)["front"]["rotate"] == 180.0
    with pytest.raises(
        ValueError, match=r"expected augmentation for the views \['front', 'side'\], got settings for \['top'\]"
    ):
        resolve_augmentation({"top": {}}, VIEWS)
    with pytest.raises(ValueError, match="expected Augmentation fields .* got \\['spin'\\]"):
        resolve_augmentation({"front": {"spin": 1}}, VIEWS)
    with pytest.raises(ValueError, match=r"expected Augmentation.rotate in \[0, 180\], got 200"):
        Augmentation(rotate=200)
    with pytest.raises(ValueError, match=r"expected Augmentation.flip_lr in \[0, 1\], got True"):
        Augmentation(flip_lr=True)
    with pytest.raises(ValueError, match="expected augment=True, False"):
        resolve_augmentation("yes", VIEWS)  # type: ignore[arg-type]


def test_no_augmentation_is_identity():
    x = _clip()
    aug = resolve_augmentation(False, VIEWS)
    assert torch.equal(augment_clips(x, aug, np.random.default_rng(0)), x)


def test_flips_are_exact_and_per_view():
    x = _clip()
    aug = {"front": Augmentation(**{**ONLY, "flip_lr": 1.0, "flip_ud": 1.0}), "side": Augmentation.none()}
    y = augment_clips(x, aug, np.random.default_rng(0))
    torch.testing.assert_close(y[..., :8], x[..., :8].flip(-1).flip(-2))  # front turned by 180 degrees
    assert torch.equal(y[..., 8:], x[..., 8:])  # side untouched


def test_one_transform_per_clip_and_seeded():
    x = _clip(same_frames=True)
    aug = resolve_augmentation({"front": {"rotate": 180}}, VIEWS)
    y = augment_clips(x, aug, np.random.default_rng(3))
    # every frame of a clip moved the same way: the frames stay identical to each other
    for k in (1, 2):
        torch.testing.assert_close(y[:, 3 * k : 3 * k + 3], y[:, :3])
    assert not torch.allclose(y, x)
    assert torch.equal(y, augment_clips(x, aug, np.random.default_rng(3)))
    assert not torch.equal(y, augment_clips(x, aug, np.random.default_rng(4)))


def test_brightness_contrast_only_changes_values_affinely():
    x = _clip(b=2)
    aug = {v: Augmentation(**{**ONLY, "brightness": 0.5, "contrast": 0.5}) for v in VIEWS}
    y = augment_clips(x, aug, np.random.default_rng(0))
    for i in range(2):
        for sl in (slice(0, 8), slice(8, 16)):
            a, b = x[i, ..., sl].flatten(), y[i, ..., sl].flatten()
            gain = torch.linalg.lstsq(torch.stack([a, torch.ones_like(a)], 1), b[:, None]).solution
            assert 0.5 <= float(gain[0]) <= 1.5 and abs(float(gain[1])) <= 0.5
            torch.testing.assert_close(b, a * gain[0] + gain[1], atol=1e-5, rtol=1e-5)

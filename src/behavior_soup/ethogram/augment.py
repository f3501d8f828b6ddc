"""Training augmentation of the feature extractor's clips, set per view.

What is a plausible image depends on the camera, so each view has its own
:class:`Augmentation`: a top-down camera over an open field sees the animal at every heading
and mirrored either way (``rotate=180, flip_ud=0.5``), while a side camera never sees it
upside down (the defaults, DeepEthogram's: left-right mirror, +/- 10 degrees). Each clip is
transformed as a whole, the same for every frame, so the flows the frozen flow generator
makes from it stay consistent with its frames.

Examples
--------
>>> from behavior_soup.ethogram.augment import Augmentation, resolve_augmentation
>>> aug = resolve_augmentation({"front": {"rotate": 180, "flip_ud": 0.5}}, ("front", "side"))
>>> aug["front"].rotate, aug["side"].rotate
(180.0, 10.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

__all__ = ["Augmentation", "AugmentSpec", "augment_clips", "resolve_augmentation"]


@dataclass(frozen=True)
class Augmentation:
    """Random transforms of one view, drawn per sample.

    Attributes
    ----------
    flip_lr, flip_ud
        Probabilities of mirroring left-right and up-down, in [0, 1].
    rotate
        Rotation drawn uniformly in +/- ``rotate`` degrees, in [0, 180].
    shift
        Translation drawn uniformly in +/- ``shift`` of the view's width and height, in [0, 0.5].
    scale
        Zoom drawn uniformly in ``1 +/- scale``, in [0, 0.5].
    brightness, contrast
        Added offset in +/- ``brightness`` (normalised units) and gain in ``1 +/- contrast``,
        in [0, 1].

    Raises
    ------
    ValueError
        A value outside its range, naming the field.
    """

    flip_lr: float = 0.5
    flip_ud: float = 0.0
    rotate: float = 10.0
    shift: float = 0.1
    scale: float = 0.1
    brightness: float = 0.2
    contrast: float = 0.2

    def __post_init__(self) -> None:
        limits = {"flip_lr": 1, "flip_ud": 1, "rotate": 180, "shift": 0.5, "scale": 0.5, "brightness": 1, "contrast": 1}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= limits[f.name]:
                raise ValueError(f"expected Augmentation.{f.name} in [0, {limits[f.name]}], got {v!r}")
            object.__setattr__(self, f.name, float(v))

    @classmethod
    def none(cls) -> Augmentation:
        """No transform at all.

        Returns
        -------
        Augmentation
            Every field 0.0.
        """
        return cls(**{f.name: 0.0 for f in fields(cls)})


#: What ``augment=`` accepts: True (defaults for every view), False (none), one
#: :class:`Augmentation` for every view, or a mapping view -> Augmentation or dict of its
#: fields (views left out get the defaults).
AugmentSpec = bool | Augmentation | Mapping[str, Augmentation | Mapping[str, float]]


def resolve_augmentation(spec: AugmentSpec, views: Sequence[str]) -> dict[str, Augmentation]:
    """One :class:`Augmentation` per view, from any :data:`AugmentSpec`.

    Parameters
    ----------
    spec
        ``True`` (the defaults for every view), ``False`` or ``None`` (none), one
        :class:`Augmentation` for every view, or a mapping view -> Augmentation or dict of its
        fields (views left out get the defaults).
    views
        The trials' views, in the order they lie side by side.

    Returns
    -------
    dict of str to Augmentation
        One entry per view, in the order of ``views``.

    Raises
    ------
    ValueError
        A view the trials do not have, an unknown field, or a value out of range.
    """
    if spec is True:
        return {v: Augmentation() for v in views}
    if spec is False or spec is None:
        return {v: Augmentation.none() for v in views}
    if isinstance(spec, Augmentation):
        return {v: spec for v in views}
    if not isinstance(spec, Mapping):
        raise ValueError(f"expected augment=True, False, an Augmentation or a mapping view -> settings, got {spec!r}")
    unknown = sorted(set(spec) - set(views))
    if unknown:
        raise ValueError(f"expected augmentation for the views {list(views)}, got settings for {unknown}")
    names = {f.name for f in fields(Augmentation)}
    out = {}
    for v in views:
        s = spec.get(v, Augmentation())
        if isinstance(s, Mapping):
            bad = sorted(set(s) - names)
            if bad:
                raise ValueError(f"expected Augmentation fields {sorted(names)} for view {v!r}, got {bad}")
            s = Augmentation(**s)
        elif not isinstance(s, Augmentation):
            raise ValueError(f"expected an Augmentation or a dict for view {v!r}, got {s!r}")
        out[v] = s
    return out


def as_record(aug: Mapping[str, Augmentation]) -> dict[str, dict[str, float]]:
    """Plain dicts, for checkpoints and provenance.

    Parameters
    ----------
    aug
        View -> augmentation.

    Returns
    -------
    dict
        View -> field name -> float.
    """
    return {v: asdict(a) for v, a in aug.items()}


def augment_clips(x: Any, aug: Mapping[str, Augmentation], rng: np.random.Generator) -> Any:
    """Augment normalised clips ``(B, 3L, H, W)`` float32 whose views lie side by side in the
    order of ``aug``: per sample and view, mirror, rotation, zoom and shift (one affine
    resampling, bilinear, borders repeated), brightness and contrast. All
    draws come from ``rng``, so a seeded generator gives the same batch on every machine.

    Parameters
    ----------
    x
        ``(B, 3L, H, W)`` float32 tensor of normalised clips; each view is ``W // n_views``
        pixels wide.
    aug
        View -> augmentation, in the order the views lie from left to right.
    rng
        The generator every random draw comes from.

    Returns
    -------
    torch.Tensor
        ``(B, 3L, H, W)`` float32, on ``x``'s device (``x`` is not changed).
    """
    import torch
    import torch.nn.functional as F

    b, _, h, w = x.shape
    wv = w // len(aug)
    parts = []
    for i, a in enumerate(aug.values()):
        part = x[..., i * wv : (i + 1) * wv]
        ang = np.deg2rad(rng.uniform(-a.rotate, a.rotate, b))
        zoom = rng.uniform(1 - a.scale, 1 + a.scale, b)
        mx = np.where(rng.random(b) < a.flip_lr, -1.0, 1.0)
        my = np.where(rng.random(b) < a.flip_ud, -1.0, 1.0)
        tx, ty = 2 * a.shift * rng.uniform(-1, 1, (2, b))
        gain = rng.uniform(1 - a.contrast, 1 + a.contrast, b).astype(np.float32)
        offset = rng.uniform(-a.brightness, a.brightness, b).astype(np.float32)
        if a.rotate or a.scale or a.shift or a.flip_lr or a.flip_ud:
            cos, sin = np.cos(ang) / zoom, np.sin(ang) / zoom
            # where each output pixel samples the input, in normalised coordinates; the
            # aspect ratio terms keep the rotation rigid on a non-square view
            theta = np.stack(
                [
                    np.stack([cos * mx, -sin * h / wv * my, tx], axis=1),
                    np.stack([sin * wv / h * mx, cos * my, ty], axis=1),
                ],
                axis=1,
            ).astype(np.float32)
            grid = F.affine_grid(torch.from_numpy(theta).to(x.device), list(part.shape), align_corners=False)
            part = F.grid_sample(part, grid, mode="bilinear", padding_mode="border", align_corners=False)
        if a.contrast or a.brightness:
            g = torch.from_numpy(gain).to(x.device)[:, None, None, None]
            o = torch.from_numpy(offset).to(x.device)[:, None, None, None]
            part = part * g + o
        parts.append(part)
    return torch.cat(parts, dim=-1)

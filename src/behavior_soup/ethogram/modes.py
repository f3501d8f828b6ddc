"""The table of record for which networks each mode uses (no torch needed to read it).

==========  ================  ===============================  ==================
mode        flow generator    feature extractor (both streams)  sequence model
==========  ================  ===============================  ==================
``fast``    TinyMotionNet     ResNet-18 (2-D)                  TGMJ
``medium``  MotionNet         ResNet-50 (2-D)                  TGMJ
``slow``    TinyMotionNet3D   3-D ResNet-34                    TGMJ
==========  ================  ===============================  ==================

Every mode uses a flow window of 11 frames (the generator sees frames ``t-5 .. t+5``) and an
input of 224×224 by default; the views of a trial (front, side) are each resized to
``(H, W / n_views)`` and put side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MODES", "Mode", "ModeSpec", "get_mode"]

Mode = Literal["fast", "medium", "slow"]


@dataclass(frozen=True)
class ModeSpec:
    """The networks of one mode.

    Attributes
    ----------
    name
        ``"fast"``, ``"medium"`` or ``"slow"``.
    flow_generator
        A name in :data:`behavior_soup.ethogram.nets.FLOW_GENERATORS`.
    backbone
        A name in :data:`behavior_soup.ethogram.nets.BACKBONES`.
    n_frames
        Flow window ``L`` (odd): frames per clip.
    input_size
        Default ``(H, W)`` of the (concatenated) input frames.
    multiple
        ``H`` and ``W`` must be multiples of this (the flow generator's coarsest scale).
    """

    name: str
    flow_generator: str
    backbone: str
    n_frames: int = 11
    input_size: tuple[int, int] = (224, 224)
    multiple: int = 8


MODES: dict[str, ModeSpec] = {
    "fast": ModeSpec("fast", "TinyMotionNet", "resnet18"),
    "medium": ModeSpec("medium", "MotionNet", "resnet50", multiple=16),
    "slow": ModeSpec("slow", "TinyMotionNet3D", "resnet3d_34"),
}


def get_mode(mode: str) -> ModeSpec:
    """The :class:`ModeSpec` of ``mode``; ValueError naming the modes otherwise.

    Parameters
    ----------
    mode
        ``"fast"``, ``"medium"`` or ``"slow"``.

    Returns
    -------
    ModeSpec
        The mode's networks, flow window and input size.

    Raises
    ------
    ValueError
        If ``mode`` is not a known mode.
    """
    try:
        return MODES[mode]
    except (KeyError, TypeError):
        raise ValueError(f"expected mode in {list(MODES)}, got {mode!r}") from None


def check_input_size(size: tuple[int, int] | list[int], spec: ModeSpec, n_views: int = 1) -> tuple[int, int]:
    """Validate ``(H, W)`` for a mode: positive, multiples of ``spec.multiple``, and ``W``
    divisible by the number of views.

    Parameters
    ----------
    size
        ``(H, W)`` in pixels of the side-by-side input frame.
    spec
        The mode.
    n_views
        Number of views put side by side.

    Returns
    -------
    tuple of (int, int)
        ``(H, W)`` as ints.

    Raises
    ------
    ValueError
        If ``size`` is not two integers, or breaks one of the rules above.
    """
    try:
        h, w = (int(x) for x in size)
    except (TypeError, ValueError):
        raise ValueError(f"expected input_size=(height, width), got {size!r}") from None
    if h <= 0 or w <= 0 or h % spec.multiple or w % spec.multiple:
        raise ValueError(
            f"expected input_size with height and width positive multiples of {spec.multiple} for "
            f"mode {spec.name!r}, got {(h, w)}"
        )
    if w % n_views:
        raise ValueError(f"expected an input width divisible by the {n_views} views, got {w}")
    return h, w

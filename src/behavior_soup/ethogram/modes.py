"""The table of record for which networks each mode uses (no torch needed to read it).

Every mode has two network sets. ``"deepethogram"`` (the default) is DeepEthogram's networks,
layer for layer, so its checkpoints load and "fast mode" means what it means in the
DeepEthogram paper; ``"lite"`` is another set, 4× cheaper in fast mode (not in slow mode):

==========  ================  ===============================  ==============  ==================
mode        flow generator    feature extractor (both streams)  multiple of     sequence model
==========  ================  ===============================  ==============  ==================
``fast``    TinyMotionNet     ResNet-18 (2-D)                  8               TGMJ
``medium``  MotionNet         ResNet-50 (2-D), 512-d features  32 (lite: 16)   TGMJ
``slow``    TinyMotionNet3D   3-D ResNet-34                    8               TGMJ
==========  ================  ===============================  ==============  ==================

Per 224×224 frame (a clip of 11 frames), measured with ``torch.utils.flop_counter``:
DeepEthogram's fast flow generator is 12.8 GMAC and 1.95 M parameters (lite: 1.1 GMAC,
0.42 M), its whole fast feature extractor 15.3 GMAC (lite 3.6); MotionNet is 22.2 GMAC (lite
28.3: wider at full resolution), the whole medium extractor 27.6; TinyMotionNet3D 31.0 (lite
22.0). The lite 3-D ResNet-34 is torchvision's ``VideoResNet`` (no max pool, a (3, 7, 7)
stem), DeepEthogram's is Hara et al.'s.

Every mode uses a flow window of 11 frames (the generator sees frames ``t-5 .. t+5``) and an
input of 224×224 by default; the views of a trial (front, side) are each resized to
``(H, W / n_views)`` and put side by side. Input height and width must be multiples of the
column above (the flow generator's coarsest scale).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MODES", "NETWORKS", "Mode", "ModeSpec", "Networks", "get_mode"]

Mode = Literal["fast", "medium", "slow"]
Networks = Literal["deepethogram", "lite"]
#: The network sets, the networks of record first.
NETWORKS: tuple[str, ...] = ("deepethogram", "lite")


@dataclass(frozen=True)
class ModeSpec:
    """The networks of one mode.

    Attributes
    ----------
    name
        ``"fast"``, ``"medium"`` or ``"slow"``.
    flow_generator
        A flow generator of the network set (see :mod:`behavior_soup.ethogram.nets.sets`).
    backbone
        The encoder of both streams: ``"resnet18"``, ``"resnet50"`` or ``"resnet3d_34"``.
    n_frames
        Flow window ``L`` (odd): frames per clip.
    input_size
        Default ``(H, W)`` of the (concatenated) input frames.
    multiple
        ``H`` and ``W`` must be multiples of this (the flow generator's coarsest scale).
    networks
        The network set: ``"deepethogram"`` or ``"lite"``.
    """

    name: str
    flow_generator: str
    backbone: str
    n_frames: int = 11
    input_size: tuple[int, int] = (224, 224)
    multiple: int = 8
    networks: str = "deepethogram"


#: Mode name -> its networks of record (DeepEthogram's).
MODES: dict[str, ModeSpec] = {
    "fast": ModeSpec("fast", "TinyMotionNet", "resnet18"),
    "medium": ModeSpec("medium", "MotionNet", "resnet50", multiple=32),
    "slow": ModeSpec("slow", "TinyMotionNet3D", "resnet3d_34"),
}
_LITE: dict[str, ModeSpec] = {
    "fast": ModeSpec("fast", "TinyMotionNet", "resnet18", networks="lite"),
    "medium": ModeSpec("medium", "MotionNet", "resnet50", multiple=16, networks="lite"),
    "slow": ModeSpec("slow", "TinyMotionNet3D", "resnet3d_34", networks="lite"),
}


def get_mode(mode: str, networks: str = "deepethogram") -> ModeSpec:
    """The :class:`ModeSpec` of ``mode`` in a network set; ValueError naming the choices
    otherwise.

    Parameters
    ----------
    mode
        ``"fast"``, ``"medium"`` or ``"slow"``.
    networks
        ``"deepethogram"`` (the networks of record) or ``"lite"``.

    Returns
    -------
    ModeSpec
        The mode's networks, flow window and input size.

    Raises
    ------
    ValueError
        If ``mode`` or ``networks`` is not known.
    """
    if networks not in NETWORKS:
        raise ValueError(f"expected networks in {list(NETWORKS)}, got {networks!r}")
    try:
        return (MODES if networks == "deepethogram" else _LITE)[mode]
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

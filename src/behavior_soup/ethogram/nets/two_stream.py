"""The lite network set's hidden two-stream feature extractor (see
:mod:`.deepethogram_streams` for DeepEthogram's, the networks of record): a spatial stream on the frames and a flow stream on
the optic flow a (frozen) flow generator makes from them, each a ResNet giving a 512-d feature
per frame and class logits; the two streams' logits are averaged.

Backbones are torchvision's ResNets (2-D ``resnet18``, ``resnet50``) and a 3-D ResNet-34 built
from torchvision's ``VideoResNet`` parts. No weights are downloaded: networks start from a
random initialisation, or from a user-supplied weight file (:func:`load_backbone_weights`).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch
from torch import nn

__all__ = ["BACKBONES", "HiddenTwoStream", "TwoStreamBase", "build_backbone", "load_backbone_weights"]

FEATURE_DIM = 512


def _resnet2d(name: str, in_channels: int) -> tuple[nn.Module, int]:
    import torchvision

    net = getattr(torchvision.models, name)(weights=None)
    if in_channels != 3:
        net.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
    dim = net.fc.in_features
    net.fc = nn.Identity()
    return net, dim


def _resnet3d_34(in_channels: int) -> tuple[nn.Module, int]:
    from torchvision.models.video.resnet import BasicBlock, BasicStem, Conv3DSimple, VideoResNet

    net = VideoResNet(BasicBlock, [Conv3DSimple] * 4, [3, 4, 6, 3], BasicStem)
    if in_channels != 3:
        net.stem[0] = nn.Conv3d(in_channels, 64, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False)
    net.fc = nn.Identity()
    return net, 512


#: Backbone name -> (builder(in_channels) -> (module, feature width), is 3-D).
BACKBONES: dict[str, tuple[Callable[[int], tuple[nn.Module, int]], bool]] = {
    "resnet18": (lambda c: _resnet2d("resnet18", c), False),
    "resnet50": (lambda c: _resnet2d("resnet50", c), False),
    "resnet3d_34": (_resnet3d_34, True),
}


def build_backbone(name: str, in_channels: int) -> tuple[nn.Module, int, bool]:
    """A randomly initialised backbone without its classifier: ``(module, width, is_3d)``.

    Parameters
    ----------
    name
        A name in :data:`BACKBONES`.
    in_channels
        Input channels of the first convolution (3 for frames).

    Returns
    -------
    module : torch.nn.Module
        The backbone, its classifier replaced by an identity, giving ``(N, width)`` features.
    width : int
        Feature width (512 for ResNet-18 and the 3-D ResNet-34, 2048 for ResNet-50).
    is_3d : bool
        Whether it takes ``(N, C, L, H, W)`` clips rather than ``(N, C, H, W)`` images.

    Raises
    ------
    ValueError
        If ``name`` is unknown.
    """
    try:
        builder, is3d = BACKBONES[name]
    except KeyError:
        raise ValueError(f"expected a backbone in {sorted(BACKBONES)}, got {name!r}") from None
    net, dim = builder(in_channels)
    return net, dim, is3d


def load_backbone_weights(net: nn.Module, path: str | os.PathLike) -> list[str]:
    """Load a user-supplied weight file (a ``state_dict`` saved with ``torch.save``, e.g.
    ImageNet or Kinetics weights) into a backbone, ignoring classifier weights.

    A first convolution whose input channels differ (a flow stream has ``2 * (L - 1)``) gets
    the file's filters averaged over their input channels and repeated, as is usual for
    flow streams. Returns the names of the backbone's parameters the file did not provide.

    Parameters
    ----------
    net
        The backbone (see :func:`build_backbone`); loaded in place.
    path
        The weight file: a ``state_dict``, or a dict holding one under ``"state_dict"``.

    Returns
    -------
    list of str
        Sorted names of the backbone's ``state_dict`` entries left as they were.

    Raises
    ------
    ValueError
        If a parameter's shape does not fit (after adapting the first convolution), or the
        file shares no parameter name with the backbone.
    """
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    own = net.state_dict()
    use = {}
    for k, v in state.items():
        if k not in own or k.startswith("fc."):
            continue
        target = own[k]
        if v.shape != target.shape and v.ndim == target.ndim and v.ndim >= 4 and v.shape[0] == target.shape[0]:
            v = v.mean(dim=1, keepdim=True).expand_as(target).clone() * (v.shape[1] / target.shape[1])
        if v.shape != target.shape:
            raise ValueError(f"expected {k} of shape {tuple(target.shape)} in {str(path)!r}, got {tuple(v.shape)}")
        use[k] = v
    if not use:
        raise ValueError(f"expected backbone weights in {str(path)!r}, found no parameter names in common")
    net.load_state_dict(use, strict=False)
    return sorted(set(own) - set(use))


class _Stream(nn.Module):
    def __init__(self, backbone: str, in_channels: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.backbone, dim, self.is3d = build_backbone(backbone, in_channels)
        self.project = nn.Identity() if dim == FEATURE_DIM else nn.Sequential(nn.Linear(dim, FEATURE_DIM), nn.ReLU())
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(FEATURE_DIM, n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feat = self.project(self.backbone(x))
        return feat, self.fc(self.dropout(feat))


class TwoStreamBase(nn.Module):
    """What every two-stream feature extractor shares: a flow generator kept frozen (eval mode,
    no gradients) unless ``train_flow``, and the inputs of its two streams. Subclasses set
    ``flow_generator`` and ``train_flow``, call :meth:`freeze_flow`, and have ``is3d``."""

    flow_generator: nn.Module
    train_flow: bool
    is3d: bool

    def freeze_flow(self) -> None:
        """Let the flow generator's parameters take gradients only when ``train_flow``."""
        for p in self.flow_generator.parameters():
            p.requires_grad_(self.train_flow)

    def train(self, mode: bool = True) -> TwoStreamBase:
        """Set training mode, keeping a frozen flow generator in eval mode.

        Parameters
        ----------
        mode
            Training (``True``) or evaluation (``False``) mode.

        Returns
        -------
        TwoStreamBase
            ``self``.
        """
        super().train(mode)
        if not self.train_flow:
            self.flow_generator.eval()
        return self

    def stream_inputs(self, clip: torch.Tensor, spatial_channel: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The spatial and flow streams' inputs from a batch of clips.

        Parameters
        ----------
        clip
            ``(N, 3 * L, H, W)`` float32 normalised clips.
        spatial_channel
            First of the three channels a 2-D spatial stream sees.

        Returns
        -------
        frames
            ``(N, 3, H, W)`` (2-D) or the whole clip ``(N, 3, L, H, W)`` (3-D).
        flow
            The finest flow: ``(N, 2(L-1), H/2, W/2)`` (2-D) or ``(N, 2, L-1, H/2, W/2)`` (3-D).
        """
        n, c, h, w = clip.shape
        L = c // 3
        with torch.set_grad_enabled(self.train_flow and torch.is_grad_enabled()):
            flow = self.flow_generator(clip)[0]
        if not self.is3d:
            return clip[:, spatial_channel : spatial_channel + 3], flow
        fh, fw = flow.shape[-2:]
        frames = clip.reshape(n, L, 3, h, w).permute(0, 2, 1, 3, 4)
        return frames, flow.reshape(n, L - 1, 2, fh, fw).permute(0, 2, 1, 3, 4)


class HiddenTwoStream(TwoStreamBase):
    """Flow generator + spatial stream + flow stream, fused by averaging logits.

    Parameters
    ----------
    flow_generator
        A flow generator (see :mod:`.flow`); frozen (kept in eval mode, no gradients)
        unless ``train_flow``.
    backbone
        Backbone of both streams (see :data:`BACKBONES`).
    n_frames
        Clip length ``L`` the flow generator takes.
    n_classes
        Behaviors, background included.

    Forward takes the clip ``(N, 3 * L, H, W)`` float32 and returns a dict: ``spatial`` and
    ``flow`` ``(N, 512)`` features, ``spatial_logits``, ``flow_logits`` and ``logits``
    ``(N, n_classes)``. A 2-D spatial stream sees the centre frame, a 3-D one the whole clip
    ``(N, 3, L, H, W)``; the flow stream sees the finest flow, stacked ``(N, 2(L-1), H/2, W/2)``
    (2-D) or ``(N, 2, L-1, H/2, W/2)`` (3-D).
    """

    def __init__(
        self,
        flow_generator: nn.Module,
        backbone: str,
        n_frames: int,
        n_classes: int,
        dropout: float = 0.25,
        train_flow: bool = False,
    ) -> None:
        super().__init__()
        self.flow_generator = flow_generator
        self.n_frames = n_frames
        self.train_flow = train_flow
        self.spatial = _Stream(backbone, 3, n_classes, dropout)
        self.flow = _Stream(backbone, 2 if self.spatial.is3d else 2 * (n_frames - 1), n_classes, dropout)
        self.freeze_flow()

    @property
    def is3d(self) -> bool:
        """Whether the streams are 3-D (take whole clips rather than one frame)."""
        return self.spatial.is3d

    @property
    def spatial_backbone(self) -> nn.Module:
        """The spatial stream's ResNet (where user weight files load)."""
        return self.spatial.backbone

    @property
    def flow_backbone(self) -> nn.Module:
        """The flow stream's ResNet."""
        return self.flow.backbone

    def forward(self, clip: torch.Tensor) -> dict[str, torch.Tensor]:
        """Features and logits of a batch of clips.

        Parameters
        ----------
        clip
            ``(N, 3 * L, H, W)`` float32 normalised clips.

        Returns
        -------
        dict of str to torch.Tensor
            ``spatial`` and ``flow`` ``(N, 512)`` features; ``spatial_logits``,
            ``flow_logits`` and their mean ``logits`` ``(N, n_classes)``.
        """
        frames, flow = self.stream_inputs(clip, 3 * (self.n_frames // 2))
        fs, ls = self.spatial(frames)
        ff, lf = self.flow(flow)
        return {"spatial": fs, "flow": ff, "spatial_logits": ls, "flow_logits": lf, "logits": 0.5 * (ls + lf)}

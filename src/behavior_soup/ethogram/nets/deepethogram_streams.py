"""DeepEthogram's hidden two-stream feature extractor, layer for layer.

Each stream is ``nn.Sequential(encoder, nn.Linear(512, n_classes))`` as in DeepEthogram, so
parameter names read ``spatial_classifier.0.layer1.0.conv1.weight``, ``flow_classifier.1.bias``
and so on (tested against a manifest of DeepEthogram's names and shapes). The encoders:

- ``resnet18`` / ``resnet50``: torchvision's 2-D ResNets (DeepEthogram's copy has the same
  layers and names); ResNet-50 adds DeepEthogram's ``compression_fc`` (2048 -> 512, ReLU);
- ``resnet3d_34``: the 3-D ResNet-34 of Hara et al. that DeepEthogram uses (7×7×7 first
  convolution with stride (1, 2, 2), 3×3×3 max pool with stride 2, BasicBlocks, projection
  shortcuts).

Each encoder gives a 512-d feature per clip (the sequence model's input); the two streams'
logits are fused as DeepEthogram does, flow weighted 1.5: ``(spatial + 1.5 flow) / 2.5``.
No weights are downloaded: encoders start from a random initialisation (He, as DeepEthogram)
or from a user-supplied file.
"""

from __future__ import annotations

import torch
from torch import nn

from .two_stream import FEATURE_DIM, TwoStreamBase

__all__ = ["BACKBONES_OF_RECORD", "DeepEthogramTwoStream", "ResNet3d", "build_encoder"]

FLOW_FUSION_WEIGHT = 1.5


class _ResNet2d(nn.Module):
    """A torchvision ResNet without its classifier, plus DeepEthogram's compression to 512."""

    def __init__(self, name: str, in_channels: int) -> None:
        super().__init__()
        import torchvision

        base = getattr(torchvision.models, name)(weights=None)
        if in_channels != 3:
            base.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
            nn.init.kaiming_normal_(base.conv1.weight, mode="fan_out", nonlinearity="relu")
        for part in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool"):
            setattr(self, part, getattr(base, part))
        width = base.fc.in_features
        self.compression_fc = (
            nn.Sequential(nn.Linear(width, FEATURE_DIM), nn.ReLU(inplace=True))
            if width > FEATURE_DIM
            else nn.Identity()
        )
        self.is3d = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.compression_fc(torch.flatten(self.avgpool(x), 1))


class _Block3d(nn.Module):
    def __init__(self, cin: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv3d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.downsample = (
            nn.Sequential(nn.Conv3d(cin, planes, 1, stride, bias=False), nn.BatchNorm3d(planes))
            if stride != 1 or cin != planes
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet3d(nn.Module):
    """The 3-D ResNet (BasicBlocks, shortcut type B) of Hara et al., without its classifier.

    Parameters
    ----------
    layers
        Blocks per stage; ``(3, 4, 6, 3)`` is ResNet-34.
    in_channels
        Input channels (3 for frames, 2 for flow).

    Forward takes ``(N, C, T, H, W)`` and returns ``(N, 512)``.
    """

    def __init__(self, layers: tuple[int, int, int, int] = (3, 4, 6, 3), in_channels: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(in_channels, 64, 7, (1, 2, 2), 3, bias=False)
        self.bn1 = nn.BatchNorm3d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d(3, 2, 1)
        cin = 64
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers), start=1):
            blocks = [_Block3d(cin, planes, 1 if i == 1 else 2)] + [_Block3d(planes, planes) for _ in range(n - 1)]
            setattr(self, f"layer{i}", nn.Sequential(*blocks))
            cin = planes
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
        self.is3d = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)


#: Encoder name -> is 3-D; the names stored in architecture records.
BACKBONES_OF_RECORD: dict[str, bool] = {"resnet18": False, "resnet50": False, "resnet3d_34": True}


def build_encoder(name: str, in_channels: int) -> nn.Module:
    """A randomly initialised DeepEthogram encoder (512-d output) by name.

    Parameters
    ----------
    name
        ``"resnet18"``, ``"resnet50"`` or ``"resnet3d_34"``.
    in_channels
        Input channels of the first convolution.

    Returns
    -------
    torch.nn.Module
        Giving ``(N, 512)``; its ``is3d`` says whether it takes ``(N, C, T, H, W)``.

    Raises
    ------
    ValueError
        If ``name`` is unknown.
    """
    if name not in BACKBONES_OF_RECORD:
        raise ValueError(f"expected a backbone in {sorted(BACKBONES_OF_RECORD)}, got {name!r}")
    return ResNet3d((3, 4, 6, 3), in_channels) if BACKBONES_OF_RECORD[name] else _ResNet2d(name, in_channels)


class DeepEthogramTwoStream(TwoStreamBase):
    """Flow generator + spatial stream + flow stream, DeepEthogram's layout and fusion.

    Parameters
    ----------
    flow_generator
        A flow generator (see :mod:`.deepethogram`); frozen (eval mode, no gradients)
        unless ``train_flow``.
    backbone
        Encoder of both streams (see :data:`BACKBONES_OF_RECORD`).
    n_frames
        Clip length ``L``.
    n_classes
        Behaviors, background included.
    dropout
        Dropout on the 512-d features before each stream's classifier (training only).
    train_flow
        Train the flow generator too.
    spatial_channel
        First of the three input channels a 2-D spatial stream sees; None for the centre
        frame ``3 * (L // 2)``. DeepEthogram's own models take ``int(1.5 * L)`` (16 for 11
        frames, one channel past the centre frame), which a converted DeepEthogram checkpoint
        keeps so its predictions stay as they were.

    Forward takes ``(N, 3 * L, H, W)`` float32 clips and returns the same dict as
    :class:`.two_stream.HiddenTwoStream`: ``spatial`` and ``flow`` ``(N, 512)`` features,
    ``spatial_logits``, ``flow_logits`` and the fused ``logits`` ``(N, n_classes)``.
    """

    def __init__(
        self,
        flow_generator: nn.Module,
        backbone: str,
        n_frames: int,
        n_classes: int,
        dropout: float = 0.25,
        train_flow: bool = False,
        spatial_channel: int | None = None,
    ) -> None:
        super().__init__()
        self.flow_generator = flow_generator
        self.n_frames = n_frames
        self.train_flow = train_flow
        self.is3d = BACKBONES_OF_RECORD.get(backbone, False)
        self.spatial_channel = 3 * (n_frames // 2) if spatial_channel is None else int(spatial_channel)
        if not self.is3d and not 0 <= self.spatial_channel <= 3 * n_frames - 3:
            raise ValueError(f"expected spatial_channel in [0, {3 * n_frames - 3}], got {spatial_channel}")
        self.spatial_classifier = nn.Sequential(build_encoder(backbone, 3), nn.Linear(FEATURE_DIM, n_classes))
        flow_in = 2 if self.is3d else 2 * (n_frames - 1)
        self.flow_classifier = nn.Sequential(build_encoder(backbone, flow_in), nn.Linear(FEATURE_DIM, n_classes))
        self.dropout = nn.Dropout(dropout)
        self.freeze_flow()

    @property
    def spatial_backbone(self) -> nn.Module:
        """The spatial stream's encoder (where user weight files load)."""
        return self.spatial_classifier[0]

    @property
    def flow_backbone(self) -> nn.Module:
        """The flow stream's encoder."""
        return self.flow_classifier[0]

    def forward(self, clip: torch.Tensor) -> dict[str, torch.Tensor]:
        """Features and logits of a batch of clips.

        Parameters
        ----------
        clip
            ``(N, 3 * L, H, W)`` float32 normalised clips.

        Returns
        -------
        dict of str to torch.Tensor
            ``spatial`` and ``flow`` ``(N, 512)``; ``spatial_logits``, ``flow_logits`` and
            ``logits`` ``(N, n_classes)``.
        """
        frames, flow = self.stream_inputs(clip, self.spatial_channel)
        fs = self.spatial_classifier[0](frames)
        ff = self.flow_classifier[0](flow)
        ls = self.spatial_classifier[1](self.dropout(fs))
        lf = self.flow_classifier[1](self.dropout(ff))
        fused = (ls + FLOW_FUSION_WEIGHT * lf) / (1 + FLOW_FUSION_WEIGHT)
        return {"spatial": fs, "flow": ff, "spatial_logits": ls, "flow_logits": lf, "logits": fused}

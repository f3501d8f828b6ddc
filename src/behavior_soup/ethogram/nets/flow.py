"""Flow generators: networks that turn a stack of frames into optic flow, trained without labels.

This module has the ``lite`` network set's generators (smaller than DeepEthogram's, see
:mod:`.deepethogram` for the networks of record), the photometric loss every generator is
trained with, and the warp it uses. Every generator takes the same input and gives the same
output layout, so training, the photometric loss and the feature extractors never need to
know which one they have:

- input: a clip of ``L`` normalised frames stacked on channels, ``(N, 3 * L, H, W)`` float32
  (frame ``k`` in channels ``3k .. 3k + 2``);
- output: a list of flows, finest first, each ``(N, 2 * (L - 1), H / s, W / s)`` float32 for
  ``s = 2, 4, 8, ...``; channels ``2k, 2k + 1`` are the x and y displacement, in pixels of that
  scale, that carries frame ``k`` onto frame ``k + 1``: ``frame_k(p) ~ frame_{k+1}(p + flow_k(p))``.

``H`` and ``W`` must be divisible by the generator's ``coarsest`` scale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "LITE_FLOW_GENERATORS",
    "MotionNetLite",
    "TinyMotionNet3DLite",
    "TinyMotionNetLite",
    "check_n_frames",
    "photometric_loss",
    "warp",
]


def check_n_frames(n_frames: int) -> None:
    """Refuse a clip too short to have a flow (ValueError naming the value)."""
    if n_frames < 2:
        raise ValueError(f"expected at least 2 frames for a flow generator, got {n_frames}")


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.1, inplace=True))


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.1, inplace=True))


class _FlowUNet(nn.Module):
    """An encoder-decoder predicting flow at every decoder level (FlowNet-S style).

    ``channels[i]`` is the width of encoder level ``i``; level 0 has stride ``first_stride``
    and each further level halves the resolution. Flows are predicted from the deepest level
    up to the level at half the input resolution.
    """

    def __init__(self, n_frames: int, channels: Sequence[int], first_stride: int, convs_per_level: int = 1) -> None:
        super().__init__()
        check_n_frames(n_frames)
        self.n_frames = n_frames
        n_flow = 2 * (n_frames - 1)
        self.enc = nn.ModuleList()
        cin = 3 * n_frames
        for i, c in enumerate(channels):
            layers = [_conv(cin, c, first_stride if i == 0 else 2)]
            layers += [_conv(c, c) for _ in range(convs_per_level - 1)]
            self.enc.append(nn.Sequential(*layers))
            cin = c
        # levels whose resolution is H/2 or coarser get a flow head
        self.first_out = 0 if first_stride == 2 else 1
        self.heads = nn.ModuleDict()
        self.ups = nn.ModuleDict()
        self.fuse = nn.ModuleDict()
        deepest = len(channels) - 1
        self.heads[str(deepest)] = nn.Conv2d(channels[deepest], n_flow, 3, 1, 1)
        for i in range(deepest - 1, self.first_out - 1, -1):
            self.ups[str(i)] = _up(channels[i + 1], channels[i])
            self.fuse[str(i)] = _conv(2 * channels[i] + n_flow, channels[i])
            self.heads[str(i)] = nn.Conv2d(channels[i], n_flow, 3, 1, 1)
        #: input height and width must be multiples of this
        self.coarsest = first_stride * 2 ** (len(channels) - 1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for enc in self.enc:
            x = enc(x)
            feats.append(x)
        deepest = len(feats) - 1
        h = feats[deepest]
        flow = self.heads[str(deepest)](h)
        flows = [flow]
        for i in range(deepest - 1, self.first_out - 1, -1):
            up = self.ups[str(i)](h)
            flow_up = 2.0 * F.interpolate(flow, size=up.shape[-2:], mode="bilinear", align_corners=False)
            h = self.fuse[str(i)](torch.cat([up, feats[i], flow_up], dim=1))
            flow = self.heads[str(i)](h)
            flows.append(flow)
        return flows[::-1]


class TinyMotionNetLite(_FlowUNet):
    """The lite fast mode's flow generator: three stride-2 levels (32, 64, 128 channels); flows at
    H/2, H/4, H/8. About 0.8 GFLOP per 224×224 clip of 11 frames."""

    def __init__(self, n_frames: int = 11) -> None:
        super().__init__(n_frames, (32, 64, 128), first_stride=2)


class MotionNetLite(_FlowUNet):
    """The lite medium mode's flow generator: a full-resolution level then four stride-2 levels
    (64, 128, 256, 512, 512 channels, two convolutions each); flows at H/2 .. H/16."""

    def __init__(self, n_frames: int = 11) -> None:
        super().__init__(n_frames, (64, 128, 256, 512, 512), first_stride=1, convs_per_level=2)


def _conv3d(cin: int, cout: int, stride: tuple[int, int, int] = (1, 1, 1)) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.1, inplace=True))


class TinyMotionNet3DLite(nn.Module):
    """The lite slow mode's flow generator: TinyMotionNetLite with 3-D convolutions over (time, y, x).

    Takes and returns the common layout (see the module docstring); inside, the clip is
    ``(N, 3, L, H, W)`` and each flow head is a (2, 3, 3) convolution without time padding,
    so ``L`` frames give ``L - 1`` flows.
    """

    def __init__(self, n_frames: int = 11) -> None:
        super().__init__()
        check_n_frames(n_frames)
        self.n_frames = n_frames
        ch = (32, 64, 128)
        s = (1, 2, 2)
        self.enc = nn.ModuleList([_conv3d(3, ch[0], s), _conv3d(ch[0], ch[1], s), _conv3d(ch[1], ch[2], s)])
        self.ups = nn.ModuleList(
            [
                nn.Sequential(nn.ConvTranspose3d(ch[i + 1], ch[i], (1, 4, 4), s, (0, 1, 1)), nn.LeakyReLU(0.1, True))
                for i in (0, 1)
            ]
        )
        self.fuse = nn.ModuleList([_conv3d(2 * ch[i], ch[i]) for i in (0, 1)])
        self.heads = nn.ModuleList([nn.Conv3d(c, 2, (2, 3, 3), 1, (0, 1, 1)) for c in ch])
        self.coarsest = 8

    def _flat(self, flow: torch.Tensor) -> torch.Tensor:
        n, _, t, h, w = flow.shape  # (N, 2, L-1, h, w) -> (N, 2(L-1), h, w)
        return flow.permute(0, 2, 1, 3, 4).reshape(n, 2 * t, h, w)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Flows of a batch of clips.

        Parameters
        ----------
        x
            ``(N, 3 * L, H, W)`` float32 normalised clips; ``H`` and ``W`` divisible by 8.

        Returns
        -------
        list of torch.Tensor
            Three flows, finest first: ``(N, 2 * (L - 1), H / s, W / s)`` float32 for
            ``s = 2, 4, 8``, in pixels of that scale.
        """
        n, c, h, w = x.shape
        x = x.reshape(n, c // 3, 3, h, w).permute(0, 2, 1, 3, 4)
        feats = []
        for enc in self.enc:
            x = enc(x)
            feats.append(x)
        flows = [self._flat(self.heads[2](feats[2]))]
        h3 = feats[2]
        for i in (1, 0):
            h3 = self.fuse[i](torch.cat([self.ups[i](h3), feats[i]], dim=1))
            flows.append(self._flat(self.heads[i](h3)))
        return flows[::-1]


#: The lite set's flow generators by name (the names their checkpoints store).
LITE_FLOW_GENERATORS: dict[str, Callable[..., nn.Module]] = {
    "TinyMotionNet": TinyMotionNetLite,
    "MotionNet": MotionNetLite,
    "TinyMotionNet3D": TinyMotionNet3DLite,
}


def _grid(h: int, w: int, device: torch.device) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")
    return torch.stack([xs, ys], dim=0).float()  # (2, h, w) pixel coordinates


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``image`` (N, C, h, w) at ``p + flow(p)`` (flow (N, 2, h, w), pixels), bilinear,
    border padding: the backward warp that makes ``warp(frame_{k+1}, flow_k) ~ frame_k``.

    Parameters
    ----------
    image
        ``(N, C, h, w)`` float tensor.
    flow
        ``(N, 2, h, w)`` float tensor: x and y displacement in pixels.

    Returns
    -------
    torch.Tensor
        ``(N, C, h, w)``, the warped image.
    """
    _, _, h, w = image.shape
    pos = _grid(h, w, image.device)[None] + flow
    gx = 2.0 * pos[:, 0] / max(w - 1, 1) - 1.0
    gy = 2.0 * pos[:, 1] / max(h - 1, 1) - 1.0
    return F.grid_sample(
        image, torch.stack([gx, gy], dim=-1), mode="bilinear", padding_mode="border", align_corners=True
    )


def photometric_loss(
    clip: torch.Tensor,
    flows: Sequence[torch.Tensor],
    smooth_weight: float = 0.05,
    scale_weights: Sequence[float] = (1.0, 0.5, 0.25, 0.125),
) -> torch.Tensor:
    """Self-supervised flow loss: Charbonnier reconstruction error of each frame from the next
    warped by the flow, plus first-order smoothness, summed over scales.

    Parameters
    ----------
    clip
        ``(N, 3 * L, H, W)`` float32, the generator's input.
    flows
        The generator's output, finest first.
    smooth_weight
        Weight of the smoothness term relative to the reconstruction error.
    scale_weights
        Weight of each scale, finest first; scales beyond these are not used.

    Returns
    -------
    torch.Tensor
        The loss, a 0-d float tensor (differentiable).
    """
    n, c, h, w = clip.shape
    frames = clip.reshape(n, c // 3, 3, h, w)
    total = clip.new_zeros(())
    for flow, weight in zip(flows, scale_weights):
        fh, fw = flow.shape[-2:]
        small = F.adaptive_avg_pool2d(frames.reshape(-1, 3, h, w), (fh, fw)).view(n, c // 3, 3, fh, fw)
        pairs = flow.shape[1] // 2
        target = small[:, :pairs].reshape(-1, 3, fh, fw)
        source = small[:, 1 : pairs + 1].reshape(-1, 3, fh, fw)
        f = flow.reshape(n, pairs, 2, fh, fw).reshape(-1, 2, fh, fw)
        diff = target - warp(source, f)
        rec = torch.sqrt(diff * diff + 1e-6).mean()
        smooth = (f[..., :, 1:] - f[..., :, :-1]).abs().mean() + (f[..., 1:, :] - f[..., :-1, :]).abs().mean()
        total = total + weight * (rec + smooth_weight * smooth)
    return total

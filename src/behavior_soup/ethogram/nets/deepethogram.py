"""DeepEthogram's flow generators, layer for layer (the networks of record of every mode).

TinyMotionNet (fast), MotionNet (medium) and TinyMotionNet3D (slow) as DeepEthogram builds
them (Bohnsack et al., 2021; after Zhu et al.'s hidden two-stream networks and NVIDIA's
FlowNet2): the same layers, widths, kernel sizes, batch norms and parameter names, so a
DeepEthogram checkpoint's ``state_dict`` loads as it is (tested against a manifest of
DeepEthogram's parameter names and shapes). They take and return the layout every flow
generator here shares (see :mod:`.flow`):

- input ``(N, 3 * L, H, W)`` float32 normalised frames stacked on channels;
- output three flows, finest first, ``(N, 2 * (L - 1), H / s, W / s)`` for ``s = 2, 4, 8``,
  in pixels of that scale, channels ``2k, 2k + 1`` carrying frame ``k`` onto frame ``k + 1``
  (DeepEthogram's convention too: it reconstructs frame ``k`` by sampling ``k + 1`` at
  ``p + flow``).

Coarser flows are upsampled by a learned transposed convolution and doubled (one pixel at
one scale is two at the next). ``H`` and ``W`` must be multiples of :attr:`coarsest` (8; 32
for MotionNet, whose deepest level is at 1/32).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import init

from .flow import check_n_frames

__all__ = ["MotionNet", "TinyMotionNet", "TinyMotionNet3D"]


def _conv(cin: int, cout: int, kernel: int = 3, stride: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.LeakyReLU(0.1, inplace=True))
    return nn.Sequential(*layers)


def _deconv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.1, inplace=True))


def _predict(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, 1, 1, bias=False)


def _cat(*tensors: torch.Tensor) -> torch.Tensor:
    """Concatenate on channels, cropping to the smallest height and width (sizes that are not
    multiples of the coarsest scale round differently going down and up)."""
    h = min(t.shape[-2] for t in tensors)
    w = min(t.shape[-1] for t in tensors)
    return torch.cat([t[..., :h, :w] for t in tensors], dim=1)


class TinyMotionNet(nn.Module):
    """The fast mode's flow generator: a 7×7 full-resolution convolution (64), then 5×5 and
    3×3 stride-2 levels (128, 256, 128) and two decoder levels; about 12.8 GMAC per 224×224
    clip of 11 frames, 1.95 M parameters.

    Parameters
    ----------
    n_frames
        Frames per clip ``L`` (at least 2).
    """

    coarsest = 8

    def __init__(self, n_frames: int = 11) -> None:
        super().__init__()
        check_n_frames(n_frames)
        self.n_frames = n_frames
        out = 2 * (n_frames - 1)
        self.conv1 = _conv(3 * n_frames, 64, kernel=7)
        self.conv2 = _conv(64, 128, kernel=5, stride=2)
        self.conv3 = _conv(128, 256, stride=2)
        self.conv4 = _conv(256, 128, stride=2)
        self.deconv3 = _deconv(128, 128)
        self.deconv2 = _deconv(128, 64)
        self.xconv3 = _conv(384 + out, 128, act=False)
        self.xconv2 = _conv(192 + out, 64, act=False)
        self.predict_flow4 = _predict(128, out)
        self.predict_flow3 = _predict(128, out)
        self.predict_flow2 = _predict(64, out)
        self.upsampled_flow4_to_3 = nn.ConvTranspose2d(out, out, 4, 2, 1)
        self.upsampled_flow3_to_2 = nn.ConvTranspose2d(out, out, 4, 2, 1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Flows of a batch of clips.

        Parameters
        ----------
        x
            ``(N, 3 * L, H, W)`` float32 normalised clips.

        Returns
        -------
        list of torch.Tensor
            ``(N, 2 * (L - 1), H / s, W / s)`` float32 for ``s = 2, 4, 8``.
        """
        c2 = self.conv2(self.conv1(x))
        c3 = self.conv3(c2)
        c4 = self.conv4(c3)
        flow4 = self.predict_flow4(c4)
        h3 = self.xconv3(_cat(c3, self.deconv3(c4), 2 * self.upsampled_flow4_to_3(flow4)))
        flow3 = self.predict_flow3(h3)
        h2 = self.xconv2(_cat(c2, self.deconv2(h3), 2 * self.upsampled_flow3_to_2(flow3)))
        return [self.predict_flow2(h2), flow3, flow4]


class MotionNet(nn.Module):
    """The medium mode's flow generator: six levels of two 3×3 convolutions (64 at full
    resolution, then 128, 256, 512, 512 and 1024 at 1/2 .. 1/32) and a FlowNet-S decoder
    predicting flow at 1/32 .. 1/2; the three finest are returned. Xavier-initialised.

    Parameters
    ----------
    n_frames
        Frames per clip ``L`` (at least 2).
    """

    coarsest = 32

    def __init__(self, n_frames: int = 11) -> None:
        super().__init__()
        check_n_frames(n_frames)
        self.n_frames = n_frames
        out = 2 * (n_frames - 1)
        widths = [(3 * n_frames, 64), (64, 128), (128, 256), (256, 512), (512, 512), (512, 1024)]
        for i, (cin, c) in enumerate(widths, start=1):
            setattr(self, f"conv{i}", _conv(cin, c, stride=1 if i == 1 else 2))
            setattr(self, f"conv{i}_1", _conv(c, c))
        self.deconv5 = _deconv(1024, 512)
        self.deconv4 = _deconv(1024 + out, 256)
        self.deconv3 = _deconv(768 + out, 128)
        self.deconv2 = _deconv(384 + out, 64)
        self.xconv5 = _conv(1024 + out, 512, act=False)
        self.xconv4 = _conv(768 + out, 256, act=False)
        self.xconv3 = _conv(384 + out, 128, act=False)
        self.xconv2 = _conv(192 + out, 64, act=False)
        for level, c in zip((6, 5, 4, 3, 2), (1024, 512, 256, 128, 64)):
            setattr(self, f"predict_flow{level}", _predict(c, out))
        for level in (6, 5, 4, 3):
            setattr(self, f"upsampled_flow{level}_to_{level - 1}", nn.ConvTranspose2d(out, out, 4, 2, 1))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    init.uniform_(m.bias)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Flows of a batch of clips.

        Parameters
        ----------
        x
            ``(N, 3 * L, H, W)`` float32 normalised clips.

        Returns
        -------
        list of torch.Tensor
            ``(N, 2 * (L - 1), H / s, W / s)`` float32 for ``s = 2, 4, 8``.
        """
        enc = []
        for i in range(1, 7):
            x = getattr(self, f"conv{i}_1")(getattr(self, f"conv{i}")(x))
            enc.append(x)
        flow = self.predict_flow6(x)
        # each level fuses the encoder's features, the decoder's and the upsampled flow; the
        # next decoder level reads that concatenation (FlowNet-S), not the fused features
        concat = self.deconv5(x)
        flows = []
        for level in (5, 4, 3, 2):
            up = 2 * getattr(self, f"upsampled_flow{level + 1}_to_{level}")(flow)
            deconv = concat if level == 5 else getattr(self, f"deconv{level}")(concat)
            concat = _cat(enc[level - 1], deconv, up)
            flow = getattr(self, f"predict_flow{level}")(getattr(self, f"xconv{level}")(concat))
            flows.append(flow)
        return flows[::-1][:3]


def _conv3d(
    cin: int, cout: int, kernel: int | tuple[int, int, int] = 3, stride: int | tuple[int, int, int] = 1, *,
    norm: bool = True, act: bool = True, bias: bool = False,
) -> nn.Sequential:  # fmt: skip
    k = (kernel,) * 3 if isinstance(kernel, int) else kernel
    layers: list[nn.Module] = [nn.Conv3d(cin, cout, k, stride, tuple((s - 1) // 2 for s in k), bias=bias)]
    if norm:
        layers.append(nn.BatchNorm3d(cout))
    if act:
        layers.append(nn.LeakyReLU(0.1, inplace=True))
    return nn.Sequential(*layers)


def _deconv3d(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose3d(cin, cout, (1, 4, 4), (1, 2, 2), (0, 1, 1), bias=False),
        nn.BatchNorm3d(cout),
        nn.LeakyReLU(0.1, inplace=True),
    )


class TinyMotionNet3D(nn.Module):
    """The slow mode's flow generator: 3-D convolutions over (time, y, x) with 16, 32 and 64
    channels; a (2, 3, 3) convolution without time padding turns ``L`` frames into ``L - 1``
    flows at every scale.

    Parameters
    ----------
    n_frames
        Frames per clip ``L`` (at least 2).
    """

    coarsest = 8

    def __init__(self, n_frames: int = 11) -> None:
        super().__init__()
        check_n_frames(n_frames)
        self.n_frames = n_frames
        c0, c1, c2 = 16, 32, 64
        s = (1, 2, 2)
        self.conv1 = _conv3d(3, c0, 7)
        self.conv2 = _conv3d(c0, c1, 5, s)
        self.conv3 = _conv3d(c1, c2, 3, s)
        self.conv4 = _conv3d(c2, c1, 3, s)
        self.conv5 = _conv3d(c1, c1, (2, 3, 3))
        self.deconv3 = _deconv3d(c1, c1)
        self.deconv2 = _deconv3d(c1, c0)
        self.iconv3 = _conv3d(c2, c2, (2, 3, 3))
        self.iconv2 = _conv3d(c1, c1, (2, 3, 3))
        self.xconv3 = _conv3d(c1 + c2 + 2, c1, act=False, bias=True)
        self.xconv2 = _conv3d(c0 + c1 + 2, c0, act=False, bias=True)
        self.predict_flow4 = _conv3d(c1, 2, norm=False, act=False, bias=True)
        self.predict_flow3 = _conv3d(c1, 2, norm=False, act=False, bias=True)
        self.predict_flow2 = _conv3d(c0, 2, norm=False, act=False, bias=True)
        self.upsampled_flow4_to_3 = nn.ConvTranspose3d(2, 2, (1, 4, 4), s, (0, 1, 1))
        self.upsampled_flow3_to_2 = nn.ConvTranspose3d(2, 2, (1, 4, 4), s, (0, 1, 1))

    @staticmethod
    def _flat(flow: torch.Tensor) -> torch.Tensor:
        n, _, t, h, w = flow.shape  # (N, 2, L-1, h, w) -> (N, 2(L-1), h, w)
        return flow.permute(0, 2, 1, 3, 4).reshape(n, 2 * t, h, w)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Flows of a batch of clips.

        Parameters
        ----------
        x
            ``(N, 3 * L, H, W)`` float32 normalised clips (made ``(N, 3, L, H, W)`` inside).

        Returns
        -------
        list of torch.Tensor
            ``(N, 2 * (L - 1), H / s, W / s)`` float32 for ``s = 2, 4, 8``.
        """
        n, c, h, w = x.shape
        x = x.reshape(n, c // 3, 3, h, w).permute(0, 2, 1, 3, 4)
        c2 = self.conv2(self.conv1(x))
        c3 = self.conv3(c2)
        c5 = self.conv5(self.conv4(c3))
        flow4 = self.predict_flow4(c5)
        h3 = self.xconv3(_cat(self.iconv3(c3), self.deconv3(c5), 2 * self.upsampled_flow4_to_3(flow4)))
        flow3 = self.predict_flow3(h3)
        h2 = self.xconv2(_cat(self.iconv2(c2), self.deconv2(h3), 2 * self.upsampled_flow3_to_2(flow3)))
        return [self._flat(f) for f in (self.predict_flow2(h2), flow3, flow4)]

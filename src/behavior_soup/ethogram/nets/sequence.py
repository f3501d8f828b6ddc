"""The TGMJ sequence model: temporal Gaussian mixture (TGM) layers over per-frame features.

A TGM layer (Piergiovanni & Ryoo, 2019) convolves each feature channel in time with a few
kernels, each a learned soft mixture of Gaussians whose centres and widths are learned; a
1×1 convolution then mixes the results back to the layer's width. TGMJ stacks TGM layers on a
reduced projection of the features and adds ("joins") a frame-wise head on that projection,
so the model can only refine what the features already say.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["TGM", "TGMJ"]


class TGM(nn.Module):
    """One temporal Gaussian mixture layer: ``(N, C, T) -> (N, C, T)``, any ``T``.

    Parameters
    ----------
    channels
        Feature channels in and out.
    n_gaussians
        Learned Gaussians shared by the kernels.
    n_kernels
        Temporal kernels, each a softmax mixture of the Gaussians.
    length
        Kernel length in frames (odd).
    """

    def __init__(self, channels: int, n_gaussians: int = 16, n_kernels: int = 8, length: int = 15) -> None:
        super().__init__()
        if length % 2 == 0 or length < 3:
            raise ValueError(f"expected an odd kernel length >= 3, got {length}")
        self.length = length
        self.center = nn.Parameter(torch.linspace(-0.9, 0.9, n_gaussians))
        self.log_sigma = nn.Parameter(torch.full((n_gaussians,), math.log(length / 8)))
        self.mix = nn.Parameter(0.1 * torch.randn(n_kernels, n_gaussians))
        self.out = nn.Conv1d(channels * n_kernels, channels, 1)

    def kernels(self) -> torch.Tensor:
        """``(n_kernels, length)``: each row sums to 1.

        Returns
        -------
        torch.Tensor
            ``(n_kernels, length)`` in the parameters' dtype and device: each kernel a softmax
            mixture of the Gaussians, centred on the middle frame.
        """
        half = (self.length - 1) / 2
        t = torch.arange(self.length, device=self.center.device, dtype=self.center.dtype) - half
        mu = torch.tanh(self.center) * half
        sigma = self.log_sigma.exp().clamp(min=0.5)
        g = torch.exp(-0.5 * ((t[None, :] - mu[:, None]) / sigma[:, None]) ** 2)
        g = g / g.sum(dim=1, keepdim=True)
        return torch.softmax(self.mix, dim=1) @ g

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolve each channel with the kernels in time and mix back to ``C`` channels.

        Parameters
        ----------
        x
            ``(N, C, T)`` float features, ``T`` frames (zero-padded at the edges).

        Returns
        -------
        torch.Tensor
            ``(N, C, T)``.
        """
        n, c, t = x.shape
        k = self.kernels()
        y = F.conv1d(x.reshape(n * c, 1, t), k[:, None, :], padding=self.length // 2)
        return self.out(y.reshape(n, c * k.shape[0], t))


class TGMJ(nn.Module):
    """Per-frame features ``(N, D, T)`` -> class logits ``(N, n_classes, T)``.

    Parameters
    ----------
    in_features
        ``D``: 1024 for two 512-d streams.
    n_classes
        Behaviors, background included.
    hidden
        Width of the projection the TGM layers work on.
    n_layers
        TGM layers.
    residual
        Add the feature extractor's logits to the output: the model then learns a temporal
        correction of what the features already say (``forward(x, prior)``), and starts from
        it rather than from nothing.
    """

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        hidden: int = 128,
        n_layers: int = 3,
        n_gaussians: int = 16,
        n_kernels: int = 8,
        length: int = 15,
        dropout: float = 0.5,
        residual: bool = False,
    ) -> None:
        super().__init__()
        self.residual = residual
        self.reduce = nn.Conv1d(in_features, hidden, 1)
        self.layers = nn.ModuleList(TGM(hidden, n_gaussians, n_kernels, length) for _ in range(n_layers))
        self.dropout = nn.Dropout(dropout)
        self.head_sequence = nn.Conv1d(hidden, n_classes, 1)
        self.head_frame = nn.Conv1d(hidden, n_classes, 1)

    def forward(self, x: torch.Tensor, prior: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` ``(N, D, T)`` features and, for a residual model, ``prior`` ``(N, n_classes, T)``
        the feature extractor's logits -> ``(N, n_classes, T)`` logits.

        Parameters
        ----------
        x
            ``(N, D, T)`` float features, ``T`` frames.
        prior
            ``(N, n_classes, T)`` the feature extractor's logits; required by a residual model,
            ignored otherwise.

        Returns
        -------
        torch.Tensor
            ``(N, n_classes, T)`` logits.

        Raises
        ------
        ValueError
            If the model is residual and ``prior`` is None.
        """
        h0 = F.relu(self.reduce(self.dropout(x)))
        h = h0
        for layer in self.layers:
            h = F.relu(layer(h)) + h
        out = self.head_sequence(self.dropout(h)) + self.head_frame(self.dropout(h0))
        if self.residual:
            if prior is None:
                raise ValueError("expected the feature extractor's logits (prior=) for a residual sequence model")
            out = out + prior
        return out
